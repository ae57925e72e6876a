// The window's insight work, run on JobThreads (never the GUI thread): attribution maps with
// their faithfulness curves, a folder's channel atlas, the top-9 receptive-field patches of a
// channel, and feature visualisations. Each function calls core and turns its answer into
// values the views paint (QImages, curves); the Session decides what is shown.
#pragma once

#include <QImage>
#include <QString>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/attribution.h"
#include "core/channel_atlas.h"
#include "core/feature_vis.h"
#include "core/model/model.h"
#include "core/model/predictions.h"
#include "core/pipeline.h"
#include "core/progress.h"
#include "core/tap_stats.h"
#include "core/tensor.h"

namespace r18::ui {

// What the "Where it looked" panel asks for. classIndex kTopClass (-1) follows the image's
// top-1; the Session resolves it before asking.
struct ExplainSettings {
    AttributionMethod method = AttributionMethod::GradCam;
    int64_t classIndex = -1;
    std::string layer = "layer4";  // gradcam
    int steps = 32;                // integrated-gradients
    int samples = 25;              // smoothgrad
    float noise = 0.15F;
    uint64_t seed = 0;
    int faithfulnessSteps = 32;
    bool operator==(const ExplainSettings& o) const {
        return method == o.method && classIndex == o.classIndex && layer == o.layer &&
               steps == o.steps && samples == o.samples && noise == o.noise && seed == o.seed &&
               faithfulnessSteps == o.faithfulnessSteps;
    }
    bool operator!=(const ExplainSettings& o) const { return !(*this == o); }
};

// One map with its faithfulness, for one image (sourceId) and engine (engineId).
struct Explanation {
    uint64_t sourceId = 0;
    uint64_t engineId = 0;
    ExplainSettings settings;  // class resolved
    Attribution attribution;
    Faithfulness faithfulness;
    QImage crop;       // the S×S crop the network sees (the input tensor, denormalised)
    QImage heat;       // heatValues() through the colour map, alpha rising with the value
    QImage signedRgb;  // input-space methods: signedRgb(); null for cam and gradcam
};
using ExplanationPtr = std::shared_ptr<const Explanation>;

// The input tensor [1,3,S,S] back in 8-bit RGB, as the network sees it.
QImage cropImage(const Tensor& input, const PreprocessOptions& preprocess);

// Job-thread state for attributions: an Explainer for the current model, rebuilt when the
// model or thread count changes. Use from one thread only.
class ExplainRunner {
public:
    ExplainRunner();
    ~ExplainRunner();
    // The map and its deletion/insertion curves for `input`; nullopt if `progress` stopped it.
    // Progress runs 0…1000: the map first, then the curves. Throws Error.
    std::optional<Explanation> run(const std::shared_ptr<const Model>& model, int threads,
                                   const Tensor& input, const ExplainSettings& settings,
                                   const ProgressFn& progress);

private:
    std::shared_ptr<const Model> m_model;
    int m_threads = 0;
    std::unique_ptr<Explainer> m_explainer;
};

// Job-thread state for feature visualisation, like ExplainRunner.
class VisualizeRunner {
public:
    VisualizeRunner();
    ~VisualizeRunner();
    std::optional<Visualization> run(const std::shared_ptr<const Model>& model, int threads,
                                     const VisualizeOptions& options, const ProgressFn& progress);

private:
    std::shared_ptr<const Model> m_model;
    int m_threads = 0;
    std::unique_ptr<FeatureVisualizer> m_visualizer;
};

// One of a channel's top images: its receptive-field crop and where it came from.
struct ChannelPatch {
    QImage image;  // the receptive field's pixels of the S×S crop; null if the file went away
    QString file;
    float value = 0.0F;
    PixelBox box;
};

// The top images of `layer`'s `channel` as their receptive-field crops (decoding each file with
// the model's preprocessing). Files that can no longer be read give a null image.
std::vector<ChannelPatch> channelPatches(const ChannelAtlas& atlas, const std::string& layer,
                                         int64_t channel, const Model& model);

// A/B: one image through fp32 and int8 engines of the same model, one node compared.
struct Comparison {
    uint64_t sourceId = 0;
    std::string node;
    int calibrationImages = 0;  // int8 calibrated on this many images (the recent ones)
    std::vector<Prediction> topFp32;
    std::vector<Prediction> topInt8;
    Tensor fp32;        // the node's output at fp32 ([1,C,H,W] or [1,C])
    Tensor difference;  // |int8 − fp32|, same shape
    TapStats differenceStats;
    double maxAbsDifference = 0.0;
    double maxAbsFp32 = 0.0;
    double meanAbsDifference = 0.0;
};
using ComparisonPtr = std::shared_ptr<const Comparison>;

// Job-thread state for A/B: an fp32 pipeline per model and an int8 one per calibration set.
class CompareRunner {
public:
    CompareRunner();
    ~CompareRunner();
    // `calibration` are the prepared inputs the int8 engine calibrates on (the window's recent
    // images); the int8 engine is rebuilt only when they change. Throws Error.
    Comparison run(const std::shared_ptr<const Model>& model, int threads,
                   const std::vector<std::shared_ptr<const Tensor>>& calibration,
                   const Tensor& input, const std::string& node);

private:
    std::shared_ptr<const Model> m_model;
    int m_threads = 0;
    std::unique_ptr<Pipeline> m_fp32;
    std::unique_ptr<Pipeline> m_int8;
    std::vector<const Tensor*> m_calibratedOn;
};

// |b − a| element by element (same shapes).
Tensor absoluteDifference(const Tensor& a, const Tensor& b);

QImage rgbImage(const cv::Mat& rgb8);  // an 8-bit RGB matrix as a QImage (deep copy)

}  // namespace r18::ui
