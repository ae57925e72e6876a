#include "core/media/preprocess.h"

#include <opencv2/imgproc.hpp>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include <cmath>
#include <cstring>
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

// Pillow's clip8(): the accumulated sum (int32, as Pillow keeps it) back to 8 bits.
inline uint8_t clip8(int32_t v) {
    v >>= kPrecisionBits;
    return static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
}

// Where a crop is read from: `cn` bytes per pixel, and for each output channel (R, G, B) the
// byte of the pixel it comes from (BGR: 2,1,0; gray: 0,0,0). Reading the decoded image
// directly is exact because Pillow resamples every channel on its own with the same weights.
struct PixelLayout {
    int cn = 3;
    int order[3] = {0, 1, 2};
};

// Pillow's horizontal pass for output columns [0, cx.xmin.size()) of one row, written as RGB.
// Scalar; every SIMD variant below must give the same bytes.
void horizontalRowScalar(const uint8_t* src, const PixelLayout& px, const Coefficients& cx,
                         uint8_t* dst) {
    const int count = static_cast<int>(cx.xmin.size());
    for (int x = 0; x < count; ++x) {
        const int32_t* k = &cx.kk[static_cast<size_t>(x) * static_cast<size_t>(cx.ksize)];
        const uint8_t* p = src + static_cast<ptrdiff_t>(px.cn) * cx.xmin[static_cast<size_t>(x)];
        const int taps = cx.taps[static_cast<size_t>(x)];
        for (int c = 0; c < 3; ++c) {
            int32_t ss = int32_t{1} << (kPrecisionBits - 1);
            const uint8_t* q = p + px.order[c];
            for (int t = 0; t < taps; ++t) ss += int32_t{q[t * px.cn]} * k[t];
            dst[3 * x + c] = clip8(ss);
        }
    }
}

#if defined(__x86_64__) || defined(__i386__)
// The same with SSE4.1 for 3- and 4-byte pixels: one pixel's channels per vector, one
// multiply-add per tap for all of them (exact: 32-bit integer arithmetic, as Pillow's).
__attribute__((target("sse4.1"))) void horizontalRowSse41(const uint8_t* src, int width,
                                                          const PixelLayout& px,
                                                          const Coefficients& cx, uint8_t* dst) {
    const int count = static_cast<int>(cx.xmin.size());
    const __m128i half = _mm_set1_epi32(int32_t{1} << (kPrecisionBits - 1));
    for (int x = 0; x < count; ++x) {
        const int32_t* k = &cx.kk[static_cast<size_t>(x) * static_cast<size_t>(cx.ksize)];
        const int x0 = cx.xmin[static_cast<size_t>(x)];
        const int taps = cx.taps[static_cast<size_t>(x)];
        // A 4-byte load of the row's last 3-byte pixel would read past the row.
        const int vectorTaps = px.cn == 3 && x0 + taps == width ? taps - 1 : taps;
        const uint8_t* p = src + static_cast<ptrdiff_t>(px.cn) * x0;
        __m128i acc = half;
        for (int t = 0; t < vectorTaps; ++t) {
            int32_t four;
            std::memcpy(&four, p + t * px.cn, 4);
            const __m128i v = _mm_cvtepu8_epi32(_mm_cvtsi32_si128(four));
            acc = _mm_add_epi32(acc, _mm_mullo_epi32(v, _mm_set1_epi32(k[t])));
        }
        if (vectorTaps < taps) {
            const uint8_t* last = p + vectorTaps * px.cn;
            const __m128i v = _mm_setr_epi32(last[0], last[1], last[2], 0);
            acc = _mm_add_epi32(acc, _mm_mullo_epi32(v, _mm_set1_epi32(k[vectorTaps])));
        }
        // clip8 on every lane: shift, then saturate to 0..255 as Pillow's comparisons do.
        const __m128i shifted = _mm_srai_epi32(acc, kPrecisionBits);
        const __m128i bytes = _mm_packus_epi16(_mm_packs_epi32(shifted, shifted), shifted);
        const uint32_t lanes = static_cast<uint32_t>(_mm_cvtsi128_si32(bytes));
        for (int c = 0; c < 3; ++c)
            dst[3 * x + c] = static_cast<uint8_t>(lanes >> (8 * px.order[c]));
    }
}

// The same with AVX2: two taps (two pixels' channels) per vector. Integer sums in any order
// are the same sums.
__attribute__((target("avx2"))) void horizontalRowAvx2(const uint8_t* src, int width,
                                                       const PixelLayout& px,
                                                       const Coefficients& cx, uint8_t* dst) {
    const int count = static_cast<int>(cx.xmin.size());
    const int rowBytes = px.cn * width;
    const __m128i half = _mm_set1_epi32(int32_t{1} << (kPrecisionBits - 1));
    const __m256i spread = _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1);
    // Two 3-byte pixels into two 4-byte groups (the 4th byte of each zero).
    const __m128i threeToFour =
        _mm_setr_epi8(0, 1, 2, -1, 3, 4, 5, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    for (int x = 0; x < count; ++x) {
        const int32_t* k = &cx.kk[static_cast<size_t>(x) * static_cast<size_t>(cx.ksize)];
        const int x0 = cx.xmin[static_cast<size_t>(x)];
        const int taps = cx.taps[static_cast<size_t>(x)];
        const uint8_t* p = src + static_cast<ptrdiff_t>(px.cn) * x0;
        __m256i pairs = _mm256_setzero_si256();
        int t = 0;
        // Pairs of taps while the 8-byte load stays inside the row.
        for (; t + 1 < taps && px.cn * (x0 + t) + 8 <= rowBytes; t += 2) {
            __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + t * px.cn));
            if (px.cn == 3) bytes = _mm_shuffle_epi8(bytes, threeToFour);
            const __m256i weights = _mm256_permutevar8x32_epi32(
                _mm256_castsi128_si256(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(k + t))),
                spread);
            pairs =
                _mm256_add_epi32(pairs, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(bytes), weights));
        }
        __m128i acc = _mm_add_epi32(
            half, _mm_add_epi32(_mm256_castsi256_si128(pairs), _mm256_extracti128_si256(pairs, 1)));
        for (; t < taps; ++t) {  // the rest one at a time, the row's last pixel byte by byte
            const uint8_t* q = p + t * px.cn;
            __m128i v;
            if (px.cn == 4 || x0 + t + 1 < width) {
                int32_t four;
                std::memcpy(&four, q, 4);
                v = _mm_cvtepu8_epi32(_mm_cvtsi32_si128(four));
            } else {
                v = _mm_setr_epi32(q[0], q[1], q[2], 0);
            }
            acc = _mm_add_epi32(acc, _mm_mullo_epi32(v, _mm_set1_epi32(k[t])));
        }
        const __m128i shifted = _mm_srai_epi32(acc, kPrecisionBits);
        const __m128i bytes = _mm_packus_epi16(_mm_packs_epi32(shifted, shifted), shifted);
        const uint32_t lanes = static_cast<uint32_t>(_mm_cvtsi128_si32(bytes));
        for (int c = 0; c < 3; ++c)
            dst[3 * x + c] = static_cast<uint8_t>(lanes >> (8 * px.order[c]));
    }
}
#endif

// The best kernel this CPU has, unless a test asked for another.
detail::ResizeKernel& forcedKernel() {
    static detail::ResizeKernel kernel = detail::ResizeKernel::Auto;
    return kernel;
}

detail::ResizeKernel bestKernel() {
#if defined(__x86_64__) || defined(__i386__)
    static const detail::ResizeKernel best =
        __builtin_cpu_supports("avx2")     ? detail::ResizeKernel::Avx2
        : __builtin_cpu_supports("sse4.1") ? detail::ResizeKernel::Sse41
                                           : detail::ResizeKernel::Scalar;
    return best;
#else
    return detail::ResizeKernel::Scalar;
#endif
}

void horizontalRow(const uint8_t* src, int width, const PixelLayout& px, const Coefficients& cx,
                   uint8_t* dst) {
    const detail::ResizeKernel kernel =
        forcedKernel() == detail::ResizeKernel::Auto ? bestKernel() : forcedKernel();
#if defined(__x86_64__) || defined(__i386__)
    if (px.cn >= 3 && kernel == detail::ResizeKernel::Avx2)
        return horizontalRowAvx2(src, width, px, cx, dst);
    if (px.cn >= 3 && kernel == detail::ResizeKernel::Sse41)
        return horizontalRowSse41(src, width, px, cx, dst);
#endif
    (void)width;
    (void)kernel;
    horizontalRowScalar(src, px, cx, dst);
}

// Pillow's vertical pass for one output row: `taps` rows of `n` bytes from `rows[0]` on,
// `stride` bytes apart. The inner loop runs along the row, so compilers vectorise it.
void verticalRow(const uint8_t* rows, size_t stride, const int32_t* k, int taps, int n,
                 int32_t* acc, uint8_t* dst) {
    for (int i = 0; i < n; ++i) acc[i] = int32_t{1} << (kPrecisionBits - 1);
    for (int t = 0; t < taps; ++t) {
        const uint8_t* row = rows + static_cast<size_t>(t) * stride;
        const int32_t kt = k[t];
        for (int i = 0; i < n; ++i) acc[i] += int32_t{row[i]} * kt;
    }
    for (int i = 0; i < n; ++i) dst[i] = clip8(acc[i]);
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

namespace {

// Resize + CenterCrop of an 8-bit image whose pixels are laid out as `px` says.
cv::Mat resizeAndCropLayout(const cv::Mat& image, const PixelLayout& px,
                            const PreprocessOptions& o) {
    CV_Assert(image.depth() == CV_8U && image.channels() == px.cn && o.crop <= o.resize);
    const int inW = image.cols;
    const int inH = image.rows;
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
        const uint8_t* src = image.ptr<uint8_t>(y);
        uint8_t* dst = mid.ptr<uint8_t>(y - rowFirst);
        if (horizontal) {
            horizontalRow(src, inW, px, cx, dst);
            continue;
        }
        for (int x = 0; x < o.crop; ++x)
            for (int c = 0; c < 3; ++c) dst[3 * x + c] = src[px.cn * (left + x) + px.order[c]];
    }
    cv::Mat out(o.crop, o.crop, CV_8UC3);
    const int rowBytes = 3 * o.crop;
    std::vector<int32_t> acc(static_cast<size_t>(rowBytes));
    for (int y = 0; y < o.crop; ++y) {
        uint8_t* dst = out.ptr<uint8_t>(y);
        if (!vertical) {
            std::memcpy(dst, mid.ptr<uint8_t>(top + y - rowFirst), static_cast<size_t>(rowBytes));
            continue;
        }
        verticalRow(mid.ptr<uint8_t>(cy.xmin[static_cast<size_t>(y)] - rowFirst), mid.step[0],
                    &cy.kk[static_cast<size_t>(y) * static_cast<size_t>(cy.ksize)],
                    cy.taps[static_cast<size_t>(y)], rowBytes, acc.data(), dst);
    }
    return out;
}

}  // namespace

namespace detail {

std::vector<ResizeKernel> resizeKernels() {
    std::vector<ResizeKernel> all{ResizeKernel::Scalar};
    if (bestKernel() == ResizeKernel::Sse41 || bestKernel() == ResizeKernel::Avx2)
        all.push_back(ResizeKernel::Sse41);
    if (bestKernel() == ResizeKernel::Avx2) all.push_back(ResizeKernel::Avx2);
    return all;
}

void forceResizeKernel(ResizeKernel kernel) {
    forcedKernel() = kernel;
}

}  // namespace detail

cv::Mat resizeAndCrop(const cv::Mat& rgb, const PreprocessOptions& o) {
    CV_Assert(rgb.type() == CV_8UC3);
    return resizeAndCropLayout(rgb, PixelLayout{3, {0, 1, 2}}, o);
}

cv::Mat resizeAndCropDecoded(const cv::Mat& image, const PreprocessOptions& o) {
    if (!image.empty() && image.dims == 2 && image.depth() == CV_8U) {
        switch (image.channels()) {
            case 1: return resizeAndCropLayout(image, PixelLayout{1, {0, 0, 0}}, o);
            case 3: return resizeAndCropLayout(image, PixelLayout{3, {2, 1, 0}}, o);
            case 4: return resizeAndCropLayout(image, PixelLayout{4, {2, 1, 0}}, o);
            default: break;
        }
    }
    return resizeAndCrop(toRgb8(image), o);  // 16-bit, float: converted first (and errors)
}

void preprocessInto(const cv::Mat& image, float* dst, const PreprocessOptions& o) {
    cropToTensor(resizeAndCropDecoded(image, o), dst, o);
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
