// torchvision's evaluation transform, reproduced exactly:
//   Resize(256) (shorter side, PIL's antialiased bilinear in 8-bit fixed point),
//   CenterCrop(224), ToTensor, Normalize(ImageNet mean, std).
// A model's config may ask for another size, crop, mean and std, or PIL's antialiased bicubic
// (a = -0.5, timm's a1/a2/a3 and Hugging Face's ResNets): those are PIL-exact as well.
// Only the 224×224 window that survives the crop is ever resampled, so a 65535×1 strip costs
// no more than a photo; the resampling is Pillow's integer arithmetic (int32 sums, as Pillow
// keeps them), with an AVX2 or SSE4.1 horizontal pass and a vectorisable vertical one.
#pragma once

#include <opencv2/core.hpp>

#include <array>
#include <vector>

#include "core/tensor.h"

namespace r18 {

// PIL's resampling filters, as torchvision's and timm's InterpolationMode name them.
enum class Interpolation { Bilinear, Bicubic };

struct PreprocessOptions {
    int resize = 256;  // shorter side after resizing
    int crop = 224;    // square centre crop
    Interpolation interpolation = Interpolation::Bilinear;
    // Where the crop starts when the margin is odd: torchvision rounds half to even
    // (round((size - crop) / 2)), Hugging Face's image processors floor ((size - crop) // 2).
    bool floorCropOffset = false;
    std::array<float, 3> mean{0.485F, 0.456F, 0.406F};  // RGB
    std::array<float, 3> std{0.229F, 0.224F, 0.225F};
};

// timm's resize for a centre crop of `crop` pixels that keeps `cropPct` of the resized image:
// floor(crop / cropPct) (transforms_imagenet_eval's scale_size). 0.875 gives 256 for 224.
int resizeForCropPct(int crop, double cropPct);

// "bilinear" / "bicubic".
const char* interpolationName(Interpolation interpolation);

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

namespace detail {
// The resize kernel's variants, all byte-identical: tests run each one this CPU has.
enum class ResizeKernel { Auto, Scalar, Sse41, Avx2 };
std::vector<ResizeKernel> resizeKernels();    // those this CPU can run
void forceResizeKernel(ResizeKernel kernel);  // Auto: the fastest; not thread-safe (tests only)
}  // namespace detail

// All of the above: normalised CHW float32 (RGB planes) written to dst[0 .. 3*crop*crop).
void preprocessInto(const cv::Mat& image, float* dst, const PreprocessOptions& options = {});

// The same as a [1,3,crop,crop] tensor.
Tensor preprocess(const cv::Mat& image, const PreprocessOptions& options = {});

}  // namespace r18
