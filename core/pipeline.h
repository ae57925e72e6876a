// Pipeline: a decoded image -> the model's preprocessing -> the engine -> top-K, taps, timings.
// The one path every user of the network takes: the CLI verbs, the bench, the folder job and
// the window's worker. It owns its Engine, so like Engine it is used from one thread at a time.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/engine/ablation.h"
#include "core/engine/engine.h"
#include "core/model/model.h"
#include "core/model/predictions.h"
#include "core/tensor.h"

namespace r18 {

struct RunRequest {
    std::vector<std::string> taps;  // node outputs to hand back (NetworkSpec::tapNames())
    int topK = 5;
    bool profile = false;  // per-node times (waits after every primitive: a little slower)
    std::vector<ChannelAblation> ablations;  // channels switched off (core/engine/ablation.h)
};

// What the engine computed for one image (RunResult: logits [1,classes], the requested taps
// [1,C,H,W] or [1,C], per-node and network times), with its top-K and, from classifyFile(), the
// decoding and preprocessing times. The window's result (ui InferenceResult) extends it.
struct Classification : RunResult {
    std::vector<Prediction> top;  // best first, labelled by the model's labels
    double decodeMs = 0.0;        // classifyFile() only
    double preprocessMs = 0.0;    // classifyFile() only
};

class Pipeline {
public:
    // Compiles the engine. Throws WeightsError or EngineError (e.g. bf16 on a CPU without it,
    // int8 without a calibration).
    Pipeline(std::shared_ptr<const Model> model, const EngineOptions& options);

    const Model& model() const { return *m_model; }
    const std::shared_ptr<const Model>& modelPtr() const { return m_model; }
    const EngineOptions& options() const { return m_engine.options(); }
    Engine& engine() { return m_engine; }

    // One inference on zeros, so that the next run's timings are steady-state (the first run
    // of a freshly compiled engine pays for page faults and oneDNN's lazy set-up).
    void warmUp();

    // A prepared input ([1,3,S,S], Model::prepare()) through the network. Throws EngineError
    // for unknown taps.
    Classification run(const Tensor& input, const RunRequest& request = {});
    // Decode, preprocess and run one image file, timing each step. Throws ImageError naming
    // the file.
    Classification classifyFile(const std::string& path, const RunRequest& request = {});
    // A batch of prepared inputs ([B,3,S,S], B = options().batch) through the network at
    // once: one Classification per image, each as run() would give it for that image alone
    // (logits [1,classes], taps [1,...]); networkMs is the whole batch's time.
    std::vector<Classification> runBatch(const Tensor& input, const RunRequest& request = {});

private:
    std::shared_ptr<const Model> m_model;
    Engine m_engine;
};

}  // namespace r18
