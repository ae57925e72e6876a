// Engine: ResNet inference on oneDNN, compiled once and executed many times.
//
// Compiling folds batch-norm into the convolutions, fuses ReLU and the residual add as
// post-ops, chooses the activation layout and each convolution's algorithm for the CPU at hand
// (below), reorders the weights once and allocates every buffer. run() only executes the
// prebuilt list.
//
// Layout and algorithm: oneDNN 2.6 has fp32 Winograd for 3×3 stride-1 convolutions on AVX-512
// only, and only on the blocked layout nChw16c (its direct kernels pick NHWC under
// format_tag::any). With ConvAlgorithm::Auto an fp32 engine on such a CPU keeps every
// activation in nChw16c and computes every 3×3 stride-1 convolution with Winograd, from a fixed
// table (engine.cpp, `bench --algorithms` shows the figures behind it), never from a timing.
// Elsewhere (AVX2, bf16, int8) every convolution is direct and oneDNN picks the layouts. So what
// an engine computes is a function of the CPU's ISA (ONEDNN_MAX_CPU_ISA lowers it), the
// options and the threads only: the same input gives the same bytes in every process. The
// options below force either choice, so both paths can be tested on any CPU.
//
// Taps, like ncnn's Extractor::extract(): run() takes the names of the nodes whose outputs the
// caller wants (see NetworkSpec::tapNames()). Only those are reordered to plain float32; the
// reorder runs right after the node's producer. Each tap set gets its own cached list, so an
// empty tap set runs the plain, fully fused list.
//
// Not thread-safe: oneDNN scratchpads belong to the primitives. Use one Engine per thread
// (the UI's worker owns one); compile and run it on the same thread.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/engine/calibration.h"
#include "core/model/network_spec.h"
#include "core/model/weights.h"
#include "core/tensor.h"

namespace r18 {

enum class Precision { Fp32, Bf16, Int8 };

const char* precisionName(Precision p);  // "fp32", "bf16", "int8"
std::optional<Precision> parsePrecision(const std::string& name);

// How fp32 3×3 stride-1 convolutions are computed.
enum class ConvAlgorithm {
    Auto,      // the fixed table: Winograd for 3×3 stride-1 where oneDNN has it, else direct
    Direct,    // always direct
    Winograd,  // Winograd wherever oneDNN can build it, direct elsewhere
};

const char* convAlgorithmName(ConvAlgorithm a);  // "auto", "direct", "winograd"
std::optional<ConvAlgorithm> parseConvAlgorithm(const std::string& name);

// The algorithm EngineOptions start with, for the whole process: Auto unless the user pinned
// another (`--algorithm` on the command line sets it once, before any engine is built, so the
// window, its insight jobs and every verb compute alike).
ConvAlgorithm defaultConvAlgorithm();
void setDefaultConvAlgorithm(ConvAlgorithm algorithm);

// How fp32 activations are stored between layers.
enum class ActivationLayout {
    Auto,       // nChw16c when Winograd is possible for the chosen algorithm, else Library
    Library,    // oneDNN's choice under format_tag::any (NHWC for its direct kernels)
    Blocked,    // the CPU's own blocked layout: nChw16c on AVX-512, nChw8c below
    Blocked16,  // nChw16c, what Winograd needs (forced: also where oneDNN has no fast kernel
                // for it, e.g. AVX2, where its generic kernels run ~100× slower)
};

struct EngineOptions {
    EngineOptions(Precision p = Precision::Fp32, int b = 1, int t = 0,
                  std::shared_ptr<const Calibration> c = {})
        : precision(p), batch(b), threads(t), calibration(std::move(c)) {}

    Precision precision = Precision::Fp32;
    int batch = 1;
    int threads = 0;  // OpenMP threads; 0: OpenMP's default (all cores); capped at the cores
    // int8 only: activation ranges from calibrate() (core/calibration.h). Weights are quantized
    // per output channel; activations per tensor, u8 after a ReLU and s8 elsewhere; the stem
    // input is s8, the head (average pool, fc) runs in fp32 on dequantized layer4 outputs.
    std::shared_ptr<const Calibration> calibration;
    // fp32 only (bf16 and int8 are always direct, in oneDNN's layouts).
    ConvAlgorithm algorithm = defaultConvAlgorithm();
    ActivationLayout layout = ActivationLayout::Auto;
};

struct RunResult {
    Tensor logits;                       // [batch, classes]
    std::map<std::string, Tensor> taps;  // [batch,C,H,W]; avgpool and fc are [batch,C]
    double networkMs = 0.0;              // wall time of run()
    std::vector<double> nodeMs;          // per NetworkSpec node when profiling, else empty;
                                         // a conv fused with its block's add carries the time
};

class Engine {
public:
    // Validates the weights against the spec, then compiles. Throws WeightsError or
    // EngineError (e.g. bf16 on a CPU without AVX-512).
    Engine(const NetworkSpec& spec, const WeightSet& weights, const EngineOptions& options = {});
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // `input` is [batch,3,S,S] float32 NCHW, S = spec().inputSize. Unknown or untappable tap
    // names throw EngineError listing the valid ones. `profile` fills nodeMs (it waits after
    // every primitive, so the total is a little slower).
    RunResult run(const Tensor& input, const std::vector<std::string>& taps = {},
                  bool profile = false);

    const NetworkSpec& spec() const;
    const EngineOptions& options() const;
    // oneDNN's implementations of each kind of primitive, with how many nodes use each when
    // there is more than one, e.g. "conv jit:avx2, fc gemm:jit, pool jit:avx2" or
    // "conv jit:avx512_core ×7 + jit_fp32_wino_2x3:avx512_core ×13, ...".
    std::string implementations() const;
    // What compiling chose: the activation layout ("nChw16c", "nChw8c" or "oneDNN's choice"),
    // and the
    // convolutions computed with Winograd (torchvision names; empty where none are).
    std::string activationLayout() const;
    std::vector<std::string> winogradLayers() const;

    // Whether this CPU can run the precision (bf16 needs AVX-512 in oneDNN 2.6; int8 needs
    // AVX2). Without VNNI, int8 weights of convs on u8 inputs use 7 bits (±63) so oneDNN's
    // u8×s8 pair sums cannot saturate in 16 bits.
    static bool supports(Precision precision);
    // The instruction set oneDNN dispatches to on this CPU ("avx2", "avx512_core_amx", ...).
    static std::string cpuIsa();
    // Whether oneDNN can build an fp32 Winograd convolution on this CPU (AVX-512 in 2.6).
    static bool hasWinograd();
    // How fp32 convolutions are computed under defaultConvAlgorithm() on this CPU, in words:
    // "Winograd for 3×3 stride 1, direct for the others", "direct (oneDNN has no Winograd on
    // avx2)" or "direct (--algorithm direct)". bf16 and int8 are always direct.
    static std::string convAlgorithmSummary();

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

}  // namespace r18
