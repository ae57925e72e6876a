// Score-CAM (Wang et al. 2020): where the network looked, from forward passes only, so every
// precision the engine runs (fp32, bf16, int8) gets a heat map of its own. For the image x (the
// normalised [1,3,S,S] input), the layer's output A ([C,h,w]) and the class K:
//   1. Each channel's map A_k is upsampled to S×S (bilinear with half-pixel centres: cv::resize
//      INTER_LINEAR, PyTorch's interpolate(mode="bilinear", align_corners=False)) and min–max
//      normalised to [0, 1]: M_k = (U_k − min U_k) / (max U_k − min U_k). A channel whose
//      upsampled map is constant (an all-zero channel, say) masks nothing: its weight is 0 and
//      it is not run.
//   2. The network runs x ⊙ M_k (every colour plane times the mask, in normalised space), in
//      batches; the weight w_k = softmax(logits(x ⊙ M_k))[K].
//   3. map = ReLU(Σ_k w_k A_k), at the layer's resolution ([1,h,w], like cam and gradcam;
//      heatValues() in core/attribution.h upsamples it for showing).
// Cost: one forward pass for A, then one per channel that is not constant (512 at layer4), in
// batches of EngineOptions::batch.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/engine/ablation.h"
#include "core/engine/engine.h"
#include "core/model/model.h"
#include "core/progress.h"
#include "core/tensor.h"

namespace r18 {

struct ScoreCamOptions {
    std::string layer = "layer4";  // a stage (its last block) or any tap with a [C,h,w] output
    int64_t classIndex = -1;       // -1: the image's top-1 class at this precision
    std::vector<ChannelAblation> ablations;  // switched off in every pass (core/engine/ablation.h)
    // Only these channels are run (the others weigh 0): a quicker, partial map, e.g. of the
    // channels most active for this image. Empty: every channel.
    std::vector<int> channels;
};

struct ScoreCamResult {
    std::string layer;  // the node used, e.g. "layer4.1"
    int64_t classIndex = 0;
    Tensor map;                  // [1,h,w], ≥ 0, not normalised
    std::vector<float> weights;  // per channel: w_k (0 for a constant map)
    Tensor logits;               // [1, classes] of the image at this precision
    float logit = 0.0F;          // logits[classIndex]
    int passes = 0;              // masked inputs run
    double ms = 0.0;             // wall time
};

class ScoreCam {
public:
    // Compiles an engine for `options` (precision, threads, calibration for int8; batch: the
    // masked inputs per run, e.g. 8). Throws EngineError or WeightsError.
    ScoreCam(std::shared_ptr<const Model> model, const EngineOptions& options);
    ~ScoreCam();
    ScoreCam(const ScoreCam&) = delete;
    ScoreCam& operator=(const ScoreCam&) = delete;

    const EngineOptions& options() const;

    // "layer3" -> "layer3.1" (a stage's last block); a tap with a spatial output as it is.
    // Throws EngineError for anything else, listing what is accepted.
    std::string resolveLayer(const std::string& layer) const;

    // The map for `input` ([1,3,S,S], Model::prepare()). Returns nullopt if `progress` (called
    // after each batch with the masked inputs run so far out of those to run) asked to stop. Throws
    // EngineError for a bad layer or class. Not thread-safe (it owns an Engine).
    std::optional<ScoreCamResult> compute(const Tensor& input, const ScoreCamOptions& options,
                                          const ProgressFn& progress = {});

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

}  // namespace r18
