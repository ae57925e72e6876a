#include "core/score_cam.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

#include "core/clock.h"
#include "core/error.h"
#include "core/model/predictions.h"
#include "core/pipeline.h"

namespace r18 {
struct ScoreCam::Impl {
    std::shared_ptr<const Model> model;
    Pipeline pipeline;

    Impl(std::shared_ptr<const Model> m, const EngineOptions& o)
        : model(std::move(m)), pipeline(model, o) {}
};

ScoreCam::ScoreCam(std::shared_ptr<const Model> model, const EngineOptions& options)
    : d(std::make_unique<Impl>(std::move(model), options)) {}

ScoreCam::~ScoreCam() = default;

const EngineOptions& ScoreCam::options() const {
    return d->pipeline.options();
}

std::string ScoreCam::resolveLayer(const std::string& layer) const {
    const NetworkSpec& spec = d->model->spec();
    for (size_t s = 0; s < spec.depths.size(); ++s)
        if (layer == "layer" + std::to_string(s + 1))
            return layer + "." + std::to_string(spec.depths[s] - 1);
    const int i = spec.find(layer);
    if (i > 0 && spec.nodes[static_cast<size_t>(i)].tappable() &&
        spec.nodes[static_cast<size_t>(i)].outShape.size() == 3)
        return layer;
    std::string valid;
    for (const std::string& t : spec.tapNames())
        if (t != "input" && spec.node(t).outShape.size() == 3)
            valid += (valid.empty() ? "" : ", ") + t;
    throw EngineError("Score-CAM works at a stage (layer1 … layer" +
                      std::to_string(spec.depths.size()) + ") or a node with feature maps (" +
                      valid + "), not at '" + layer + "'.");
}

std::optional<ScoreCamResult> ScoreCam::compute(const Tensor& input, const ScoreCamOptions& options,
                                                const ProgressFn& progress) {
    const auto t0 = Clock::now();
    const NetworkSpec& spec = d->model->spec();
    const int64_t s = spec.inputSize;
    const std::vector<int64_t> want{1, 3, s, s};
    if (input.dims != want)
        throw EngineError("Score-CAM needs an input of shape " + shapeToString(want) + ", got " +
                          shapeToString(input.dims) + ".");
    ScoreCamResult result;
    result.layer = resolveLayer(options.layer);
    const int batch = d->pipeline.options().batch;
    const int64_t classes = spec.numClasses;
    const size_t image = static_cast<size_t>(3 * s * s);
    const auto plane = static_cast<size_t>(s * s);
    Engine& engine = d->pipeline.engine();

    // The image itself, in the first slot of a batch: its layer output and its logits.
    Tensor x({batch, 3, s, s});
    std::copy(input.data.begin(), input.data.end(), x.data.begin());
    checkAblations(spec, options.ablations, batch);
    RunResult own = engine.run(x, EngineRun{{result.layer}, options.ablations});
    result.logits = Tensor({1, classes});
    std::copy_n(own.logits.ptr(), classes, result.logits.ptr());
    result.classIndex = options.classIndex >= 0 ? options.classIndex
                                                : std::max_element(result.logits.data.begin(),
                                                                   result.logits.data.end()) -
                                                      result.logits.data.begin();
    if (result.classIndex >= classes)
        throw EngineError("Class " + std::to_string(result.classIndex) +
                          " does not exist; the model has " + std::to_string(classes) +
                          " classes.");
    result.logit = result.logits.data[static_cast<size_t>(result.classIndex)];
    const Tensor& all = own.taps.at(result.layer);
    const int64_t channels = all.dims[1], h = all.dims[2], w = all.dims[3];
    const auto mapSize = static_cast<size_t>(h * w);
    // Only the first image's maps: [C,h,w].
    const std::vector<float> a(all.data.begin(),
                               all.data.begin() + static_cast<std::ptrdiff_t>(channels) *
                                                      static_cast<std::ptrdiff_t>(mapSize));
    result.weights.assign(static_cast<size_t>(channels), 0.0F);

    // Channels with something to mask, run `batch` at a time.
    std::vector<bool> wanted(static_cast<size_t>(channels), options.channels.empty());
    for (int c : options.channels) {
        if (c < 0 || c >= channels)
            throw EngineError("Score-CAM: '" + result.layer + "' has channels 0 … " +
                              std::to_string(channels - 1) + ", not " + std::to_string(c) + ".");
        wanted[static_cast<size_t>(c)] = true;
    }
    std::vector<int64_t> pending;
    for (int64_t c = 0; c < channels; ++c) {
        if (!wanted[static_cast<size_t>(c)]) continue;
        const auto [lo, hi] =
            std::minmax_element(a.begin() + c * static_cast<int64_t>(mapSize),
                                a.begin() + (c + 1) * static_cast<int64_t>(mapSize));
        if (*lo != *hi) pending.push_back(c);  // a constant map upsamples to a constant
    }
    cv::Mat up(static_cast<int>(s), static_cast<int>(s), CV_32F);
    for (size_t first = 0; first < pending.size(); first += static_cast<size_t>(batch)) {
        const size_t count = std::min(pending.size() - first, static_cast<size_t>(batch));
        std::fill(x.data.begin(), x.data.end(), 0.0F);
        std::vector<bool> masked(count, false);
        for (size_t b = 0; b < count; ++b) {
            const int64_t c = pending[first + b];
            const cv::Mat small(static_cast<int>(h), static_cast<int>(w), CV_32F,
                                const_cast<float*>(a.data() + static_cast<size_t>(c) * mapSize));
            cv::resize(small, up, up.size(), 0, 0, cv::INTER_LINEAR);
            double lo = 0.0, hi = 0.0;
            cv::minMaxLoc(up, &lo, &hi);
            const auto flo = static_cast<float>(lo);
            const auto range = static_cast<float>(hi) - flo;
            const auto* u = up.ptr<float>();
            float* dst = x.ptr() + b * image;
            if (range <= 0.0F) continue;  // constant after all: weight 0
            masked[b] = true;
            for (size_t i = 0; i < plane; ++i) {
                const float m = (u[i] - flo) / range;
                for (size_t ch = 0; ch < 3; ++ch)
                    dst[ch * plane + i] = input.data[ch * plane + i] * m;
            }
        }
        const RunResult r = engine.run(x, EngineRun{{}, options.ablations});
        for (size_t b = 0; b < count; ++b)
            if (masked[b])
                result.weights[static_cast<size_t>(pending[first + b])] =
                    softmax(r.logits.ptr() + b * static_cast<size_t>(classes),
                            classes)[static_cast<size_t>(result.classIndex)];
        result.passes += static_cast<int>(count);
        if (!keepGoing(progress, static_cast<int>(first + count), static_cast<int>(pending.size())))
            return std::nullopt;
    }

    result.map = Tensor({1, h, w});
    for (int64_t c = 0; c < channels; ++c) {
        const float wc = result.weights[static_cast<size_t>(c)];
        if (wc == 0.0F) continue;
        for (size_t i = 0; i < mapSize; ++i)
            result.map.data[i] += wc * a[static_cast<size_t>(c) * mapSize + i];
    }
    for (float& v : result.map.data) v = std::max(v, 0.0F);
    result.ms = msSince(t0);
    return result;
}

}  // namespace r18
