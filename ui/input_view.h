// InputView: the current image, aspect kept, with the 224×224 region the network sees outlined
// and, optionally, a channel's activation blended over that region. Shows a hint when empty.
#pragma once

#include <QImage>
#include <QWidget>

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

    // The centre crop torchvision takes (Resize(256) then CenterCrop(224)), in the
    // coordinates of the original image.
    static QRectF cropRect(QSize original);

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    QImage m_image;
    QSize m_original;
    QString m_label;
    QImage m_overlay;
    qreal m_opacity = 0.6;
};

}  // namespace r18::ui
