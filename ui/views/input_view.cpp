#include "ui/views/input_view.h"

#include "core/media/preprocess.h"

#include <QPainter>
#include <QPainterPath>

#include <cmath>

namespace r18::ui {

InputView::InputView(QWidget* parent) : QWidget(parent) {
    setMinimumSize(160, 120);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void InputView::setImage(const QImage& display, QSize originalSize, const QString& label) {
    m_image = display;
    m_original = originalSize;
    m_label = label;
    setToolTip(tr("%1\n%2×%3 pixels; the outlined square is what the network sees")
                   .arg(label)
                   .arg(originalSize.width())
                   .arg(originalSize.height()));
    update();
}

void InputView::clear() {
    m_image = QImage();
    m_overlay = QImage();
    m_heatmap = QImage();
    m_label.clear();
    setToolTip({});
    update();
}

void InputView::setOverlay(const QImage& overlay, qreal opacity) {
    m_overlay = overlay;
    m_opacity = opacity;
    update();
}

void InputView::setHeatmap(const QImage& heatmap, qreal opacity) {
    m_heatmap = heatmap;
    m_heatOpacity = opacity;
    update();
}

QImage InputView::composite() const {
    if (m_image.isNull()) return {};
    QImage out = m_image.convertToFormat(QImage::Format_RGB32);
    QPainter p(&out);
    paintLayers(p, QRectF(0, 0, out.width(), out.height()));
    return out;
}

// The overlays and the crop outline over an image drawn at `target`.
void InputView::paintLayers(QPainter& p, const QRectF& target) const {
    const QRectF crop = cropRect(m_original, m_preprocess);
    const double sx = target.width() / m_original.width();
    const double sy = target.height() / m_original.height();
    const QRectF onScreen(target.left() + crop.left() * sx, target.top() + crop.top() * sy,
                          crop.width() * sx, crop.height() * sy);
    p.setRenderHint(QPainter::SmoothPixmapTransform);
    for (const auto& [layer, opacity] :
         {std::make_pair(&m_heatmap, m_heatOpacity), std::make_pair(&m_overlay, m_opacity)}) {
        if (layer->isNull()) continue;
        p.setOpacity(opacity);
        p.drawImage(onScreen.intersected(target), *layer,
                    QRectF(0, 0, layer->width(), layer->height()));
        p.setOpacity(1.0);
    }
    p.setRenderHint(QPainter::Antialiasing, false);
    p.setPen(QPen(QColor(0, 0, 0, 160), 1));
    p.drawRect(onScreen.intersected(target).adjusted(1, 1, -1, -1));
    p.setPen(QPen(QColor(255, 255, 255, 230), 1, Qt::DashLine));
    p.drawRect(onScreen.intersected(target));
}

void InputView::setPreprocess(const PreprocessOptions& options) {
    m_preprocess = options;
    update();
}

QRectF InputView::cropRect(QSize original, const PreprocessOptions& options) {
    if (original.isEmpty()) return {};
    const CropWindow w = cropWindow(original.width(), original.height(), options);
    const double sx = static_cast<double>(original.width()) / w.resizedWidth;
    const double sy = static_cast<double>(original.height()) / w.resizedHeight;
    return {w.left * sx, w.top * sy, options.crop * sx, options.crop * sy};
}

void InputView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const QRectF area = rect().adjusted(8, 8, -8, -8);
    if (m_image.isNull()) {
        QPainterPath frame;
        frame.addRoundedRect(area, 10, 10);
        p.setPen(QPen(palette().color(QPalette::Mid), 1.5, Qt::DashLine));
        p.drawPath(frame);
        p.setPen(palette().color(QPalette::PlaceholderText));
        QFont f = font();
        f.setPointSizeF(f.pointSizeF() * 1.15);
        p.setFont(f);
        p.drawText(area, Qt::AlignCenter | Qt::TextWordWrap,
                   tr("Drop an image, paste, or open…\n\nCtrl+O open · Ctrl+V paste"));
        return;
    }
    const QSizeF fitted = QSizeF(m_image.size()).scaled(area.size(), Qt::KeepAspectRatio);
    const QRectF target(area.center() - QPointF(fitted.width() / 2, fitted.height() / 2), fitted);
    p.setRenderHint(QPainter::SmoothPixmapTransform);
    p.drawImage(target, m_image);
    paintLayers(p, target);
}

}  // namespace r18::ui
