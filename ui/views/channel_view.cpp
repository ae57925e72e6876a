#include "ui/views/channel_view.h"

#include <QPainter>

namespace r18::ui {

ChannelView::ChannelView(QWidget* parent) : QWidget(parent) {
    setMinimumSize(140, 120);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void ChannelView::setChannel(const QImage& image, const QString& caption, float lo, float hi,
                             Colormap map) {
    m_image = image;
    m_caption = caption;
    m_lo = lo;
    m_hi = hi;
    m_map = map;
    update();
}

void ChannelView::clear() {
    m_image = QImage();
    update();
}

void ChannelView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    const QRect area = rect().adjusted(8, 8, -8, -8);
    if (m_image.isNull()) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(area, Qt::AlignCenter | Qt::TextWordWrap,
                   tr("Click a feature map to enlarge it."));
        return;
    }
    // The caption wraps at the panel's width; the image gets what is left, so nothing clips.
    const int textH = fontMetrics()
                          .boundingRect(QRect(0, 0, area.width(), area.height()),
                                        Qt::AlignLeft | Qt::TextWordWrap, m_caption)
                          .height() +
                      6;
    const int barW = 12;
    const int labelW = fontMetrics().horizontalAdvance(QStringLiteral("-0.000e+00"));
    const QRect imageArea(area.left(), area.top(), area.width() - barW - labelW - 12,
                          area.height() - textH);
    const QSize fitted = m_image.size().scaled(imageArea.size(), Qt::KeepAspectRatio);
    const QRect target(imageArea.left() + (imageArea.width() - fitted.width()) / 2, imageArea.top(),
                       fitted.width(), fitted.height());
    p.drawImage(target, m_image);  // nearest-neighbour: no smooth transform hint
    const QRect bar(target.right() + 8, target.top(), barW, target.height());
    p.drawImage(bar, colorbarImage(m_map, 1, 256));
    p.setPen(palette().color(QPalette::Text));
    p.drawText(QRect(bar.right() + 4, bar.top() - 2, labelW, fontMetrics().height()), Qt::AlignLeft,
               QString::number(m_hi, 'g', 3));
    p.drawText(QRect(bar.right() + 4, bar.bottom() - fontMetrics().height() + 2, labelW,
                     fontMetrics().height()),
               Qt::AlignLeft, QString::number(m_lo, 'g', 3));
    p.drawText(QRect(area.left(), target.bottom() + 4, area.width(), textH),
               Qt::AlignLeft | Qt::TextWordWrap, m_caption);
}

}  // namespace r18::ui
