// ChannelView: one channel enlarged (nearest-neighbour, so each activation stays a visible
// square), with a colour bar and its min/mean/max.
#pragma once

#include <QImage>
#include <QWidget>

#include "ui/views/colormap.h"

namespace r18::ui {

class ChannelView : public QWidget {
    Q_OBJECT

public:
    explicit ChannelView(QWidget* parent = nullptr);

    void setChannel(const QImage& image, const QString& caption, float lo, float hi, Colormap map);
    void clear();

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    QImage m_image;
    QString m_caption;
    float m_lo = 0.0F;
    float m_hi = 0.0F;
    Colormap m_map = Colormap::Viridis;
};

}  // namespace r18::ui
