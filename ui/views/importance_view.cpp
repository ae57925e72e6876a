#include "ui/views/importance_view.h"

#include <QMouseEvent>
#include <QPainter>

#include <algorithm>
#include <cmath>

namespace r18::ui {
namespace {

constexpr int kRowHeight = 17;
constexpr int kMargin = 4;
constexpr int kLabelWidth = 48;
constexpr int kValueWidth = 64;

}  // namespace

ImportanceView::ImportanceView(QWidget* parent) : QWidget(parent) {
    setMouseTracking(true);
    setMinimumSize(200, 120);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void ImportanceView::setRanking(const std::vector<int>& ranked, const std::vector<float>& deltas) {
    m_ranked = ranked;
    m_deltas = deltas;
    m_message.clear();
    m_hovered = -1;
    update();
}

void ImportanceView::clear(const QString& message) {
    m_ranked.clear();
    m_deltas.clear();
    m_message = message;
    m_hovered = -1;
    update();
}

int ImportanceView::rowCount() const {
    const int fit = std::max(0, (height() - 2 * kMargin) / kRowHeight);
    return std::min(fit, static_cast<int>(m_ranked.size()));
}

QRect ImportanceView::rowRect(int row) const {
    return {kMargin, kMargin + row * kRowHeight, width() - 2 * kMargin, kRowHeight};
}

int ImportanceView::channelAt(const QPoint& pos) const {
    if (pos.y() < kMargin || pos.x() < kMargin || pos.x() > width() - kMargin) return -1;
    const int row = (pos.y() - kMargin) / kRowHeight;
    return row < rowCount() ? m_ranked[static_cast<size_t>(row)] : -1;
}

void ImportanceView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    if (m_ranked.empty()) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect().adjusted(8, 8, -8, -8), Qt::AlignCenter | Qt::TextWordWrap, m_message);
        return;
    }
    const int rows = rowCount();
    float largest = 0.0F;  // one scale for every channel, shown or not
    for (const float d : m_deltas) largest = std::max(largest, std::abs(d));
    const QColor lowers(215, 48, 39);
    const QColor raises(49, 112, 200);
    for (int row = 0; row < rows; ++row) {
        const int c = m_ranked[static_cast<size_t>(row)];
        const float d = m_deltas[static_cast<size_t>(c)];
        const QRect r = rowRect(row);
        if (row == m_hovered) p.fillRect(r, palette().color(QPalette::AlternateBase).darker(105));
        p.setPen(palette().color(QPalette::WindowText));
        p.drawText(QRect(r.left(), r.top(), kLabelWidth, r.height()),
                   Qt::AlignLeft | Qt::AlignVCenter, QStringLiteral("#%1").arg(c));
        const int barSpace = r.width() - kLabelWidth - kValueWidth;
        const int w =
            largest > 0 ? static_cast<int>(std::lround(barSpace * std::abs(d) / largest)) : 0;
        p.fillRect(QRect(r.left() + kLabelWidth, r.top() + 3, std::max(w, d != 0.0F ? 1 : 0),
                         r.height() - 6),
                   d < 0 ? lowers : raises);
        p.drawText(QRect(r.right() - kValueWidth, r.top(), kValueWidth, r.height()),
                   Qt::AlignRight | Qt::AlignVCenter, QStringLiteral("%1").arg(d, 0, 'g', 3));
    }
}

void ImportanceView::mouseMoveEvent(QMouseEvent* event) {
    const int y = event->position().toPoint().y();
    const int row = channelAt(event->position().toPoint()) >= 0 ? (y - kMargin) / kRowHeight : -1;
    if (row != m_hovered) {
        m_hovered = row;
        update();
    }
    setCursor(row >= 0 ? Qt::PointingHandCursor : Qt::ArrowCursor);
}

void ImportanceView::mousePressEvent(QMouseEvent* event) {
    if (event->button() != Qt::LeftButton) return;
    const int c = channelAt(event->position().toPoint());
    if (c >= 0) emit channelClicked(c);
}

void ImportanceView::leaveEvent(QEvent*) {
    m_hovered = -1;
    update();
}

}  // namespace r18::ui
