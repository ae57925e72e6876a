// Engine: ResNet inference on oneDNN, compiled once and executed many times.
//
// Compiling folds batch-norm into the convolutions, fuses ReLU and the residual add as
// post-ops, lets oneDNN pick every layout (format_tag::any), reorders the weights once and
// allocates every buffer. run() only executes the prebuilt list.
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

struct EngineOptions {
    EngineOptions(Precision p = Precision::Fp32, int b = 1, int t = 0,
                  std::shared_ptr<const Calibration> c = {})
        : precision(p), batch(b), threads(t), calibration(std::move(c)) {}

    Precision precision = Precision::Fp32;
    int batch = 1;
    int threads = 0;  // OpenMP threads for this engine; 0 keeps OpenMP's default (all cores)
    // int8 only: activation ranges from calibrate() (core/calibration.h). Weights are quantized
    // per output channel; activations per tensor, u8 after a ReLU and s8 elsewhere; the stem
    // input is s8, the head (average pool, fc) runs in fp32 on dequantized layer4 outputs.
    std::shared_ptr<const Calibration> calibration;
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
    // oneDNN's implementation of each kind of primitive, e.g. "conv jit:avx2, pool jit:avx2".
    std::string implementations() const;

    // Whether this CPU can run the precision (bf16 needs AVX-512 in oneDNN 2.6; int8 needs
    // AVX2). Without VNNI, int8 weights of convs on u8 inputs use 7 bits (±63) so oneDNN's
    // u8×s8 pair sums cannot saturate in 16 bits.
    static bool supports(Precision precision);
    // The instruction set oneDNN dispatches to on this CPU ("avx2", "avx512_core_amx", ...).
    static std::string cpuIsa();

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

}  // namespace r18
