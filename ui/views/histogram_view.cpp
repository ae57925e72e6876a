#include "ui/views/histogram_view.h"

#include <QPainter>

#include <algorithm>
#include <cmath>

namespace r18::ui {

HistogramView::HistogramView(QWidget* parent) : QWidget(parent) {
    setMinimumSize(120, 36);
    setSizePolicy(QSizePolicy::Fixed, QSizePolicy::Fixed);
    setToolTip(
        tr("The layer's values: how many fall in each of 64 equal bins from its minimum to "
           "its maximum (square-root scale)"));
}

void HistogramView::setHistogram(const Histogram& histogram) {
    m_histogram = histogram;
    update();
}

void HistogramView::clear() {
    m_histogram = Histogram();
    update();
}

void HistogramView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    const QRect area = rect().adjusted(1, 1, -1, -12);
    p.fillRect(area, palette().color(QPalette::Base));
    if (m_histogram.counts.empty()) return;
    const int64_t most = *std::max_element(m_histogram.counts.begin(), m_histogram.counts.end());
    if (most <= 0) return;
    const double barW = static_cast<double>(area.width()) / m_histogram.counts.size();
    p.setPen(Qt::NoPen);
    p.setBrush(QColor(40, 110, 200));
    for (size_t i = 0; i < m_histogram.counts.size(); ++i) {
        const double h = area.height() * std::sqrt(static_cast<double>(m_histogram.counts[i]) /
                                                   static_cast<double>(most));
        if (h <= 0) continue;
        p.drawRect(QRectF(area.left() + i * barW, area.bottom() - h, std::max(barW - 0.5, 0.5),
                          std::max(h, 1.0)));
    }
    QFont f = p.font();
    f.setPixelSize(9);
    p.setFont(f);
    p.setPen(palette().color(QPalette::WindowText));
    const QRect labels(area.left(), area.bottom() + 1, area.width(), 11);
    p.drawText(labels, Qt::AlignLeft | Qt::AlignVCenter, QString::number(m_histogram.lo, 'g', 3));
    p.drawText(labels, Qt::AlignRight | Qt::AlignVCenter, QString::number(m_histogram.hi, 'g', 3));
}

}  // namespace r18::ui
