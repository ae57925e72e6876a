#include "core/engine/engine.h"
#include "core/engine/scratchpad.h"
#include "core/engine/threads.h"

#include <omp.h>

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <set>
#include <tuple>
#include <unordered_map>

#include "core/clock.h"
#include "core/error.h"

namespace r18 {
namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

constexpr size_t kMaxCachedPlans = 64;

struct Step {
    int node = -1;      // spec node whose output this step completes; -1 for tap reorders
    int timeNode = -1;  // node charged with this step's time when profiling
    dnnl::primitive prim;
    std::unordered_map<int, dnnl::memory> args;
};

// How a node's output is stored: its data type and, for int8, the scale with q = scale × value.
struct Storage {
    dt type = dt::f32;
    float scale = 1.0F;
};

const char* statusName(dnnl_status_t s) {
    switch (s) {
        case dnnl_out_of_memory: return "out of memory";
        case dnnl_invalid_arguments: return "invalid arguments";
        case dnnl_unimplemented: return "unimplemented on this CPU";
        case dnnl_runtime_error: return "runtime error";
        default: return "error";
    }
}

// VNNI (or AMX) sums u8×s8 products in 32 bits; without it oneDNN pairs them in 16 bits.
bool hasVnni() {
    switch (dnnl::get_effective_cpu_isa()) {
        case dnnl::cpu_isa::avx2_vnni:
        case dnnl::cpu_isa::avx512_core_vnni:
        case dnnl::cpu_isa::avx512_core_bf16:
        case dnnl::cpu_isa::avx512_core_amx: return true;
        default: return false;
    }
}

dnnl::primitive_attr scaleAttr(int mask, const std::vector<float>& scales) {
    dnnl::primitive_attr attr;
    attr.set_output_scales(mask, scales);
    return attr;
}

// The shapes oneDNN 2.6 has fp32 Winograd for: 3×3, stride 1 (AVX-512, nChw16c activations).
bool isWinogradShape(const Node& n) {
    return n.kind == NodeKind::Conv && n.kernel == 3 && n.stride == 1;
}

// ConvAlgorithm::Auto, a fixed table rather than a timing: on a CPU where oneDNN has fp32
// Winograd, every 3×3 stride-1 convolution uses it; every other convolution, and every
// convolution on other CPUs or at other precisions, is direct. `bench --algorithms` times each
// layer both ways in one run and prints this choice beside the figures. Measured (batch 1,
// median of 30 profiled runs, nChw16c activations for both):
//   AMD Zen 5 (avx512_core_bf16), 1 thread: Winograd 0.51–0.63× direct on all 13 layers
//   (layer1 0.51–0.53, layer2 0.51–0.53, layer3 0.55–0.57, layer4 0.62–0.63); the network
//   13.6 ms against 21.1 ms direct on nChw16c and 18.9 ms direct on oneDNN's NHWC.
// A timing made at compile time (the engine's earlier rule) let two processes, or two engines
// of one process, pick different algorithms under different load, so the same image gave
// logits differing in the last bits and gradient maps differing by 1e-3.
bool autoUsesWinograd(const Node& n) {
    return isWinogradShape(n);
}

// The same layout as `md` with another data type.
dnnl::memory::desc withType(dnnl::memory::desc md, dt type) {
    md.data.data_type = dnnl::memory::convert_to_c(type);
    return md;
}

}  // namespace

const char* precisionName(Precision p) {
    switch (p) {
        case Precision::Bf16: return "bf16";
        case Precision::Int8: return "int8";
        case Precision::Fp32: break;
    }
    return "fp32";
}

const char* convAlgorithmName(ConvAlgorithm a) {
    switch (a) {
        case ConvAlgorithm::Direct: return "direct";
        case ConvAlgorithm::Winograd: return "winograd";
        case ConvAlgorithm::Auto: break;
    }
    return "auto";
}

std::optional<ConvAlgorithm> parseConvAlgorithm(const std::string& name) {
    for (ConvAlgorithm a : {ConvAlgorithm::Auto, ConvAlgorithm::Direct, ConvAlgorithm::Winograd})
        if (name == convAlgorithmName(a)) return a;
    return std::nullopt;
}

namespace {
std::atomic<ConvAlgorithm> processConvAlgorithm{ConvAlgorithm::Auto};
}  // namespace

bool convUsesWinograd(const Node& node, ConvAlgorithm algorithm) {
    if (algorithm == ConvAlgorithm::Direct || !isWinogradShape(node) || !Engine::hasWinograd())
        return false;
    return algorithm == ConvAlgorithm::Winograd || autoUsesWinograd(node);
}

ConvAlgorithm defaultConvAlgorithm() {
    return processConvAlgorithm.load();
}

void setDefaultConvAlgorithm(ConvAlgorithm algorithm) {
    processConvAlgorithm.store(algorithm);
}

std::optional<Precision> parsePrecision(const std::string& name) {
    if (name == "fp32" || name == "f32") return Precision::Fp32;
    if (name == "bf16") return Precision::Bf16;
    if (name == "int8") return Precision::Int8;
    return std::nullopt;
}

struct Engine::Impl {
    // A run's list is cached per tap set, masked nodes and starting point.
    struct PlanKey {
        std::vector<int> taps;    // sorted node indices
        std::vector<int> masked;  // sorted node indices with channels switched off
        int from = -1;            // runFrom(): the node whose output is restored; -1: a full run
        bool broadcast = false;   // runFrom(): batch-1 cached tensors copied into every image
        bool operator<(const PlanKey& o) const {
            return std::tie(taps, masked, from, broadcast) <
                   std::tie(o.taps, o.masked, o.from, o.broadcast);
        }
    };
    // runFrom(): one cached tensor copied into a node's buffer.
    struct Restore {
        int node = -1;
        dnnl::memory plain;          // plain NCHW f32: the caller's tensor, or `staging`
        std::vector<float> staging;  // broadcast: the batch-1 tensor repeated per image
    };
    struct Plan {
        std::vector<Step> steps;
        std::vector<std::pair<int, dnnl::memory>> taps;  // node -> plain f32 destination
        std::vector<Restore> restores;
    };
    // A node's channel mask: values [batch, C] (in the node's layout, C padded to its block),
    // written per run, and the binary_mul step that applies it in place.
    struct Mask {
        dnnl::memory values;
        int64_t stride = 0;  // floats per image in `values`
        Step step;
    };
    // kind ("conv") -> oneDNN implementation -> how many nodes use it
    using Implementations = std::map<std::string, std::map<std::string, int>>;

    NetworkSpec spec;
    EngineOptions opt;
    dnnl::engine eng{dnnl::engine::kind::cpu, 0};
    dnnl::stream strm{eng};
    Scratchpad scratch{eng};        // for the convolutions and fc (core/engine/scratchpad.h)
    std::vector<Storage> storage;   // per node
    dnnl::memory userInput;         // plain NCHW f32, handle set per run
    dnnl::memory logits;            // plain NC f32, handle set per run
    std::vector<dnnl::memory> out;  // per node: memory holding its output after its step
    std::vector<Step> steps;        // the plain list
    Implementations impls;
    tag blocked = tag::undef;       // the layout activations are pinned to, if any
    bool tryWinograd = false;       // 3×3 stride-1 convs may use Winograd
    std::vector<std::string> wino;  // nodes computed with Winograd
    std::map<PlanKey, Plan> plans;
    std::map<int, Mask> masks;  // per node, built when first needed
    dnnl::memory maskedInput;   // the input with channels switched off
    std::string building;       // node being compiled, for error messages

    dnnl::memory::dims batchDims(const std::vector<int64_t>& shape) const {
        dnnl::memory::dims d{opt.batch};
        d.insert(d.end(), shape.begin(), shape.end());
        while (d.size() < 4) d.push_back(1);
        return d;
    }
    dnnl::memory::desc anyDesc(const std::vector<int64_t>& shape, dt type) const {
        return {batchDims(shape), type, tag::any};
    }
    // Where a node's output lives: nChw16c when pinned, else oneDNN's choice.
    dnnl::memory::desc activationDesc(const std::vector<int64_t>& shape, dt type) const {
        return {batchDims(shape), type, blocked != tag::undef ? blocked : tag::any};
    }
    const Storage& at(int node) const { return storage[static_cast<size_t>(node)]; }
    bool int8() const { return opt.precision == Precision::Int8; }

    void planStorage();
    void chooseLayout();
    void compile(const WeightSet& w);
    void addConv(int index, const WeightSet& w);
    void addPool(int index);
    void addFc(int index, const WeightSet& w);
    dnnl::memory upload(const std::vector<float>& data, const dnnl::memory::dims& dims, tag userTag,
                        const dnnl::memory::desc& want, const dnnl::primitive_attr& attr = {});
    const Plan& plan(const PlanKey& key);
    Mask& mask(int node);
    void addTap(Plan& p, int node);
    int lastStepOf(int node) const;
    std::vector<int> frontier(int from) const;
    std::vector<int> tapIndices(const std::vector<std::string>& names) const;
    PlanKey keyFor(const EngineRun& request) const;
    RunResult execute(const Plan& p, const PlanKey& key, const Tensor& input,
                      const EngineRun& request);
};

// Data type and scale of every node's output, from the precision and, for int8, the calibration.
void Engine::Impl::planStorage() {
    const dt act = opt.precision == Precision::Bf16 ? dt::bf16 : dt::f32;
    storage.assign(spec.nodes.size(), Storage{act, 1.0F});
    for (size_t i = 0; i < spec.nodes.size(); ++i) {
        const Node& n = spec.nodes[i];
        if (n.kind == NodeKind::Fc) storage[i].type = dt::f32;
        if (!int8()) continue;
        auto range = [&](const std::string& name) {
            const auto it = opt.calibration->maxAbs.find(name);
            return it != opt.calibration->maxAbs.end() && it->second > 0.0F ? it->second : 1.0F;
        };
        const bool signedValues =
            n.kind == NodeKind::Input || (n.kind == NodeKind::Conv && !n.relu);
        switch (n.kind) {
            case NodeKind::Input:
            case NodeKind::Conv:
            case NodeKind::Add:
                storage[i] = signedValues ? Storage{dt::s8, 127.0F / range(n.name)}
                                          : Storage{dt::u8, 255.0F / range(n.name)};
                break;
            case NodeKind::MaxPool: storage[i] = storage[static_cast<size_t>(n.inputs[0])]; break;
            case NodeKind::AvgPool:
            case NodeKind::Fc: storage[i] = Storage{dt::f32, 1.0F}; break;
        }
    }
}

dnnl::memory Engine::Impl::upload(const std::vector<float>& data, const dnnl::memory::dims& dims,
                                  tag userTag, const dnnl::memory::desc& want,
                                  const dnnl::primitive_attr& attr) {
    dnnl::memory user({dims, dt::f32, userTag}, eng, const_cast<float*>(data.data()));
    dnnl::memory mem(want, eng);
    dnnl::reorder(user, mem, attr).execute(strm, user, mem);
    strm.wait();
    return mem;
}

void Engine::Impl::addConv(int index, const WeightSet& w) {
    const Node& n = spec.nodes[static_cast<size_t>(index)];
    // A conv whose output feeds a residual add as its first input is fused with that add:
    // the skip tensor is already in the destination and the sum post-op adds into it.
    const int add = n.fusedInto;
    const int produced = add >= 0 ? add : index;
    const bool relu = add >= 0 ? spec.nodes[static_cast<size_t>(add)].relu : n.relu;
    const int skip = add >= 0 ? spec.nodes[static_cast<size_t>(add)].inputs[1] : -1;

    const int srcNode = n.inputs[0];
    const bool fromInput = spec.nodes[static_cast<size_t>(srcNode)].kind == NodeKind::Input;
    const Storage& src = at(srcNode);
    const Storage& dst = at(produced);
    const dnnl::memory::desc srcMd =
        fromInput ? anyDesc(n.inShape, src.type) : out[static_cast<size_t>(srcNode)].get_desc();
    // Fused: write into the skip tensor's buffer, viewed with the block output's data type
    // (int8: a u8 block output over an s8 projection).
    const dnnl::memory::desc dstMd =
        add >= 0 ? withType(out[static_cast<size_t>(skip)].get_desc(), dst.type)
                 : activationDesc(n.outShape, dst.type);
    const int64_t cout = n.outShape[0];
    const dnnl::memory::dims wDims{cout, n.inShape[0], n.kernel, n.kernel};
    const dt weightType = int8() ? dt::s8 : src.type;

    FoldedConv f = foldBatchNorm(n, w);
    std::vector<float>& folded = f.weights;
    std::vector<float>& bias = f.bias;
    const size_t per = folded.size() / static_cast<size_t>(cout);

    dnnl::primitive_attr attr;
    dnnl::primitive_attr weightAttr;
    if (int8()) {
        // Per output channel: q_w = s_w·w; conv result dst_q = s_dst/(s_src·s_w)·(acc +
        // s_src·s_w·bias).
        const float qmax = (src.type == dt::s8 || hasVnni()) ? 127.0F : 63.0F;
        std::vector<float> weightScales(static_cast<size_t>(cout));
        std::vector<float> outputScales(static_cast<size_t>(cout));
        for (size_t co = 0; co < static_cast<size_t>(cout); ++co) {
            float m = 0.0F;
            for (size_t k = 0; k < per; ++k) m = std::max(m, std::fabs(folded[co * per + k]));
            weightScales[co] = m > 0.0F ? qmax / m : 1.0F;
            outputScales[co] = dst.scale / (src.scale * weightScales[co]);
            bias[co] *= src.scale * weightScales[co];
        }
        attr.set_output_scales(1 << 1, outputScales);
        weightAttr.set_output_scales(1 << 0, weightScales);
    }
    dnnl::post_ops ops;
    if (add >= 0) {
        if (int8())
            ops.append_sum(dst.scale / at(skip).scale, at(skip).type);
        else
            ops.append_sum(1.0F);
    }
    if (relu) ops.append_eltwise(1.0F, dnnl::algorithm::eltwise_relu, 0.0F, 0.0F);
    attr.set_post_ops(ops);
    attr = Scratchpad::userMode(attr);

    auto primitiveDesc = [&](dnnl::algorithm algorithm) {
        const dnnl::convolution_forward::desc desc(
            dnnl::prop_kind::forward_inference, algorithm, srcMd, {wDims, weightType, tag::any},
            {{cout}, dt::f32, tag::x}, dstMd, {n.stride, n.stride}, {n.pad, n.pad}, {n.pad, n.pad});
        return dnnl::convolution_forward::primitive_desc(desc, attr, eng);
    };
    dnnl::convolution_forward::primitive_desc pd =
        primitiveDesc(dnnl::algorithm::convolution_direct);
    if (tryWinograd && !fromInput && convUsesWinograd(n, opt.algorithm)) {
        try {
            pd = primitiveDesc(dnnl::algorithm::convolution_winograd);
            wino.push_back(n.name);
        } catch (const dnnl::error&) {
            // oneDNN cannot build it for this shape on this CPU (a fixed answer): direct
        }
    }
    ++impls["conv"][pd.impl_info_str()];
    dnnl::memory wMem = upload(folded, wDims, tag::oihw, pd.weights_desc(), weightAttr);
    dnnl::memory bMem = upload(bias, {cout}, tag::x, pd.bias_desc());

    dnnl::memory srcMem;
    if (fromInput) {
        if (!int8() && pd.src_desc() == userInput.get_desc()) {
            srcMem = userInput;
        } else {
            srcMem = dnnl::memory(pd.src_desc(), eng);
            const dnnl::primitive_attr quantize =
                int8() ? scaleAttr(0, {src.scale}) : dnnl::primitive_attr();
            steps.push_back({srcNode,
                             srcNode,
                             dnnl::reorder(userInput, srcMem, quantize),
                             {{DNNL_ARG_FROM, userInput}, {DNNL_ARG_TO, srcMem}}});
        }
    } else {
        srcMem = out[static_cast<size_t>(srcNode)];
    }
    dnnl::memory dstMem(
        pd.dst_desc(), eng,
        add >= 0 ? out[static_cast<size_t>(skip)].get_data_handle() : DNNL_MEMORY_ALLOCATE);
    if (add >= 0 && at(skip).type == dst.type) dstMem = out[static_cast<size_t>(skip)];
    Step conv{produced,
              index,
              dnnl::convolution_forward(pd),
              {{DNNL_ARG_SRC, srcMem},
               {DNNL_ARG_WEIGHTS, wMem},
               {DNNL_ARG_BIAS, bMem},
               {DNNL_ARG_DST, dstMem}}};
    scratch.attach(pd.scratchpad_desc(), conv.args);
    steps.push_back(std::move(conv));
    out[static_cast<size_t>(produced)] = dstMem;
}

void Engine::Impl::addPool(int index) {
    const Node& n = spec.nodes[static_cast<size_t>(index)];
    dnnl::memory src = out[static_cast<size_t>(n.inputs[0])];
    const bool isMax = n.kind == NodeKind::MaxPool;
    if (at(n.inputs[0]).type != at(index).type) {
        // int8 head: dequantize layer4's output once, then pool and classify in fp32.
        const dnnl::memory deq(withType(src.get_desc(), at(index).type), eng);
        steps.push_back({-1,
                         index,
                         dnnl::reorder(src, deq, scaleAttr(0, {1.0F / at(n.inputs[0]).scale})),
                         {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, deq}}});
        src = deq;
    }
    const dnnl::memory::dims kernel = isMax ? dnnl::memory::dims{n.kernel, n.kernel}
                                            : dnnl::memory::dims{n.inShape[1], n.inShape[2]};
    const dnnl::memory::dims stride = isMax ? dnnl::memory::dims{n.stride, n.stride} : kernel;
    const dnnl::memory::dims pad{n.pad, n.pad};
    const std::vector<int64_t> outShape =
        n.outShape.size() == 3 ? n.outShape : std::vector<int64_t>{n.outShape[0], 1, 1};
    dnnl::pooling_forward::desc desc(
        dnnl::prop_kind::forward_inference,
        isMax ? dnnl::algorithm::pooling_max : dnnl::algorithm::pooling_avg_exclude_padding,
        src.get_desc(), activationDesc(outShape, at(index).type), stride, kernel, pad, pad);
    dnnl::pooling_forward::primitive_desc pd(desc, eng);
    ++impls["pool"][pd.impl_info_str()];
    dnnl::memory dst(pd.dst_desc(), eng);
    steps.push_back(
        {index, index, dnnl::pooling_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}}});
    out[static_cast<size_t>(index)] = dst;
}

void Engine::Impl::addFc(int index, const WeightSet& w) {
    const Node& n = spec.nodes[static_cast<size_t>(index)];
    const dnnl::memory src = out[static_cast<size_t>(n.inputs[0])];
    const int64_t classes = n.outShape[0];
    const dnnl::memory::dims wDims{classes, n.inShape[0], 1, 1};
    const dt weightType = src.get_desc().data_type();
    dnnl::inner_product_forward::desc desc(
        dnnl::prop_kind::forward_inference, src.get_desc(), {wDims, weightType, tag::any},
        {{classes}, dt::f32, tag::x}, {{opt.batch, classes}, dt::f32, tag::nc});
    dnnl::inner_product_forward::primitive_desc pd(desc, Scratchpad::userMode(), eng);
    ++impls["fc"][pd.impl_info_str()];
    dnnl::memory wMem = upload(w.get("fc.weight")->data, wDims, tag::oihw, pd.weights_desc());
    dnnl::memory bMem = upload(w.get("fc.bias")->data, {classes}, tag::x, pd.bias_desc());
    logits = dnnl::memory(pd.dst_desc(), eng, DNNL_MEMORY_NONE);
    Step fc{index,
            index,
            dnnl::inner_product_forward(pd),
            {{DNNL_ARG_SRC, src},
             {DNNL_ARG_WEIGHTS, wMem},
             {DNNL_ARG_BIAS, bMem},
             {DNNL_ARG_DST, logits}}};
    scratch.attach(pd.scratchpad_desc(), fc.args);
    steps.push_back(std::move(fc));
    out[static_cast<size_t>(index)] = logits;
}

// Winograd exists in oneDNN 2.6 for fp32 on AVX-512, and only on nChw16c activations.
void Engine::Impl::chooseLayout() {
    const bool fp32 = opt.precision == Precision::Fp32;
    const ConvAlgorithm algorithm = fp32 ? opt.algorithm : ConvAlgorithm::Direct;
    const bool winogradHere = algorithm != ConvAlgorithm::Direct && Engine::hasWinograd();
    switch (fp32 ? opt.layout : ActivationLayout::Library) {
        case ActivationLayout::Auto: blocked = winogradHere ? tag::nChw16c : tag::undef; break;
        case ActivationLayout::Library: blocked = tag::undef; break;
        case ActivationLayout::Blocked:
            blocked = Engine::cpuIsa().rfind("avx512", 0) == 0 ? tag::nChw16c : tag::nChw8c;
            break;
        case ActivationLayout::Blocked16: blocked = tag::nChw16c; break;
    }
    tryWinograd = blocked == tag::nChw16c && algorithm != ConvAlgorithm::Direct;
}

void Engine::Impl::compile(const WeightSet& w) {
    planStorage();
    chooseLayout();
    const int64_t s = spec.inputSize;
    userInput = dnnl::memory({{opt.batch, 3, s, s}, dt::f32, tag::nchw}, eng, DNNL_MEMORY_NONE);
    out.resize(spec.nodes.size());
    for (size_t i = 0; i < spec.nodes.size(); ++i) {
        const Node& n = spec.nodes[i];
        building = n.name;
        switch (n.kind) {
            case NodeKind::Input: out[i] = userInput; break;
            case NodeKind::Conv: addConv(static_cast<int>(i), w); break;
            case NodeKind::MaxPool:
            case NodeKind::AvgPool: addPool(static_cast<int>(i)); break;
            case NodeKind::Add: break;  // fused into the conv that feeds it
            case NodeKind::Fc: addFc(static_cast<int>(i), w); break;
        }
    }
    building.clear();
}

// The layout `md` has, among those our activations take, so a mask can share it (oneDNN's
// binary kernels want both sources alike: on a blocked layout with a plain mask they fall back to
// a reference loop ~1000× slower). undef if none.
tag layoutOf(const dnnl::memory::desc& md) {
    const dnnl::memory::dims dims = md.dims();
    const std::vector<tag> candidates =
        dims.size() == 2 ? std::vector<tag>{tag::nc}
                         : std::vector<tag>{tag::nchw, tag::nhwc, tag::nChw16c, tag::nChw8c};
    for (tag t : candidates)
        if (md == dnnl::memory::desc(dims, md.data_type(), t)) return t;
    return tag::undef;
}

Engine::Impl::Mask& Engine::Impl::mask(int node) {
    auto it = masks.find(node);
    if (it != masks.end()) return it->second;
    const bool isInput = spec.nodes[static_cast<size_t>(node)].kind == NodeKind::Input;
    const dnnl::memory src = isInput ? userInput : out[static_cast<size_t>(node)];
    const dnnl::memory::desc md = src.get_desc();
    const dnnl::memory::dims dims = md.dims();
    dnnl::memory::dims maskDims{dims[0], dims[1]};
    if (dims.size() == 4) maskDims.insert(maskDims.end(), {1, 1});
    // A 1×1 map (the average pool's output) is its own mask's shape: the same desc, in f32 (a
    // plain tag compares equal to it but jit:uni then misreads the strides).
    const bool pointMap = dims.size() == 2 || (dims[2] == 1 && dims[3] == 1);
    const tag layout = layoutOf(md);
    const dnnl::memory::desc maskMd =
        pointMap ? withType(md, dt::f32)
                 : dnnl::memory::desc(maskDims, dt::f32, layout != tag::undef ? layout : tag::nchw);
    // The input is the caller's tensor: it is masked into a buffer of our own.
    if (isInput) maskedInput = dnnl::memory(md, eng);
    const dnnl::memory dst = isInput ? maskedInput : src;
    const dnnl::binary::primitive_desc pd(
        dnnl::binary::desc(dnnl::algorithm::binary_mul, md, maskMd, md), eng);
    ++impls["mask"][pd.impl_info_str()];
    Mask m;
    m.values = dnnl::memory(pd.src1_desc(), eng);
    m.stride = pd.src1_desc().get_size() / sizeof(float) / static_cast<size_t>(dims[0]);
    m.step = {-1,
              node,
              dnnl::binary(pd),
              {{DNNL_ARG_SRC_0, src}, {DNNL_ARG_SRC_1, m.values}, {DNNL_ARG_DST, dst}}};
    return masks.emplace(node, std::move(m)).first->second;
}

// A reorder of a node's output to plain f32, for its tap.
void Engine::Impl::addTap(Plan& p, int node) {
    const Node& n = spec.nodes[static_cast<size_t>(node)];
    if (n.kind == NodeKind::Input || n.kind == NodeKind::Fc) return;  // copied directly
    const std::vector<int64_t> shape =
        n.outShape.size() == 3 ? n.outShape : std::vector<int64_t>{n.outShape[0], 1, 1};
    const dnnl::memory src = out[static_cast<size_t>(node)];
    dnnl::memory dst({batchDims(shape), dt::f32, tag::nchw}, eng, DNNL_MEMORY_NONE);
    const float scale = at(node).scale;
    const dnnl::primitive_attr attr =
        scale != 1.0F ? scaleAttr(0, {1.0F / scale}) : dnnl::primitive_attr();
    p.steps.push_back(
        {-1, -1, dnnl::reorder(src, dst, attr), {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}}});
    p.taps.emplace_back(node, dst);
}

// The step after which `node`'s output exists (a conv fused into an add: the add's step).
int Engine::Impl::lastStepOf(int node) const {
    const int fused = spec.nodes[static_cast<size_t>(node)].fusedInto;
    const int target = fused >= 0 ? fused : node;
    int last = -1;
    for (size_t i = 0; i < steps.size(); ++i)
        if (steps[i].node == target) last = static_cast<int>(i);
    return last;
}

// The nodes computed at or before `from`'s step whose outputs later steps read: `from` itself,
// a block input that the block's add still sums, a conv1 whose block's conv2 is still to come.
std::vector<int> Engine::Impl::frontier(int from) const {
    const int last = lastStepOf(from);
    std::vector<int> nodes{from};
    for (size_t k = 0; k < spec.nodes.size(); ++k) {
        if (lastStepOf(static_cast<int>(k)) <= last) continue;
        for (int m : spec.nodes[k].inputs) {
            const Node& in = spec.nodes[static_cast<size_t>(m)];
            if (in.fusedInto >= 0 || in.kind == NodeKind::Input) continue;
            if (lastStepOf(m) <= last && std::find(nodes.begin(), nodes.end(), m) == nodes.end())
                nodes.push_back(m);
        }
    }
    std::sort(nodes.begin(), nodes.end());
    return nodes;
}

const Engine::Impl::Plan& Engine::Impl::plan(const PlanKey& key) {
    auto it = plans.find(key);
    if (it != plans.end()) return it->second;
    if (plans.size() >= kMaxCachedPlans) plans.clear();
    auto has = [](const std::vector<int>& v, int x) {
        return std::binary_search(v.begin(), v.end(), x);
    };
    const bool inputMasked = has(key.masked, 0);
    Plan p;
    size_t first = 0;
    if (key.from >= 0) {
        first = static_cast<size_t>(lastStepOf(key.from)) + 1;
        for (int m : frontier(key.from)) {
            const Node& n = spec.nodes[static_cast<size_t>(m)];
            std::vector<int64_t> shape =
                n.outShape.size() == 3 ? n.outShape : std::vector<int64_t>{n.outShape[0], 1, 1};
            Restore r;
            r.node = m;
            if (key.broadcast) r.staging.resize(static_cast<size_t>(opt.batch * numelOf(shape)));
            r.plain = dnnl::memory({batchDims(shape), dt::f32, tag::nchw}, eng,
                                   key.broadcast ? r.staging.data() : DNNL_MEMORY_NONE);
            const dnnl::memory dst = out[static_cast<size_t>(m)];
            const float scale = at(m).scale;
            const dnnl::primitive_attr attr =
                scale != 1.0F ? scaleAttr(0, {scale}) : dnnl::primitive_attr();
            // Logits are [batch, classes]; the plain view of them is 4-D.
            const dnnl::memory from =
                n.kind == NodeKind::Fc
                    ? dnnl::memory(dst.get_desc(), eng,
                                   key.broadcast ? r.staging.data() : DNNL_MEMORY_NONE)
                    : r.plain;
            if (n.kind == NodeKind::Fc) r.plain = from;
            p.steps.push_back({-1,
                               m,
                               dnnl::reorder(from, dst, attr),
                               {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, dst}}});
            p.restores.push_back(std::move(r));
        }
        if (has(key.masked, key.from)) p.steps.push_back(mask(key.from).step);
        if (has(key.taps, key.from)) addTap(p, key.from);
    } else if (inputMasked) {
        p.steps.push_back(mask(0).step);
    }
    for (size_t i = first; i < steps.size(); ++i) {
        Step step = steps[i];
        if (inputMasked)  // every reader of the input reads the masked copy
            for (auto& [arg, mem] : step.args)
                if (mem.get() == userInput.get()) mem = maskedInput;
        p.steps.push_back(step);
        if (step.node <= 0) continue;  // a helper step, or the input's (int8: quantize)
        if (has(key.masked, step.node)) p.steps.push_back(mask(step.node).step);
        if (has(key.taps, step.node)) addTap(p, step.node);
    }
    return plans.emplace(key, std::move(p)).first->second;
}

std::vector<int> Engine::Impl::tapIndices(const std::vector<std::string>& names) const {
    std::vector<int> taps;
    for (const std::string& name : names) {
        const int i = spec.find(name);
        if (i < 0 || !spec.nodes[static_cast<size_t>(i)].tappable()) {
            std::string valid;
            for (const std::string& t : spec.tapNames()) valid += (valid.empty() ? "" : ", ") + t;
            if (i >= 0)
                throw EngineError("'" + name +
                                  "' cannot be tapped: its output only exists fused "
                                  "with the residual add; tap the block ('" +
                                  name.substr(0, name.rfind('.')) + "') instead.");
            throw EngineError("Unknown tap '" + name + "'. Valid taps: " + valid + ".");
        }
        taps.push_back(i);
    }
    std::sort(taps.begin(), taps.end());
    taps.erase(std::unique(taps.begin(), taps.end()), taps.end());
    return taps;
}

Engine::Impl::PlanKey Engine::Impl::keyFor(const EngineRun& request) const {
    checkAblations(spec, request.ablations, opt.batch);
    PlanKey key;
    key.taps = tapIndices(request.taps);
    for (const ChannelAblation& a : request.ablations)
        if (!a.channels.empty()) key.masked.push_back(spec.find(a.node));
    std::sort(key.masked.begin(), key.masked.end());
    key.masked.erase(std::unique(key.masked.begin(), key.masked.end()), key.masked.end());
    return key;
}

RunResult Engine::Impl::execute(const Plan& p, const PlanKey& key, const Tensor& input,
                                const EngineRun& request) {
    const auto t0 = Clock::now();
    if (opt.threads > 0) omp_set_num_threads(opt.threads);
    RunResult r;
    r.logits = Tensor({opt.batch, spec.numClasses});
    if (!input.empty()) userInput.set_data_handle(const_cast<float*>(input.ptr()));
    logits.set_data_handle(r.logits.ptr());
    for (const auto& [node, mem] : p.taps) {
        const Node& n = spec.nodes[static_cast<size_t>(node)];
        std::vector<int64_t> dims{opt.batch};
        dims.insert(dims.end(), n.outShape.begin(), n.outShape.end());
        Tensor& t = r.taps[n.name] = Tensor(dims);
        mem.set_data_handle(t.ptr());
    }
    // The masks' values: 1, and 0 where a channel is switched off (in its image, or in all).
    for (int node : key.masked) {
        Mask& m = masks.at(node);
        auto* values = static_cast<float*>(m.values.get_data_handle());
        std::fill_n(values, m.stride * opt.batch, 1.0F);
        for (const ChannelAblation& a : request.ablations) {
            if (spec.find(a.node) != node) continue;
            for (int b = 0; b < opt.batch; ++b)
                if (a.image < 0 || a.image == b)
                    for (int c : a.channels) values[b * m.stride + c] = 0.0F;
        }
    }
    if (request.profile) r.nodeMs.assign(spec.nodes.size(), 0.0);
    try {
        for (const Step& step : p.steps) {
            const auto s0 = Clock::now();
            step.prim.execute(strm, step.args);
            if (request.profile) {
                strm.wait();
                if (step.timeNode >= 0) r.nodeMs[static_cast<size_t>(step.timeNode)] += msSince(s0);
            }
        }
        strm.wait();
    } catch (const dnnl::error& e) {
        throw EngineError(std::string("oneDNN failed while running the network (") +
                          statusName(e.status) + ": " + e.what() + ").");
    } catch (...) {
        throw EngineError(currentExceptionMessage("Running the network"));
    }
    for (int node : key.taps) {
        const Node& n = spec.nodes[static_cast<size_t>(node)];
        if (n.kind == NodeKind::Fc) r.taps[n.name] = r.logits;
        if (n.kind != NodeKind::Input) continue;
        if (std::binary_search(key.masked.begin(), key.masked.end(), node)) {
            Tensor t(input.dims);
            std::copy_n(static_cast<const float*>(maskedInput.get_data_handle()), t.data.size(),
                        t.ptr());
            r.taps[n.name] = std::move(t);
        } else {
            r.taps[n.name] = input;
        }
    }
    r.networkMs = msSince(t0);
    return r;
}

Engine::Engine(const NetworkSpec& spec, const WeightSet& weights, const EngineOptions& options)
    : d(std::make_unique<Impl>()) {
    validateWeights(spec, weights);
    if (options.batch < 1) throw EngineError("The batch size must be at least 1.");
    if (options.threads < 0) throw EngineError("The thread count cannot be negative.");
    d->spec = spec;
    d->opt = options;
    d->opt.threads = options.threads > 0 ? capThreads(options.threads) : 0;
    if (options.precision == Precision::Bf16 && !supports(Precision::Bf16))
        throw EngineError(
            "bf16 is not available on this CPU: oneDNN 2.6 needs AVX-512 for bf16 "
            "(AMX or AVX512-BF16 to be fast) and this CPU offers " +
            cpuIsa() + ". Use fp32.");
    if (options.precision == Precision::Int8 && !options.calibration)
        throw EngineError(
            "int8 needs a calibration: run calibrate() on a few representative images first.");
    if (options.precision == Precision::Int8 && !supports(Precision::Int8))
        throw EngineError(
            "int8 is not available on this CPU (oneDNN needs at least AVX2; this CPU offers " +
            cpuIsa() + "). Use fp32.");
    if (d->opt.threads > 0) omp_set_num_threads(d->opt.threads);
    try {
        d->compile(weights);
    } catch (const dnnl::error& e) {
        throw EngineError(std::string("oneDNN could not build the ") +
                          precisionName(options.precision) + " primitive for '" + d->building +
                          "' (" + statusName(e.status) + ": " + e.what() + ").");
    } catch (const Error&) {
        throw;
    } catch (...) {
        throw EngineError(currentExceptionMessage(std::string("The ") +
                                                  precisionName(options.precision) +
                                                  " network at '" + d->building + "'"));
    }
}

Engine::~Engine() = default;

const NetworkSpec& Engine::spec() const {
    return d->spec;
}
const EngineOptions& Engine::options() const {
    return d->opt;
}

std::string Engine::implementations() const {
    std::string s;
    for (const auto& [kind, counts] : d->impls) {
        s += (s.empty() ? "" : ", ") + kind + " ";
        std::string each;
        for (const auto& [impl, count] : counts)
            each += (each.empty() ? "" : " + ") + impl +
                    (counts.size() > 1 ? " ×" + std::to_string(count) : "");
        s += each;
    }
    return s;
}

std::string Engine::activationLayout() const {
    switch (d->blocked) {
        case tag::nChw16c: return "nChw16c";
        case tag::nChw8c: return "nChw8c";
        default: return "oneDNN's choice";
    }
}

std::vector<std::string> Engine::winogradLayers() const {
    return d->wino;
}

RunResult Engine::run(const Tensor& input, const std::vector<std::string>& taps, bool profile) {
    return run(input, EngineRun{taps, {}, profile});
}

RunResult Engine::run(const Tensor& input, const EngineRun& request) {
    const NetworkSpec& spec = d->spec;
    const std::vector<int64_t> want{d->opt.batch, 3, spec.inputSize, spec.inputSize};
    if (input.dims != want)
        throw EngineError("The engine expects an input of shape " + shapeToString(want) + ", got " +
                          shapeToString(input.dims) + ".");
    const Impl::PlanKey key = d->keyFor(request);
    try {
        return d->execute(d->plan(key), key, input, request);
    } catch (const dnnl::error& e) {  // building a mask step
        throw EngineError(std::string("oneDNN could not switch channels off (") +
                          statusName(e.status) + ": " + e.what() + ").");
    }
}

std::vector<std::string> Engine::resumeTaps(const std::string& node) const {
    const int from = d->spec.find(node);
    if (from <= 0 || !d->spec.nodes[static_cast<size_t>(from)].tappable())
        throw EngineError("A run can start after a node that can be tapped (not the input), not '" +
                          node + "'.");
    std::vector<std::string> names;
    for (int m : d->frontier(from)) names.push_back(d->spec.nodes[static_cast<size_t>(m)].name);
    return names;
}

RunResult Engine::runFrom(const std::string& node, const std::map<std::string, Tensor>& cached,
                          const EngineRun& request) {
    const NetworkSpec& spec = d->spec;
    const std::vector<std::string> needed = resumeTaps(node);
    Impl::PlanKey key = d->keyFor(request);
    key.from = spec.find(node);
    for (int i : key.masked)
        if (i < key.from)
            throw EngineError("A run from '" + node + "' cannot switch channels off at '" +
                              spec.nodes[static_cast<size_t>(i)].name +
                              "', which comes before it: do that in the full run.");
    for (int i : key.taps)
        if (i < key.from)
            throw EngineError("A run from '" + node + "' does not compute '" +
                              spec.nodes[static_cast<size_t>(i)].name +
                              "', which comes before it.");
    std::vector<const Tensor*> sources;
    for (size_t k = 0; k < needed.size(); ++k) {
        const auto it = cached.find(needed[k]);
        if (it == cached.end())
            throw EngineError("A run from '" + node + "' needs the tap '" + needed[k] +
                              "' of a full run (Engine::resumeTaps()).");
        const std::vector<int64_t>& shape = spec.node(needed[k]).outShape;
        std::vector<int64_t> one{1}, all{d->opt.batch};
        one.insert(one.end(), shape.begin(), shape.end());
        all.insert(all.end(), shape.begin(), shape.end());
        const bool single = it->second.dims == one && d->opt.batch > 1;
        if (!single && it->second.dims != all)
            throw EngineError("A run from '" + node + "': the tap '" + needed[k] + "' has shape " +
                              shapeToString(it->second.dims) + ", expected " + shapeToString(all) +
                              " or " + shapeToString(one) + ".");
        if (k > 0 && single != key.broadcast)
            throw EngineError("A run from '" + node +
                              "': the cached taps must all be of one batch size.");
        key.broadcast = single;
        sources.push_back(&it->second);
    }
    try {
        const Impl::Plan& p = d->plan(key);
        for (size_t k = 0; k < p.restores.size(); ++k) {
            const Impl::Restore& r = p.restores[k];
            const Tensor& t = *sources[k];
            if (!key.broadcast) {
                r.plain.set_data_handle(const_cast<float*>(t.ptr()));
                continue;
            }
            auto* dst = static_cast<float*>(r.plain.get_data_handle());
            for (int b = 0; b < d->opt.batch; ++b)
                std::copy(t.data.begin(), t.data.end(), dst + b * t.data.size());
        }
        return d->execute(p, key, Tensor(), request);  // no step reads the input
    } catch (const dnnl::error& e) {
        throw EngineError(std::string("oneDNN could not run from '") + node + "' (" +
                          statusName(e.status) + ": " + e.what() + ").");
    }
}

bool Engine::supports(Precision precision) {
    if (precision == Precision::Fp32) return true;
    auto probe = [](dt src, dt weights) {
        try {
            const dnnl::engine eng(dnnl::engine::kind::cpu, 0);
            const dnnl::memory::desc srcMd({1, 16, 8, 8}, src, tag::any);
            const dnnl::memory::desc weiMd({16, 16, 3, 3}, weights, tag::any);
            dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference,
                                                 dnnl::algorithm::convolution_direct, srcMd, weiMd,
                                                 srcMd, {1, 1}, {1, 1}, {1, 1});
            dnnl::convolution_forward::primitive_desc pd(desc, eng);
            return true;
        } catch (const dnnl::error&) {
            return false;
        }
    };
    static const bool bf16 = probe(dt::bf16, dt::bf16);
    static const bool int8 = probe(dt::u8, dt::s8);
    return precision == Precision::Bf16 ? bf16 : int8;
}

bool Engine::hasWinograd() {
    static const bool winograd = [] {
        try {
            const dnnl::engine eng(dnnl::engine::kind::cpu, 0);
            const dnnl::memory::desc md({1, 64, 14, 14}, dt::f32, tag::nChw16c);
            dnnl::convolution_forward::desc desc(
                dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_winograd, md,
                {{64, 64, 3, 3}, dt::f32, tag::any}, md, {1, 1}, {1, 1}, {1, 1});
            dnnl::convolution_forward::primitive_desc pd(desc, eng);
            return true;
        } catch (const dnnl::error&) {
            return false;
        }
    }();
    return winograd;
}

std::string Engine::convAlgorithmSummary() {
    const ConvAlgorithm a = defaultConvAlgorithm();
    if (a == ConvAlgorithm::Direct) return "direct (--algorithm direct)";
    if (!hasWinograd()) return "direct (oneDNN has no Winograd on " + cpuIsa() + ")";
    return std::string("Winograd for 3×3 stride 1, direct for the others") +
           (a == ConvAlgorithm::Winograd ? " (--algorithm winograd)" : "");
}

std::string Engine::cpuIsa() {
    switch (dnnl::get_effective_cpu_isa()) {
        case dnnl::cpu_isa::sse41: return "sse41";
        case dnnl::cpu_isa::avx: return "avx";
        case dnnl::cpu_isa::avx2: return "avx2";
        case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
        case dnnl::cpu_isa::avx512_mic: return "avx512_mic";
        case dnnl::cpu_isa::avx512_mic_4ops: return "avx512_mic_4ops";
        case dnnl::cpu_isa::avx512_core: return "avx512_core";
        case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
        case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
        case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
        default: return "unknown ISA";
    }
}

}  // namespace r18
