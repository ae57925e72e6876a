#include "ui/session/image_convert.h"

#include <opencv2/imgproc.hpp>

namespace r18::ui {

cv::Mat matFromImage(const QImage& image) {
    const QImage rgb = image.convertToFormat(QImage::Format_RGB888);
    const cv::Mat view(rgb.height(), rgb.width(), CV_8UC3, const_cast<uchar*>(rgb.constBits()),
                       static_cast<size_t>(rgb.bytesPerLine()));
    cv::Mat bgr;
    cv::cvtColor(view, bgr, cv::COLOR_RGB2BGR);
    return bgr;
}

QImage displayImageFromRgb(const cv::Mat& rgb8, int maxSide) {
    const int longer = std::max(rgb8.cols, rgb8.rows);
    if (longer <= maxSide) return rgbImage(rgb8);
    const double scale = static_cast<double>(maxSide) / longer;
    cv::Mat small;
    cv::resize(rgb8, small, cv::Size(), scale, scale, cv::INTER_AREA);
    return rgbImage(small);
}

QImage rgbImage(const cv::Mat& rgb8) {
    CV_Assert(rgb8.type() == CV_8UC3);
    const QImage view(rgb8.data, rgb8.cols, rgb8.rows, static_cast<qsizetype>(rgb8.step),
                      QImage::Format_RGB888);
    return view.copy();
}

}  // namespace r18::ui
