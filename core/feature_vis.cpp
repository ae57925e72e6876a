#include "core/feature_vis.h"

#include <opencv2/core.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "core/clock.h"
#include "core/engine/backprop.h"
#include "core/engine/engine.h"
#include "core/error.h"
#include "core/formats/npy.h"
#include "core/formats/sha256.h"
#include "core/noise.h"

namespace r18 {
namespace {

namespace fs = std::filesystem;

constexpr int kCacheVersion = 1;
constexpr double kPi = 3.14159265358979323846;
constexpr float kInitialSd = 0.01F;
constexpr float kImageScale = 0.25F;  // Lucid's "/ 4": keeps the first images near grey

// The square root of ImageNet's colour correlation, from Lucid (rows: R, G, B), to be divided by
// its largest column norm.
constexpr float kColour[3][3] = {
    {0.26F, 0.09F, 0.02F}, {0.27F, 0.00F, -0.05F}, {0.27F, -0.09F, 0.03F}};

// One random warp's bilinear taps: output pixel p reads Σ_k weight[p][k] · src[index[p][k]].
struct Warp {
    std::vector<int32_t> index;  // 4 per pixel
    std::vector<float> weight;
};

Warp randomWarp(SplitMix64& rng, int64_t size, const VisualizeOptions& o) {
    const double angle = (2.0 * rng.uniform() - 1.0) * o.rotateDegrees * kPi / 180.0;
    const double scale = 1.0 + (2.0 * rng.uniform() - 1.0) * o.scaleRange;
    const auto shift = [&] {
        return static_cast<double>(static_cast<int64_t>(rng.next() % (2 * o.jitter + 1)) -
                                   o.jitter);
    };
    const double tx = shift();
    const double ty = shift();
    const double c = 0.5 * static_cast<double>(size - 1);
    const double cs = std::cos(angle) / scale;
    const double sn = std::sin(angle) / scale;
    Warp w;
    const auto n = static_cast<size_t>(size * size);
    w.index.resize(4 * n);
    w.weight.resize(4 * n);
    auto wrap = [size](int64_t v) { return ((v % size) + size) % size; };
    for (int64_t py = 0; py < size; ++py)
        for (int64_t px = 0; px < size; ++px) {
            // Where output pixel p comes from: the inverse rotation and scaling about the centre.
            const double dx = static_cast<double>(px) - c - tx;
            const double dy = static_cast<double>(py) - c - ty;
            const double qx = cs * dx + sn * dy + c;
            const double qy = -sn * dx + cs * dy + c;
            const auto x0 = static_cast<int64_t>(std::floor(qx));
            const auto y0 = static_cast<int64_t>(std::floor(qy));
            const auto fx = static_cast<float>(qx - static_cast<double>(x0));
            const auto fy = static_cast<float>(qy - static_cast<double>(y0));
            const size_t at = 4 * static_cast<size_t>(py * size + px);
            const int64_t xa = wrap(x0), xb = wrap(x0 + 1), ya = wrap(y0), yb = wrap(y0 + 1);
            w.index[at + 0] = static_cast<int32_t>(ya * size + xa);
            w.index[at + 1] = static_cast<int32_t>(ya * size + xb);
            w.index[at + 2] = static_cast<int32_t>(yb * size + xa);
            w.index[at + 3] = static_cast<int32_t>(yb * size + xb);
            w.weight[at + 0] = (1 - fx) * (1 - fy);
            w.weight[at + 1] = fx * (1 - fy);
            w.weight[at + 2] = (1 - fx) * fy;
            w.weight[at + 3] = fx * fy;
        }
    return w;
}

// dst = warp(src) per plane, or with `adjoint` dst = warpᵀ(src) (dst zeroed first).
void applyWarp(const Warp& w, const float* src, float* dst, int64_t planes, size_t plane,
               bool adjoint) {
    std::fill(dst, dst + planes * static_cast<int64_t>(plane), 0.0F);
    for (int64_t c = 0; c < planes; ++c) {
        const float* s = src + c * static_cast<int64_t>(plane);
        float* d = dst + c * static_cast<int64_t>(plane);
        for (size_t p = 0; p < plane; ++p)
            for (size_t k = 0; k < 4; ++k) {
                const size_t q = static_cast<size_t>(w.index[4 * p + k]);
                if (adjoint)
                    d[q] += w.weight[4 * p + k] * s[p];
                else
                    d[p] += w.weight[4 * p + k] * s[q];
            }
    }
}

std::string cacheKey(const Model& model, const VisualizeOptions& o) {
    std::ostringstream s;
    s << "feature visualisation v" << kCacheVersion << "\n"
      << (model.weights().sha256.empty() ? "untrained demo " + model.spec().archName()
                                         : model.weights().sha256)
      << "\n"
      << o.layer << "\n"
      << o.channel << "\n"
      << o.steps << "\n"
      << o.seed << "\n"
      << o.learningRate << " " << o.jitter << " " << o.scaleRange << " " << o.rotateDegrees;
    for (const ChannelAblation& a : o.ablations) s << "\noff " << ablationText(a);
    const std::string text = s.str();
    return sha256Hex(reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

}  // namespace

std::string defaultVisualizationCacheDir() {
    const char* xdg = std::getenv("XDG_CACHE_HOME");
    if (xdg && *xdg) return std::string(xdg) + "/resnet18-explorer/visualizations";
    const char* home = std::getenv("HOME");
    return std::string(home && *home ? home : ".") + "/.cache/resnet18-explorer/visualizations";
}

struct FeatureVisualizer::Impl {
    std::shared_ptr<const Model> model;
    Engine engine;
    Backprop backprop;

    Impl(std::shared_ptr<const Model> m, int threads)
        : model(std::move(m)),
          engine(model->spec(), model->weights(), EngineOptions().withThreads(threads)),
          backprop(model->spec(), model->weights(), 1) {}

    int64_t size() const { return model->spec().inputSize; }

    void check(const VisualizeOptions& o) const {
        const NetworkSpec& spec = model->spec();
        const std::vector<std::string> taps = spec.tapNames();
        if (o.layer == "input" || std::find(taps.begin(), taps.end(), o.layer) == taps.end()) {
            std::string valid;
            for (const std::string& t : taps)
                if (t != "input") valid += (valid.empty() ? "" : ", ") + t;
            throw EngineError("Feature visualisation: '" + o.layer +
                              "' is not a layer to visualise; valid: " + valid + ".");
        }
        const int64_t channels = spec.node(o.layer).outShape[0];
        if (o.channel < 0 || o.channel >= channels)
            throw EngineError("'" + o.layer + "' has " + std::to_string(channels) +
                              (o.layer == "fc" ? " classes" : " channels") + ", numbered 0 … " +
                              std::to_string(channels - 1) + "; there is no " +
                              std::to_string(o.channel) + ".");
        if (o.steps < 1) throw EngineError("Feature visualisation needs at least 1 step.");
        if (o.jitter < 0 || o.scaleRange < 0 || o.scaleRange >= 1 || o.rotateDegrees < 0)
            throw EngineError("Feature visualisation: jitter, scale and rotation must be ≥ 0.");
    }

    static float meanOf(const Tensor& tap, int64_t channel) {
        const int64_t plane = tap.dims.size() == 4 ? tap.dims[2] * tap.dims[3] : 1;
        const float* v = tap.ptr() + channel * plane;
        double sum = 0;
        for (int64_t i = 0; i < plane; ++i) sum += v[i];
        return static_cast<float>(sum / static_cast<double>(plane));
    }

    // The picture of a normalised input: RGB = x·std + mean, in 8 bits.
    cv::Mat toRgb(const Tensor& x) const {
        const PreprocessOptions& p = model->preprocess();
        const int s = static_cast<int>(size());
        const auto plane = static_cast<size_t>(s) * static_cast<size_t>(s);
        cv::Mat rgb(s, s, CV_8UC3);
        for (size_t i = 0; i < plane; ++i)
            for (size_t c = 0; c < 3; ++c) {
                const float v = x.data[c * plane + i] * p.std[c] + p.mean[c];
                rgb.data[3 * i + c] =
                    static_cast<uint8_t>(std::lround(std::clamp(v, 0.0F, 1.0F) * 255.0F));
            }
        return rgb;
    }
};

FeatureVisualizer::FeatureVisualizer(std::shared_ptr<const Model> model, int threads)
    : d(std::make_unique<Impl>(std::move(model), threads)) {}

FeatureVisualizer::~FeatureVisualizer() = default;

float FeatureVisualizer::channelMean(const Tensor& input, const std::string& layer, int64_t channel,
                                     const std::vector<ChannelAblation>& ablations) {
    VisualizeOptions o;
    o.layer = layer;
    o.channel = channel;
    d->check(o);
    const RunResult r = d->engine.run(input, EngineRun{{layer}, ablations});
    return Impl::meanOf(r.taps.at(layer), channel);
}

std::optional<Visualization> FeatureVisualizer::visualize(const VisualizeOptions& o,
                                                          const ProgressFn& progress) {
    const auto t0 = Clock::now();
    d->check(o);
    const Model& model = *d->model;
    const NetworkSpec& spec = model.spec();
    const int64_t s = d->size();
    const auto plane = static_cast<size_t>(s * s);
    const std::string cacheFile =
        (o.cacheDir.empty() ? defaultVisualizationCacheDir() : o.cacheDir) + "/" +
        cacheKey(model, o) + ".npy";

    Visualization v;
    if (o.useCache && fs::exists(cacheFile)) {
        try {
            Tensor x = readNpy(cacheFile);
            if (x.dims == std::vector<int64_t>{1, 3, s, s}) {
                v.input = std::move(x);
                v.rgb = d->toRgb(v.input);
                v.activation = channelMean(v.input, o.layer, o.channel, o.ablations);
                v.fromCache = true;
                v.ms = msSince(t0);
                keepGoing(progress, o.steps, o.steps);
                return v;
            }
        } catch (const Error&) {
            // a damaged cache file is recomputed
        }
    }

    // Spectrum scaling 1 / max(|f|, 1/S), as complex numbers m + 0i for cv::mulSpectrums.
    cv::Mat scale(static_cast<int>(s), static_cast<int>(s), CV_32FC2);
    const auto freq = [s](int64_t k) {
        return static_cast<double>(k < (s + 1) / 2 ? k : k - s) / static_cast<double>(s);
    };
    for (int64_t y = 0; y < s; ++y)
        for (int64_t x = 0; x < s; ++x) {
            const double f = std::hypot(freq(x), freq(y));
            const auto m = static_cast<float>(1.0 / std::max(f, 1.0 / static_cast<double>(s)));
            scale.at<cv::Vec2f>(static_cast<int>(y), static_cast<int>(x)) = {m, 0.0F};
        }
    const float unitary = kImageScale / std::sqrt(static_cast<float>(plane));
    float colour[3][3];
    float maxNorm = 0.0F;
    for (int j = 0; j < 3; ++j)
        maxNorm = std::max(maxNorm,
                           std::sqrt(kColour[0][j] * kColour[0][j] + kColour[1][j] * kColour[1][j] +
                                     kColour[2][j] * kColour[2][j]));
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) colour[i][j] = kColour[i][j] / maxNorm;
    const PreprocessOptions& prep = model.preprocess();

    // The parameters: three complex spectra, Gaussian with sd 0.01.
    SplitMix64 rng(o.seed);
    const std::vector<float> init = gaussianNoise(rng.next(), 3 * 2 * plane);
    std::vector<cv::Mat> spectrum(3), adamM(3), adamV(3);
    for (size_t c = 0; c < 3; ++c) {
        spectrum[c] = cv::Mat(static_cast<int>(s), static_cast<int>(s), CV_32FC2);
        std::transform(init.begin() + static_cast<std::ptrdiff_t>(c * 2 * plane),
                       init.begin() + static_cast<std::ptrdiff_t>((c + 1) * 2 * plane),
                       spectrum[c].ptr<float>(), [](float g) { return kInitialSd * g; });
        adamM[c] = cv::Mat::zeros(spectrum[c].size(), CV_32FC2);
        adamV[c] = cv::Mat::zeros(spectrum[c].size(), CV_32FC2);
    }

    std::vector<std::string> taps = d->backprop.neededTaps(o.layer, "input");
    if (std::find(taps.begin(), taps.end(), o.layer) == taps.end()) taps.push_back(o.layer);
    BackwardRequest request;
    request.from = o.layer;
    request.seed = d->backprop.channelMeanSeed(o.layer, o.channel);
    request.ablations = o.ablations;
    checkAblations(spec, o.ablations, 1);

    Tensor x({1, 3, s, s});  // the image, normalised
    Tensor warped({1, 3, s, s});
    std::vector<float> decorrelated(3 * plane);  // y: the spectra's images
    std::vector<float> rgb(3 * plane);
    std::vector<float> grad(3 * plane);
    cv::Mat scaled, complexImage, planes[2];
    auto render = [&] {
        for (size_t c = 0; c < 3; ++c) {
            cv::mulSpectrums(spectrum[c], scale, scaled, 0);  // elementwise: scale is real
            cv::dft(scaled, complexImage, cv::DFT_INVERSE | cv::DFT_COMPLEX_OUTPUT);
            cv::split(complexImage, planes);
            const float* re = planes[0].ptr<float>();
            for (size_t i = 0; i < plane; ++i) decorrelated[c * plane + i] = re[i] * unitary;
        }
        for (size_t i = 0; i < plane; ++i)
            for (size_t r = 0; r < 3; ++r) {
                float lin = 0.0F;
                for (size_t j = 0; j < 3; ++j) lin += colour[r][j] * decorrelated[j * plane + i];
                const float value = 1.0F / (1.0F + std::exp(-lin));
                rgb[r * plane + i] = value;
                x.data[r * plane + i] = (value - prep.mean[r]) / prep.std[r];
            }
    };

    const float beta1 = 0.9F, beta2 = 0.999F, eps = 1e-8F;
    for (int step = 1; step <= o.steps; ++step) {
        render();
        const Warp warp = randomWarp(rng, s, o);
        applyWarp(warp, x.ptr(), warped.ptr(), 3, plane, false);
        const RunResult r = d->engine.run(warped, EngineRun{taps, o.ablations});
        v.objective.push_back(Impl::meanOf(r.taps.at(o.layer), o.channel));
        // Through the layer's own ReLU while any position of the channel is active; before it
        // (the pre-activation's mean) while none is, so the ascent cannot stall at zero.
        request.seedBeforeRelu = spec.node(o.layer).relu && !(v.objective.back() > 0.0F);
        const Tensor g = d->backprop.backward(r.taps, request);
        applyWarp(warp, g.ptr(), grad.data(), 3, plane, true);  // d/dx
        // Back through the normalisation, the sigmoid and the colour mixing to y.
        for (size_t i = 0; i < plane; ++i) {
            float gl[3];
            for (size_t c = 0; c < 3; ++c) {
                const float value = rgb[c * plane + i];
                gl[c] = grad[c * plane + i] / prep.std[c] * value * (1.0F - value);
            }
            for (size_t j = 0; j < 3; ++j)
                decorrelated[j * plane + i] =
                    colour[0][j] * gl[0] + colour[1][j] * gl[1] + colour[2][j] * gl[2];
        }
        // d/d spectrum = scale ⊙ DFT(g_y) / (4√N), then an Adam step up the gradient.
        const float correction1 = 1.0F - std::pow(beta1, static_cast<float>(step));
        const float correction2 = 1.0F - std::pow(beta2, static_cast<float>(step));
        for (size_t c = 0; c < 3; ++c) {
            const cv::Mat gy(static_cast<int>(s), static_cast<int>(s), CV_32F,
                             decorrelated.data() + c * plane);
            cv::dft(gy, complexImage, cv::DFT_COMPLEX_OUTPUT);
            cv::mulSpectrums(complexImage, scale, scaled, 0);
            float* z = spectrum[c].ptr<float>();
            float* m = adamM[c].ptr<float>();
            float* vv = adamV[c].ptr<float>();
            const float* gz = scaled.ptr<float>();
            for (size_t k = 0; k < 2 * plane; ++k) {
                const float gk = gz[k] * unitary;
                m[k] = beta1 * m[k] + (1 - beta1) * gk;
                vv[k] = beta2 * vv[k] + (1 - beta2) * gk * gk;
                z[k] +=
                    o.learningRate * (m[k] / correction1) / (std::sqrt(vv[k] / correction2) + eps);
            }
        }
        if (!keepGoing(progress, step, o.steps)) return std::nullopt;
    }
    render();
    v.input = x;
    v.rgb = d->toRgb(x);
    v.activation = channelMean(x, o.layer, o.channel, o.ablations);
    if (o.useCache) {
        try {
            std::error_code ec;
            fs::create_directories(fs::path(cacheFile).parent_path(), ec);
            writeNpy(cacheFile, v.input);
        } catch (const Error&) {
            // an unwritable cache only costs time
        }
    }
    v.ms = msSince(t0);
    return v;
}

}  // namespace r18
