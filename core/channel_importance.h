// Channel importance for a class: for one node and class K, each channel's effect on K's logit
// when it alone is switched off (core/engine/ablation.h):
//   delta_c = logit_K(channel c of the node off) − logit_K(every channel on)
// A negative delta means the channel supported K; a channel that was already zero everywhere has
// delta 0 exactly.
//
// Only what changes runs: one full pass of the image caches the node's output (and whatever later
// nodes read from before it, Engine::resumeTaps()), then the network runs from the node onwards
// (Engine::runFrom()), a batch of channels at a time — for a node in layer4, the rest of layer4
// and the head. Both sides of each delta come from the same batched engine, image slot for image
// slot, so they differ only by the channel switched off.
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

struct ChannelImportanceOptions {
    std::string node;         // any tappable node but the input, e.g. "layer4.1", "layer3.0.conv1"
    int64_t classIndex = -1;  // -1: the image's top-1 at this precision
    // Channels switched off throughout, at any node (e.g. what the window has switched off);
    // the importance is then that of each further channel.
    std::vector<ChannelAblation> ablations;
};

struct ChannelImportanceResult {
    std::string node;
    int64_t classIndex = 0;
    float logit = 0.0F;         // K's logit with every channel of the node on
    std::vector<float> logits;  // per channel c: K's logit with c alone off
    std::vector<float> deltas;  // per channel: logits[c] − that slot's logit with every channel on
    std::vector<int> ranked;    // channels, most negative delta first (ties: lower index first)
    int runs = 0;               // batched runs from the node
    double ms = 0.0;            // wall time, the full pass included
};

class ChannelImportance {
public:
    // Compiles a batch-1 engine and a batch-`options.batch` engine (the channels per run, e.g.
    // 16) for the model at `options` (precision, threads, calibration for int8). Throws
    // EngineError or WeightsError.
    ChannelImportance(std::shared_ptr<const Model> model, const EngineOptions& options);
    ~ChannelImportance();
    ChannelImportance(const ChannelImportance&) = delete;
    ChannelImportance& operator=(const ChannelImportance&) = delete;

    const EngineOptions& options() const;

    // `input` is [1,3,S,S] (Model::prepare()). Returns nullopt if `progress` (called after each
    // batch with the channels done out of C) asked to stop. Throws EngineError for a bad node,
    // class or ablation. Not thread-safe (it owns engines).
    std::optional<ChannelImportanceResult> compute(const Tensor& input,
                                                   const ChannelImportanceOptions& options,
                                                   const ProgressFn& progress = {});

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

}  // namespace r18
