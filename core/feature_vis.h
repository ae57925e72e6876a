// Feature visualisation: the input image that maximises one channel (or one class logit),
// synthesised by gradient ascent on the input — the approach of Lucid (Olah et al., "Feature
// Visualization", Distill 2017) and the DeepVis toolbox (Yosinski et al. 2015).
//
// Parametrisation: the image is not optimised pixel by pixel. Per colour channel it is the real
// part of an orthonormal inverse 2-D DFT of a complex spectrum whose frequency f (cycles per
// pixel) is scaled by 1 / max(|f|, 1/S), divided by 4; the three channels are then mixed by the
// square root of ImageNet's colour correlation (Lucid's matrix, normalised) and squashed by a
// sigmoid into [0, 1] RGB, which the model's normalisation turns into the network's input. The
// 1/f scaling makes every frequency equally easy to change, so the ascent does not fill the
// image with the high-frequency noise that fools the network; the colour mixing keeps colours
// natural.
//
// Robustness: every step the network sees a randomly transformed copy — rotated by up to
// ±rotateDegrees, scaled by 1 ± scaleRange, shifted by up to ±jitter pixels, resampled
// bilinearly with wrap-around (the Fourier image is periodic) — so only patterns that survive
// small transformations grow. The gradient goes back through the exact adjoint of that warp.
//
// Objective: the mean over positions of the channel's activation as tapped (after its ReLU), or
// the class's logit for "fc"; while the whole channel is zero, the mean before the ReLU, so the
// ascent cannot stall. Adam (β1 0.9, β2 0.999) ascends on the spectrum. Everything random comes
// from SplitMix64(seed).
//
// Cost per step: one forward pass and a backward pass from the layer down to the input.
#pragma once

#include <opencv2/core.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/engine/ablation.h"
#include "core/model/model.h"
#include "core/progress.h"
#include "core/tensor.h"

namespace r18 {

struct VisualizeOptions {
    std::string layer = "layer3.1";  // a tap (NetworkSpec::tapNames(), not input), or "fc"
    int64_t channel = 0;             // the channel, or the class for "fc"
    int steps = 128;
    uint64_t seed = 0;
    float learningRate = 0.2F;   // × 128 steps: the ascent budget of Lucid's 0.05 × 512
    int jitter = 4;              // pixels
    float scaleRange = 0.05F;    // ± fraction
    float rotateDegrees = 5.0F;  // ±
    bool useCache = true;        // read and write the result under cacheDir
    std::string cacheDir;        // empty: defaultVisualizationCacheDir()
    // Channels switched off in every pass (core/engine/ablation.h; part of the cache key).
    std::vector<ChannelAblation> ablations;
};

struct Visualization {
    Tensor input;  // [1,3,S,S], normalised input space: what the network is given
    cv::Mat rgb;   // S×S 8-bit RGB (CV_8UC3), the picture
    // Mean of the channel's activation (as tapped: after its ReLU; the logit for fc) over
    // positions on `input` itself, untransformed.
    float activation = 0.0F;
    std::vector<float> objective;  // per step, on that step's transformed copy (empty if cached)
    bool fromCache = false;
    double ms = 0.0;
};

// $XDG_CACHE_HOME/resnet18-explorer/visualizations, or ~/.cache/resnet18-explorer/visualizations.
std::string defaultVisualizationCacheDir();

class FeatureVisualizer {
public:
    // Compiles an fp32 engine for the model with `threads` OpenMP threads (0: all cores).
    explicit FeatureVisualizer(std::shared_ptr<const Model> model, int threads = 0);
    ~FeatureVisualizer();
    FeatureVisualizer(const FeatureVisualizer&) = delete;
    FeatureVisualizer& operator=(const FeatureVisualizer&) = delete;

    // Progress counts steps; returns nullopt if it asked to stop (nothing cached then). Throws
    // EngineError for an unknown layer, a channel out of range or steps < 1. Not thread-safe.
    std::optional<Visualization> visualize(const VisualizeOptions& options,
                                           const ProgressFn& progress = {});

    // The mean activation of `layer`'s `channel` on a prepared input, as Visualization reports it
    // (with `ablations`' channels switched off).
    float channelMean(const Tensor& input, const std::string& layer, int64_t channel,
                      const std::vector<ChannelAblation>& ablations = {});

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

}  // namespace r18
