// Values that cross between the GUI thread, the capture thread and the inference worker. All
// immutable once sent: requests carry a shared, const Source; results travel as
// shared_ptr<const InferenceResult>; the running engine is described by an EngineInfo.
//
// Three ids tie a result to what it was computed for:
//   sourceId   one image, or one camera/video frame (Source)
//   engineId   one compiled model + precision + threads (EngineInfo); a new one for every change
//   requestId  one request; rises, so an older request's result is recognised
// The Session shows a result only if its sourceId and engineId are the ones it currently shows,
// and an insight only if Session::stillShows() what it was computed for (ComputedFor).
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

#include "core/clock.h"
#include "core/engine/engine.h"
#include "core/engine/gradcam.h"
#include "core/model/model.h"
#include "core/model/predictions.h"
#include "core/pipeline.h"
#include "core/tap_stats.h"
#include "core/tensor.h"

namespace r18::ui {

// Fresh ids, unique in the process and rising (thread-safe).
uint64_t nextSourceId();
uint64_t nextRequestId();

// An image to classify: a file to decode, encoded bytes (a download), pixels (a paste), or a
// camera or video frame.
struct Source {
    uint64_t sourceId = 0;
    QString label;      // names the image to the user: a path, a URL, "pasted image", "camera 0"
    QString path;       // file to read, or empty
    QByteArray bytes;   // encoded image, or empty
    QImage image;       // pixels, or null
    cv::Mat frame;      // a camera or video frame (BGR), or empty
    bool live = false;  // a frame of a live source
    Clock::time_point grabbed;  // when a frame was captured
};
using SourcePtr = std::shared_ptr<const Source>;

// Heat-map classes: a class index, or the top-1 of whatever image is shown.
constexpr int64_t kTopClass = -1;

struct HeatmapSettings {
    bool enabled = false;
    int64_t classIndex = kTopClass;
    std::string target = "layer4";  // stage or block it is computed at
    bool operator==(const HeatmapSettings& o) const {
        return enabled == o.enabled && classIndex == o.classIndex && target == o.target;
    }
    bool operator!=(const HeatmapSettings& o) const { return !(*this == o); }
};

// What the views need from the network besides the top-5: the same for a still image and for
// every live frame.
struct ViewNeeds {
    std::vector<std::string> taps;  // node outputs
    HeatmapSettings heatmap;
    bool nodeFigures = false;  // mean and zero fraction of every node (the diagram's figures)
    // int8 and bf16: every node against the same input at fp32 (relative error, cosine); the
    // worker runs the fp32 engine the window would run as well. Ignored at fp32.
    bool vsFp32 = false;
    std::vector<ChannelAblation> ablations;  // channels switched off, one entry per node
};

struct InferenceRequest {
    uint64_t requestId = 0;
    SourcePtr source;
    ViewNeeds needs;
    bool profile = true;  // per-node times for the diagram
};

// Per-node figures for the diagram; NaN where not computed.
struct NodeFigures {
    float mean = std::numeric_limits<float>::quiet_NaN();
    float zeroFraction = std::numeric_limits<float>::quiet_NaN();
    // The diagram's pictures: the most active channel ([h,w], every k-th pixel so that neither
    // side exceeds kThumbnailSide) with its min and max, and the node's value histogram.
    static constexpr int kThumbnailSide = 28;
    Tensor thumbnail;
    float thumbnailLo = 0.0F;
    float thumbnailHi = 0.0F;
    std::vector<int64_t> histogram;
};

// The most active channel of `tap` ([1,C,H,W]; [1,C] gives a 1×C strip of the values) sampled
// every k-th pixel, k the smallest that keeps both sides ≤ NodeFigures::kThumbnailSide.
Tensor nodeThumbnail(const Tensor& tap, const TapStats& stats);

// The pipeline's Classification of one image or frame (top-5, the taps the views asked for,
// per-node and network times, decoding and preprocessing times), with what the views need
// besides and the ids it was computed for.
struct InferenceResult : Classification {
    uint64_t requestId = 0;
    uint64_t engineId = 0;  // the engine that computed it
    SourcePtr source;
    ViewNeeds needs;                      // what was asked for
    QImage display;                       // the decoded image, at most 2048 px on its longer side
    std::shared_ptr<const Tensor> input;  // the preprocessed [1,3,S,S] tensor it ran on
    QSize originalSize;
    std::map<std::string, TapStats> tapStats;  // of each tap, computed once here
    std::optional<Heatmap> heatmap;            // when asked for
    std::vector<NodeFigures> nodeFigures;      // per NetworkSpec node, when asked for
    // ViewNeeds::vsFp32 at int8 or bf16: per tap name, how this engine's output differs from
    // fp32's for the same input and channels switched off (core's compareTaps).
    std::map<std::string, TapDifference> vsFp32;
};
using ResultPtr = std::shared_ptr<const InferenceResult>;

// Prepared inputs ([1,3,S,S]) int8 calibrates on: the Session's last distinct images.
using CalibrationSet = std::vector<std::shared_ptr<const Tensor>>;

// The engine the worker runs: which model, at which precision and threads.
struct EngineInfo {
    uint64_t engineId = 0;
    std::shared_ptr<const Model> model;
    Precision precision = Precision::Fp32;
    int threads = 1;
    QString implementations;     // oneDNN's choice, e.g. "conv jit:avx2, ..."
    int calibrationImages = 0;   // int8: how many distinct recent images calibrated it
    CalibrationSet calibration;  // int8: those images' inputs
};

// What an insight (a map, a comparison, an atlas) was computed for. Session::stillShows() says
// whether the screen still shows it; a zero sourceId or engineId is not compared. ablationsId is
// compared for what was computed for an image (a map of the whole network is not a map of the
// network with channels off); what belongs to the weights alone (an atlas) does not change.
struct ComputedFor {
    uint64_t sourceId = 0;     // the still image or frozen frame
    uint64_t engineId = 0;     // the engine whose result it was computed from
    uint64_t weightsId = 0;    // the weights (a new id only when other weights are opened)
    uint64_t ablationsId = 0;  // the channels switched off (0: none; a new id per change)
    bool operator==(const ComputedFor& o) const {
        return sourceId == o.sourceId && engineId == o.engineId && weightsId == o.weightsId &&
               ablationsId == o.ablationsId;
    }
    bool operator!=(const ComputedFor& o) const { return !(*this == o); }
};

// Registers the types above for queued signals; call once before connecting.
void registerInferenceTypes();

}  // namespace r18::ui

Q_DECLARE_METATYPE(r18::ui::ResultPtr)
Q_DECLARE_METATYPE(r18::ui::SourcePtr)
Q_DECLARE_METATYPE(r18::ui::EngineInfo)
Q_DECLARE_METATYPE(r18::Precision)
