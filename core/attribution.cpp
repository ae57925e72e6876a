#include "core/attribution.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "core/clock.h"
#include "core/engine/backprop.h"
#include "core/engine/gradcam.h"
#include "core/error.h"
#include "core/pipeline.h"
#include "core/score_cam.h"

namespace r18 {
namespace {

struct MethodName {
    AttributionMethod method;
    const char* name;
};
constexpr MethodName kMethods[] = {
    {AttributionMethod::Cam, "cam"},
    {AttributionMethod::GradCam, "gradcam"},
    {AttributionMethod::Gradient, "gradient"},
    {AttributionMethod::GuidedBackprop, "guided-backprop"},
    {AttributionMethod::IntegratedGradients, "integrated-gradients"},
    {AttributionMethod::SmoothGrad, "smoothgrad"},
    {AttributionMethod::ScoreCam, "scorecam"},
};

float softmaxAt(const float* logits, int64_t classes, int64_t k) {
    const float top = *std::max_element(logits, logits + classes);
    double sum = 0.0;
    for (int64_t i = 0; i < classes; ++i) sum += std::exp(static_cast<double>(logits[i] - top));
    return static_cast<float>(std::exp(static_cast<double>(logits[k] - top)) / sum);
}

}  // namespace

const char* methodName(AttributionMethod method) {
    for (const MethodName& m : kMethods)
        if (m.method == method) return m.name;
    return "?";
}

std::optional<AttributionMethod> parseMethod(const std::string& name) {
    for (const MethodName& m : kMethods)
        if (name == m.name) return m.method;
    return std::nullopt;
}

const std::vector<AttributionMethod>& allMethods() {
    static const std::vector<AttributionMethod> all = [] {
        std::vector<AttributionMethod> v;
        for (const MethodName& m : kMethods) v.push_back(m.method);
        return v;
    }();
    return all;
}

bool inInputSpace(AttributionMethod method) {
    return method != AttributionMethod::Cam && method != AttributionMethod::GradCam &&
           method != AttributionMethod::ScoreCam;
}

Tensor pixelScores(const Tensor& map, int64_t inputSize) {
    const int s = static_cast<int>(inputSize);
    Tensor scores({inputSize, inputSize});
    if (map.dims.size() == 4) {
        const int64_t plane = map.dims[2] * map.dims[3];
        if (map.dims[2] != inputSize || map.dims[3] != inputSize)
            throw EngineError("An input-space map must be [1,C," + std::to_string(inputSize) + "," +
                              std::to_string(inputSize) + "], not " + shapeToString(map.dims) +
                              ".");
        for (int64_t c = 0; c < map.dims[1]; ++c)
            for (int64_t i = 0; i < plane; ++i)
                scores.data[static_cast<size_t>(i)] =
                    std::max(scores.data[static_cast<size_t>(i)],
                             std::fabs(map.data[static_cast<size_t>(c * plane + i)]));
        return scores;
    }
    if (map.dims.size() != 3 || map.dims[0] != 1)
        throw EngineError("A heat map must be [1,h,w], not " + shapeToString(map.dims) + ".");
    const cv::Mat small(static_cast<int>(map.dims[1]), static_cast<int>(map.dims[2]), CV_32F,
                        const_cast<float*>(map.ptr()));
    cv::Mat big(s, s, CV_32F, scores.ptr());
    cv::resize(small, big, big.size(), 0, 0, cv::INTER_LINEAR);
    return scores;
}

namespace {

// The q-quantile (0 … 1) of |values|, > 0 unless every value is 0.
float absQuantile(const std::vector<float>& values, double q) {
    std::vector<float> a(values.size());
    std::transform(values.begin(), values.end(), a.begin(), [](float v) { return std::fabs(v); });
    if (a.empty()) return 0.0F;
    const auto k = static_cast<size_t>(q * static_cast<double>(a.size() - 1));
    std::nth_element(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(k), a.end());
    const float at = a[k];
    return at > 0.0F ? at : *std::max_element(a.begin(), a.end());
}

}  // namespace

Tensor heatValues(const Tensor& map, int64_t inputSize) {
    Tensor h = pixelScores(map, inputSize);
    const float top = map.dims.size() == 4 ? absQuantile(h.data, 0.99)
                                           : *std::max_element(h.data.begin(), h.data.end());
    for (float& v : h.data) v = top > 0.0F ? std::min(v / top, 1.0F) : 0.0F;
    return h;
}

cv::Mat signedRgb(const Tensor& map) {
    if (map.dims.size() != 4 || map.dims[1] != 3 || map.dims[2] != map.dims[3])
        throw EngineError("Signed RGB needs an input-space map [1,3,S,S], not " +
                          shapeToString(map.dims) + ".");
    const int s = static_cast<int>(map.dims[2]);
    const auto plane = static_cast<size_t>(s) * static_cast<size_t>(s);
    const float m = absQuantile(map.data, 0.99);
    cv::Mat rgb(s, s, CV_8UC3);
    for (size_t i = 0; i < plane; ++i)
        for (size_t c = 0; c < 3; ++c) {
            const float v = m > 0.0F ? map.data[c * plane + i] / m : 0.0F;
            rgb.data[3 * i + c] =
                static_cast<uint8_t>(std::lround(128.0F + 127.0F * std::clamp(v, -1.0F, 1.0F)));
        }
    return rgb;
}

double curveArea(const std::vector<float>& curve) {
    if (curve.size() < 2) return curve.empty() ? 0.0 : curve[0];
    double area = 0.0;
    for (size_t k = 0; k + 1 < curve.size(); ++k) area += 0.5 * (curve[k] + curve[k + 1]);
    return area / static_cast<double>(curve.size() - 1);
}

namespace {

// CAM reads the last block's output and the fc weights: channels switched off after it (in the
// average pool) contribute nothing to the logit, nor to the map; with the class's own logit
// switched off (fc), nothing does.
Tensor withHeadAblations(Tensor lastBlock, int64_t classIndex,
                         const std::vector<ChannelAblation>& ablations) {
    const int64_t plane = lastBlock.dims[2] * lastBlock.dims[3];
    for (const ChannelAblation& a : ablations) {
        const bool classOff =
            a.node == "fc" && std::find(a.channels.begin(), a.channels.end(),
                                        static_cast<int>(classIndex)) != a.channels.end();
        if (classOff) std::fill(lastBlock.data.begin(), lastBlock.data.end(), 0.0F);
        if (a.node == "avgpool")
            for (int c : a.channels) std::fill_n(lastBlock.data.begin() + c * plane, plane, 0.0F);
    }
    return lastBlock;
}

}  // namespace

struct Explainer::Impl {
    std::shared_ptr<const Model> model;
    int threads = 0;
    int batch = 4;
    Pipeline single;
    GradCam gradCam;
    Backprop& backprop1;                // gradCam's
    std::unique_ptr<Pipeline> batched;  // built on first use
    std::unique_ptr<Backprop> backpropN;
    std::unique_ptr<ScoreCam> scoreCam;  // built on first use

    Impl(std::shared_ptr<const Model> m, int t, int b)
        : model(std::move(m)),
          threads(t),
          batch(b),
          single(model, EngineOptions().withThreads(t)),
          gradCam(model->spec(), model->weights()),
          backprop1(gradCam.backprop()) {}

    int64_t inputSize() const { return model->spec().inputSize; }
    int64_t imageSize() const { return 3 * inputSize() * inputSize(); }
    int64_t classes() const { return model->spec().numClasses; }

    void ensureBatched() {
        if (batched) return;
        batched = std::make_unique<Pipeline>(model,
                                             EngineOptions().withBatch(batch).withThreads(threads));
        backpropN = std::make_unique<Backprop>(model->spec(), model->weights(), batch);
    }

    // Σ over `images` (each imageSize() floats) of ∂ logit[cls] / ∂ image, in batches. `done`
    // counts images for the progress callback. nullopt if cancelled.
    std::optional<Tensor> sumOfGradients(const std::vector<std::vector<float>>& images, int64_t cls,
                                         const std::vector<ChannelAblation>& ablations,
                                         const ProgressFn& progress, int& done, int total) {
        ensureBatched();
        const EngineRun run{backpropN->neededTaps("fc", "input"), ablations};
        BackwardRequest request;
        request.seed = backpropN->classSeed(cls);
        request.ablations = ablations;
        const auto n = static_cast<size_t>(imageSize());
        Tensor sum({1, 3, inputSize(), inputSize()});
        Tensor x({batch, 3, inputSize(), inputSize()});
        for (size_t first = 0; first < images.size(); first += static_cast<size_t>(batch)) {
            const size_t count = std::min(images.size() - first, static_cast<size_t>(batch));
            std::fill(x.data.begin(), x.data.end(), 0.0F);
            for (size_t b = 0; b < count; ++b)
                std::copy(images[first + b].begin(), images[first + b].end(),
                          x.data.begin() + static_cast<std::ptrdiff_t>(b * n));
            // The padding images of a last, partial batch get no seed.
            for (size_t b = 0; b < static_cast<size_t>(batch); ++b)
                request.seed.data[b * static_cast<size_t>(classes()) + static_cast<size_t>(cls)] =
                    b < count ? 1.0F : 0.0F;
            const RunResult r = batched->engine().run(x, run);
            const Tensor g = backpropN->backward(r.taps, request);
            for (size_t b = 0; b < count; ++b)
                for (size_t i = 0; i < n; ++i) sum.data[i] += g.data[b * n + i];
            done += static_cast<int>(count);
            if (!keepGoing(progress, done, total)) return std::nullopt;
        }
        return sum;
    }

    // Logits of many images, in batches: [count, classes]. nullopt if cancelled.
    std::optional<std::vector<float>> logitsOf(const std::vector<std::vector<float>>& images,
                                               const ProgressFn& progress,
                                               const std::vector<ChannelAblation>& ablations) {
        EngineRun run;
        run.ablations = ablations;
        ensureBatched();
        const auto n = static_cast<size_t>(imageSize());
        std::vector<float> out;
        Tensor x({batch, 3, inputSize(), inputSize()});
        const int total = static_cast<int>(images.size());
        for (size_t first = 0; first < images.size(); first += static_cast<size_t>(batch)) {
            const size_t count = std::min(images.size() - first, static_cast<size_t>(batch));
            std::fill(x.data.begin(), x.data.end(), 0.0F);
            for (size_t b = 0; b < count; ++b)
                std::copy(images[first + b].begin(), images[first + b].end(),
                          x.data.begin() + static_cast<std::ptrdiff_t>(b * n));
            const RunResult r = batched->engine().run(x, run);
            out.insert(out.end(), r.logits.data.begin(),
                       r.logits.data.begin() +
                           static_cast<std::ptrdiff_t>(count * static_cast<size_t>(classes())));
            if (!keepGoing(progress, static_cast<int>(first + count), total)) return std::nullopt;
        }
        return out;
    }
};

Explainer::Explainer(std::shared_ptr<const Model> model, int threads, int batch) {
    if (batch < 1) throw EngineError("The batch size must be at least 1.");
    d = std::make_unique<Impl>(std::move(model), threads, batch);
}

Explainer::~Explainer() = default;

const Model& Explainer::model() const {
    return *d->model;
}

void Explainer::setScoreCamEngine(const EngineOptions& options) {
    d->scoreCam.reset();
    d->scoreCam = std::make_unique<ScoreCam>(d->model, options);
}

std::optional<Attribution> Explainer::explain(const Tensor& input,
                                              const AttributionOptions& options,
                                              const ProgressFn& progress) {
    const auto t0 = Clock::now();
    const NetworkSpec& spec = d->model->spec();
    const std::vector<int64_t> want{1, 3, spec.inputSize, spec.inputSize};
    if (input.dims != want)
        throw EngineError("Attribution needs an input of shape " + shapeToString(want) + ", got " +
                          shapeToString(input.dims) + ".");
    if (options.steps < 1) throw EngineError("Integrated gradients needs at least 1 step.");
    if (options.samples < 1) throw EngineError("SmoothGrad needs at least 1 sample.");
    if (!(options.noise >= 0.0F)) throw EngineError("SmoothGrad's noise level must be ≥ 0.");

    Attribution a;
    a.method = options.method;
    if (options.method == AttributionMethod::ScoreCam) {
        if (!d->scoreCam)
            d->scoreCam = std::make_unique<ScoreCam>(
                d->model, EngineOptions().withThreads(d->threads).withBatch(kScoreCamBatch));
        ScoreCamOptions so;
        so.layer = options.layer;
        so.classIndex = options.classIndex;
        so.ablations = options.ablations;
        std::optional<ScoreCamResult> r = d->scoreCam->compute(input, so, progress);
        if (!r) return std::nullopt;
        a.classIndex = r->classIndex;
        a.layer = r->layer;
        a.map = std::move(r->map);
        a.logits = std::move(r->logits);
        a.logit = r->logit;
        a.maskedPasses = r->passes;
        a.ms = msSince(t0);
        return a;
    }
    const bool camLike = !inInputSpace(options.method);
    std::vector<std::string> taps;
    if (options.method == AttributionMethod::Cam) {
        a.layer = d->gradCam.resolveTarget(options.layer);
        const int pool = spec.find("avgpool");
        const std::string lastBlock =
            spec.nodes[static_cast<size_t>(spec.nodes[static_cast<size_t>(pool)].inputs[0])].name;
        if (a.layer != lastBlock)
            throw EngineError("CAM works only at the last block (" + lastBlock +
                              "); use gradcam for '" + options.layer + "'.");
        taps = {a.layer};
    } else if (options.method == AttributionMethod::GradCam) {
        a.layer = d->gradCam.resolveTarget(options.layer);
        taps = d->gradCam.neededTaps(a.layer);
    } else if (options.method == AttributionMethod::Gradient ||
               options.method == AttributionMethod::GuidedBackprop) {
        taps = d->backprop1.neededTaps("fc", "input");
    }
    const RunResult r = d->single.engine().run(input, EngineRun{taps, options.ablations});
    a.logits = r.logits;
    const int64_t classes = spec.numClasses;
    a.classIndex =
        options.classIndex >= 0
            ? options.classIndex
            : std::max_element(r.logits.data.begin(), r.logits.data.end()) - r.logits.data.begin();
    if (a.classIndex >= classes)
        throw EngineError("Class " + std::to_string(a.classIndex) +
                          " does not exist; the model has " + std::to_string(classes) +
                          " classes.");
    a.logit = r.logits.data[static_cast<size_t>(a.classIndex)];

    if (camLike) {
        const Heatmap h =
            options.method == AttributionMethod::Cam
                ? classActivationMap(
                      spec, d->model->weights(),
                      withHeadAblations(r.taps.at(a.layer), a.classIndex, options.ablations),
                      a.classIndex)
                : d->gradCam.compute(r.taps, a.layer, a.classIndex, options.ablations);
        a.map = Tensor({1, h.height, h.width});
        a.map.data = h.values;
        a.backwardPasses = options.method == AttributionMethod::GradCam ? 1 : 0;
    } else if (options.method == AttributionMethod::Gradient ||
               options.method == AttributionMethod::GuidedBackprop) {
        BackwardRequest request;
        request.seed = d->backprop1.classSeed(a.classIndex);
        request.ablations = options.ablations;
        request.rule = options.method == AttributionMethod::GuidedBackprop ? ReluRule::Guided
                                                                           : ReluRule::Gradient;
        a.map = d->backprop1.backward(r.taps, request);
        a.backwardPasses = 1;
        if (!keepGoing(progress, 1, 1)) return std::nullopt;
    } else if (options.method == AttributionMethod::IntegratedGradients) {
        const int n = options.steps;
        std::vector<std::vector<float>> path(static_cast<size_t>(n));
        for (int k = 0; k < n; ++k) {
            const float alpha = (static_cast<float>(k) + 0.5F) / static_cast<float>(n);
            path[static_cast<size_t>(k)].resize(input.data.size());
            std::transform(input.data.begin(), input.data.end(),
                           path[static_cast<size_t>(k)].begin(),
                           [alpha](float v) { return alpha * v; });
        }
        int done = 0;
        std::optional<Tensor> sum =
            d->sumOfGradients(path, a.classIndex, options.ablations, progress, done, n);
        if (!sum) return std::nullopt;
        a.map = std::move(*sum);
        for (size_t i = 0; i < a.map.data.size(); ++i)
            a.map.data[i] *= input.data[i] / static_cast<float>(n);
        const RunResult base =
            d->single.engine().run(Tensor(want), EngineRun{{}, options.ablations});
        a.baselineLogit = base.logits.data[static_cast<size_t>(a.classIndex)];
        a.attributionSum = std::accumulate(a.map.data.begin(), a.map.data.end(), 0.0);
        a.completenessGap = a.attributionSum - (static_cast<double>(a.logit) - a.baselineLogit);
        a.backwardPasses = n;
    } else {  // SmoothGrad
        const auto [lo, hi] = std::minmax_element(input.data.begin(), input.data.end());
        const float sigma = options.noise * (*hi - *lo);
        const int n = options.samples;
        const size_t size = input.data.size();
        const std::vector<float> noise = gaussianNoise(options.seed, size * static_cast<size_t>(n));
        std::vector<std::vector<float>> noisy(static_cast<size_t>(n));
        for (size_t k = 0; k < noisy.size(); ++k) {
            noisy[k] = input.data;
            for (size_t i = 0; i < size; ++i) noisy[k][i] += sigma * noise[k * size + i];
        }
        int done = 0;
        std::optional<Tensor> sum =
            d->sumOfGradients(noisy, a.classIndex, options.ablations, progress, done, n);
        if (!sum) return std::nullopt;
        a.map = std::move(*sum);
        for (float& v : a.map.data) v /= static_cast<float>(n);
        a.backwardPasses = n;
    }
    a.ms = msSince(t0);
    return a;
}

std::optional<Faithfulness> Explainer::faithfulness(const Tensor& input, const Tensor& map,
                                                    int64_t classIndex, int steps,
                                                    const ProgressFn& progress,
                                                    const std::vector<ChannelAblation>& ablations) {
    const auto t0 = Clock::now();
    const int64_t s = d->inputSize();
    if (steps < 1) throw EngineError("The deletion and insertion curves need at least 1 step.");
    if (input.dims != std::vector<int64_t>{1, 3, s, s})
        throw EngineError("Faithfulness needs an input of shape [1,3," + std::to_string(s) + "," +
                          std::to_string(s) + "].");
    if (classIndex < 0 || classIndex >= d->classes())
        throw EngineError("Class " + std::to_string(classIndex) + " does not exist.");
    const Tensor scores = pixelScores(map, s);
    const auto pixels = static_cast<size_t>(s * s);
    std::vector<uint32_t> order(pixels);
    std::iota(order.begin(), order.end(), 0U);
    std::stable_sort(order.begin(), order.end(),
                     [&](uint32_t a, uint32_t b) { return scores.data[a] > scores.data[b]; });
    std::vector<std::vector<float>> images;
    images.reserve(2 * static_cast<size_t>(steps + 1));
    for (int mode = 0; mode < 2; ++mode) {  // 0: deletion, 1: insertion
        std::vector<float> image =
            mode == 0 ? input.data : std::vector<float>(input.data.size(), 0.0F);
        size_t changed = 0;
        for (int k = 0; k <= steps; ++k) {
            const auto until = static_cast<size_t>(std::llround(
                static_cast<double>(k) * static_cast<double>(pixels) / static_cast<double>(steps)));
            for (; changed < until; ++changed) {
                const size_t p = order[changed];
                for (size_t c = 0; c < 3; ++c)
                    image[c * pixels + p] = mode == 0 ? 0.0F : input.data[c * pixels + p];
            }
            images.push_back(image);
        }
    }
    const std::optional<std::vector<float>> logits = d->logitsOf(images, progress, ablations);
    if (!logits) return std::nullopt;
    Faithfulness f;
    const int64_t classes = d->classes();
    for (size_t i = 0; i < images.size(); ++i) {
        const float p =
            softmaxAt(logits->data() + i * static_cast<size_t>(classes), classes, classIndex);
        (i <= static_cast<size_t>(steps) ? f.deletion : f.insertion).push_back(p);
    }
    f.deletionArea = curveArea(f.deletion);
    f.insertionArea = curveArea(f.insertion);
    f.ms = msSince(t0);
    return f;
}

}  // namespace r18
