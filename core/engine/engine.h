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
// Switching channels off (EngineRun::ablations, core/engine/ablation.h): a node's output is
// multiplied by a per-image, per-channel 0/1 mask in place, by a oneDNN binary_mul step placed
// right after the node's producer and before its tap and every consumer — so what its tap shows
// is what every later node reads. A block output (`layerS.B`, the conv fused with the residual
// add and its ReLU) is masked in its buffer, which is also the next block's input and, for an
// identity skip, the buffer the next block's add sums into: both see the masked values. The
// input is masked into a copy (the caller's tensor is never written). Each node's mask step is
// built once, when it is first needed; the mask's values are written per run, so switching other
// channels off never recompiles. Lists are cached per (tap set, masked nodes).
//
// Running only what changed (runFrom()): the outputs of a node and of whatever later nodes read
// from before it (resumeTaps()), tapped in an earlier full run of the same input, are copied into
// the engine's buffers and only the steps after that node run — e.g. for layer4.1.conv1, the
// rest of that block and the head. A batch-1 tap can feed every image of a larger batch, each
// with other channels switched off (core/channel_importance.h).
//
// Not thread-safe: oneDNN scratchpads belong to the primitives. Use one Engine per thread
// (the UI's worker owns one); compile and run it on the same thread.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/engine/ablation.h"
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

// Whether convolution `node` is computed with Winograd under `algorithm` on this CPU (the fixed
// table for Auto; oneDNN 2.6 has fp32 Winograd for 3×3 stride 1 on AVX-512 only). The forward
// engine and the backward pass (Backprop) ask the same question, so both follow one table.
bool convUsesWinograd(const Node& node, ConvAlgorithm algorithm);
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

// How an Engine is compiled: one plain struct with defaults (like ncnn's Option), set by field or
// by name: EngineOptions().with(Precision::Int8).withThreads(2).withCalibration(ranges).
struct EngineOptions {
    EngineOptions() {}  // NOLINT(modernize-use-equals-default): not an aggregate, so no
                        // positional {precision, batch, threads} can be written

    Precision precision = Precision::Fp32;
    int batch = 1;
    int threads = 0;  // OpenMP threads; 0: OpenMP's default (all cores); capped at the cores
    // int8 only: activation ranges from calibrate() (core/engine/calibration.h). Weights are
    // quantized per output channel; activations per tensor, u8 after a ReLU and s8 elsewhere; the
    // stem input is s8, the head (average pool, fc) runs in fp32 on dequantized layer4 outputs.
    std::shared_ptr<const Calibration> calibration;
    // fp32 only (bf16 and int8 are always direct, in oneDNN's layouts).
    ConvAlgorithm algorithm = defaultConvAlgorithm();
    ActivationLayout layout = ActivationLayout::Auto;

    EngineOptions& with(Precision p) {
        precision = p;
        return *this;
    }
    EngineOptions& withBatch(int images) {
        batch = images;
        return *this;
    }
    EngineOptions& withThreads(int n) {
        threads = n;
        return *this;
    }
    EngineOptions& withCalibration(std::shared_ptr<const Calibration> ranges) {
        calibration = std::move(ranges);
        return *this;
    }
};

struct RunResult {
    Tensor logits;                       // [batch, classes]
    std::map<std::string, Tensor> taps;  // [batch,C,H,W]; avgpool and fc are [batch,C]
    double networkMs = 0.0;              // wall time of run()
    std::vector<double> nodeMs;          // per NetworkSpec node when profiling, else empty;
                                         // a conv fused with its block's add carries the time
};

// What one run computes besides the logits.
struct EngineRun {
    std::vector<std::string> taps;           // node outputs to hand back (tapNames())
    std::vector<ChannelAblation> ablations;  // channels switched off
    bool profile = false;  // fill nodeMs (waits after every primitive: a little slower)
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
    // The same with channels switched off. Ablations are checked like taps (unknown nodes,
    // channels or images throw EngineError).
    RunResult run(const Tensor& input, const EngineRun& request);

    // The taps runFrom(node) needs from an earlier full run: the node itself and whatever later
    // nodes read that was computed before it (for layerS.B.conv1, the block's input, which its
    // add sums; for a downsample, its block's conv1). Throws EngineError for the input or a node
    // that cannot be tapped.
    std::vector<std::string> resumeTaps(const std::string& node) const;
    // Runs only the steps after `node`, starting from `cached` (resumeTaps(node) of a full run,
    // each [batch, ...] or [1, ...], the latter copied into every image). `node`'s own ablations
    // and taps and those of later nodes apply; asking for an earlier node's throws EngineError
    // (its switched-off channels belong in the full run). Same result as the full run gives for
    // those taps and the logits; allocates nothing per call but the result.
    RunResult runFrom(const std::string& node, const std::map<std::string, Tensor>& cached,
                      const EngineRun& request = {});

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
