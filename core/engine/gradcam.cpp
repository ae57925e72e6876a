#include "core/engine/gradcam.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <numeric>

#include "core/error.h"

namespace r18 {
namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

const Tensor& tapOf(const std::map<std::string, Tensor>& taps, const std::string& name) {
    const auto it = taps.find(name);
    if (it == taps.end())
        throw EngineError("Grad-CAM needs the tap '" + name + "', which was not computed.");
    return it->second;
}

// g ⊙ [y > 0]: the gradient through a ReLU whose output was y.
void reluBackward(Tensor& g, const Tensor& y) {
    for (size_t i = 0; i < g.data.size(); ++i)
        if (y.data[i] <= 0.0F) g.data[i] = 0.0F;
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
    const WeightSet* weights = nullptr;
    dnnl::engine eng{dnnl::engine::kind::cpu, 0};
    dnnl::stream strm{eng};
    struct Backward {
        dnnl::convolution_backward_data prim;
        dnnl::memory weights;
        dnnl::memory::desc diffDst;
        dnnl::memory::desc diffSrc;
    };
    std::map<int, Backward> backward;  // per conv node, built on first use

    const Node& node(int i) const { return spec.nodes[static_cast<size_t>(i)]; }

    // dL/d(conv input) from dL/d(conv output), through the folded convolution.
    Tensor convBackward(int conv, const Tensor& gradOut) {
        auto it = backward.find(conv);
        if (it == backward.end()) {
            const Node& n = node(conv);
            const dnnl::memory::dims src{1, n.inShape[0], n.inShape[1], n.inShape[2]};
            const dnnl::memory::dims dst{1, n.outShape[0], n.outShape[1], n.outShape[2]};
            const dnnl::memory::dims wei{n.outShape[0], n.inShape[0], n.kernel, n.kernel};
            const dnnl::memory::desc srcMd(src, dt::f32, tag::nchw);
            const dnnl::memory::desc dstMd(dst, dt::f32, tag::nchw);
            const dnnl::memory::desc weiMd(wei, dt::f32, tag::any);
            const dnnl::memory::dims stride{n.stride, n.stride};
            const dnnl::memory::dims pad{n.pad, n.pad};
            dnnl::convolution_forward::primitive_desc fwd(
                {dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, srcMd,
                 weiMd, dstMd, stride, pad, pad},
                eng);
            dnnl::convolution_backward_data::primitive_desc pd(
                {dnnl::algorithm::convolution_direct, srcMd, weiMd, dstMd, stride, pad, pad}, eng,
                fwd);
            const FoldedConv f = foldBatchNorm(n, *weights);
            dnnl::memory user({wei, dt::f32, tag::oihw}, eng, const_cast<float*>(f.weights.data()));
            dnnl::memory w(pd.weights_desc(), eng);
            dnnl::reorder(user, w).execute(strm, user, w);
            strm.wait();
            it = backward
                     .emplace(conv, Backward{dnnl::convolution_backward_data(pd), w, dstMd, srcMd})
                     .first;
        }
        const Node& n = node(conv);
        Tensor gradIn({1, n.inShape[0], n.inShape[1], n.inShape[2]});
        dnnl::memory gOut(it->second.diffDst, eng, const_cast<float*>(gradOut.ptr()));
        dnnl::memory gIn(it->second.diffSrc, eng, gradIn.ptr());
        it->second.prim.execute(strm, {{DNNL_ARG_DIFF_DST, gOut},
                                       {DNNL_ARG_WEIGHTS, it->second.weights},
                                       {DNNL_ARG_DIFF_SRC, gIn}});
        strm.wait();
        return gradIn;
    }

    int lastBlock() const { return node(spec.find("avgpool")).inputs[0]; }

    // Add nodes from the last block down to, not including, `target`.
    std::vector<int> blocksAfter(int target) const {
        std::vector<int> blocks;
        for (int b = lastBlock(); b != target;) {
            if (node(b).kind != NodeKind::Add)
                throw EngineError("internal: Grad-CAM walked off the residual blocks.");
            blocks.push_back(b);
            b = node(node(node(b).inputs[0]).inputs[0])
                    .inputs[0];  // add <- conv2 <- conv1 <- block input
        }
        return blocks;
    }
};

GradCam::GradCam(const NetworkSpec& spec, const WeightSet& weights) : d(std::make_unique<Impl>()) {
    validateWeights(spec, weights);
    d->spec = spec;
    d->weights = &weights;
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
    for (int b : d->blocksAfter(d->spec.find(t))) {
        taps.push_back(d->node(b).name);
        taps.push_back(d->node(d->node(d->node(b).inputs[0]).inputs[0]).name);  // conv1 output
    }
    return taps;
}

Tensor GradCam::gradient(const std::map<std::string, Tensor>& taps, const std::string& target,
                         int64_t classIndex) {
    checkClass(d->spec, classIndex);
    const std::string t = resolveTarget(target);
    const int last = d->lastBlock();
    const Node& lastNode = d->node(last);
    const int64_t c = lastNode.outShape[0];
    const int64_t hw = lastNode.outShape[1] * lastNode.outShape[2];
    // Through fc and the average pool: w_fc[class, c] / (H·W) at every position.
    const Tensor& fc = *d->weights->get("fc.weight");
    Tensor g({1, c, lastNode.outShape[1], lastNode.outShape[2]});
    for (int64_t ch = 0; ch < c; ++ch)
        std::fill_n(g.data.begin() + ch * hw, hw,
                    fc.data[static_cast<size_t>(classIndex * c + ch)] / static_cast<float>(hw));
    for (int block : d->blocksAfter(d->spec.find(t))) {
        const Node& add = d->node(block);
        const int conv2 = add.inputs[0];
        const int conv1 = d->node(conv2).inputs[0];
        const int skip = add.inputs[1];
        reluBackward(g, tapOf(taps, add.name));                 // the block's final ReLU
        Tensor inner = d->convBackward(conv2, g);               // into conv1's output
        reluBackward(inner, tapOf(taps, d->node(conv1).name));  // conv1's ReLU
        Tensor x = d->convBackward(conv1, inner);               // main path into the block input
        const Tensor side = d->node(skip).kind == NodeKind::Conv ? d->convBackward(skip, g) : g;
        for (size_t i = 0; i < x.data.size(); ++i) x.data[i] += side.data[i];
        g = std::move(x);
    }
    return g;
}

Heatmap GradCam::compute(const std::map<std::string, Tensor>& taps, const std::string& target,
                         int64_t classIndex) {
    const std::string t = resolveTarget(target);
    const Tensor g = gradient(taps, t, classIndex);
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
