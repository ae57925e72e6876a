#include "core/media/preprocess.h"

#include <opencv2/imgproc.hpp>

#include <cmath>
#include <vector>

#include "core/error.h"

namespace r18 {
namespace {

// Pillow's resampling constants (libImaging/Resample.c).
constexpr int kPrecisionBits = 32 - 8 - 2;

// Pillow's filters (libImaging/Resample.c): the kernel and its support in input pixels.
double bilinearFilter(double x) {
    x = std::fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

double bicubicFilter(double x) {
    // Keys' cubic convolution with a = -0.5, as Pillow writes it.
    constexpr double a = -0.5;
    x = std::fabs(x);
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

// Pillow's fixed-point coefficients for output positions [first, first+count) of an
// inSize -> outSize resize: input pixels xmin[i] .. xmin[i]+taps[i], weights kk[i*ksize + tap].
struct Coefficients {
    int ksize = 0;
    std::vector<int> xmin;
    std::vector<int> taps;
    std::vector<int32_t> kk;
};

Coefficients precompute(int inSize, int outSize, int first, int count, Interpolation mode) {
    const bool cubic = mode == Interpolation::Bicubic;
    double (*filter)(double) = cubic ? bicubicFilter : bilinearFilter;
    const double scale = static_cast<double>(static_cast<float>(inSize)) / outSize;
    const double filterScale = scale < 1.0 ? 1.0 : scale;
    const double support = (cubic ? 2.0 : 1.0) * filterScale;
    Coefficients c;
    c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
    c.xmin.resize(static_cast<size_t>(count));
    c.taps.resize(static_cast<size_t>(count));
    c.kk.assign(static_cast<size_t>(count) * static_cast<size_t>(c.ksize), 0);
    std::vector<double> k(static_cast<size_t>(c.ksize));
    for (int i = 0; i < count; ++i) {
        const int xx = first + i;
        const double center = (xx + 0.5) * scale;
        const double ss = 1.0 / filterScale;
        int xmin = static_cast<int>(center - support + 0.5);
        if (xmin < 0) xmin = 0;
        int xmax = static_cast<int>(center + support + 0.5);
        if (xmax > inSize) xmax = inSize;
        xmax -= xmin;
        double ww = 0.0;
        for (int x = 0; x < xmax; ++x) {
            const double w = filter((x + xmin - center + 0.5) * ss);
            k[static_cast<size_t>(x)] = w;
            ww += w;
        }
        for (int x = 0; x < xmax; ++x) {
            const double v = ww != 0.0 ? k[static_cast<size_t>(x)] / ww : k[static_cast<size_t>(x)];
            const double scaled = v * (1 << kPrecisionBits);
            c.kk[static_cast<size_t>(i * c.ksize + x)] =
                static_cast<int32_t>(v < 0 ? -0.5 + scaled : 0.5 + scaled);
        }
        c.xmin[static_cast<size_t>(i)] = xmin;
        c.taps[static_cast<size_t>(i)] = xmax;
    }
    return c;
}

uint8_t clip8(int64_t v) {
    if (v >= (int64_t{1} << kPrecisionBits << 8)) return 255;
    if (v <= 0) return 0;
    return static_cast<uint8_t>(v >> kPrecisionBits);
}

// Half of a crop margin: Python's round() (half to even) as torchvision's CenterCrop uses it,
// or floor division as Hugging Face's center_crop does.
int halfMargin(int twice, bool floor) {
    if (floor) return twice >= 0 ? twice / 2 : -((1 - twice) / 2);
    return static_cast<int>(std::nearbyint(twice / 2.0));
}

}  // namespace

int resizeForCropPct(int crop, double cropPct) {
    return static_cast<int>(std::floor(crop / cropPct));
}

const char* interpolationName(Interpolation interpolation) {
    return interpolation == Interpolation::Bicubic ? "bicubic" : "bilinear";
}

cv::Mat toRgb8(const cv::Mat& image) {
    if (image.empty() || image.dims != 2) throw ImageError("The image is empty.");
    const int cn = image.channels();
    if (cn != 1 && cn != 3 && cn != 4)
        throw ImageError("Images with " + std::to_string(cn) + " channels are not supported.");
    cv::Mat eight;
    switch (image.depth()) {
        case CV_8U: eight = image; break;
        case CV_16U: image.convertTo(eight, CV_8U, 1.0 / 257.0); break;
        case CV_32F:
        case CV_64F: image.convertTo(eight, CV_8U, 255.0); break;
        default:
            throw ImageError("Images of this pixel type are not supported (use 8 or 16 bits).");
    }
    cv::Mat rgb;
    const int code = cn == 1   ? cv::COLOR_GRAY2RGB
                     : cn == 3 ? cv::COLOR_BGR2RGB
                               : cv::COLOR_BGRA2RGB;
    cv::cvtColor(eight, rgb, code);
    return rgb;
}

CropWindow cropWindow(int inW, int inH, const PreprocessOptions& o) {
    // torchvision: the shorter side becomes `resize`, the longer int(resize * long / short);
    // an image whose shorter side is already `resize` is returned untouched.
    CropWindow w{inW, inH, 0, 0};
    if ((inW <= inH ? inW : inH) != o.resize) {
        if (inW <= inH) {
            w.resizedWidth = o.resize;
            w.resizedHeight = static_cast<int>(static_cast<double>(int64_t{o.resize} * inH) / inW);
        } else {
            w.resizedHeight = o.resize;
            w.resizedWidth = static_cast<int>(static_cast<double>(int64_t{o.resize} * inW) / inH);
        }
    }
    w.left = halfMargin(w.resizedWidth - o.crop, o.floorCropOffset);
    w.top = halfMargin(w.resizedHeight - o.crop, o.floorCropOffset);
    return w;
}

cv::Mat resizeAndCrop(const cv::Mat& rgb, const PreprocessOptions& o) {
    CV_Assert(rgb.type() == CV_8UC3 && o.crop <= o.resize);
    const int inW = rgb.cols;
    const int inH = rgb.rows;
    const CropWindow window = cropWindow(inW, inH, o);
    const int outW = window.resizedWidth;
    const int outH = window.resizedHeight;
    const int left = window.left;
    const int top = window.top;

    // Pillow resizes horizontally into an 8-bit image, then vertically; each pass is skipped
    // when its size does not change. Only the rows and columns inside the crop are computed.
    const bool horizontal = outW != inW;
    const bool vertical = outH != inH;
    const Coefficients cx = precompute(inW, outW, left, o.crop, o.interpolation);
    const Coefficients cy = precompute(inH, outH, top, o.crop, o.interpolation);
    const int rowFirst = vertical ? cy.xmin.front() : top;
    const int rowLast = vertical ? cy.xmin.back() + cy.taps.back() : top + o.crop;

    cv::Mat mid(rowLast - rowFirst, o.crop, CV_8UC3);
    for (int y = rowFirst; y < rowLast; ++y) {
        const uint8_t* src = rgb.ptr<uint8_t>(y);
        uint8_t* dst = mid.ptr<uint8_t>(y - rowFirst);
        for (int x = 0; x < o.crop; ++x) {
            if (!horizontal) {
                for (int c = 0; c < 3; ++c) dst[3 * x + c] = src[3 * (left + x) + c];
                continue;
            }
            const int32_t* k = &cx.kk[static_cast<size_t>(x * cx.ksize)];
            const int x0 = cx.xmin[static_cast<size_t>(x)];
            for (int c = 0; c < 3; ++c) {
                int64_t ss = int64_t{1} << (kPrecisionBits - 1);
                for (int t = 0; t < cx.taps[static_cast<size_t>(x)]; ++t)
                    ss += int64_t{src[3 * (x0 + t) + c]} * k[t];
                dst[3 * x + c] = clip8(ss);
            }
        }
    }
    cv::Mat out(o.crop, o.crop, CV_8UC3);
    for (int y = 0; y < o.crop; ++y) {
        uint8_t* dst = out.ptr<uint8_t>(y);
        if (!vertical) {
            std::memcpy(dst, mid.ptr<uint8_t>(top + y - rowFirst), static_cast<size_t>(3 * o.crop));
            continue;
        }
        const int32_t* k = &cy.kk[static_cast<size_t>(y * cy.ksize)];
        const int y0 = cy.xmin[static_cast<size_t>(y)] - rowFirst;
        for (int i = 0; i < 3 * o.crop; ++i) {
            int64_t ss = int64_t{1} << (kPrecisionBits - 1);
            for (int t = 0; t < cy.taps[static_cast<size_t>(y)]; ++t)
                ss += int64_t{mid.ptr<uint8_t>(y0 + t)[i]} * k[t];
            dst[i] = clip8(ss);
        }
    }
    return out;
}

void preprocessInto(const cv::Mat& image, float* dst, const PreprocessOptions& o) {
    cropToTensor(resizeAndCrop(toRgb8(image), o), dst, o);
}

void cropToTensor(const cv::Mat& crop, float* dst, const PreprocessOptions& o) {
    CV_Assert(crop.type() == CV_8UC3 && crop.rows == o.crop && crop.cols == o.crop);
    // ToTensor then Normalize, in float32 exactly as torch computes them.
    float table[3][256];
    for (int c = 0; c < 3; ++c)
        for (int v = 0; v < 256; ++v)
            table[c][v] = (static_cast<float>(v) / 255.0F - o.mean[static_cast<size_t>(c)]) /
                          o.std[static_cast<size_t>(c)];
    const size_t plane = static_cast<size_t>(o.crop) * static_cast<size_t>(o.crop);
    for (int y = 0; y < o.crop; ++y) {
        const uint8_t* src = crop.ptr<uint8_t>(y);
        for (int x = 0; x < o.crop; ++x) {
            const size_t at = static_cast<size_t>(y * o.crop + x);
            for (int c = 0; c < 3; ++c)
                dst[static_cast<size_t>(c) * plane + at] = table[c][src[3 * x + c]];
        }
    }
}

Tensor preprocess(const cv::Mat& image, const PreprocessOptions& o) {
    Tensor t({1, 3, o.crop, o.crop});
    preprocessInto(image, t.ptr(), o);
    return t;
}

}  // namespace r18
