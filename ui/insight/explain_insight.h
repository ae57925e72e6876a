// ExplainInsight: "where it looked" — attribution maps (core's Explainer: CAM, Grad-CAM,
// gradient, guided backprop, integrated gradients, SmoothGrad) with their deletion and insertion
// curves, on a thread of their own. While wanted (the panel is open), the map the settings ask
// for is computed for every still image or frozen frame shown, in fp32 from the tensor its
// result ran on (Score-CAM at the engine's precision); a newer request stops an older one. The maps
// of every method computed for the image, engine and class on screen are kept, to compare them.
#pragma once

#include <QImage>
#include <QString>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/attribution.h"
#include "core/media/preprocess.h"
#include "core/model/model.h"
#include "core/progress.h"
#include "core/tensor.h"
#include "ui/insight/insight.h"

namespace r18::ui {

// What the "Where it looked" panel asks for. classIndex kTopClass (-1) follows the image's
// top-1; resolvedSettings() resolves it.
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

// Grad-CAM and Score-CAM are computed at a chosen stage or block; the others at layer4 or the
// input.
bool hasLayer(AttributionMethod method);

// The input tensor [1,3,S,S] back in 8-bit RGB, as the network sees it.
QImage cropImage(const Tensor& input, const PreprocessOptions& preprocess);

// Job-thread state for attributions: an Explainer for the engine's model and threads, rebuilt
// when they change. The gradient methods run in fp32; Score-CAM runs at the engine's precision
// (int8 calibrated on the engine's calibration images, as the window's engine is), so int8 and
// bf16 have a map of their own. The curves are measured in fp32. Use from one thread only.
class ExplainRunner {
public:
    ExplainRunner();
    ~ExplainRunner();
    // The map and its deletion/insertion curves for `input`; nullopt if `progress` stopped it.
    // Progress runs 0…1000: the map first, then the curves; both with `ablations`' channels
    // switched off. Throws Error.
    std::optional<Explanation> run(const EngineInfo& engine, const Tensor& input,
                                   const ExplainSettings& settings, const ProgressFn& progress,
                                   const std::vector<ChannelAblation>& ablations = {});

private:
    std::shared_ptr<const Model> m_model;
    int m_threads = 0;
    std::unique_ptr<Explainer> m_explainer;
    SameEngine m_scoreCamEngine;  // what the Explainer's Score-CAM was compiled for
};

class ExplainInsight : public Insight {
    Q_OBJECT

public:
    explicit ExplainInsight(Session* session, QObject* parent = nullptr);

    // Maps are computed only while wanted (the panel is open); unwanted stops the running one.
    void setWanted(bool wanted);
    void setSettings(const ExplainSettings& settings);
    const ExplainSettings& settings() const { return m_settings; }
    // The settings with the class resolved (kTopClass -> the shown top-1).
    ExplainSettings resolvedSettings() const;

    // The map the settings ask for, for the image and engine on screen, or null.
    ExplanationPtr explanation() const;
    // Every method computed so far for the image, engine and class on screen, in method order.
    std::vector<ExplanationPtr> shownExplanations() const;
    // Why no map is being computed, or "" (no image, a live source, the engine changing).
    QString blocked() const;
    // Asks again for the map the settings ask for, after cancel().
    void compute();

private:
    void update();

    bool m_wanted = false;
    ExplainSettings m_settings;
    std::shared_ptr<ExplainRunner> m_runner;  // used on the job thread only
    // Keyed by the resolved settings; one image and engine's maps, to compare the methods.
    KeyedCache<ExplainSettings, Explanation> m_maps{64};
};

}  // namespace r18::ui
