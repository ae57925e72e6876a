// The resize kernel, byte for byte: against PIL on 12-megapixel photos, and against a plain
// transcription of Pillow's Resample.c (64-bit sums, one channel at a time, after a full
// conversion to RGB) on every pixel layout, odd sizes and views into larger images.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include <cmath>
#include <cstdio>
#include <random>

#include "core/error.h"
#include "core/formats/npy.h"
#include "core/media/image_io.h"
#include "core/media/preprocess.h"
#include "tests/test_util.h"

namespace r18 {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;

struct Weights {
    std::vector<int> xmin, taps;
    std::vector<int64_t> kk;
    int ksize = 0;
};

// Pillow's precompute_coeffs() for the bilinear filter and normalize_coeffs_8bpc().
Weights pillowWeights(int inSize, int outSize, int first, int count) {
    const double scale = static_cast<double>(static_cast<float>(inSize)) / outSize;
    const double filterScale = std::max(scale, 1.0);
    const double support = filterScale;
    Weights w;
    w.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
    for (int xx = first; xx < first + count; ++xx) {
        const double center = (xx + 0.5) * scale;
        const int xmin = std::max(static_cast<int>(center - support + 0.5), 0);
        const int xmax = std::min(static_cast<int>(center + support + 0.5), inSize) - xmin;
        std::vector<double> k(static_cast<size_t>(xmax));
        double ww = 0.0;
        for (int x = 0; x < xmax; ++x) {
            const double d = std::fabs((x + xmin - center + 0.5) / filterScale);
            k[static_cast<size_t>(x)] = d < 1.0 ? 1.0 - d : 0.0;
            ww += k[static_cast<size_t>(x)];
        }
        for (int x = 0; x < w.ksize; ++x) {
            const double v = x < xmax && ww != 0.0 ? k[static_cast<size_t>(x)] / ww : 0.0;
            const double scaled = v * (1 << kPrecisionBits);
            w.kk.push_back(static_cast<int64_t>(v < 0 ? -0.5 + scaled : 0.5 + scaled));
        }
        w.xmin.push_back(xmin);
        w.taps.push_back(xmax);
    }
    return w;
}

uint8_t clip8(int64_t v) {
    if (v >= (int64_t{1} << kPrecisionBits << 8)) return 255;
    if (v <= 0) return 0;
    return static_cast<uint8_t>(v >> kPrecisionBits);
}

// Resize(256) + CenterCrop(224) of 8-bit RGB, the slow and obvious way.
cv::Mat referenceCrop(const cv::Mat& rgb) {
    const CropWindow win = cropWindow(rgb.cols, rgb.rows);
    const bool horizontal = win.resizedWidth != rgb.cols;
    const bool vertical = win.resizedHeight != rgb.rows;
    const Weights wx = pillowWeights(rgb.cols, win.resizedWidth, win.left, 224);
    const Weights wy = pillowWeights(rgb.rows, win.resizedHeight, win.top, 224);
    cv::Mat mid(rgb.rows, 224, CV_8UC3);
    for (int y = 0; y < rgb.rows; ++y)
        for (int x = 0; x < 224; ++x)
            for (int c = 0; c < 3; ++c) {
                if (!horizontal) {
                    mid.at<cv::Vec3b>(y, x)[c] = rgb.at<cv::Vec3b>(y, win.left + x)[c];
                    continue;
                }
                int64_t ss = int64_t{1} << (kPrecisionBits - 1);
                for (int t = 0; t < wx.taps[static_cast<size_t>(x)]; ++t)
                    ss += rgb.at<cv::Vec3b>(y, wx.xmin[static_cast<size_t>(x)] + t)[c] *
                          wx.kk[static_cast<size_t>(x * wx.ksize + t)];
                mid.at<cv::Vec3b>(y, x)[c] = clip8(ss);
            }
    cv::Mat out(224, 224, CV_8UC3);
    for (int y = 0; y < 224; ++y)
        for (int x = 0; x < 224; ++x)
            for (int c = 0; c < 3; ++c) {
                if (!vertical) {
                    out.at<cv::Vec3b>(y, x)[c] = mid.at<cv::Vec3b>(win.top + y, x)[c];
                    continue;
                }
                int64_t ss = int64_t{1} << (kPrecisionBits - 1);
                for (int t = 0; t < wy.taps[static_cast<size_t>(y)]; ++t)
                    ss += mid.at<cv::Vec3b>(wy.xmin[static_cast<size_t>(y)] + t, x)[c] *
                          wy.kk[static_cast<size_t>(y * wy.ksize + t)];
                out.at<cv::Vec3b>(y, x)[c] = clip8(ss);
            }
    return out;
}

// Where two crops differ first, or "" when they are equal byte for byte.
std::string firstDifference(const cv::Mat& expected, const cv::Mat& got) {
    if (expected.size() != got.size() || expected.type() != got.type()) return "size or type";
    for (int y = 0; y < expected.rows; ++y)
        for (int x = 0; x < expected.cols * 3; ++x)
            if (expected.ptr<uint8_t>(y)[x] != got.ptr<uint8_t>(y)[x])
                return "row " + std::to_string(y) + " byte " + std::to_string(x) + ": expected " +
                       std::to_string(expected.ptr<uint8_t>(y)[x]) + ", got " +
                       std::to_string(got.ptr<uint8_t>(y)[x]);
    return "";
}

// Runs `check` once with each resize kernel this CPU has (scalar, SSE4.1, AVX2), then restores
// the automatic choice.
template <typename Check>
void forEachKernel(const Check& check) {
    for (const detail::ResizeKernel kernel : detail::resizeKernels()) {
        detail::forceResizeKernel(kernel);
        check(std::string(" [kernel ") + std::to_string(static_cast<int>(kernel)) + "]");
    }
    detail::forceResizeKernel(detail::ResizeKernel::Auto);
}

cv::Mat noise(int rows, int cols, int type, unsigned seed) {
    cv::theRNG().state = seed;
    cv::Mat m(rows, cols, type);
    cv::randu(m, 0, 256);
    return m;
}

// 12-megapixel photos, landscape and upright, decoded from lossless PNG: PIL's bytes exactly.
TEST(Resize, PhonePhotosEqualPilByteForByte) {
    for (const char* name : {"phone_4032x3024", "phone_3024x4032"}) {
        const std::string base = test::fixture(std::string("resize/") + name);
        const Tensor pil = readNpy(base + ".crop.npy");  // [224,224,3] RGB values
        ASSERT_EQ(pil.dims, (std::vector<int64_t>{224, 224, 3}));
        cv::Mat expected(224, 224, CV_8UC3);
        for (size_t i = 0; i < pil.data.size(); ++i)
            expected.data[i] = static_cast<uint8_t>(pil.data[i]);
        const cv::Mat decoded = readImage(base + ".png");
        forEachKernel([&](const std::string& kernel) {
            EXPECT_EQ(firstDifference(expected, resizeAndCropDecoded(decoded)), "")
                << name << kernel;
            EXPECT_EQ(firstDifference(expected, resizeAndCrop(toRgb8(decoded))), "")
                << name << kernel;
        });
    }
}

// Every layout the decoder returns, read in place, equals converting to RGB first and the
// plain transcription of Pillow; sizes cover both passes, one pass, none, upscaling and
// images whose last pixel lies at the very end of the buffer.
TEST(Resize, EveryLayoutEqualsPillowTranscription) {
    const std::vector<cv::Size> sizes = {{1000, 333}, {333, 1000}, {257, 255}, {256, 300},
                                         {300, 256},  {256, 256},  {40, 30},   {3, 500},
                                         {700, 2},    {2000, 1500}};
    unsigned seed = 1;
    for (const cv::Size& size : sizes) {
        for (int type : {CV_8UC1, CV_8UC3, CV_8UC4}) {
            const cv::Mat image = noise(size.height, size.width, type, ++seed);
            const cv::Mat rgb = toRgb8(image);
            const cv::Mat expected = referenceCrop(rgb);
            const std::string what = std::to_string(size.width) + "x" +
                                     std::to_string(size.height) + " with " +
                                     std::to_string(CV_MAT_CN(type)) + " channels";
            forEachKernel([&](const std::string& kernel) {
                EXPECT_EQ(firstDifference(expected, resizeAndCrop(rgb)), "") << what << kernel;
                EXPECT_EQ(firstDifference(expected, resizeAndCropDecoded(image)), "")
                    << what << kernel;
            });
        }
    }
}

// A view into a larger image (rows not contiguous) reads only its own pixels.
TEST(Resize, ViewsIntoLargerImages) {
    const cv::Mat big = noise(900, 1300, CV_8UC3, 7);
    const cv::Mat view = big(cv::Rect(17, 33, 1001, 601));
    const cv::Mat expected = referenceCrop(toRgb8(view));
    forEachKernel([&](const std::string& kernel) {
        EXPECT_EQ(firstDifference(expected, resizeAndCropDecoded(view)), "") << kernel;
    });
}

// 16-bit and float images still go through toRgb8(), errors included.
TEST(Resize, KernelsThisCpuHas) {
    const std::vector<detail::ResizeKernel> kernels = detail::resizeKernels();
    EXPECT_EQ(kernels.front(), detail::ResizeKernel::Scalar);
    std::printf("[ resize ] %zu kernels checked on this CPU (scalar%s%s)\n", kernels.size(),
                kernels.size() > 1 ? ", SSE4.1" : "", kernels.size() > 2 ? ", AVX2" : "");
}

TEST(Resize, OtherDepthsAreConvertedFirst) {
    cv::Mat sixteen;
    noise(300, 400, CV_8UC3, 9).convertTo(sixteen, CV_16U, 257.0);
    EXPECT_EQ(firstDifference(resizeAndCrop(toRgb8(sixteen)), resizeAndCropDecoded(sixteen)), "");
    EXPECT_THROW(resizeAndCropDecoded(cv::Mat()), ImageError);
    EXPECT_THROW(resizeAndCropDecoded(cv::Mat(10, 10, CV_8UC2)), ImageError);
}

}  // namespace
}  // namespace r18
