#include "ui/panels/panel.h"

#include <algorithm>

#include <QHBoxLayout>
#include <QLabel>
#include <QSlider>
#include <QVBoxLayout>

namespace r18::ui {

QWidget* titledPanel(const QString& title, QWidget* content, QLabel** titleLabel, QWidget* extra) {
    auto* box = new QWidget;
    auto* layout = new QVBoxLayout(box);
    layout->setContentsMargins(6, 4, 6, 4);
    layout->setSpacing(2);
    auto* header = new QHBoxLayout;
    auto* label = new QLabel(title);
    QFont f = label->font();
    f.setBold(true);
    label->setFont(f);
    label->setMinimumWidth(40);
    label->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);  // elided, never wider
    header->addWidget(label, 1);
    if (extra) header->addWidget(extra);
    layout->addLayout(header);
    layout->addWidget(content, 1);
    if (titleLabel) *titleLabel = label;
    return box;
}

QWidget* controlRow(std::initializer_list<QWidget*> widgets) {
    auto* box = new QWidget;
    auto* layout = new QHBoxLayout(box);
    layout->setContentsMargins(0, 0, 0, 0);
    for (QWidget* w : widgets) layout->addWidget(w);
    return box;
}

QSlider* opacitySlider(int percent, int width, const QString& tip) {
    auto* slider = new QSlider(Qt::Horizontal);
    slider->setRange(10, 100);
    slider->setValue(percent);
    slider->setFixedWidth(width);
    slider->setToolTip(tip);
    return slider;
}

QString topFivesTable(const QString& headA, const std::vector<Prediction>& a, const QString& headB,
                      const std::vector<Prediction>& b) {
    const auto cell = [](const std::vector<Prediction>& top, size_t k) {
        if (k >= top.size()) return QStringLiteral("<td></td><td></td>");
        return QStringLiteral("<td>%1</td><td align=right>%2 %</td>")
            .arg(QString::fromStdString(top[k].label).toHtmlEscaped())
            .arg(100.0 * top[k].probability, 0, 'f', 1);
    };
    QString rows;
    for (size_t i = 0; i < std::max(a.size(), b.size()); ++i)
        rows += QStringLiteral("<tr>%1<td>&nbsp;&nbsp;</td>%2</tr>").arg(cell(a, i), cell(b, i));
    return QStringLiteral(
               "<table cellspacing=0 cellpadding=1><tr><th align=left>%1</th><th></th><th></th>"
               "<th align=left>%2</th><th></th></tr>%3</table>")
        .arg(headA.toHtmlEscaped(), headB.toHtmlEscaped(), rows);
}

}  // namespace r18::ui
