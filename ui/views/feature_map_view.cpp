#include "ui/views/feature_map_view.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace r18::ui {
namespace {

constexpr int kMargin = 6;
constexpr int kMaxTile = 160;

}  // namespace

FeatureMapView::FeatureMapView(QWidget* parent) : QWidget(parent) {
    setMouseTracking(true);
    setFocusPolicy(Qt::ClickFocus);
    setMinimumSize(160, 120);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
    m_message = tr("Select a layer in the diagram to see its feature maps.");
}

void FeatureMapView::setActivations(const QString& node, const Tensor& activations,
                                    const TapStats& stats) {
    const auto& d = activations.dims;
    if ((d.size() != 4 && d.size() != 2) || stats.channels.size() != static_cast<size_t>(d[1]))
        return clear(tr("No feature maps for %1.").arg(node));
    const bool sameShape = node == m_node && activations.dims == m_data.dims;
    m_node = node;
    m_message.clear();
    m_pending.clear();
    m_data = activations;
    m_stats = stats;
    m_channels = static_cast<int>(d[1]);
    m_h = d.size() == 4 ? static_cast<int>(d[2]) : 1;
    m_w = d.size() == 4 ? static_cast<int>(d[3]) : 1;
    if (!sameShape) {
        // Start on the most active channel, so the enlarged view has something to show.
        m_selected = m_stats.byMean.empty() ? -1 : m_stats.byMean.front();
        m_anchor = m_selected;
        m_hovered = -1;
        m_picked.assign(static_cast<size_t>(m_channels), 0);
    }
    rebuild();
    if (!sameShape) {
        emit channelSelected(m_selected);
        emit pickedChanged();
    }
}

void FeatureMapView::setChannelNames(const QStringList& names) {
    m_names = names;
}

void FeatureMapView::setPending(const QString& message) {
    if (message == m_pending) return;
    m_pending = message;
    update();
}

void FeatureMapView::clear(const QString& message) {
    m_node.clear();
    m_message = message;
    m_pending.clear();
    m_data = Tensor();
    m_channels = 0;
    m_stats = TapStats();
    m_order.clear();
    m_selected = -1;
    m_anchor = -1;
    m_picked.clear();
    m_off.clear();
    m_hovered = -1;
    m_grid = QPixmap();
    update();
    emit pickedChanged();
}

void FeatureMapView::setNormalization(Normalization n) {
    m_normalization = n;
    rebuild();
}

void FeatureMapView::setSortByMean(bool sort) {
    m_sortByMean = sort;
    rebuild();
}

void FeatureMapView::setColormap(Colormap map) {
    m_colormap = map;
    rebuild();
}

void FeatureMapView::selectChannel(int channel) {
    if (channel >= m_channels) channel = -1;
    if (channel == m_selected) return;
    m_selected = channel;
    update();
    emit channelSelected(channel);
}

std::vector<int> FeatureMapView::pickedChannels() const {
    std::vector<int> picked;
    for (size_t c = 0; c < m_picked.size(); ++c)
        if (m_picked[c]) picked.push_back(static_cast<int>(c));
    if (picked.empty() && m_selected >= 0) picked.push_back(m_selected);
    return picked;
}

void FeatureMapView::pickChannels(const std::vector<int>& channels) {
    m_picked.assign(static_cast<size_t>(m_channels), 0);
    for (const int c : channels)
        if (c >= 0 && c < m_channels) m_picked[static_cast<size_t>(c)] = 1;
    if (!channels.empty()) {
        m_anchor = channels.front();
        selectChannel(channels.front());
    }
    update();
    emit pickedChanged();
}

void FeatureMapView::setSwitchedOff(const std::vector<int>& channels) {
    if (channels == m_off) return;
    m_off = channels;
    update();
}

int FeatureMapView::positionOf(int channel) const {
    return static_cast<int>(std::find(m_order.begin(), m_order.end(), channel) - m_order.begin());
}

// Switched-off channels dimmed and crossed out in red; picked ones framed in blue.
void FeatureMapView::paintMarks(QPainter& p, const Layout& l) const {
    const QColor off(220, 30, 30);
    const QColor picked(40, 150, 255);
    if (isBarChart()) {
        const QRect area = barArea();
        const double barW = static_cast<double>(area.width()) / m_channels;
        for (const int c : m_off) {
            const double x = area.left() + (positionOf(c) + 0.5) * barW;
            p.setPen(QPen(off, 2));
            p.drawLine(QPointF(x - 3, area.bottom() + 1), QPointF(x + 3, area.bottom() + 7));
            p.drawLine(QPointF(x + 3, area.bottom() + 1), QPointF(x - 3, area.bottom() + 7));
        }
        p.setPen(QPen(picked, 1));
        for (size_t c = 0; c < m_picked.size(); ++c) {
            if (!m_picked[c]) continue;
            const double x = area.left() + (positionOf(static_cast<int>(c)) + 0.5) * barW;
            p.drawLine(QPointF(x, area.top()), QPointF(x, area.bottom()));
        }
        return;
    }
    for (const int c : m_off) {
        const QRect r = tileRect(l, positionOf(c));
        p.fillRect(r, QColor(0, 0, 0, 110));
        p.setPen(QPen(off, r.width() >= 16 ? 2 : 1));
        p.drawLine(r.topLeft(), r.bottomRight());
        p.drawLine(r.topRight(), r.bottomLeft());
    }
    p.setPen(QPen(picked, 2));
    for (size_t c = 0; c < m_picked.size(); ++c)
        if (m_picked[c])
            p.drawRect(tileRect(l, positionOf(static_cast<int>(c))).adjusted(-1, -1, 0, 0));
}

std::pair<float, float> FeatureMapView::range(int channel) const {
    // A 1×1 channel is one number: only the layer's range gives it a colour that means something.
    if (m_normalization == Normalization::PerLayer || isBarChart())
        return {m_stats.min, m_stats.max};
    const ChannelStats& s = stats(channel);
    return {s.min, s.max};
}

QImage FeatureMapView::channelImage(int channel) const {
    if (channel < 0 || channel >= m_channels) return {};
    const auto [lo, hi] = range(channel);
    const size_t plane = static_cast<size_t>(m_h) * static_cast<size_t>(m_w);
    return planeImage(m_data.ptr() + static_cast<size_t>(channel) * plane, m_h, m_w, lo, hi,
                      m_colormap);
}

FeatureMapView::Layout FeatureMapView::layoutFor(QSize area) const {
    Layout l;
    if (m_channels == 0) return l;
    const int width = std::max(area.width() - 2 * kMargin, 1);
    const int height = std::max(area.height() - 2 * kMargin, 1);
    const double aspect = static_cast<double>(m_w) / m_h;
    for (int th = std::min(kMaxTile, height); th >= 1; --th) {
        const int gap = th >= 12 ? 2 : 1;
        const int tw = std::max(1, static_cast<int>(std::lround(th * aspect)));
        const int cols = std::max(1, (width + gap) / (tw + gap));
        const int rows = (m_channels + cols - 1) / cols;
        if (rows * (th + gap) - gap <= height || th == 1) {
            l = {cols, tw, th, gap, {}};
            break;
        }
    }
    const int gridW = l.cols * (l.tileW + l.gap) - l.gap;
    const int rows = (m_channels + l.cols - 1) / l.cols;
    const int gridH = rows * (l.tileH + l.gap) - l.gap;
    l.origin = QPoint(kMargin + std::max(0, (width - gridW) / 2),
                      kMargin + std::max(0, (height - gridH) / 2));
    return l;
}

QRect FeatureMapView::tileRect(const Layout& l, int position) const {
    const int row = position / l.cols;
    const int col = position % l.cols;
    return {l.origin.x() + col * (l.tileW + l.gap), l.origin.y() + row * (l.tileH + l.gap), l.tileW,
            l.tileH};
}

void FeatureMapView::paintGrid(QPainter& p, const Layout& l) const {
    for (int pos = 0; pos < m_channels; ++pos)
        p.drawImage(tileRect(l, pos), channelImage(m_order[static_cast<size_t>(pos)]));
}

void FeatureMapView::rebuild() {
    m_order.resize(static_cast<size_t>(m_channels));
    std::iota(m_order.begin(), m_order.end(), 0);
    if (m_sortByMean) m_order = m_stats.byMean;
    const Layout l = layoutFor(size());
    m_tileW = l.tileW;
    m_tileH = l.tileH;
    m_grid = QPixmap();
    if (m_channels > 0 && width() > 0 && height() > 0) {
        const qreal dpr = devicePixelRatioF();
        QPixmap grid(size() * dpr);
        grid.setDevicePixelRatio(dpr);
        grid.fill(Qt::transparent);
        QPainter p(&grid);
        p.setRenderHint(QPainter::SmoothPixmapTransform, false);  // crisp activation pixels
        if (isBarChart())
            paintBars(p, barArea());
        else
            paintGrid(p, l);
        m_grid = grid;
    }
    update();
}

QRect FeatureMapView::barArea() const {
    return rect().adjusted(kMargin + 4, kMargin + 4, -kMargin - 4, -kMargin - 18);
}

// One bar per channel (a 1×1 map is one number), coloured like its tile would be, from a zero
// line; the axis is labelled with the layer's range.
void FeatureMapView::paintBars(QPainter& p, const QRect& area) const {
    if (area.width() < 4 || area.height() < 4) return;
    const float lo = std::min(0.0F, m_stats.min);
    const float hi = std::max(0.0F, m_stats.max);
    const float span = hi > lo ? hi - lo : 1.0F;
    auto yOf = [&](float v) {
        return area.bottom() - static_cast<double>(v - lo) / span * area.height();
    };
    const double barW = static_cast<double>(area.width()) / m_channels;
    const auto& table = colormapTable(m_colormap);
    p.setPen(Qt::NoPen);
    for (int pos = 0; pos < m_channels; ++pos) {
        const int c = m_order[static_cast<size_t>(pos)];
        const float v = stats(c).mean;
        const auto [clo, chi] = range(c);
        const float t = chi > clo ? (v - clo) / (chi - clo) : 0.0F;
        p.setBrush(QColor::fromRgb(table[static_cast<size_t>(std::clamp(t, 0.0F, 1.0F) * 255)]));
        const double x = area.left() + pos * barW;
        const double y0 = yOf(0.0F);
        const double y1 = yOf(v);
        p.drawRect(QRectF(x, std::min(y0, y1), std::max(barW - (barW > 3 ? 1 : 0), 0.6),
                          std::max(std::abs(y1 - y0), 1.0)));
    }
    p.setPen(palette().color(QPalette::Mid));
    p.drawLine(QPointF(area.left(), yOf(0.0F)), QPointF(area.right(), yOf(0.0F)));
    p.setPen(palette().color(QPalette::WindowText));
    QFont f = p.font();
    f.setPointSizeF(f.pointSizeF() * 0.85);
    p.setFont(f);
    p.drawText(QRect(area.left(), area.bottom() + 2, area.width(), 16),
               Qt::AlignLeft | Qt::AlignVCenter,
               tr("%1 values · min %2 · max %3")
                   .arg(m_channels)
                   .arg(m_stats.min, 0, 'g', 3)
                   .arg(m_stats.max, 0, 'g', 3));
}

QImage FeatureMapView::renderGrid(int width) const {
    if (m_channels == 0) return {};
    if (isBarChart()) {
        QImage image(width, width / 3, QImage::Format_RGB32);
        image.fill(Qt::white);
        QPainter p(&image);
        p.setPen(Qt::black);
        p.drawText(QRect(kMargin, kMargin, width, 20), Qt::AlignLeft | Qt::AlignVCenter,
                   tr("%1 — %2 values").arg(m_node).arg(m_channels));
        paintBars(p, image.rect().adjusted(kMargin, 30, -kMargin, -24));
        return image;
    }
    // Tiles at least 4× the channel's pixels, so small maps stay legible in the file.
    const int title = 28;
    const int cols =
        static_cast<int>(std::ceil(std::sqrt(static_cast<double>(m_channels) * m_h / m_w)));
    const int tile = std::max(4 * m_w, (width - 2 * kMargin) / std::max(cols, 1) - 2);
    const int rows = (m_channels + cols - 1) / cols;
    Layout l{cols, tile, std::max(1, tile * m_h / m_w), 2, QPoint(kMargin, kMargin + title)};
    QImage image(2 * kMargin + cols * (l.tileW + 2) - 2,
                 title + 2 * kMargin + rows * (l.tileH + 2) - 2, QImage::Format_RGB32);
    image.fill(Qt::white);
    QPainter p(&image);
    p.setPen(Qt::black);
    QFont f = p.font();
    f.setPixelSize(16);
    p.setFont(f);
    p.drawText(QRect(kMargin, kMargin, image.width(), title - 4), Qt::AlignLeft | Qt::AlignVCenter,
               tr("%1 — %2 channels of %3×%4, %5 normalisation")
                   .arg(m_node)
                   .arg(m_channels)
                   .arg(m_h)
                   .arg(m_w)
                   .arg(m_normalization == Normalization::PerChannel ? tr("per-channel")
                                                                     : tr("per-layer")));
    paintGrid(p, l);
    return image;
}

int FeatureMapView::channelAt(const QPoint& pos) const {
    if (m_channels == 0) return -1;
    if (isBarChart()) {
        const QRect area = barArea();
        if (!area.adjusted(0, -kMargin, 0, kMargin).contains(pos)) return -1;
        const int position = static_cast<int>(static_cast<int64_t>(pos.x() - area.left()) *
                                              m_channels / std::max(area.width(), 1));
        return position >= 0 && position < m_channels ? m_order[static_cast<size_t>(position)] : -1;
    }
    const Layout l = layoutFor(size());
    const QPoint rel = pos - l.origin;
    if (rel.x() < 0 || rel.y() < 0) return -1;
    const int col = rel.x() / (l.tileW + l.gap);
    const int row = rel.y() / (l.tileH + l.gap);
    if (col >= l.cols) return -1;
    const int position = row * l.cols + col;
    if (position >= m_channels || !tileRect(l, position).contains(pos)) return -1;
    return m_order[static_cast<size_t>(position)];
}

void FeatureMapView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    if (m_channels == 0) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect().adjusted(12, 12, -12, -12), Qt::AlignCenter | Qt::TextWordWrap,
                   m_message);
        return;
    }
    p.drawPixmap(0, 0, m_grid);
    const Layout l = layoutFor(size());
    if (!m_pending.isEmpty()) {
        p.fillRect(rect(), QColor(255, 255, 255, 170));
        p.setPen(palette().color(QPalette::WindowText));
        p.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap, m_pending);
        return;
    }
    paintMarks(p, l);
    if (isBarChart()) {
        const QRect area = barArea();
        const double barW = static_cast<double>(area.width()) / m_channels;
        for (const auto& [channel, colour] : {std::pair{m_hovered, QColor(90, 90, 90)},
                                              std::pair{m_selected, QColor(255, 80, 40)}}) {
            if (channel < 0) continue;
            const double x = area.left() + (positionOf(channel) + 0.5) * barW;
            p.setPen(QPen(colour, 1, Qt::DashLine));
            p.drawLine(QPointF(x, area.top()), QPointF(x, area.bottom()));
        }
        return;
    }
    if (m_hovered >= 0) {
        p.setPen(QPen(QColor(255, 255, 255, 220), 1));
        p.drawRect(tileRect(l, positionOf(m_hovered)).adjusted(-1, -1, 0, 0));
    }
    if (m_selected >= 0) {
        p.setPen(QPen(QColor(255, 80, 40), 2));
        p.drawRect(tileRect(l, positionOf(m_selected)).adjusted(-2, -2, 1, 1));
    }
}

void FeatureMapView::resizeEvent(QResizeEvent*) {
    rebuild();
}

void FeatureMapView::mouseMoveEvent(QMouseEvent* event) {
    const int channel = channelAt(event->position().toPoint());
    if (channel != m_hovered) {
        m_hovered = channel;
        update();
        emit channelHovered(channel);
    }
    if (channel < 0) {
        QToolTip::hideText();
        return;
    }
    const ChannelStats& s = stats(channel);
    const QString name =
        channel < m_names.size() ? QStringLiteral(" · ") + m_names[channel] : QString();
    QToolTip::showText(event->globalPosition().toPoint(),
                       isBarChart() ? tr("%1 · channel %2%3\nvalue %4")
                                          .arg(m_node)
                                          .arg(channel)
                                          .arg(name)
                                          .arg(s.mean, 0, 'g', 4)
                                    : tr("%1 · channel %2\nmin %3 · mean %4 · max %5")
                                          .arg(m_node)
                                          .arg(channel)
                                          .arg(s.min, 0, 'g', 3)
                                          .arg(s.mean, 0, 'g', 3)
                                          .arg(s.max, 0, 'g', 3),
                       this);
}

void FeatureMapView::mousePressEvent(QMouseEvent* event) {
    if (event->button() != Qt::LeftButton) return;
    const int channel = channelAt(event->position().toPoint());
    const Qt::KeyboardModifiers mods = event->modifiers();
    if (channel >= 0 && (mods & (Qt::ControlModifier | Qt::ShiftModifier))) {
        const bool none = std::none_of(m_picked.begin(), m_picked.end(), [](char c) { return c; });
        if (mods & Qt::ShiftModifier) {  // the run, in display order, from the anchor
            const int anchor = m_anchor >= 0 ? m_anchor : channel;
            const int a = positionOf(anchor);
            const int b = positionOf(channel);
            for (int pos = std::min(a, b); pos <= std::max(a, b); ++pos)
                m_picked[static_cast<size_t>(m_order[static_cast<size_t>(pos)])] = 1;
        } else {
            // Ctrl+click starts from the selected channel, as a file list does.
            if (none && m_selected >= 0 && m_selected != channel)
                m_picked[static_cast<size_t>(m_selected)] = 1;
            char& p = m_picked[static_cast<size_t>(channel)];
            p = none && m_selected == channel ? 1 : !p;
            m_anchor = channel;
        }
        selectChannel(channel);
        update();
        emit pickedChanged();
        return;
    }
    const bool hadPicks = std::any_of(m_picked.begin(), m_picked.end(), [](char c) { return c; });
    std::fill(m_picked.begin(), m_picked.end(), 0);
    m_anchor = channel;
    selectChannel(channel == m_selected && !hadPicks ? -1 : channel);
    update();
    emit pickedChanged();
}

void FeatureMapView::leaveEvent(QEvent*) {
    if (m_hovered >= 0) emit channelHovered(-1);
    m_hovered = -1;
    update();
}

void FeatureMapView::keyPressEvent(QKeyEvent* event) {
    if (m_channels == 0) return QWidget::keyPressEvent(event);
    const Layout l = layoutFor(size());
    const int pos = m_selected < 0
                        ? -1
                        : static_cast<int>(std::find(m_order.begin(), m_order.end(), m_selected) -
                                           m_order.begin());
    int next = pos;
    switch (event->key()) {
        case Qt::Key_Left: next = pos - 1; break;
        case Qt::Key_Right: next = pos + 1; break;
        case Qt::Key_Up: next = pos - l.cols; break;
        case Qt::Key_Down: next = pos + l.cols; break;
        case Qt::Key_Escape:
            std::fill(m_picked.begin(), m_picked.end(), 0);
            selectChannel(-1);
            emit pickedChanged();
            return;
        default: return QWidget::keyPressEvent(event);
    }
    if (pos < 0) next = 0;
    if (next >= 0 && next < m_channels) selectChannel(m_order[static_cast<size_t>(next)]);
}

}  // namespace r18::ui
