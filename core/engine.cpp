#include "core/engine.h"

#include <omp.h>

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>
#include <unordered_map>

#include "core/error.h"

namespace r18 {
namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;
using Clock = std::chrono::steady_clock;

constexpr size_t kMaxCachedPlans = 64;

struct Step {
    int node = -1;      // spec node whose output this step completes; -1 for tap reorders
    int timeNode = -1;  // node charged with this step's time when profiling
    dnnl::primitive prim;
    std::unordered_map<int, dnnl::memory> args;
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

double msSince(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

}  // namespace

const char* precisionName(Precision p) {
    return p == Precision::Bf16 ? "bf16" : "fp32";
}

std::optional<Precision> parsePrecision(const std::string& name) {
    if (name == "fp32" || name == "f32") return Precision::Fp32;
    if (name == "bf16") return Precision::Bf16;
    return std::nullopt;
}

struct Engine::Impl {
    struct Plan {
        std::vector<Step> steps;
        std::vector<std::pair<int, dnnl::memory>> taps;  // node -> plain f32 destination
    };

    NetworkSpec spec;
    EngineOptions opt;
    dnnl::engine eng{dnnl::engine::kind::cpu, 0};
    dnnl::stream strm{eng};
    dt act = dt::f32;
    dnnl::memory userInput;                    // plain NCHW f32, handle set per run
    dnnl::memory logits;                       // plain NC f32, handle set per run
    std::vector<dnnl::memory> out;             // per node: memory holding its output after its step
    std::vector<Step> steps;                   // the plain list
    std::map<std::string, std::string> impls;  // primitive kind -> oneDNN implementation
    std::map<std::vector<int>, Plan> plans;    // per tap set
    std::string building;                      // node being compiled, for error messages

    dnnl::memory::dims batchDims(const std::vector<int64_t>& shape) const {
        dnnl::memory::dims d{opt.batch};
        d.insert(d.end(), shape.begin(), shape.end());
        while (d.size() < 4) d.push_back(1);
        return d;
    }
    dnnl::memory::desc anyDesc(const std::vector<int64_t>& shape) const {
        return {batchDims(shape), act, tag::any};
    }

    void compile(const WeightSet& w);
    void addConv(int index, const WeightSet& w);
    void addPool(int index);
    void addFc(int index, const WeightSet& w);
    dnnl::memory uploadWeights(const std::vector<float>& data, const dnnl::memory::dims& dims,
                               tag userTag, const dnnl::memory::desc& want);
    const Plan& plan(const std::vector<int>& taps);
};

dnnl::memory Engine::Impl::uploadWeights(const std::vector<float>& data,
                                         const dnnl::memory::dims& dims, tag userTag,
                                         const dnnl::memory::desc& want) {
    dnnl::memory user({dims, dt::f32, userTag}, eng, const_cast<float*>(data.data()));
    dnnl::memory mem(want, eng);
    dnnl::reorder(user, mem).execute(strm, user, mem);
    strm.wait();
    return mem;
}

void Engine::Impl::addConv(int index, const WeightSet& w) {
    const Node& n = spec.nodes[static_cast<size_t>(index)];
    // A conv whose output feeds a residual add as its first input is fused with that add:
    // the skip tensor is already in the destination and the sum post-op adds into it.
    int add = -1;
    for (size_t j = 0; j < spec.nodes.size(); ++j)
        if (spec.nodes[j].kind == NodeKind::Add && spec.nodes[j].inputs[0] == index)
            add = static_cast<int>(j);
    const int produced = add >= 0 ? add : index;
    const bool relu = add >= 0 ? spec.nodes[static_cast<size_t>(add)].relu : n.relu;

    const int srcNode = n.inputs[0];
    const bool fromInput = spec.nodes[static_cast<size_t>(srcNode)].kind == NodeKind::Input;
    const dnnl::memory::desc srcMd =
        fromInput ? anyDesc(n.inShape) : out[static_cast<size_t>(srcNode)].get_desc();
    const int skip = add >= 0 ? spec.nodes[static_cast<size_t>(add)].inputs[1] : -1;
    const dnnl::memory::desc dstMd =
        add >= 0 ? out[static_cast<size_t>(skip)].get_desc() : anyDesc(n.outShape);
    const int64_t cout = n.outShape[0];
    const dnnl::memory::dims wDims{cout, n.inShape[0], n.kernel, n.kernel};

    dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference,
                                         dnnl::algorithm::convolution_direct, srcMd,
                                         {wDims, act, tag::any}, {{cout}, dt::f32, tag::x}, dstMd,
                                         {n.stride, n.stride}, {n.pad, n.pad}, {n.pad, n.pad});
    dnnl::post_ops ops;
    if (add >= 0) ops.append_sum(1.0F);
    if (relu) ops.append_eltwise(1.0F, dnnl::algorithm::eltwise_relu, 0.0F, 0.0F);
    dnnl::primitive_attr attr;
    attr.set_post_ops(ops);
    dnnl::convolution_forward::primitive_desc pd(desc, attr, eng);
    impls["conv"] = pd.impl_info_str();

    // Fold batch-norm (and any conv bias) into the weights and a bias, in double precision.
    const Tensor& weight = *w.get(n.weightName + ".weight");
    const Tensor* convBias = w.get(n.weightName + ".bias");
    const Tensor* gamma = w.get(n.bnName + ".weight");
    const bool hasBn = gamma != nullptr;
    const size_t per = weight.data.size() / static_cast<size_t>(cout);
    std::vector<float> folded(weight.data.size());
    std::vector<float> bias(static_cast<size_t>(cout));
    for (size_t co = 0; co < static_cast<size_t>(cout); ++co) {
        double scale = 1.0;
        double shift = 0.0;
        if (hasBn) {
            const double var = w.get(n.bnName + ".running_var")->data[co];
            scale = gamma->data[co] / std::sqrt(var + static_cast<double>(w.eps(n.bnName)));
            shift = w.get(n.bnName + ".bias")->data[co] -
                    w.get(n.bnName + ".running_mean")->data[co] * scale;
        }
        for (size_t k = 0; k < per; ++k)
            folded[co * per + k] = static_cast<float>(weight.data[co * per + k] * scale);
        bias[co] = static_cast<float>(shift + (convBias ? convBias->data[co] * scale : 0.0));
    }
    dnnl::memory wMem = uploadWeights(folded, wDims, tag::oihw, pd.weights_desc());
    dnnl::memory bMem = uploadWeights(bias, {cout}, tag::x, pd.bias_desc());

    dnnl::memory src;
    if (fromInput) {
        if (pd.src_desc() == userInput.get_desc()) {
            src = userInput;
        } else {
            src = dnnl::memory(pd.src_desc(), eng);
            steps.push_back({srcNode,
                             srcNode,
                             dnnl::reorder(userInput, src),
                             {{DNNL_ARG_FROM, userInput}, {DNNL_ARG_TO, src}}});
        }
    } else {
        src = out[static_cast<size_t>(srcNode)];
    }
    const dnnl::memory dst =
        add >= 0 ? out[static_cast<size_t>(skip)] : dnnl::memory(pd.dst_desc(), eng);
    steps.push_back({produced,
                     index,
                     dnnl::convolution_forward(pd),
                     {{DNNL_ARG_SRC, src},
                      {DNNL_ARG_WEIGHTS, wMem},
                      {DNNL_ARG_BIAS, bMem},
                      {DNNL_ARG_DST, dst}}});
    out[static_cast<size_t>(produced)] = dst;
}

void Engine::Impl::addPool(int index) {
    const Node& n = spec.nodes[static_cast<size_t>(index)];
    const dnnl::memory src = out[static_cast<size_t>(n.inputs[0])];
    const bool isMax = n.kind == NodeKind::MaxPool;
    const dnnl::memory::dims kernel = isMax ? dnnl::memory::dims{n.kernel, n.kernel}
                                            : dnnl::memory::dims{n.inShape[1], n.inShape[2]};
    const dnnl::memory::dims stride = isMax ? dnnl::memory::dims{n.stride, n.stride} : kernel;
    const dnnl::memory::dims pad{n.pad, n.pad};
    const std::vector<int64_t> outShape =
        n.outShape.size() == 3 ? n.outShape : std::vector<int64_t>{n.outShape[0], 1, 1};
    dnnl::pooling_forward::desc desc(
        dnnl::prop_kind::forward_inference,
        isMax ? dnnl::algorithm::pooling_max : dnnl::algorithm::pooling_avg_exclude_padding,
        src.get_desc(), anyDesc(outShape), stride, kernel, pad, pad);
    dnnl::pooling_forward::primitive_desc pd(desc, eng);
    impls["pool"] = pd.impl_info_str();
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
    dnnl::inner_product_forward::desc desc(dnnl::prop_kind::forward_inference, src.get_desc(),
                                           {wDims, act, tag::any}, {{classes}, dt::f32, tag::x},
                                           {{opt.batch, classes}, dt::f32, tag::nc});
    dnnl::inner_product_forward::primitive_desc pd(desc, eng);
    impls["fc"] = pd.impl_info_str();
    dnnl::memory wMem =
        uploadWeights(w.get("fc.weight")->data, wDims, tag::oihw, pd.weights_desc());
    dnnl::memory bMem = uploadWeights(w.get("fc.bias")->data, {classes}, tag::x, pd.bias_desc());
    logits = dnnl::memory(pd.dst_desc(), eng, DNNL_MEMORY_NONE);
    steps.push_back({index,
                     index,
                     dnnl::inner_product_forward(pd),
                     {{DNNL_ARG_SRC, src},
                      {DNNL_ARG_WEIGHTS, wMem},
                      {DNNL_ARG_BIAS, bMem},
                      {DNNL_ARG_DST, logits}}});
    out[static_cast<size_t>(index)] = logits;
}

void Engine::Impl::compile(const WeightSet& w) {
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

const Engine::Impl::Plan& Engine::Impl::plan(const std::vector<int>& taps) {
    auto it = plans.find(taps);
    if (it != plans.end()) return it->second;
    if (plans.size() >= kMaxCachedPlans) plans.clear();
    Plan p;
    for (const Step& step : steps) {
        p.steps.push_back(step);
        if (step.node < 0 || !std::binary_search(taps.begin(), taps.end(), step.node)) continue;
        const Node& n = spec.nodes[static_cast<size_t>(step.node)];
        if (n.kind == NodeKind::Input || n.kind == NodeKind::Fc) continue;  // copied directly
        const std::vector<int64_t> shape =
            n.outShape.size() == 3 ? n.outShape : std::vector<int64_t>{n.outShape[0], 1, 1};
        const dnnl::memory src = out[static_cast<size_t>(step.node)];
        dnnl::memory dst({batchDims(shape), dt::f32, tag::nchw}, eng, DNNL_MEMORY_NONE);
        p.steps.push_back(
            {-1, -1, dnnl::reorder(src, dst), {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}}});
        p.taps.emplace_back(step.node, dst);
    }
    return plans.emplace(taps, std::move(p)).first->second;
}

Engine::Engine(const NetworkSpec& spec, const WeightSet& weights, const EngineOptions& options)
    : d(std::make_unique<Impl>()) {
    validateWeights(spec, weights);
    if (options.batch < 1) throw EngineError("The batch size must be at least 1.");
    if (options.threads < 0) throw EngineError("The thread count cannot be negative.");
    d->spec = spec;
    d->opt = options;
    d->act = options.precision == Precision::Bf16 ? dt::bf16 : dt::f32;
    if (options.precision == Precision::Bf16 && !supports(Precision::Bf16))
        throw EngineError(
            "bf16 is not available on this CPU: oneDNN 2.6 needs AVX-512 for bf16 "
            "(AMX or AVX512-BF16 to be fast) and this CPU offers " +
            cpuIsa() + ". Use fp32.");
    if (options.threads > 0) omp_set_num_threads(options.threads);
    try {
        d->compile(weights);
    } catch (const dnnl::error& e) {
        throw EngineError(std::string("oneDNN could not build the ") +
                          precisionName(options.precision) + " primitive for '" + d->building +
                          "' (" + statusName(e.status) + ": " + e.what() + ").");
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
    for (const auto& [kind, impl] : d->impls) s += (s.empty() ? "" : ", ") + kind + " " + impl;
    return s;
}

RunResult Engine::run(const Tensor& input, const std::vector<std::string>& tapNames, bool profile) {
    const NetworkSpec& spec = d->spec;
    const std::vector<int64_t> want{d->opt.batch, 3, spec.inputSize, spec.inputSize};
    if (input.dims != want)
        throw EngineError("The engine expects an input of shape " + shapeToString(want) + ", got " +
                          shapeToString(input.dims) + ".");
    std::vector<int> taps;
    for (const std::string& name : tapNames) {
        const int i = spec.find(name);
        if (i < 0 || !spec.nodes[static_cast<size_t>(i)].tappable) {
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

    const auto t0 = Clock::now();
    if (d->opt.threads > 0) omp_set_num_threads(d->opt.threads);
    const Impl::Plan& p = d->plan(taps);
    RunResult r;
    r.logits = Tensor({d->opt.batch, spec.numClasses});
    d->userInput.set_data_handle(const_cast<float*>(input.ptr()));
    d->logits.set_data_handle(r.logits.ptr());
    for (const auto& [node, mem] : p.taps) {
        const Node& n = spec.nodes[static_cast<size_t>(node)];
        std::vector<int64_t> dims{d->opt.batch};
        dims.insert(dims.end(), n.outShape.begin(), n.outShape.end());
        Tensor& t = r.taps[n.name] = Tensor(dims);
        mem.set_data_handle(t.ptr());
    }
    if (profile) r.nodeMs.assign(spec.nodes.size(), 0.0);
    try {
        for (const Step& step : p.steps) {
            const auto s0 = Clock::now();
            step.prim.execute(d->strm, step.args);
            if (profile) {
                d->strm.wait();
                if (step.timeNode >= 0) r.nodeMs[static_cast<size_t>(step.timeNode)] += msSince(s0);
            }
        }
        d->strm.wait();
    } catch (const dnnl::error& e) {
        throw EngineError(std::string("oneDNN failed while running the network (") +
                          statusName(e.status) + ": " + e.what() + ").");
    }
    for (int node : taps) {
        const Node& n = spec.nodes[static_cast<size_t>(node)];
        if (n.kind == NodeKind::Input) r.taps[n.name] = input;
        if (n.kind == NodeKind::Fc) r.taps[n.name] = r.logits;
    }
    r.networkMs = msSince(t0);
    return r;
}

bool Engine::supports(Precision precision) {
    if (precision == Precision::Fp32) return true;
    static const bool bf16 = [] {
        try {
            const dnnl::engine eng(dnnl::engine::kind::cpu, 0);
            const dnnl::memory::desc src({1, 16, 8, 8}, dt::bf16, tag::any);
            const dnnl::memory::desc wei({16, 16, 3, 3}, dt::bf16, tag::any);
            dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference,
                                                 dnnl::algorithm::convolution_direct, src, wei, src,
                                                 {1, 1}, {1, 1}, {1, 1});
            dnnl::convolution_forward::primitive_desc pd(desc, eng);
            return true;
        } catch (const dnnl::error&) {
            return false;
        }
    }();
    return bf16;
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
