// Small views of the insight panels: AttributionView paints an attribution over the crop the
// network sees (heat map blended over it, or a picture on its own, such as signed RGB, a channel
// or a visualisation); CurvePlot paints a deletion or insertion curve with its area shaded;
// PatchGrid shows a channel's top-9 receptive-field patches.
#pragma once

#include <QImage>
#include <QString>
#include <QWidget>

#include <vector>

#include "core/model/receptive_field.h"

namespace r18::ui {

// One of a channel's top images: its receptive-field crop and where it came from.
struct ChannelPatch {
    QImage image;  // the receptive field's pixels of the S×S crop; null if the file went away
    QString file;
    float value = 0.0F;
    PixelBox box;
};

class AttributionView : public QWidget {
    Q_OBJECT

public:
    explicit AttributionView(QWidget* parent = nullptr);

    // `overlay` (may be null) blended over `base` at `opacity`, both stretched to a square.
    void setImages(const QImage& base, const QImage& overlay, qreal opacity);
    // Nothing to show: `message` instead.
    void setMessage(const QString& message);
    const QImage& base() const { return m_base; }
    const QImage& overlay() const { return m_overlay; }
    const QString& message() const { return m_message; }
    QImage render(int size) const;  // what is painted, at size × size

protected:
    void paintEvent(QPaintEvent* event) override;
    QSize sizeHint() const override { return {240, 240}; }

private:
    QImage m_base;
    QImage m_overlay;
    qreal m_opacity = 0.6;
    QString m_message;
};

class CurvePlot : public QWidget {
    Q_OBJECT

public:
    CurvePlot(const QString& title, const QColor& colour, QWidget* parent = nullptr);

    // Probabilities at evenly spaced fractions of pixels changed, and the curve's area.
    void setCurve(const std::vector<float>& values, double area);
    void clear();
    const std::vector<float>& values() const { return m_values; }
    double area() const { return m_area; }

protected:
    void paintEvent(QPaintEvent* event) override;
    QSize sizeHint() const override { return {160, 90}; }
    QSize minimumSizeHint() const override { return {90, 60}; }

private:
    QString m_title;
    QColor m_colour;
    std::vector<float> m_values;
    double m_area = 0.0;
};

// Up to nine patches in a 3×3 grid, each with its activation (file names on hover).
class PatchGrid : public QWidget {
    Q_OBJECT

public:
    explicit PatchGrid(QWidget* parent = nullptr);
    void setPatches(const std::vector<ChannelPatch>& patches);
    void setMessage(const QString& message);
    const std::vector<ChannelPatch>& patches() const { return m_patches; }
    const QString& message() const { return m_message; }

protected:
    void paintEvent(QPaintEvent* event) override;
    QSize sizeHint() const override { return {240, 240}; }

private:
    std::vector<ChannelPatch> m_patches;
    QString m_message;
};

}  // namespace r18::ui
