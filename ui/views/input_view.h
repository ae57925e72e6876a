// InputView: the current image, aspect kept, with the 224×224 region the network sees outlined
// and, optionally, a channel's activation blended over that region. Shows a hint when empty.
#pragma once

#include <QImage>
#include <QWidget>

#include "core/media/preprocess.h"

namespace r18::ui {

class InputView : public QWidget {
    Q_OBJECT

public:
    explicit InputView(QWidget* parent = nullptr);

    // `display` may be a downscaled copy of an image of `originalSize`.
    void setImage(const QImage& display, QSize originalSize, const QString& label);
    void clear();
    bool hasImage() const { return !m_image.isNull(); }
    const QString& label() const { return m_label; }

    // Blends `overlay` (any size; stretched over the crop region) at `opacity`; null hides it.
    void setOverlay(const QImage& overlay, qreal opacity);
    // A colour-mapped heat map over the crop region, smoothly upsampled; null hides it.
    void setHeatmap(const QImage& heatmap, qreal opacity);
    bool hasHeatmap() const { return !m_heatmap.isNull(); }
    // The image with its overlays at the image's own resolution, for saving or copying.
    QImage composite() const;

    // The centre crop torchvision takes (Resize(256) then CenterCrop(224)), in the
    // coordinates of the original image (core's cropWindow(), scaled back).
    static QRectF cropRect(QSize original, const PreprocessOptions& options = {});
    // The preprocessing of the model on screen (its config may crop 0.95 instead of 0.875).
    void setPreprocess(const PreprocessOptions& options);

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    QImage m_image;
    QSize m_original;
    QString m_label;
    void paintLayers(QPainter& p, const QRectF& target) const;

    QImage m_overlay;
    qreal m_opacity = 0.6;
    QImage m_heatmap;
    PreprocessOptions m_preprocess;
    qreal m_heatOpacity = 0.5;
};

}  // namespace r18::ui
