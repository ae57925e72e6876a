#include "ui/panels/panel.h"

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

}  // namespace r18::ui
