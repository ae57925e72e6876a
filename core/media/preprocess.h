// torchvision's evaluation transform, reproduced exactly:
//   Resize(256) (shorter side, PIL's antialiased bilinear in 8-bit fixed point),
//   CenterCrop(224), ToTensor, Normalize(ImageNet mean, std).
// Only the 224×224 window that survives the crop is ever resampled, so a 65535×1 strip costs
// no more than a photo; the resampling is Pillow's integer arithmetic (int32 sums, as Pillow
// keeps them), with an SSE4.1 horizontal pass and a vectorisable vertical one.
#pragma once

#include <opencv2/core.hpp>

#include <array>

#include "core/tensor.h"

namespace r18 {

struct PreprocessOptions {
    int resize = 256;                                   // shorter side after resizing
    int crop = 224;                                     // square centre crop
    std::array<float, 3> mean{0.485F, 0.456F, 0.406F};  // RGB
    std::array<float, 3> std{0.229F, 0.224F, 0.225F};
};

// Any decoded image (1, 3 or 4 channels in OpenCV's BGR(A) order; 8-bit, 16-bit or float
// in [0,1]) as 8-bit RGB, the way PIL's convert("RGB") sees it. 16-bit values are rounded to
// 8 bits (v / 257). Throws ImageError for other layouts.
cv::Mat toRgb8(const cv::Mat& image);

// Where Resize + CenterCrop take their pixels from: the resized size and the crop's top-left
// corner in resized coordinates (the crop is options.crop square).
struct CropWindow {
    int resizedWidth = 0;
    int resizedHeight = 0;
    int left = 0;
    int top = 0;
};
CropWindow cropWindow(int width, int height, const PreprocessOptions& options = {});

// The crop the network sees: 8-bit RGB, crop×crop, before normalisation.
cv::Mat resizeAndCrop(const cv::Mat& rgb8, const PreprocessOptions& options = {});
// The same crop from any decoded image (toRgb8()'s inputs), value for value equal to
// resizeAndCrop(toRgb8(image)) but reading 8-bit gray, BGR and BGRA pixels in place instead
// of converting the whole image first. Throws ImageError for layouts toRgb8() refuses.
cv::Mat resizeAndCropDecoded(const cv::Mat& image, const PreprocessOptions& options = {});

// ToTensor and Normalize on a crop from resizeAndCrop(): CHW float32 RGB planes written to
// dst[0 .. 3*crop*crop).
void cropToTensor(const cv::Mat& crop, float* dst, const PreprocessOptions& options = {});

// All of the above: normalised CHW float32 (RGB planes) written to dst[0 .. 3*crop*crop).
void preprocessInto(const cv::Mat& image, float* dst, const PreprocessOptions& options = {});

// The same as a [1,3,crop,crop] tensor.
Tensor preprocess(const cv::Mat& image, const PreprocessOptions& options = {});

}  // namespace r18
