// Figures of one tap (a node's output for one image), computed once per result and read by
// every view: per-channel min, mean and max, the layer's range, the fraction of zeros (dead
// ReLUs) and the channels ordered by mean activation.
#pragma once

#include <vector>

#include "core/tensor.h"

namespace r18 {

struct ChannelStats {
    float min = 0.0F;
    float mean = 0.0F;
    float max = 0.0F;
};

struct TapStats {
    std::vector<ChannelStats> channels;
    float min = 0.0F;  // over the whole layer
    float max = 0.0F;
    float mean = 0.0F;
    float zeroFraction = 0.0F;  // share of exact zeros
    std::vector<int> byMean;    // channel indices, highest mean first (ties: lower index first)
};

// `tap` is [1,C,H,W] or [1,C] (a 1×1 map per channel); only the first image of a batch is read.
TapStats computeTapStats(const Tensor& tap);

}  // namespace r18
