#include "ui/feature_map_view.h"

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

void FeatureMapView::setActivations(const QString& node, const Tensor& activations) {
    const auto& d = activations.dims;
    if (d.size() != 4 && d.size() != 2) return clear(tr("No feature maps for %1.").arg(node));
    const bool sameShape = node == m_node && activations.dims == m_data.dims;
    m_node = node;
    m_message.clear();
    m_data = activations;
    m_channels = static_cast<int>(d[1]);
    m_h = d.size() == 4 ? static_cast<int>(d[2]) : 1;
    m_w = d.size() == 4 ? static_cast<int>(d[3]) : 1;
    const size_t plane = static_cast<size_t>(m_h) * static_cast<size_t>(m_w);
    m_stats.assign(static_cast<size_t>(m_channels), {});
    m_layerMin = INFINITY;
    m_layerMax = -INFINITY;
    for (int c = 0; c < m_channels; ++c) {
        const float* v = m_data.ptr() + static_cast<size_t>(c) * plane;
        const auto [lo, hi] = std::minmax_element(v, v + plane);
        const double sum = std::accumulate(v, v + plane, 0.0);
        m_stats[static_cast<size_t>(c)] = {
            *lo, static_cast<float>(sum / static_cast<double>(plane)), *hi};
        m_layerMin = std::min(m_layerMin, *lo);
        m_layerMax = std::max(m_layerMax, *hi);
    }
    if (!sameShape) {
        // Start on the most active channel, so the enlarged view has something to show.
        m_selected =
            static_cast<int>(std::max_element(m_stats.begin(), m_stats.end(),
                                              [](const ChannelStats& a, const ChannelStats& b) {
                                                  return a.mean < b.mean;
                                              }) -
                             m_stats.begin());
        m_hovered = -1;
    }
    rebuild();
    if (!sameShape) emit channelSelected(m_selected);
}

void FeatureMapView::clear(const QString& message) {
    m_node.clear();
    m_message = message;
    m_data = Tensor();
    m_channels = 0;
    m_stats.clear();
    m_order.clear();
    m_selected = -1;
    m_hovered = -1;
    m_grid = QPixmap();
    update();
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

std::pair<float, float> FeatureMapView::range(int channel) const {
    if (m_normalization == Normalization::PerLayer) return {m_layerMin, m_layerMax};
    const ChannelStats& s = m_stats[static_cast<size_t>(channel)];
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
    if (m_sortByMean)
        std::stable_sort(m_order.begin(), m_order.end(), [&](int a, int b) {
            return m_stats[static_cast<size_t>(a)].mean > m_stats[static_cast<size_t>(b)].mean;
        });
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
        paintGrid(p, l);
        m_grid = grid;
    }
    update();
}

QImage FeatureMapView::renderGrid(int width) const {
    if (m_channels == 0) return {};
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
    auto positionOf = [&](int channel) {
        return static_cast<int>(std::find(m_order.begin(), m_order.end(), channel) -
                                m_order.begin());
    };
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
    }
    if (channel < 0) {
        QToolTip::hideText();
        return;
    }
    const ChannelStats& s = m_stats[static_cast<size_t>(channel)];
    QToolTip::showText(event->globalPosition().toPoint(),
                       tr("%1 · channel %2\nmin %3 · mean %4 · max %5")
                           .arg(m_node)
                           .arg(channel)
                           .arg(s.min, 0, 'g', 3)
                           .arg(s.mean, 0, 'g', 3)
                           .arg(s.max, 0, 'g', 3),
                       this);
}

void FeatureMapView::mousePressEvent(QMouseEvent* event) {
    if (event->button() == Qt::LeftButton) {
        const int channel = channelAt(event->position().toPoint());
        selectChannel(channel == m_selected ? -1 : channel);
    }
}

void FeatureMapView::leaveEvent(QEvent*) {
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
        case Qt::Key_Escape: selectChannel(-1); return;
        default: return QWidget::keyPressEvent(event);
    }
    if (pos < 0) next = 0;
    if (next >= 0 && next < m_channels) selectChannel(m_order[static_cast<size_t>(next)]);
}

}  // namespace r18::ui
