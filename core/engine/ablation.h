// Interventions: channels switched off ("ablated"). A node's output is exactly zero in the
// switched-off channels — what that node's tap shows — and everything after it is computed from
// that output: later taps, the logits, the heat maps. Any tappable node can be ablated
// (NetworkSpec::tapNames(): the input's colour planes, the stem, a block's inner conv, a
// projection, a block output after its add and ReLU, the average pool, the logits).
//
// The engine applies them without recompiling (core/engine/engine.h, EngineRun::ablations); the
// backward pass honours them (core/engine/backprop.h, BackwardRequest::ablations).
#pragma once

#include <string>
#include <vector>

#include "core/model/network_spec.h"

namespace r18 {

struct ChannelAblation {
    std::string node;           // a tap name, e.g. "layer3.1"
    std::vector<int> channels;  // switched off, each in [0, C)
    int image = -1;             // the image of the batch it applies to; -1: every image
    bool operator==(const ChannelAblation& o) const {
        return node == o.node && channels == o.channels && image == o.image;
    }
    bool operator!=(const ChannelAblation& o) const { return !(*this == o); }
};

// "NODE:C1,C2,…" with ranges allowed ("layer3.1:0,5,17", "layer2.0.conv1:0-63,100"): channels
// sorted, duplicates dropped, every image. Throws EngineError with a finished sentence for an
// unknown or untappable node (listing the valid ones), a channel out of range or bad syntax.
ChannelAblation parseAblation(const std::string& text, const NetworkSpec& spec);

// The same checks for ablations built in code, at a batch of `batch` images. Throws EngineError.
void checkAblations(const NetworkSpec& spec, const std::vector<ChannelAblation>& ablations,
                    int batch);

// "layer3.1:0,5,17" (runs of three or more as ranges: "layer3.1:0-63,100"); parseAblation()
// reads it back.
std::string ablationText(const ChannelAblation& ablation);

// For status lines: "layer3.1: 3 of 256 channels off; fc: 1 of 1000 channels off".
std::string describeAblations(const NetworkSpec& spec,
                              const std::vector<ChannelAblation>& ablations);

}  // namespace r18
