// Which pixels drove the decision: attribution maps for one image and one class, and how
// faithful a map is.
//
// Methods (K is the class, f = logit K, the raw fc output; x is the preprocessed input, the
// normalised [1,3,S,S] tensor the network sees):
//   cam                   Σ_c w_fc[K,c]·A_c at the last block (core/engine/gradcam.h)
//   gradcam               Grad-CAM at --layer (a stage or block output)
//   gradient              ∂f/∂x (vanilla saliency, Simonyan et al. 2014)
//   guided-backprop       ∂f/∂x with every ReLU — the stem's, each block's inner one and the one
//                         after each residual add — passing the gradient back only where its
//                         forward input was > 0 and the incoming gradient is > 0
//   integrated-gradients  x ⊙ (1/N) Σ_{k=0}^{N−1} ∇f(((k+0.5)/N)·x): zero baseline (in normalised
//                         space, i.e. the dataset's mean colour), midpoint rule, N = steps;
//                         completeness gap Σ IG − (f(x) − f(0)) reported
//   smoothgrad            (1/N) Σ ∇f(x + ε_i), ε_i ~ N(0, (σ·(max x − min x))²) per element,
//                         N = samples, σ = noise; ε_i is σ·(max x − min x) times elements
//                         [i·3S², (i+1)·3S²) of gaussianNoise(seed) (core/noise.h), so another
//                         program can draw the very same noise
//   scorecam              Score-CAM at --layer from forward passes only (core/score_cam.h);
//                         the Explainer runs it at fp32, ScoreCam itself at any precision
// Input-space maps are [1,3,S,S] in normalised input space; cam, gradcam and scorecam are
// [1,h,w] at the layer's resolution, before any upsampling.
//
// Faithfulness (deletion and insertion, Petsiuk et al. 2018, "RISE"), as computed here:
//   1. A map becomes one score per input pixel: input-space maps |a| maxed over the colour
//      channels; cam/gradcam maps upsampled bilinearly to S×S (cv::resize, INTER_LINEAR).
//   2. Pixels are ranked by score, highest first (ties: row-major order).
//   3. For k = 0 … steps, the first round(k·S²/steps) ranked pixels are changed, all three
//      channels at once. "Removed" means 0 in normalised space — the ImageNet mean colour.
//      Deletion starts from x and removes; insertion starts from the all-removed image and
//      puts x's pixels back.
//   4. Each curve is softmax(logits)[K] at the steps+1 images; its area is the trapezoid rule
//      over the fraction of pixels changed, in [0, 1]. A faithful map has a low deletion area
//      and a high insertion area.
//
// Cost: gradient and guided-backprop one forward and one backward pass; integrated-gradients
// N + 2 forward and N backward passes; smoothgrad N + 1 forward and N backward; faithfulness
// 2·(steps+1) forward passes. Passes run in batches (`batch`, default 4: on AVX2 a batch of 4
// halves the backward pass's time per image).
#pragma once

#include <opencv2/core.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/engine/ablation.h"
#include "core/engine/engine.h"
#include "core/model/model.h"
#include "core/noise.h"
#include "core/progress.h"
#include "core/tensor.h"

namespace r18 {

enum class AttributionMethod {
    Cam,
    GradCam,
    Gradient,
    GuidedBackprop,
    IntegratedGradients,
    SmoothGrad,
    ScoreCam,
};

// "cam", "gradcam", "gradient", "guided-backprop", "integrated-gradients", "smoothgrad",
// "scorecam".
const char* methodName(AttributionMethod method);
std::optional<AttributionMethod> parseMethod(const std::string& name);
const std::vector<AttributionMethod>& allMethods();
// True for the methods whose map lives in input space ([1,3,S,S]).
bool inInputSpace(AttributionMethod method);

struct AttributionOptions {
    AttributionMethod method = AttributionMethod::Gradient;
    int64_t classIndex = -1;       // -1: the image's top-1 class
    std::string layer = "layer4";  // cam (must be the last block), gradcam and scorecam
    int steps = 32;                // integrated-gradients
    int samples = 25;              // smoothgrad
    float noise = 0.15F;           // smoothgrad: σ as a fraction of (max x − min x)
    uint64_t seed = 0;             // smoothgrad
    // Channels switched off in every forward and backward pass (core/engine/ablation.h).
    std::vector<ChannelAblation> ablations;
};

struct Attribution {
    AttributionMethod method = AttributionMethod::Gradient;
    int64_t classIndex = 0;
    std::string layer;   // cam/gradcam: the block output used, e.g. "layer4.1"
    Tensor map;          // [1,3,S,S] (input-space methods) or [1,h,w] (cam, gradcam, scorecam)
    Tensor logits;       // [1, classes] of the image
    float logit = 0.0F;  // f(x)
    // integrated-gradients only
    float baselineLogit = 0.0F;    // f(0)
    double attributionSum = 0.0;   // Σ map
    double completenessGap = 0.0;  // Σ map − (f(x) − f(0))
    int backwardPasses = 0;        // images backpropagated
    int maskedPasses = 0;          // scorecam: masked images run
    double ms = 0.0;               // wall time
};

struct Faithfulness {
    std::vector<float> deletion;   // steps+1 probabilities of the class, from 0 % removed
    std::vector<float> insertion;  // steps+1 probabilities, from 0 % inserted
    double deletionArea = 0.0;     // lower is better
    double insertionArea = 0.0;    // higher is better
    double ms = 0.0;
};

// One score per input pixel, [S,S] row-major: |a| maxed over colour channels for input-space
// maps, bilinear upsampling for [1,h,w] maps. What the heat map shows and faithfulness ranks.
Tensor pixelScores(const Tensor& map, int64_t inputSize);

// The heat map shown for a map: pixelScores() scaled to [0, 1] — input-space maps by their 99th
// percentile (a few extreme gradients would otherwise leave the rest black), cam/gradcam by
// their maximum — and clipped. [S,S] row-major.
Tensor heatValues(const Tensor& map, int64_t inputSize);

// An input-space map ([1,3,S,S]) as signed RGB: each colour channel 128 + 127·a/m, m the 99th
// percentile of |a| over the map, clipped: grey where nothing matters, brighter where raising
// that colour raises the class, darker where lowering it does. S×S CV_8UC3, RGB order.
cv::Mat signedRgb(const Tensor& map);

// Trapezoid-rule area under `curve` sampled evenly on [0, 1].
double curveArea(const std::vector<float>& curve);

// Masked images per run of the Explainer's Score-CAM (and the window's, at any precision).
constexpr int kScoreCamBatch = 8;

class Explainer {
public:
    // Compiles fp32 engines for the model (batch 1 now, `batch` on first use by a method that
    // needs many passes) with `threads` OpenMP threads (0: all cores). Throws EngineError.
    Explainer(std::shared_ptr<const Model> model, int threads = 0, int batch = 4);
    ~Explainer();
    Explainer(const Explainer&) = delete;
    Explainer& operator=(const Explainer&) = delete;

    const Model& model() const;

    // Score-CAM needs forward passes only, so it runs at any precision: from now on with
    // `options` (precision, threads, int8 calibration, batch). By default fp32 with the
    // Explainer's threads and batch kScoreCamBatch. Compiles at once; throws EngineError.
    void setScoreCamEngine(const EngineOptions& options);

    // The map for `input` ([1,3,S,S], Model::prepare()). Returns nullopt if `progress` asked to
    // stop. Throws EngineError for a bad class, layer, steps or samples count.
    std::optional<Attribution> explain(const Tensor& input, const AttributionOptions& options,
                                       const ProgressFn& progress = {});

    // Deletion and insertion curves for `map` (an Attribution's) and class `classIndex`, with
    // `steps` steps (≥ 1), with the channels `ablations` switches off in every pass. Returns
    // nullopt if `progress` asked to stop.
    std::optional<Faithfulness> faithfulness(const Tensor& input, const Tensor& map,
                                             int64_t classIndex, int steps = 32,
                                             const ProgressFn& progress = {},
                                             const std::vector<ChannelAblation>& ablations = {});

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

}  // namespace r18
