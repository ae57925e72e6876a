// Values that cross between the GUI thread and the inference worker. All immutable once sent:
// requests carry a shared, const Source; results travel as shared_ptr<const InferenceResult>.
#pragma once

#include <QByteArray>
#include <QImage>
#include <QMetaType>
#include <QString>

#include <opencv2/core.hpp>

#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/engine/engine.h"
#include "core/engine/gradcam.h"
#include "core/model/labels.h"
#include "core/model/model.h"
#include "core/model/network_spec.h"
#include "core/model/predictions.h"
#include "core/tensor.h"

namespace r18::ui {

// An image to classify: a file to decode, encoded bytes (a download), or pixels (a paste).
struct Source {
    uint64_t generation = 0;  // unique per image; the worker decodes each generation once
    QString label;            // names the image to the user: a path, a URL, "pasted image"
    QString path;             // file to read, or empty
    QByteArray bytes;         // encoded image, or empty
    QImage image;             // pixels, or null
    cv::Mat frame;            // a camera or video frame (BGR), or empty
    std::chrono::steady_clock::time_point grabbed;  // when the frame was captured
};
using SourcePtr = std::shared_ptr<const Source>;

// Heat-map classes: a class index, or one of these.
constexpr int64_t kNoHeatmap = -2;
constexpr int64_t kTopClass = -1;

struct InferenceRequest {
    uint64_t id = 0;  // rises with every request; results carry it back
    SourcePtr source;
    std::vector<std::string> taps;         // node outputs the views need
    bool profile = true;                   // per-node times for the diagram
    int64_t heatmapClass = kNoHeatmap;     // Grad-CAM for this class (kTopClass: the top-1)
    std::string heatmapTarget = "layer4";  // stage or block it is computed at
    bool stats = false;                    // mean and zero fraction of every node
};

// Per-node figures for the diagram; NaN where not computed.
struct NodeStats {
    float mean = std::numeric_limits<float>::quiet_NaN();
    float zeroFraction = std::numeric_limits<float>::quiet_NaN();
};

struct InferenceResult {
    uint64_t id = 0;
    uint64_t generation = 0;
    QString label;
    QImage display;  // the decoded image, at most 2048 px on its longer side

    QSize originalSize;                  // decoded size before any display downscaling
    std::vector<Prediction> top;         // best five
    std::map<std::string, Tensor> taps;  // [1,C,H,W], or [1,C] for avgpool and fc
    std::vector<double> nodeMs;          // per NetworkSpec node
    std::optional<Heatmap> heatmap;      // when asked for
    std::vector<NodeStats> nodeStats;    // per NetworkSpec node, when asked for
    double decodeMs = 0.0;
    double preprocessMs = 0.0;
    double networkMs = 0.0;
    std::chrono::steady_clock::time_point grabbed;  // of a camera frame; default otherwise
};
using ResultPtr = std::shared_ptr<const InferenceResult>;

// What the worker runs, for the status bar, the banner and the diagram.
struct ModelInfo {
    QString file;  // empty for the built-in demo weights
    QString format;
    QString arch;
    int64_t classes = 0;
    bool official = false;  // torchvision's ImageNet file, recognised by its hash
    QString trustNote;      // one plain sentence about what the weights are
    QString labelsFile;     // empty: ImageNet's for 1000 classes, else "class N"
    std::shared_ptr<const Model> model;
    std::shared_ptr<const NetworkSpec> spec;
    std::shared_ptr<const WeightSet> weights;  // immutable: other jobs (folder batches) share them
    std::shared_ptr<const Labels> labels;
    Precision precision = Precision::Fp32;
    int threads = 1;
    QString implementations;    // oneDNN's choice, e.g. "conv jit:avx2, ..."
    int calibrationImages = 0;  // int8: how many of the recently opened images calibrated it
};

// Registers the types above for queued signals; call once before connecting.
void registerInferenceTypes();

}  // namespace r18::ui

Q_DECLARE_METATYPE(r18::ui::ResultPtr)
Q_DECLARE_METATYPE(r18::ui::ModelInfo)
Q_DECLARE_METATYPE(r18::Precision)
