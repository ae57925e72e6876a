// Figures of one tap (a node's output for one image), computed once per result and read by
// every view and verb: per-channel min, mean and max, the layer's min, mean, standard deviation
// and max, the fraction of zeros (dead ReLUs), a histogram and the channels ordered by mean
// activation. And how two taps differ: two images at one node (A/B), or another precision
// against fp32 at one node.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/model/network_spec.h"
#include "core/tensor.h"

namespace r18 {

struct ChannelStats {
    float min = 0.0F;
    float mean = 0.0F;
    float max = 0.0F;
};

// Values counted in equal bins over [lo, hi]: bin i holds lo + i·w <= v < lo + (i+1)·w with
// w = (hi − lo) / bins, the last bin also holds hi (torch.histc's rule). With lo == hi every
// value is in bin 0.
struct Histogram {
    float lo = 0.0F;
    float hi = 0.0F;
    std::vector<int64_t> counts;
};

constexpr int kHistogramBins = 64;

struct TapStats {
    std::vector<ChannelStats> channels;
    float min = 0.0F;  // over the whole layer
    float max = 0.0F;
    float mean = 0.0F;
    float std = 0.0F;           // population standard deviation (divided by N, not N − 1)
    float zeroFraction = 0.0F;  // share of exact zeros
    std::vector<int> byMean;    // channel indices, highest mean first (ties: lower index first)
    Histogram histogram;        // kHistogramBins bins over [min, max]
};

// `tap` is [1,C,H,W] or [1,C] (a 1×1 map per channel); only the first image of a batch is read.
TapStats computeTapStats(const Tensor& tap);

// How `other` differs from `reference` (same shape; every element is compared, whatever the
// batch):
struct TapDifference {
    double maxAbsDiff = 0.0;     // max |other − reference|
    double maxAbsRef = 0.0;      // max |reference|
    double relativeError = 0.0;  // maxAbsDiff / maxAbsRef; 0 if both are all zero, 1 if
                                 // only the reference is
    // reference·other / (|reference| |other|): 1 for the same direction; 1 if both are all
    // zero (they are identical), 0 if only one of them is.
    double cosine = 1.0;
};

// Throws EngineError if the shapes differ.
TapDifference compareTaps(const Tensor& reference, const Tensor& other);

// One node's figures from a run that tapped every node (NetworkSpec::tapNames()).
struct NodeStats {
    std::string node;
    std::vector<int64_t> shape;  // per image: {C,H,W}, or {C} for avgpool and fc
    TapStats stats;
    bool hasReference = false;  // vsReference is filled
    TapDifference vsReference;  // against the same node of a reference run (e.g. fp32)
};

// Every tappable node of `spec` that `taps` holds, in network order. With `reference` (the taps
// of the same input at fp32, say) each node is also compared with it. Throws EngineError when a
// reference tap's shape differs.
std::vector<NodeStats> statsOfEveryNode(const NetworkSpec& spec,
                                        const std::map<std::string, Tensor>& taps,
                                        const std::map<std::string, Tensor>* reference = nullptr);

// Two inputs at every node both runs tapped, in network order: how B's activations differ from
// A's (cosine similarity, max |B − A|).
struct NodeComparison {
    std::string node;
    TapDifference difference;
};
std::vector<NodeComparison> compareEveryNode(const NetworkSpec& spec,
                                             const std::map<std::string, Tensor>& a,
                                             const std::map<std::string, Tensor>& b);

}  // namespace r18
