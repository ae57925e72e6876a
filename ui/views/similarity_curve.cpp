#include "ui/views/similarity_curve.h"

#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QToolTip>

#include <algorithm>
#include <cmath>

namespace r18::ui {

SimilarityCurve::SimilarityCurve(QWidget* parent) : QWidget(parent) {
    setMouseTracking(true);
    setMinimumHeight(110);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
}

void SimilarityCurve::setValues(const QStringList& nodes, const std::vector<double>& values) {
    m_nodes = nodes;
    m_values = values;
    update();
}

void SimilarityCurve::setSelected(const QString& node) {
    m_selected = node;
    update();
}

void SimilarityCurve::clear() {
    m_nodes.clear();
    m_values.clear();
    update();
}

// y from the lowest value shown (or 0) up to 1: cosines of ReLU outputs are ≥ 0.
QRect SimilarityCurve::plotArea() const {
    return rect().adjusted(44, 8, -8, -18);
}

QPoint SimilarityCurve::pointOf(int index) const {
    const QRect a = plotArea();
    const double lo = std::min(0.0, *std::min_element(m_values.begin(), m_values.end()));
    const double x = m_values.size() > 1
                         ? a.left() + a.width() * static_cast<double>(index) / (m_values.size() - 1)
                         : a.center().x();
    const double v = m_values[static_cast<size_t>(index)];
    const double y = a.bottom() - a.height() * (v - lo) / std::max(1.0 - lo, 1e-9);
    return {static_cast<int>(std::lround(x)), static_cast<int>(std::lround(y))};
}

int SimilarityCurve::indexAt(const QPoint& pos) const {
    if (m_values.empty()) return -1;
    int best = -1;
    int bestDistance = 1 << 30;
    for (int i = 0; i < count(); ++i) {
        const int d = std::abs(pointOf(i).x() - pos.x());
        if (d < bestDistance) {
            best = i;
            bestDistance = d;
        }
    }
    return bestDistance <= 12 ? best : -1;
}

void SimilarityCurve::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const QRect a = plotArea();
    p.setPen(palette().color(QPalette::Mid));
    p.drawRect(a);
    QFont f = p.font();
    f.setPointSizeF(f.pointSizeF() * 0.85);
    p.setFont(f);
    if (m_values.empty()) return;
    const double lo = std::min(0.0, *std::min_element(m_values.begin(), m_values.end()));
    p.setPen(palette().color(QPalette::WindowText));
    p.drawText(QRect(0, a.top() - 6, a.left() - 4, 14), Qt::AlignRight | Qt::AlignVCenter,
               QStringLiteral("1"));
    p.drawText(QRect(0, a.bottom() - 7, a.left() - 4, 14), Qt::AlignRight | Qt::AlignVCenter,
               QString::number(lo, 'g', 2));
    p.drawText(QRect(a.left(), a.bottom() + 2, a.width(), 14), Qt::AlignLeft | Qt::AlignVCenter,
               m_nodes.value(0));
    p.drawText(QRect(a.left(), a.bottom() + 2, a.width(), 14), Qt::AlignRight | Qt::AlignVCenter,
               m_nodes.value(count() - 1));
    p.drawText(QRect(a.left(), a.bottom() + 2, a.width(), 14), Qt::AlignHCenter | Qt::AlignVCenter,
               tr("cosine similarity of A and B, node by node"));
    QPainterPath line;
    for (int i = 0; i < count(); ++i) {
        const QPoint pt = pointOf(i);
        if (i == 0)
            line.moveTo(pt);
        else
            line.lineTo(pt);
    }
    p.setPen(QPen(QColor(40, 110, 200), 1.6));
    p.drawPath(line);
    p.setBrush(QColor(40, 110, 200));
    for (int i = 0; i < count(); ++i) p.drawEllipse(pointOf(i), 2, 2);
    const int selected = static_cast<int>(m_nodes.indexOf(m_selected));
    if (selected >= 0) {
        const QPoint pt = pointOf(selected);
        p.setPen(QPen(QColor(255, 80, 40), 1, Qt::DashLine));
        p.drawLine(QPoint(pt.x(), a.top()), QPoint(pt.x(), a.bottom()));
        p.setPen(QPen(QColor(255, 80, 40), 2));
        p.setBrush(Qt::NoBrush);
        p.drawEllipse(pt, 5, 5);
    }
}

void SimilarityCurve::mouseMoveEvent(QMouseEvent* event) {
    const int i = indexAt(event->position().toPoint());
    setCursor(i >= 0 ? Qt::PointingHandCursor : Qt::ArrowCursor);
    if (i < 0) return QToolTip::hideText();
    QToolTip::showText(
        event->globalPosition().toPoint(),
        tr("%1 · cosine %2").arg(m_nodes[i]).arg(m_values[static_cast<size_t>(i)], 0, 'f', 4),
        this);
}

void SimilarityCurve::mousePressEvent(QMouseEvent* event) {
    if (event->button() != Qt::LeftButton) return;
    const int i = indexAt(event->position().toPoint());
    if (i >= 0) emit nodeClicked(m_nodes[i]);
}

}  // namespace r18::ui
