#include "core/engine/gradcam.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"

namespace r18 {
namespace {

const Tensor& tapOf(const std::map<std::string, Tensor>& taps, const std::string& name) {
    const auto it = taps.find(name);
    if (it == taps.end())
        throw EngineError("Grad-CAM needs the tap '" + name + "', which was not computed.");
    return it->second;
}

Heatmap weightedSum(const Tensor& a, const std::vector<float>& alpha, const std::string& target,
                    int64_t cls) {
    Heatmap h;
    h.target = target;
    h.classIndex = cls;
    h.height = a.dims[2];
    h.width = a.dims[3];
    const auto plane = static_cast<size_t>(h.height * h.width);
    h.values.assign(plane, 0.0F);
    for (size_t c = 0; c < alpha.size(); ++c)
        for (size_t i = 0; i < plane; ++i) h.values[i] += alpha[c] * a.data[c * plane + i];
    for (float& v : h.values) v = std::max(v, 0.0F);
    return h;
}

void checkClass(const NetworkSpec& spec, int64_t cls) {
    if (cls < 0 || cls >= spec.numClasses)
        throw EngineError("Class " + std::to_string(cls) + " does not exist; the model has " +
                          std::to_string(spec.numClasses) + " classes.");
}

}  // namespace

float Heatmap::maxValue() const {
    return values.empty() ? 0.0F : *std::max_element(values.begin(), values.end());
}

Heatmap classActivationMap(const NetworkSpec& spec, const WeightSet& weights,
                           const Tensor& lastBlock, int64_t classIndex) {
    checkClass(spec, classIndex);
    const Tensor& fc = *weights.get("fc.weight");
    const int64_t channels = fc.dims[1];
    if (lastBlock.dims.size() != 4 || lastBlock.dims[1] != channels)
        throw EngineError("CAM needs the last block's output, [1," + std::to_string(channels) +
                          ",H,W].");
    const auto row = fc.data.begin() + static_cast<std::ptrdiff_t>(classIndex * channels);
    const Node& pool = spec.nodes[static_cast<size_t>(spec.find("avgpool"))];
    return weightedSum(lastBlock, std::vector<float>(row, row + channels),
                       spec.nodes[static_cast<size_t>(pool.inputs[0])].name, classIndex);
}

struct GradCam::Impl {
    NetworkSpec spec;
    std::unique_ptr<Backprop> backprop;
};

GradCam::GradCam(const NetworkSpec& spec, const WeightSet& weights) : d(std::make_unique<Impl>()) {
    d->backprop = std::make_unique<Backprop>(spec, weights, 1);
    d->spec = spec;
}

GradCam::~GradCam() = default;

std::string GradCam::resolveTarget(const std::string& target) const {
    const NetworkSpec& spec = d->spec;
    for (size_t s = 0; s < spec.depths.size(); ++s)
        if (target == "layer" + std::to_string(s + 1))
            return target + "." + std::to_string(spec.depths[s] - 1);
    const int i = spec.find(target);
    if (i >= 0 && spec.nodes[static_cast<size_t>(i)].kind == NodeKind::Add) return target;
    throw EngineError(
        "Grad-CAM works at a stage (layer1 … layer4) or a block output (e.g. layer3.0), not at '" +
        target + "'.");
}

std::vector<std::string> GradCam::neededTaps(const std::string& target) const {
    const std::string t = resolveTarget(target);
    std::vector<std::string> taps{t};
    for (const std::string& name : d->backprop->neededTaps("fc", t))
        if (name != t) taps.push_back(name);
    return taps;
}

Tensor GradCam::gradient(const std::map<std::string, Tensor>& taps, const std::string& target,
                         int64_t classIndex, const std::vector<ChannelAblation>& ablations) {
    checkClass(d->spec, classIndex);
    BackwardRequest request;
    request.ablations = ablations;
    request.seed = d->backprop->classSeed(classIndex);
    request.to = resolveTarget(target);
    return d->backprop->backward(taps, request);
}

Backprop& GradCam::backprop() {
    return *d->backprop;
}

Heatmap GradCam::compute(const std::map<std::string, Tensor>& taps, const std::string& target,
                         int64_t classIndex, const std::vector<ChannelAblation>& ablations) {
    const std::string t = resolveTarget(target);
    const Tensor g = gradient(taps, t, classIndex, ablations);
    const Tensor& a = tapOf(taps, t);
    const auto channels = static_cast<size_t>(a.dims[1]);
    const auto plane = static_cast<size_t>(a.dims[2] * a.dims[3]);
    std::vector<float> alpha(channels);
    for (size_t ch = 0; ch < channels; ++ch) {
        const auto begin = g.data.begin() + static_cast<std::ptrdiff_t>(ch * plane);
        alpha[ch] = static_cast<float>(
            std::accumulate(begin, begin + static_cast<std::ptrdiff_t>(plane), 0.0) / plane);
    }
    return weightedSum(a, alpha, t, classIndex);
}

}  // namespace r18
