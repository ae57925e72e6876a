// Backprop: gradients through the network, from any node's output down to any earlier node or
// the input image. The shared backward pass of Grad-CAM, the input attributions (gradient,
// guided backprop, integrated gradients, SmoothGrad) and feature visualisation.
//
// It reads the forward pass instead of recomputing it: the caller runs the Engine with
// neededTaps() and hands the taps in. Every ReLU's mask comes from its tapped output (y > 0 is
// exactly x > 0); the max-pool's gradient goes to the maximum of each window, found in its tapped
// input (a tie can only be between zeros, whose ReLU then blocks the gradient anyway). A residual
// add passes its gradient to both inputs; the average pool spreads it evenly; fc multiplies by
// its weight matrix. Convolutions use the batch-norm-folded weights; a stride-1 convolution's
// input gradient is computed as the forward convolution it is (weights flipped and transposed),
// on the forward kernels and the same Winograd/direct table as the Engine, others by oneDNN's
// backward-data kernels.
//
// Compiled like the Engine: each (from, to, rule) pass becomes, on first use, a flat list of
// oneDNN primitives with every buffer allocated once, gradients kept in the CPU's blocked layout
// from the seed to the result; later calls only execute it. Same input, same bytes.
//
// Batched: constructed for a batch size B, it takes taps and seeds of B images and backpropagates
// them in one pass. Not thread-safe (oneDNN primitives, built on first use): use it on one
// thread, like Engine.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/engine/ablation.h"
#include "core/engine/engine.h"
#include "core/model/network_spec.h"
#include "core/model/weights.h"
#include "core/tensor.h"

namespace r18 {

// How the backward pass crosses a ReLU whose forward output was y.
enum class ReluRule {
    Gradient,  // g · [y > 0]: the true gradient
    Guided,    // g · [y > 0] · [g > 0]: guided backpropagation (Springenberg et al. 2015)
};

struct BackwardRequest {
    std::string from = "fc";   // the node whose output the seed is the gradient of
    Tensor seed;               // dL/d output(from): [B, classes] for fc, [B,C] for avgpool,
                               // [B,C,H,W] otherwise (the output as tapped: after its ReLU)
    std::string to = "input";  // return dL/d output(to); must be an ancestor of `from`
    ReluRule rule = ReluRule::Gradient;
    // The seed is the gradient of `from`'s output before its own ReLU: that ReLU is skipped
    // (feature visualisation maximises pre-activations, which are never stuck at zero).
    bool seedBeforeRelu = false;
    // Channels switched off in the forward pass that made the taps (core/engine/ablation.h):
    // no gradient crosses them. At `to` they give the gradient with respect to its value
    // before they were switched off (with `to` = "input": the image as given).
    std::vector<ChannelAblation> ablations;
};

class Backprop {
public:
    // Throws WeightsError if the weights do not fit the spec, EngineError for batch < 1.
    // `algorithm`: how stride-1 convolutions are computed (as for EngineOptions). Winograd's
    // transforms leave rounding residues (~1e-7 of the largest value) where the exact gradient
    // is zero; Direct gives exact zeros there.
    Backprop(const NetworkSpec& spec, const WeightSet& weights, int batch = 1,
             ConvAlgorithm algorithm = defaultConvAlgorithm());
    ~Backprop();
    Backprop(const Backprop&) = delete;
    Backprop& operator=(const Backprop&) = delete;

    int batch() const;
    const NetworkSpec& spec() const;

    // The forward taps backward() reads for a pass from `from` down to `to`: the output of every
    // ReLU in between (and of `from` unless seedBeforeRelu), and the max-pool's input. Throws
    // EngineError for unknown nodes or a `to` that is not an ancestor of `from`.
    std::vector<std::string> neededTaps(const std::string& from, const std::string& to = "input",
                                        bool seedBeforeRelu = false) const;

    // dL/d output(to), [B, ...to's shape]. `taps` come from Engine::run() with neededTaps(),
    // at this batch size. Throws EngineError for a missing tap or a seed of the wrong shape.
    Tensor backward(const std::map<std::string, Tensor>& taps, const BackwardRequest& request);

    // A one-hot seed for fc: 1 at `classIndex` in every image of the batch. Throws EngineError
    // for a class the model does not have.
    Tensor classSeed(int64_t classIndex) const;
    // A seed for the mean of one channel of `node`'s output over its positions (1 / (H·W) at
    // that channel, in every image). Throws EngineError for a bad node or channel.
    Tensor channelMeanSeed(const std::string& node, int64_t channel) const;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

}  // namespace r18
