#include "ui/views/predictions_view.h"

#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>

namespace r18::ui {

PredictionsView::PredictionsView(QWidget* parent) : QWidget(parent) {
    setMinimumSize(220, 150);
    setCursor(Qt::PointingHandCursor);
    setToolTip(tr("Click a class to see where the network looked for it"));
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
}

void PredictionsView::setPredictions(const std::vector<Prediction>& top) {
    m_top = top;
    QString tip;
    for (const Prediction& p : top)
        tip += tr("%1 (class %2): %3%\n")
                   .arg(QString::fromStdString(p.label),
                        p.wordnetId.empty()
                            ? QString::number(p.index)
                            : tr("%1, %2").arg(p.index).arg(QString::fromStdString(p.wordnetId)),
                        QString::number(100.0 * p.probability, 'f', 2));
    setToolTip(tip.trimmed());
    update();
}

void PredictionsView::clear() {
    m_top.clear();
    setToolTip({});
    update();
}

void PredictionsView::setHighlighted(int64_t classIndex) {
    m_highlighted = classIndex;
    update();
}

int PredictionsView::rowAt(const QPoint& pos) const {
    const QRect area = rect().adjusted(10, 8, -10, -8);
    if (m_top.empty() || !area.contains(pos)) return -1;
    const int rowH =
        std::max(fontMetrics().height() + 16, area.height() / static_cast<int>(m_top.size()));
    const int row = (pos.y() - area.top()) / rowH;
    return row < static_cast<int>(m_top.size()) ? row : -1;
}

void PredictionsView::mousePressEvent(QMouseEvent* event) {
    const int row = rowAt(event->position().toPoint());
    if (row >= 0) emit classClicked(m_top[static_cast<size_t>(row)].index);
}

void PredictionsView::setTrusted(bool trusted) {
    m_trusted = trusted;
    update();
}

QString PredictionsView::asText() const {
    QString text;
    for (size_t i = 0; i < m_top.size(); ++i)
        text += QStringLiteral("%1. %2  %3%\n")
                    .arg(i + 1)
                    .arg(QString::fromStdString(m_top[i].label))
                    .arg(100.0 * m_top[i].probability, 0, 'f', 1);
    return text;
}

QSize PredictionsView::sizeHint() const {
    return {320, 5 * (fontMetrics().height() * 2 + 10) + 24};
}

void PredictionsView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const QRect area = rect().adjusted(10, 8, -10, -8);
    if (m_top.empty()) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(area, Qt::AlignCenter | Qt::TextWordWrap, tr("Top-5 predictions appear here."));
        return;
    }
    const int rows = static_cast<int>(m_top.size());
    const int rowH = std::max(fontMetrics().height() + 16, area.height() / std::max(rows, 1));
    const QColor accent = m_trusted ? QColor(47, 111, 219) : QColor(150, 150, 150);
    QFont bold = font();
    bold.setBold(true);
    for (size_t i = 0; i < m_top.size(); ++i) {
        const Prediction& pr = m_top[i];
        const QRect row(area.left(), area.top() + static_cast<int>(i) * rowH, area.width(),
                        rowH - 4);
        if (pr.index == m_highlighted) {
            p.setPen(QPen(QColor(255, 106, 0), 1.5));
            p.setBrush(QColor(255, 106, 0, 28));
            p.drawRoundedRect(QRectF(row).adjusted(-6, -3, 6, 1), 5, 5);
        }
        const QString pct = QStringLiteral("%1%").arg(100.0 * pr.probability, 0, 'f', 1);
        const int pctW = fontMetrics().horizontalAdvance(QStringLiteral("100.0%")) + 6;
        const int textH = fontMetrics().height();
        p.setFont(i == 0 ? bold : font());
        p.setPen(palette().color(QPalette::Text));
        const QString label = fontMetrics().elidedText(QString::fromStdString(pr.label),
                                                       Qt::ElideRight, row.width() - pctW);
        p.drawText(QRect(row.left(), row.top(), row.width() - pctW, textH),
                   Qt::AlignLeft | Qt::AlignVCenter, label);
        p.drawText(QRect(row.right() - pctW, row.top(), pctW, textH),
                   Qt::AlignRight | Qt::AlignVCenter, pct);
        const QRectF track(row.left(), row.top() + textH + 3, row.width(),
                           std::max(6, rowH - textH - 10));
        QPainterPath trackPath;
        trackPath.addRoundedRect(track, 3, 3);
        p.fillPath(trackPath, QColor(0, 0, 0, 22));
        QRectF fill = track;
        fill.setWidth(std::max(2.0, track.width() * static_cast<double>(pr.probability)));
        QPainterPath fillPath;
        fillPath.addRoundedRect(fill, 3, 3);
        p.fillPath(fillPath, i == 0 ? accent : accent.lighter(135));
    }
}

}  // namespace r18::ui
