// Conversions between Qt images and the OpenCV matrices core works with.
#pragma once

#include <QImage>

#include <opencv2/core.hpp>

namespace r18::ui {

// Any QImage as an 8-bit BGR matrix (OpenCV's order, what core's preprocessing expects).
cv::Mat matFromImage(const QImage& image);

// An 8-bit RGB matrix as a QImage (deep copy), shrunk with area averaging so its longer side
// is at most maxSide.
QImage displayImageFromRgb(const cv::Mat& rgb8, int maxSide);

// An 8-bit RGB matrix as a QImage of the same size (deep copy).
QImage rgbImage(const cv::Mat& rgb8);

}  // namespace r18::ui
