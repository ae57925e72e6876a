#include "ui/views/explain_views.h"

#include <QFileInfo>
#include <QPainter>
#include <QPainterPath>

#include <algorithm>

namespace r18::ui {

AttributionView::AttributionView(QWidget* parent) : QWidget(parent) {
    setMinimumSize(120, 120);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void AttributionView::setImages(const QImage& base, const QImage& overlay, qreal opacity) {
    m_base = base;
    m_overlay = overlay;
    m_opacity = opacity;
    m_message.clear();
    update();
}

void AttributionView::setMessage(const QString& message) {
    m_base = QImage();
    m_overlay = QImage();
    m_message = message;
    update();
}

QImage AttributionView::render(int size) const {
    QImage image(size, size, QImage::Format_RGB32);
    image.fill(Qt::black);
    QPainter p(&image);
    p.setRenderHint(QPainter::SmoothPixmapTransform);
    const QRect r(0, 0, size, size);
    if (!m_base.isNull()) p.drawImage(r, m_base);
    if (!m_overlay.isNull()) {
        p.setOpacity(m_opacity);
        p.drawImage(r, m_overlay);
    }
    return image;
}

void AttributionView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    if (m_base.isNull()) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect().adjusted(8, 8, -8, -8), Qt::AlignCenter | Qt::TextWordWrap, m_message);
        return;
    }
    const int side = std::min(width(), height());
    const QRect target((width() - side) / 2, (height() - side) / 2, side, side);
    p.drawImage(target, render(side));
}

CurvePlot::CurvePlot(const QString& title, const QColor& colour, QWidget* parent)
    : QWidget(parent), m_title(title), m_colour(colour) {
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
}

void CurvePlot::setCurve(const std::vector<float>& values, double area) {
    m_values = values;
    m_area = area;
    update();
}

void CurvePlot::clear() {
    m_values.clear();
    m_area = 0.0;
    update();
}

void CurvePlot::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const QFontMetrics fm = fontMetrics();
    const QString caption =
        m_values.empty() ? m_title : tr("%1 · area %2").arg(m_title).arg(m_area, 0, 'f', 3);
    p.setPen(palette().color(QPalette::WindowText));
    p.drawText(QRect(0, 0, width(), fm.height()), Qt::AlignLeft | Qt::AlignVCenter, caption);
    const QRectF plot(QPointF(2, fm.height() + 3), QPointF(width() - 3, height() - 3));
    p.setPen(QPen(palette().color(QPalette::Mid), 1));
    p.setBrush(Qt::NoBrush);
    p.drawRect(plot);
    if (m_values.size() < 2) return;
    QPainterPath line;
    const auto at = [&](size_t i) {
        const double x = plot.left() + plot.width() * static_cast<double>(i) /
                                           static_cast<double>(m_values.size() - 1);
        const double y = plot.bottom() - plot.height() * std::clamp(m_values[i], 0.0F, 1.0F);
        return QPointF(x, y);
    };
    line.moveTo(at(0));
    for (size_t i = 1; i < m_values.size(); ++i) line.lineTo(at(i));
    QPainterPath fill = line;
    fill.lineTo(plot.bottomRight());
    fill.lineTo(plot.bottomLeft());
    fill.closeSubpath();
    QColor shade = m_colour;
    shade.setAlpha(70);
    p.fillPath(fill, shade);
    p.setPen(QPen(m_colour, 1.6));
    p.drawPath(line);
}

PatchGrid::PatchGrid(QWidget* parent) : QWidget(parent) {
    setMinimumSize(120, 120);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void PatchGrid::setPatches(const std::vector<ChannelPatch>& patches) {
    m_patches = patches;
    m_message.clear();
    QStringList tips;
    for (const ChannelPatch& p : patches)
        tips << tr("%1 · %2").arg(QFileInfo(p.file).fileName()).arg(p.value, 0, 'g', 3);
    setToolTip(tips.join(QLatin1Char('\n')));
    update();
}

void PatchGrid::setMessage(const QString& message) {
    m_patches.clear();
    m_message = message;
    setToolTip({});
    update();
}

void PatchGrid::paintEvent(QPaintEvent*) {
    QPainter p(this);
    if (m_patches.empty()) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect().adjusted(6, 6, -6, -6), Qt::AlignCenter | Qt::TextWordWrap, m_message);
        return;
    }
    const int side = std::min(width(), height());
    const int gap = 3;
    const int tile = (side - 2 * gap) / 3;
    const QPoint origin((width() - side) / 2, (height() - side) / 2);
    p.setRenderHint(QPainter::SmoothPixmapTransform);
    QFont small = font();
    small.setPointSizeF(std::max(6.0, small.pointSizeF() * 0.8));
    p.setFont(small);
    for (size_t i = 0; i < std::min<size_t>(9, m_patches.size()); ++i) {
        const int row = static_cast<int>(i) / 3;
        const int col = static_cast<int>(i) % 3;
        const QRect r(origin.x() + col * (tile + gap), origin.y() + row * (tile + gap), tile, tile);
        const ChannelPatch& patch = m_patches[i];
        if (patch.image.isNull()) {
            p.fillRect(r, palette().color(QPalette::Mid));
        } else {
            p.drawImage(r, patch.image);
        }
        const QString caption = QString::number(patch.value, 'g', 3);
        const QRect band(r.left(), r.bottom() - p.fontMetrics().height(), r.width(),
                         p.fontMetrics().height() + 1);
        p.fillRect(band, QColor(0, 0, 0, 140));
        p.setPen(Qt::white);
        p.drawText(band.adjusted(2, 0, -2, 0), Qt::AlignRight | Qt::AlignVCenter, caption);
    }
}

}  // namespace r18::ui
