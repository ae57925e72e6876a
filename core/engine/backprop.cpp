#include "core/engine/backprop.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>

#include "core/engine/engine.h"
#include "core/engine/scratchpad.h"
#include "core/error.h"

namespace r18 {
namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

struct Step {
    dnnl::primitive prim;
    std::unordered_map<int, dnnl::memory> args;
};

// What a pass needs to know to be compiled: the same values give the same list.
struct PlanKey {
    int from = 0;
    int to = 0;
    ReluRule rule = ReluRule::Gradient;
    bool seedBeforeRelu = false;
    std::vector<int> masked;  // sorted: nodes on the path with channels switched off
    bool operator<(const PlanKey& o) const {
        return std::tie(from, to, rule, seedBeforeRelu, masked) <
               std::tie(o.from, o.to, o.rule, o.seedBeforeRelu, o.masked);
    }
};

}  // namespace

// A backward pass compiled once per (from, to, rule) into a flat list of oneDNN primitives, as the
// forward engine is: gradients stay in one blocked layout from the seed down to `to` (nChw16c
// on AVX-512, nChw8c below), each ReLU's mask is oneDNN's ReLU backward on its forward output,
// the max-pool's and average pool's gradients are oneDNN's pooling backward, a residual add hands
// its gradient to both inputs without copying it, and a second contribution to a tensor is a
// binary add. The only reorders are the forward taps and the seed in, and the result out.
struct Backprop::Impl {
    struct Plan {
        std::vector<Step> steps;
        std::vector<std::pair<int, dnnl::memory>> taps;  // node -> plain f32 user memory
        dnnl::memory seed;                               // plain user memory of the seed
        dnnl::memory result;                             // plain user memory of the result
        // Channels switched off: per masked node, its 0/1 values [batch, C] in the gradient's
        // layout (written per call) and how many floats one image's take.
        struct Mask {
            int node = -1;
            dnnl::memory values;
            int64_t stride = 0;
        };
        std::vector<Mask> masks;
    };

    NetworkSpec spec;
    const WeightSet* weights = nullptr;
    int batch = 1;
    ConvAlgorithm algorithm = ConvAlgorithm::Auto;
    dnnl::engine eng{dnnl::engine::kind::cpu, 0};
    dnnl::stream strm{eng};
    Scratchpad scratch{eng};  // for the convolutions and fc (core/engine/scratchpad.h)
    tag blocked = tag::nChw16c;
    // per conv/fc (and whether transposed): folded, in its primitive's layout
    std::map<std::pair<int, bool>, dnnl::memory> backwardWeights;
    std::map<PlanKey, Plan> plans;

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

    // Node i's output as the user holds it: NCHW, or NC for avgpool and fc.
    dnnl::memory::desc plainDesc(int i) const {
        const std::vector<int64_t> dims = batchShape(node(i).outShape);
        return {dims, dt::f32, dims.size() == 4 ? tag::nchw : tag::nc};
    }
    // ... and as gradients are kept: blocked where the channels fill whole blocks.
    dnnl::memory::desc gradDesc(int i) const {
        const std::vector<int64_t> dims = batchShape(node(i).outShape);
        if (dims.size() != 4) return {dims, dt::f32, tag::nc};
        const int64_t block = blocked == tag::nChw16c ? 16 : 8;
        return {dims, dt::f32, dims[1] % block == 0 ? blocked : tag::nchw};
    }
    // A [B,C] tensor seen as [B,C,1,1] in the gradient layout: the same bytes (one position).
    dnnl::memory::desc asSpatial(const dnnl::memory::desc& nc) const {
        const dnnl::memory::dims d = nc.dims();
        const int64_t block = blocked == tag::nChw16c ? 16 : 8;
        return {{d[0], d[1], 1, 1}, dt::f32, d[1] % block == 0 ? blocked : tag::nchw};
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

    // Weights in the layout a primitive wants, reordered once.
    dnnl::memory upload(const float* data, const dnnl::memory::desc& user,
                        const dnnl::memory::desc& want) {
        dnnl::memory from(user, eng, const_cast<float*>(data));
        dnnl::memory to(want, eng);
        dnnl::reorder(from, to).execute(strm, from, to);
        strm.wait();
        return to;
    }

    bool masked(int i, const PlanKey& key) const {
        return node(i).relu && i != key.to && !(i == key.from && key.seedBeforeRelu);
    }

    const Plan& plan(const PlanKey& key);
    dnnl::memory& weightsFor(int node, const dnnl::memory::desc& want, bool transposed);
    struct Builder;
};

// The folded weights of conv/fc `node` in the layout `want`, reordered once. `transposed`: a
// convolution's weights as the forward convolution that computes its input gradient needs them,
// W'[i][o][y][x] = W[o][i][K-1-y][K-1-x].
dnnl::memory& Backprop::Impl::weightsFor(int i, const dnnl::memory::desc& want, bool transposed) {
    dnnl::memory& w = backwardWeights[{i, transposed}];
    if (w && w.get_desc() == want) return w;
    const Node& n = node(i);
    if (n.kind == NodeKind::Fc) {
        w = upload(weights->get("fc.weight")->ptr(),
                   {{n.outShape[0], n.inShape[0]}, dt::f32, tag::oi}, want);
        return w;
    }
    const int64_t cout = n.outShape[0];
    const int64_t cin = n.inShape[0];
    const int64_t k = n.kernel;
    FoldedConv f = foldBatchNorm(n, *weights);
    if (!transposed) {
        w = upload(f.weights.data(), {{cout, cin, k, k}, dt::f32, tag::oihw}, want);
        return w;
    }
    std::vector<float> flipped(f.weights.size());
    for (int64_t o = 0; o < cout; ++o)
        for (int64_t c = 0; c < cin; ++c)
            for (int64_t y = 0; y < k; ++y)
                for (int64_t x = 0; x < k; ++x)
                    flipped[static_cast<size_t>(((c * cout + o) * k + y) * k + x)] =
                        f.weights[static_cast<size_t>(((o * cin + c) * k + (k - 1 - y)) * k +
                                                      (k - 1 - x))];
    w = upload(flipped.data(), {{cin, cout, k, k}, dt::f32, tag::oihw}, want);
    return w;
}

// Compiles one pass: walks the path from `from` down to `to` in reverse execution order, each
// node's gradient complete when it is reached, and appends the primitives that pass it on.
struct Backprop::Impl::Builder {
    Impl& d;
    const PlanKey& key;
    Plan& p;
    std::vector<dnnl::memory> grads;    // gradient of each node's output, once it has one
    std::vector<dnnl::memory> forward;  // forward outputs the pass reads, gradient layout

    Builder(Impl& impl, const PlanKey& k, Plan& plan)
        : d(impl), key(k), p(plan), grads(impl.spec.nodes.size()), forward(grads.size()) {}

    void step(dnnl::primitive prim, std::unordered_map<int, dnnl::memory> args) {
        p.steps.push_back({std::move(prim), std::move(args)});
    }
    // A primitive made with Scratchpad::userMode(): with the engine's scratchpad.
    void step(dnnl::primitive prim, std::unordered_map<int, dnnl::memory> args,
              const dnnl::memory::desc& scratchpad) {
        d.scratch.attach(scratchpad, args);
        step(std::move(prim), std::move(args));
    }
    void reorder(const dnnl::memory& from, const dnnl::memory& to) {
        step(dnnl::reorder(from, to), {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}});
    }
    void addInto(const dnnl::memory& target, const dnnl::memory& part) {
        const dnnl::binary::primitive_desc pd(
            {dnnl::algorithm::binary_add, target.get_desc(), part.get_desc(), target.get_desc()},
            d.eng);
        step(dnnl::binary(pd),
             {{DNNL_ARG_SRC_0, target}, {DNNL_ARG_SRC_1, part}, {DNNL_ARG_DST, target}});
    }

    // A forward output, from the caller's plain tap, reordered once per call.
    void tapIn(int i) {
        if (forward[static_cast<size_t>(i)]) return;
        const dnnl::memory user(d.plainDesc(i), d.eng, DNNL_MEMORY_NONE);
        dnnl::memory mem = user;
        if (d.gradDesc(i) != d.plainDesc(i)) {
            mem = dnnl::memory(d.gradDesc(i), d.eng);
            reorder(user, mem);
        }
        p.taps.emplace_back(i, user);
        forward[static_cast<size_t>(i)] = mem;
    }

    // A primitive that produces (part of) node `target`'s gradient, in the layout `chosen`:
    // the first writes straight into the gradient's buffer (or beside it and is reordered), a
    // later one beside it and is added (a block input gets one from its conv1 and one from the
    // skip). `emit` appends the primitive, given where to write.
    template <typename Emit>
    void contribute(int target, const dnnl::memory::desc& chosen, Emit emit) {
        dnnl::memory& g = grads[static_cast<size_t>(target)];
        const bool add = static_cast<bool>(g);
        if (!g) g = dnnl::memory(d.gradDesc(target), d.eng);
        const dnnl::memory into = !add && chosen == g.get_desc() ? g : dnnl::memory(chosen, d.eng);
        emit(into);
        if (into.get_data_handle() == g.get_data_handle()) return;
        if (!add) return reorder(into, g);
        dnnl::memory part = into;
        if (part.get_desc() != g.get_desc()) {
            part = dnnl::memory(g.get_desc(), d.eng);
            reorder(into, part);
        }
        addInto(g, part);
    }

    // g · [y > 0] in place (guided: g · [y > 0] · [g > 0]).
    void relu(int i, const dnnl::memory& g) {
        const dnnl::memory::desc gd = g.get_desc();
        if (key.rule == ReluRule::Guided) {
            const dnnl::eltwise_forward::primitive_desc pd(
                {dnnl::prop_kind::forward_inference, dnnl::algorithm::eltwise_relu, gd, 0.0F, 0.0F},
                d.eng);
            step(dnnl::eltwise_forward(pd), {{DNNL_ARG_SRC, g}, {DNNL_ARG_DST, g}});
        }
        const dnnl::memory y = forward[static_cast<size_t>(i)];
        const dnnl::eltwise_forward::primitive_desc hint(
            {dnnl::prop_kind::forward_training, dnnl::algorithm::eltwise_relu_use_dst_for_bwd,
             y.get_desc(), 0.0F, 0.0F},
            d.eng);
        const dnnl::eltwise_backward::primitive_desc pd(
            {dnnl::algorithm::eltwise_relu_use_dst_for_bwd, gd, y.get_desc(), 0.0F, 0.0F}, d.eng,
            hint);
        step(dnnl::eltwise_backward(pd),
             {{DNNL_ARG_DST, y}, {DNNL_ARG_DIFF_DST, g}, {DNNL_ARG_DIFF_SRC, g}});
    }

    // Both inputs receive the add's gradient. A first contribution shares its buffer: the conv
    // feeding the add and a projection only read it, and a block input's own conv1, which adds
    // into it later, comes after every reader of it in the block (reverse execution order).
    void add(const Node& n, const dnnl::memory& g) {
        for (int in : {n.inputs[0], n.inputs[1]}) {
            dnnl::memory& t = grads[static_cast<size_t>(in)];
            if (!t)
                t = g;
            else
                addInto(t, g);
        }
    }

    // Channels switched off at node i pass no gradient: g times the node's 0/1 mask, into a
    // buffer of its own (g may be shared with an add's other input, read later).
    void mask(int i) {
        dnnl::memory& g = grads[static_cast<size_t>(i)];
        const dnnl::memory::desc gd = g.get_desc();
        const dnnl::memory::dims dims = gd.dims();
        const dnnl::memory::desc md =
            dims.size() == 2 ? gd
                             : dnnl::memory::desc({dims[0], dims[1], 1, 1}, dt::f32,
                                                  gd == d.plainDesc(i) ? tag::nchw : d.blocked);
        const dnnl::binary::primitive_desc pd({dnnl::algorithm::binary_mul, gd, md, gd}, d.eng);
        Plan::Mask m;
        m.node = i;
        m.values = dnnl::memory(pd.src1_desc(), d.eng);
        m.stride = static_cast<int64_t>(pd.src1_desc().get_size() / sizeof(float)) / dims[0];
        const dnnl::memory out(gd, d.eng);
        step(dnnl::binary(pd),
             {{DNNL_ARG_SRC_0, g}, {DNNL_ARG_SRC_1, m.values}, {DNNL_ARG_DST, out}});
        p.masks.push_back(std::move(m));
        g = out;
    }

    void conv(int i, const dnnl::memory& g);
    void maxPool(const Node& n, const dnnl::memory& g);
    void avgPool(const Node& n, const dnnl::memory& g);
    void fc(int i, const dnnl::memory& g);
};

// dL/d(conv input) from dL/d(conv output) `g`, into the input's gradient. Three ways, a fixed
// table (figures from `bench --explain`: AMD Zen 5, batch 1, 1 thread):
// - stride 1: the input gradient of a stride-1 convolution is itself a forward convolution of
//   `g` with the weights flipped and transposed (padding K−1−P), so it runs on the forward
//   kernels, Winograd where the forward table uses it (layer1: 0.6 ms, where oneDNN's
//   backward-data kernel takes 1.4 ms and its Winograd variant 3.4–3.9 ms); a second
//   contribution is fused as a sum post-op;
// - fewer input channels than a vector block (the stem, 3 colours): oneDNN's GEMM backward-data
//   (2.9 ms; its direct kernel, built for whole channel blocks, takes 6.4 ms);
// - otherwise (stride 2: layer2–4's first convolutions and projections) oneDNN's backward-data
//   kernel.
void Backprop::Impl::Builder::conv(int i, const dnnl::memory& g) {
    const Node& n = d.node(i);
    const int src = n.inputs[0];
    const dnnl::memory::desc gd = g.get_desc();
    const dnnl::memory::dims stride{n.stride, n.stride};
    const dnnl::memory::dims pad{n.pad, n.pad};

    if (n.stride == 1 && d.gradDesc(src) != d.plainDesc(src)) {
        dnnl::memory& target = grads[static_cast<size_t>(src)];
        const bool accumulate = static_cast<bool>(target);
        if (!target) target = dnnl::memory(d.gradDesc(src), d.eng);
        const dnnl::memory::dims flippedPad{n.kernel - 1 - n.pad, n.kernel - 1 - n.pad};
        const dnnl::memory::desc weiAny({n.inShape[0], n.outShape[0], n.kernel, n.kernel}, dt::f32,
                                        tag::any);
        dnnl::primitive_attr attr = Scratchpad::userMode();
        if (accumulate) {
            dnnl::post_ops ops;
            ops.append_sum(1.0F);
            attr.set_post_ops(ops);
        }
        auto make = [&](dnnl::algorithm a) {
            return dnnl::convolution_forward::primitive_desc(
                {dnnl::prop_kind::forward_inference, a, gd, weiAny, target.get_desc(), stride,
                 flippedPad, flippedPad},
                attr, d.eng);
        };
        std::optional<dnnl::convolution_forward::primitive_desc> pd;
        if (convUsesWinograd(n, d.algorithm)) {
            try {
                pd = make(dnnl::algorithm::convolution_winograd);
            } catch (const dnnl::error&) {
                // not on this CPU or layout (a fixed answer): direct
            }
        }
        if (!pd) pd = make(dnnl::algorithm::convolution_direct);
        step(dnnl::convolution_forward(*pd),
             {{DNNL_ARG_SRC, g},
              {DNNL_ARG_WEIGHTS, d.weightsFor(i, pd->weights_desc(), true)},
              {DNNL_ARG_DST, target}},
             pd->scratchpad_desc());
        return;
    }

    const dnnl::memory::desc srcAny(d.batchShape(n.inShape), dt::f32, tag::any);
    const dnnl::memory::desc dstAny(d.batchShape(n.outShape), dt::f32, tag::any);
    const dnnl::memory::desc weiAny({n.outShape[0], n.inShape[0], n.kernel, n.kernel}, dt::f32,
                                    tag::any);
    const dnnl::convolution_forward::primitive_desc hint(
        {dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, srcAny, weiAny,
         dstAny, stride, pad, pad},
        d.eng);
    const dnnl::convolution_backward_data::desc desc(dnnl::algorithm::convolution_direct, srcAny,
                                                     weiAny, dstAny, stride, pad, pad);
    const dnnl::primitive_attr attr = Scratchpad::userMode();
    dnnl::convolution_backward_data::primitive_desc pd(desc, attr, d.eng, hint);
    if (n.inShape[0] < 16) {  // the stem: GEMM's if oneDNN offers it, else its first choice
        // (iterated in place: a copied primitive_desc no longer iterates in oneDNN 2.6)
        bool gemm = false;
        do {
            gemm = std::string(pd.impl_info_str()).find("gemm") != std::string::npos;
        } while (!gemm && pd.next_impl());
        if (!gemm) pd = dnnl::convolution_backward_data::primitive_desc(desc, attr, d.eng, hint);
    }
    dnnl::memory diffDst = g;
    if (pd.diff_dst_desc() != gd) {
        diffDst = dnnl::memory(pd.diff_dst_desc(), d.eng);
        reorder(g, diffDst);
    }
    contribute(src, pd.diff_src_desc(), [&](const dnnl::memory& into) {
        step(dnnl::convolution_backward_data(pd),
             {{DNNL_ARG_DIFF_DST, diffDst},
              {DNNL_ARG_WEIGHTS, d.weightsFor(i, pd.weights_desc(), false)},
              {DNNL_ARG_DIFF_SRC, into}},
             pd.scratchpad_desc());
    });
}

// The forward pooling again, in training mode, for the workspace that says where each window's
// maximum was (ties can only be between zeros after the stem's ReLU, whose mask then blocks the
// gradient anyway), then oneDNN's backward pooling.
void Backprop::Impl::Builder::maxPool(const Node& n, const dnnl::memory& g) {
    const int src = n.inputs[0];
    const dnnl::memory x = forward[static_cast<size_t>(src)];
    const dnnl::memory::dims kernel{n.kernel, n.kernel};
    const dnnl::memory::dims stride{n.stride, n.stride};
    const dnnl::memory::dims pad{n.pad, n.pad};
    const dnnl::pooling_forward::primitive_desc fwd(
        {dnnl::prop_kind::forward_training, dnnl::algorithm::pooling_max, x.get_desc(),
         g.get_desc(), stride, kernel, pad, pad},
        d.eng);
    const dnnl::memory scratch(fwd.dst_desc(), d.eng);
    const dnnl::memory workspace(fwd.workspace_desc(), d.eng);
    step(dnnl::pooling_forward(fwd),
         {{DNNL_ARG_SRC, x}, {DNNL_ARG_DST, scratch}, {DNNL_ARG_WORKSPACE, workspace}});
    const dnnl::pooling_backward::primitive_desc pd(
        {dnnl::algorithm::pooling_max, d.gradDesc(src), g.get_desc(), stride, kernel, pad, pad},
        d.eng, fwd);
    contribute(src, pd.diff_src_desc(), [&](const dnnl::memory& into) {
        step(dnnl::pooling_backward(pd),
             {{DNNL_ARG_DIFF_DST, g}, {DNNL_ARG_WORKSPACE, workspace}, {DNNL_ARG_DIFF_SRC, into}});
    });
}

// The average pool spreads each channel's gradient evenly over its positions.
void Backprop::Impl::Builder::avgPool(const Node& n, const dnnl::memory& g) {
    const int src = n.inputs[0];
    const dnnl::memory::desc diffDst = d.asSpatial(g.get_desc());
    const dnnl::memory::dims kernel{n.inShape[1], n.inShape[2]};
    const dnnl::memory::dims zero{0, 0};
    const dnnl::algorithm avg = dnnl::algorithm::pooling_avg_exclude_padding;
    const dnnl::pooling_forward::primitive_desc fwd(
        {dnnl::prop_kind::forward_training, avg, d.gradDesc(src), diffDst, kernel, kernel, zero,
         zero},
        d.eng);
    const dnnl::pooling_backward::primitive_desc pd(
        {avg, d.gradDesc(src), diffDst, kernel, kernel, zero, zero}, d.eng, fwd);
    contribute(src, pd.diff_src_desc(), [&](const dnnl::memory& into) {
        step(dnnl::pooling_backward(pd),
             {{DNNL_ARG_DIFF_DST, dnnl::memory(diffDst, d.eng, g.get_data_handle())},
              {DNNL_ARG_DIFF_SRC, into}});
    });
}

// fc multiplies the gradient by its weight matrix.
void Backprop::Impl::Builder::fc(int i, const dnnl::memory& g) {
    const Node& n = d.node(i);
    const int src = n.inputs[0];
    const dnnl::memory::desc srcMd({d.batch, n.inShape[0]}, dt::f32, tag::nc);
    const dnnl::memory::desc weiAny({n.outShape[0], n.inShape[0]}, dt::f32, tag::any);
    const dnnl::inner_product_forward::primitive_desc hint(
        {dnnl::prop_kind::forward_training, srcMd, weiAny, g.get_desc()}, d.eng);
    const dnnl::inner_product_backward_data::primitive_desc pd({srcMd, weiAny, g.get_desc()},
                                                               Scratchpad::userMode(), d.eng, hint);
    contribute(src, pd.diff_src_desc(), [&](const dnnl::memory& into) {
        step(dnnl::inner_product_backward_data(pd),
             {{DNNL_ARG_DIFF_DST, g},
              {DNNL_ARG_WEIGHTS, d.weightsFor(i, pd.weights_desc(), false)},
              {DNNL_ARG_DIFF_SRC, into}},
             pd.scratchpad_desc());
    });
}

const Backprop::Impl::Plan& Backprop::Impl::plan(const PlanKey& key) {
    const auto found = plans.find(key);
    if (found != plans.end()) return found->second;
    Plan p;
    Builder b(*this, key, p);
    const std::vector<int> nodes = path(key.from, key.to);
    for (int i : nodes) {
        if (masked(i, key)) b.tapIn(i);
        if (node(i).kind == NodeKind::MaxPool && i != key.to) b.tapIn(node(i).inputs[0]);
    }
    // The seed, copied into the gradient layout (a ReLU at `from` masks it in place).
    p.seed = dnnl::memory(plainDesc(key.from), eng, DNNL_MEMORY_NONE);
    b.grads[static_cast<size_t>(key.from)] = dnnl::memory(gradDesc(key.from), eng);
    b.reorder(p.seed, b.grads[static_cast<size_t>(key.from)]);

    const auto isMasked = [&key](int i) {
        return std::binary_search(key.masked.begin(), key.masked.end(), i);
    };
    for (auto it = nodes.rbegin(); it != nodes.rend() && *it != key.to; ++it) {
        const int i = *it;
        if (!b.grads[static_cast<size_t>(i)]) continue;
        if (isMasked(i)) b.mask(i);
        const dnnl::memory g = b.grads[static_cast<size_t>(i)];
        const Node& n = node(i);
        if (masked(i, key)) b.relu(i, g);
        switch (n.kind) {
            case NodeKind::Input: break;
            case NodeKind::Add: b.add(n, g); break;
            case NodeKind::Conv: b.conv(i, g); break;
            case NodeKind::MaxPool: b.maxPool(n, g); break;
            case NodeKind::AvgPool: b.avgPool(n, g); break;
            case NodeKind::Fc: b.fc(i, g); break;
        }
    }
    // The result, plain; zero where no gradient reaches `to`.
    p.result = dnnl::memory(plainDesc(key.to), eng, DNNL_MEMORY_NONE);
    if (b.grads[static_cast<size_t>(key.to)] && isMasked(key.to)) b.mask(key.to);
    if (const dnnl::memory g = b.grads[static_cast<size_t>(key.to)]) b.reorder(g, p.result);
    return plans.emplace(key, std::move(p)).first->second;
}

Backprop::Backprop(const NetworkSpec& spec, const WeightSet& weights, int batch,
                   ConvAlgorithm algorithm)
    : d(std::make_unique<Impl>()) {
    validateWeights(spec, weights);
    if (batch < 1) throw EngineError("The batch size must be at least 1.");
    d->spec = spec;
    d->weights = &weights;
    d->batch = batch;
    d->algorithm = algorithm;
    d->blocked = Engine::cpuIsa().rfind("avx512", 0) == 0 ? tag::nChw16c : tag::nChw8c;
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
    if (request.seed.dims != d->batchShape(d->node(from).outShape))
        throw EngineError("Backpropagation from '" + request.from + "' needs a seed of shape " +
                          shapeToString(d->batchShape(d->node(from).outShape)) + ", got " +
                          shapeToString(request.seed.dims) + ".");
    checkAblations(d->spec, request.ablations, d->batch);
    std::vector<int> masked;
    const std::vector<int> nodes = d->path(from, to);
    for (const ChannelAblation& a : request.ablations) {
        const int i = d->index(a.node);
        if (!a.channels.empty() && std::binary_search(nodes.begin(), nodes.end(), i))
            masked.push_back(i);
    }
    std::sort(masked.begin(), masked.end());
    masked.erase(std::unique(masked.begin(), masked.end()), masked.end());
    Tensor result(d->batchShape(d->node(to).outShape));
    try {
        const Impl::Plan& p =
            d->plan({from, to, request.rule, request.seedBeforeRelu, std::move(masked)});
        for (const Impl::Plan::Mask& m : p.masks) {
            auto* values = static_cast<float*>(m.values.get_data_handle());
            std::fill_n(values, m.stride * d->batch, 1.0F);
            for (const ChannelAblation& a : request.ablations) {
                if (d->index(a.node) != m.node) continue;
                for (int b = 0; b < d->batch; ++b)
                    if (a.image < 0 || a.image == b)
                        for (int c : a.channels) values[b * m.stride + c] = 0.0F;
            }
        }
        for (const auto& [i, mem] : p.taps)
            mem.set_data_handle(const_cast<float*>(d->tap(taps, i).ptr()));
        p.seed.set_data_handle(const_cast<float*>(request.seed.ptr()));
        p.result.set_data_handle(result.ptr());
        for (const Step& step : p.steps) step.prim.execute(d->strm, step.args);
        d->strm.wait();
    } catch (const dnnl::error& e) {
        throw EngineError(std::string("oneDNN failed in the backward pass (") + e.what() + ").");
    }
    return result;
}

}  // namespace r18
