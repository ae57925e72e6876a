#include "core/engine/backprop.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <limits>

#include "core/error.h"

namespace r18 {
namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

// One convolution's backward-data pass. oneDNN picks the layouts it is fastest with; the
// gradients around it are plain NCHW, so reorders in and out are built once when they differ.
struct ConvBackward {
    dnnl::convolution_backward_data prim;
    dnnl::memory weights;
    dnnl::memory::desc plainDst;  // NCHW, handle set per call
    dnnl::memory::desc plainSrc;
    dnnl::memory diffDst;  // in the primitive's layout: the plain buffer itself when it is NCHW
    dnnl::memory diffSrc;
    bool reorderDst = false;
    bool reorderSrc = false;
};

}  // namespace

struct Backprop::Impl {
    NetworkSpec spec;
    const WeightSet* weights = nullptr;
    int batch = 1;
    dnnl::engine eng{dnnl::engine::kind::cpu, 0};
    dnnl::stream strm{eng};
    std::map<int, ConvBackward> convs;  // per conv node, built on first use

    const Node& node(int i) const { return spec.nodes[static_cast<size_t>(i)]; }

    int index(const std::string& name) const {
        const int i = spec.find(name);
        if (i < 0) throw EngineError("Backpropagation: the network has no node '" + name + "'.");
        return i;
    }

    std::vector<int64_t> batchShape(const std::vector<int64_t>& shape) const {
        std::vector<int64_t> dims{batch};
        dims.insert(dims.end(), shape.begin(), shape.end());
        return dims;
    }

    // Nodes whose gradient the pass from `from` to `to` computes: ancestors of `from` (itself
    // included) that descend from `to`, in execution order.
    std::vector<int> path(int from, int to) const {
        std::vector<bool> below(spec.nodes.size(), false);  // descends from `to`
        below[static_cast<size_t>(to)] = true;
        for (size_t i = static_cast<size_t>(to) + 1; i < spec.nodes.size(); ++i)
            for (int in : spec.nodes[i].inputs)
                if (below[static_cast<size_t>(in)]) below[i] = true;
        std::vector<bool> above(spec.nodes.size(), false);  // `from` depends on it
        above[static_cast<size_t>(from)] = true;
        for (int i = from; i >= 0; --i)
            if (above[static_cast<size_t>(i)])
                for (int in : node(i).inputs) above[static_cast<size_t>(in)] = true;
        if (to > from || !above[static_cast<size_t>(to)])
            throw EngineError("Backpropagation from '" + node(from).name + "' cannot reach '" +
                              node(to).name + "': it is not computed from it.");
        std::vector<int> nodes;
        for (int i = to; i <= from; ++i)
            if (below[static_cast<size_t>(i)] && above[static_cast<size_t>(i)]) nodes.push_back(i);
        return nodes;
    }

    ConvBackward& convBackward(int conv) {
        auto it = convs.find(conv);
        if (it != convs.end()) return it->second;
        const Node& n = node(conv);
        const dnnl::memory::dims src{batch, n.inShape[0], n.inShape[1], n.inShape[2]};
        const dnnl::memory::dims dst{batch, n.outShape[0], n.outShape[1], n.outShape[2]};
        const dnnl::memory::dims wei{n.outShape[0], n.inShape[0], n.kernel, n.kernel};
        const dnnl::memory::dims stride{n.stride, n.stride};
        const dnnl::memory::dims pad{n.pad, n.pad};
        const dnnl::memory::desc srcAny(src, dt::f32, tag::any);
        const dnnl::memory::desc dstAny(dst, dt::f32, tag::any);
        const dnnl::memory::desc weiAny(wei, dt::f32, tag::any);
        dnnl::convolution_forward::primitive_desc fwd(
            {dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, srcAny, weiAny,
             dstAny, stride, pad, pad},
            eng);
        dnnl::convolution_backward_data::primitive_desc pd(
            {dnnl::algorithm::convolution_direct, srcAny, weiAny, dstAny, stride, pad, pad}, eng,
            fwd);
        const FoldedConv f = foldBatchNorm(n, *weights);
        dnnl::memory user({wei, dt::f32, tag::oihw}, eng, const_cast<float*>(f.weights.data()));
        ConvBackward c;
        c.weights = dnnl::memory(pd.weights_desc(), eng);
        dnnl::reorder(user, c.weights).execute(strm, user, c.weights);
        strm.wait();
        c.prim = dnnl::convolution_backward_data(pd);
        c.plainDst = dnnl::memory::desc(dst, dt::f32, tag::nchw);
        c.plainSrc = dnnl::memory::desc(src, dt::f32, tag::nchw);
        c.reorderDst = pd.diff_dst_desc() != c.plainDst;
        c.reorderSrc = pd.diff_src_desc() != c.plainSrc;
        c.diffDst = c.reorderDst ? dnnl::memory(pd.diff_dst_desc(), eng)
                                 : dnnl::memory(c.plainDst, eng, DNNL_MEMORY_NONE);
        c.diffSrc = c.reorderSrc ? dnnl::memory(pd.diff_src_desc(), eng)
                                 : dnnl::memory(c.plainSrc, eng, DNNL_MEMORY_NONE);
        return convs.emplace(conv, std::move(c)).first->second;
    }

    // dL/d(conv input) from dL/d(conv output), through the folded convolution.
    Tensor convBackwardData(int conv, Tensor& gradOut) {
        ConvBackward& c = convBackward(conv);
        const Node& n = node(conv);
        Tensor gradIn(batchShape(n.inShape));
        dnnl::memory plainOut(c.plainDst, eng, gradOut.ptr());
        dnnl::memory plainIn(c.plainSrc, eng, gradIn.ptr());
        if (c.reorderDst)
            dnnl::reorder(plainOut, c.diffDst).execute(strm, plainOut, c.diffDst);
        else
            c.diffDst.set_data_handle(gradOut.ptr());
        if (!c.reorderSrc) c.diffSrc.set_data_handle(gradIn.ptr());
        c.prim.execute(strm, {{DNNL_ARG_DIFF_DST, c.diffDst},
                              {DNNL_ARG_WEIGHTS, c.weights},
                              {DNNL_ARG_DIFF_SRC, c.diffSrc}});
        if (c.reorderSrc) dnnl::reorder(c.diffSrc, plainIn).execute(strm, c.diffSrc, plainIn);
        strm.wait();
        return gradIn;
    }

    // Gradient into the max-pool's input: each output's gradient goes to the first maximum of
    // its window (row-major), as PyTorch's CPU kernel picks it.
    Tensor maxPoolBackward(int pool, const Tensor& g, const Tensor& in) const {
        const Node& n = node(pool);
        Tensor gradIn(batchShape(n.inShape));
        const int64_t planes = batch * n.inShape[0];
        const int64_t ih = n.inShape[1], iw = n.inShape[2];
        const int64_t oh = n.outShape[1], ow = n.outShape[2];
#pragma omp parallel for
        for (int64_t p = 0; p < planes; ++p) {
            const float* src = in.ptr() + p * ih * iw;
            const float* go = g.ptr() + p * oh * ow;
            float* gi = gradIn.ptr() + p * ih * iw;
            for (int64_t oy = 0; oy < oh; ++oy)
                for (int64_t ox = 0; ox < ow; ++ox) {
                    float best = -std::numeric_limits<float>::infinity();
                    int64_t at = -1;
                    for (int64_t ky = 0; ky < n.kernel; ++ky) {
                        const int64_t y = oy * n.stride - n.pad + ky;
                        if (y < 0 || y >= ih) continue;
                        for (int64_t kx = 0; kx < n.kernel; ++kx) {
                            const int64_t x = ox * n.stride - n.pad + kx;
                            if (x < 0 || x >= iw) continue;
                            if (src[y * iw + x] > best) best = src[y * iw + x], at = y * iw + x;
                        }
                    }
                    if (at >= 0) gi[at] += go[oy * ow + ox];
                }
        }
        return gradIn;
    }

    const Tensor& tap(const std::map<std::string, Tensor>& taps, int i) const {
        const auto it = taps.find(node(i).name);
        if (it == taps.end())
            throw EngineError("Backpropagation needs the tap '" + node(i).name +
                              "', which was not computed.");
        if (it->second.dims != batchShape(node(i).outShape))
            throw EngineError("Backpropagation: the tap '" + node(i).name + "' has shape " +
                              shapeToString(it->second.dims) + ", expected " +
                              shapeToString(batchShape(node(i).outShape)) + ".");
        return it->second;
    }
};

Backprop::Backprop(const NetworkSpec& spec, const WeightSet& weights, int batch)
    : d(std::make_unique<Impl>()) {
    validateWeights(spec, weights);
    if (batch < 1) throw EngineError("The batch size must be at least 1.");
    d->spec = spec;
    d->weights = &weights;
    d->batch = batch;
}

Backprop::~Backprop() = default;

int Backprop::batch() const {
    return d->batch;
}

const NetworkSpec& Backprop::spec() const {
    return d->spec;
}

std::vector<std::string> Backprop::neededTaps(const std::string& from, const std::string& to,
                                              bool seedBeforeRelu) const {
    const int f = d->index(from);
    const int t = d->index(to);
    std::vector<std::string> taps;
    for (int i : d->path(f, t)) {
        const Node& n = d->node(i);
        if (i == t) continue;
        if (n.relu && !(i == f && seedBeforeRelu)) taps.push_back(n.name);
        if (n.kind == NodeKind::MaxPool) taps.push_back(d->node(n.inputs[0]).name);
    }
    std::sort(taps.begin(), taps.end());
    taps.erase(std::unique(taps.begin(), taps.end()), taps.end());
    return taps;
}

Tensor Backprop::classSeed(int64_t classIndex) const {
    const int64_t classes = d->spec.numClasses;
    if (classIndex < 0 || classIndex >= classes)
        throw EngineError("Class " + std::to_string(classIndex) +
                          " does not exist; the model has " + std::to_string(classes) +
                          " classes.");
    Tensor seed({d->batch, classes});
    for (int b = 0; b < d->batch; ++b) seed.data[static_cast<size_t>(b * classes + classIndex)] = 1;
    return seed;
}

Tensor Backprop::channelMeanSeed(const std::string& name, int64_t channel) const {
    const Node& n = d->node(d->index(name));
    const int64_t channels = n.outShape[0];
    if (channel < 0 || channel >= channels)
        throw EngineError("'" + name + "' has channels 0 … " + std::to_string(channels - 1) +
                          ", not " + std::to_string(channel) + ".");
    Tensor seed(d->batchShape(n.outShape));
    const int64_t plane = n.outShape.size() == 3 ? n.outShape[1] * n.outShape[2] : 1;
    for (int b = 0; b < d->batch; ++b)
        std::fill_n(seed.data.begin() + (b * channels + channel) * plane, plane,
                    1.0F / static_cast<float>(plane));
    return seed;
}

Tensor Backprop::backward(const std::map<std::string, Tensor>& taps,
                          const BackwardRequest& request) {
    const int from = d->index(request.from);
    const int to = d->index(request.to);
    const std::vector<int> nodes = d->path(from, to);
    if (request.seed.dims != d->batchShape(d->node(from).outShape))
        throw EngineError("Backpropagation from '" + request.from + "' needs a seed of shape " +
                          shapeToString(d->batchShape(d->node(from).outShape)) + ", got " +
                          shapeToString(request.seed.dims) + ".");
    std::vector<Tensor> grads(d->spec.nodes.size());
    grads[static_cast<size_t>(from)] = request.seed;
    auto accumulate = [&](int i, Tensor&& g) {
        Tensor& acc = grads[static_cast<size_t>(i)];
        if (acc.empty()) {
            acc = std::move(g);
            return;
        }
        for (size_t k = 0; k < acc.data.size(); ++k) acc.data[k] += g.data[k];
    };
    try {
        for (auto it = nodes.rbegin(); it != nodes.rend() && *it != to; ++it) {
            const int i = *it;
            Tensor g = std::move(grads[static_cast<size_t>(i)]);
            grads[static_cast<size_t>(i)] = Tensor();
            if (g.empty()) continue;
            const Node& n = d->node(i);
            if (n.relu && !(i == from && request.seedBeforeRelu)) {
                const Tensor& y = d->tap(taps, i);
                const bool guided = request.rule == ReluRule::Guided;
                for (size_t k = 0; k < g.data.size(); ++k)
                    if (y.data[k] <= 0.0F || (guided && g.data[k] < 0.0F)) g.data[k] = 0.0F;
            }
            switch (n.kind) {
                case NodeKind::Input: break;
                case NodeKind::Conv: accumulate(n.inputs[0], d->convBackwardData(i, g)); break;
                case NodeKind::MaxPool:
                    accumulate(n.inputs[0], d->maxPoolBackward(i, g, d->tap(taps, n.inputs[0])));
                    break;
                case NodeKind::Add:
                    accumulate(n.inputs[1], Tensor(g));
                    accumulate(n.inputs[0], std::move(g));
                    break;
                case NodeKind::AvgPool: {
                    Tensor in(d->batchShape(n.inShape));
                    const int64_t plane = n.inShape[1] * n.inShape[2];
                    for (size_t c = 0; c < g.data.size(); ++c)
                        std::fill_n(in.data.begin() + static_cast<std::ptrdiff_t>(c) * plane, plane,
                                    g.data[c] / static_cast<float>(plane));
                    accumulate(n.inputs[0], std::move(in));
                    break;
                }
                case NodeKind::Fc: {
                    const Tensor& w = *d->weights->get("fc.weight");  // [classes, C]
                    const int64_t classes = w.dims[0];
                    const int64_t channels = w.dims[1];
                    Tensor in({d->batch, channels});
                    for (int64_t b = 0; b < d->batch; ++b)
                        for (int64_t k = 0; k < classes; ++k) {
                            const float gk = g.data[static_cast<size_t>(b * classes + k)];
                            if (gk == 0.0F) continue;
                            const float* row = w.ptr() + k * channels;
                            float* dst = in.ptr() + b * channels;
                            for (int64_t c = 0; c < channels; ++c) dst[c] += gk * row[c];
                        }
                    accumulate(n.inputs[0], std::move(in));
                    break;
                }
            }
        }
    } catch (const dnnl::error& e) {
        throw EngineError(std::string("oneDNN failed in the backward pass (") + e.what() + ").");
    }
    Tensor result = std::move(grads[static_cast<size_t>(to)]);
    if (result.empty()) result = Tensor(d->batchShape(d->node(to).outShape));
    return result;
}

}  // namespace r18
