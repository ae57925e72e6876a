// Where the network looked: class activation maps.
//
// classActivationMap() is CAM (Zhou et al. 2016): Σ_c w_fc[class, c] · A_c over the last block's
// output, through a ReLU. gradCam is Grad-CAM (Selvaraju et al. 2017) at any block output: the
// class's logit is backpropagated through the later blocks (Backprop: ReLU masks from the forward
// taps, oneDNN backward-data convolutions with the batch-norm-folded weights, the residual sums
// split and joined), α_c is the gradient's mean over the map and the heat map is ReLU(Σ_c α_c ·
// A_c). For ResNet, Grad-CAM at the last block equals CAM divided by H·W: the average pool spreads
// w_fc[class, c] / (H·W) over every position.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/engine/backprop.h"
#include "core/model/network_spec.h"
#include "core/model/weights.h"
#include "core/tensor.h"

namespace r18 {

struct Heatmap {
    std::string target;  // block output it was computed at, e.g. "layer3.1"
    int64_t classIndex = 0;
    int64_t height = 0;
    int64_t width = 0;
    std::vector<float> values;  // row-major height × width, ≥ 0, not normalised
    float maxValue() const;
};

// CAM from the last block's output (`lastBlock` [1,C,H,W]). Throws EngineError on a bad class.
Heatmap classActivationMap(const NetworkSpec& spec, const WeightSet& weights,
                           const Tensor& lastBlock, int64_t classIndex);

class GradCam {
public:
    GradCam(const NetworkSpec& spec, const WeightSet& weights);
    ~GradCam();
    GradCam(const GradCam&) = delete;
    GradCam& operator=(const GradCam&) = delete;

    // "layer3" (a stage: its last block) or "layer3.0" (a block) -> the block output's node
    // name. Throws EngineError for anything else, listing what is accepted.
    std::string resolveTarget(const std::string& target) const;
    // The forward taps compute() needs: the target and, for every later block, its output and
    // its conv1 output (the ReLU masks).
    std::vector<std::string> neededTaps(const std::string& target) const;
    // d logit[class] / d target output, [1,C,H,W]. `taps` from Engine::run(x, neededTaps(..)),
    // batch 1, with the channels `ablations` switches off (the same ones here, so no gradient
    // crosses them). Not thread-safe (oneDNN primitives), like Engine.
    Tensor gradient(const std::map<std::string, Tensor>& taps, const std::string& target,
                    int64_t classIndex, const std::vector<ChannelAblation>& ablations = {});
    Heatmap compute(const std::map<std::string, Tensor>& taps, const std::string& target,
                    int64_t classIndex, const std::vector<ChannelAblation>& ablations = {});

    // Its batch-1 backward pass, for callers that need gradients elsewhere too (one copy of the
    // backward weights instead of two).
    Backprop& backprop();

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

}  // namespace r18
