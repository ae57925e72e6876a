// Session: the one owner of "what is shown". It holds the current source (a still image, a live
// source, or a frozen frame), the engine (model, precision, threads), the selected node and the
// heat-map and figure settings; it owns the inference worker's thread and the capture thread.
//
// Every change goes through it, and every result the worker sends back is checked against it:
// a result is shown only if it was computed for the source on screen (or, live, for a newer
// frame) by the current engine. Everything else is dropped, never painted. The views render
// what the Session holds — result() and the tap of the selected node — and nothing else.
//
// Live frames go from the capture thread straight to the worker (CaptureThread's sink); the
// GUI thread only sees results.
#pragma once

#include <QObject>
#include <QString>
#include <QThread>

#include <deque>
#include <map>
#include <memory>
#include <string>

#include "ui/insight/insight_jobs.h"
#include "ui/session/capture_thread.h"
#include "ui/session/inference_types.h"

namespace r18::ui {

class InferenceWorker;
class JobThread;

class Session : public QObject {
    Q_OBJECT

public:
    explicit Session(QObject* parent = nullptr);
    ~Session() override;

    // ---- the engine ----
    // Opens a weights file ("" = the default locations, else the demo weights) at the current
    // precision and threads. engineChanged or engineFailed follow.
    void openModel(const QString& weightsPath, Precision precision, int threads);
    void setPrecision(Precision precision);
    void setThreads(int threads);
    void setLabels(const QString& path);
    const EngineInfo& engine() const { return m_engine; }
    bool hasModel() const { return m_engine.model != nullptr; }
    bool engineChanging() const { return m_engineId != m_engine.engineId; }
    // The weights being opened ("" for the default locations), while they are; else null.
    const QString& loadingWeights() const { return m_loadingWeights; }
    bool isLoadingModel() const { return m_loadingModel; }
    // The engine asked for: what the precision and threads controls should show.
    Precision wantedPrecision() const { return m_wantedPrecision; }
    int wantedThreads() const { return m_wantedThreads; }

    // ---- sources ----
    void openFile(const QString& path);
    void openImage(const QImage& image, const QString& label);
    void openBytes(const QByteArray& bytes, const QString& label);
    // Starts a camera, video file or stream (stopping any other source).
    void startLive(const CaptureThread::Options& options);
    void stopLive();
    bool isLive() const;
    // Holds the frame on screen so its layers can be browsed; false goes live again.
    void setFrozen(bool frozen);
    bool isFrozen() const { return m_frozen; }
    CaptureThread* capture() const { return m_capture; }
    // The source whose result is on screen (null before the first).
    SourcePtr shownSource() const { return m_result ? m_result->source : nullptr; }
    // A still image asked for whose first result has not arrived (null if none).
    SourcePtr openingSource() const;
    // A live source asked for that has not delivered its first result yet.
    bool liveOpening() const { return m_live && m_liveOpening; }
    const QString& liveLabel() const { return m_liveLabel; }

    // ---- what the views need ----
    void selectNode(const QString& node);
    const QString& selectedNode() const { return m_node; }
    void setHeatmap(const HeatmapSettings& settings);
    const HeatmapSettings& heatmap() const { return m_heatmap; }
    void setNodeFiguresWanted(bool wanted);

    // ---- what is shown ----
    // The newest result that belongs on screen: image, top-5, timings, figures.
    ResultPtr result() const { return m_result; }
    // The result holding the selected node's output for the image on screen, or null while it
    // is being computed.
    ResultPtr tapResult() const;
    // The heat map, if the shown result has the one the settings ask for.
    const Heatmap* shownHeatmap() const;

    struct LiveStats {
        double cameraFps = 0.0;     // frames delivered by the source per second
        double processedFps = 0.0;  // results shown per second, over the last second
        double latencyMs = 0.0;     // grab to display, smoothed
        uint64_t framesShown = 0;
        uint64_t framesDropped = 0;  // replaced while the network was busy
    };
    LiveStats liveStats() const;

    InferenceWorker* worker() const { return m_worker; }

    // ---- where it looked: attribution maps (ExplainSettings) on their own thread ----
    // While wanted (the panel is open), the map the settings ask for is computed for every still
    // image or frozen frame shown, in fp32 from the tensor the result ran on; a newer request
    // stops an older one. explanation() is shown only if it was computed for the image and
    // engine on screen and the settings (class resolved to the shown top-1 if it follows it).
    void setExplainWanted(bool wanted);
    void setExplainSettings(const ExplainSettings& settings);
    const ExplainSettings& explainSettings() const { return m_explainSettings; }
    // The settings with the class resolved (kTopClass -> the shown top-1).
    ExplainSettings resolvedExplainSettings() const;
    ExplanationPtr explanation() const;
    // Every method computed so far for the image, engine and class on screen, in method order.
    std::vector<ExplanationPtr> shownExplanations() const;
    bool explaining() const { return m_explainJobId != 0; }
    // Stops the map being computed; computeExplanation() asks again.
    void cancelExplanation();
    void computeExplanation();
    // Why no map is being computed, or "" (no image, a live source, the engine changing).
    QString explainBlocked() const;

    // ---- what does this channel detect: a folder's channel atlas, patches, visualisations ----
    // Builds (or loads from its cache) the atlas of `folder` for the current model, in fp32.
    void buildAtlas(const QString& folder);
    void cancelAtlas();
    bool atlasBuilding() const { return m_atlasJobId != 0; }
    const QString& atlasFolder() const { return m_atlasFolder; }
    // The atlas for the model on screen (null if none, or built for other weights).
    std::shared_ptr<const ChannelAtlas> atlas() const;
    // The receptive-field patches of a channel's top images, decoded off the GUI thread:
    // patchesShown follows; patches() is null until then.
    void requestPatches(const QString& layer, int64_t channel);
    const std::vector<ChannelPatch>* patches(const QString& layer, int64_t channel) const;
    // Feature visualisation of a channel (or a class for "fc"), cached on disk by core.
    void visualize(const QString& layer, int64_t channel);
    void cancelVisualization();
    bool visualizing() const { return m_visualizeJobId != 0; }
    // The visualisation of layer/channel for the model on screen, or null.
    std::shared_ptr<const Visualization> visualization(const QString& layer, int64_t channel) const;
    VisualizeOptions visualizeOptions(const QString& layer, int64_t channel) const;

    // ---- A/B: the image on screen at fp32 and at int8, the selected node compared ----
    // While wanted (the compare panel is open), computed on its own thread for every still image
    // or frozen frame and node shown; int8 calibrates on the last (up to 16) images shown.
    void setCompareWanted(bool wanted);
    // The comparison of the image and node on screen, or null.
    ComparisonPtr comparison() const;
    bool comparing() const { return m_compareJobId != 0; }

signals:
    void comparisonShown();  // comparison() or comparing() may have changed
    void compareFailed(const QString& message);
    void resultShown(const r18::ui::ResultPtr& result);  // result() changed
    void tapShown();                                     // tapResult() may have changed
    void sourceOpening(const QString& label);            // a still image was asked for
    void imageFailed(const QString& label, const QString& message);
    void engineChanged(const r18::ui::EngineInfo& engine);
    void modelLoading(const QString& weightsPath);
    void engineFailed(const QString& message, bool labels);
    void liveStarted(const QString& label);
    void liveOpened(const QString& label, double fps, QSize size);
    void liveStopped(const QString& reason, bool error);
    void frozenChanged(bool frozen);
    void explanationShown();                    // explanation() may have changed
    void explainProgress(int done, int total);  // of the map being computed
    void explainFailed(const QString& message);
    void explainStateChanged();  // explaining() or explainBlocked() may have changed
    void atlasProgress(int done, int total);
    void atlasChanged();  // atlas() or atlasBuilding() changed
    void atlasFailed(const QString& message);
    void patchesShown(const QString& layer, qint64 channel);
    void visualizeProgress(int done, int total);
    void visualizationShown(const QString& layer, qint64 channel);
    void visualizeStateChanged();
    void visualizeFailed(const QString& message);

private:
    void request();
    void onResult(const ResultPtr& result);
    void onFailed(quint64 requestId, const SourcePtr& source, const QString& message);
    void onEngineReady(const EngineInfo& info);
    void openSource(std::shared_ptr<Source> source);
    void clearShown();
    ViewNeeds needs(bool live) const;
    void updateLiveNeeds();
    uint64_t newEngineId();
    void updateExplanation();
    void updateComparison();
    void onExplanation(const ExplanationPtr& explanation, uint64_t jobId);
    bool atlasFits(const ChannelAtlas* atlas) const;

    QThread m_thread;
    InferenceWorker* m_worker = nullptr;  // lives in m_thread; deleted when it finishes
    CaptureThread* m_capture = nullptr;
    std::shared_ptr<std::atomic<bool>> m_forwardFrames;  // capture -> worker, off while frozen

    EngineInfo m_engine;            // running, as last reported
    uint64_t m_engineId = 0;        // asked for; results from any other engine are dropped
    uint64_t m_failedEngineId = 0;  // the last engine asked for that could not be built
    bool m_loadingModel = false;
    QString m_loadingWeights;
    Precision m_wantedPrecision = Precision::Fp32;
    int m_wantedThreads = 1;

    SourcePtr m_source;  // still image or frozen frame; null while live
    bool m_live = false;
    bool m_lateFrames = false;  // the live source ended; its frames in flight may still show
    bool m_liveOpening = false;
    QString m_liveLabel;
    bool m_frozen = false;
    QString m_node;
    HeatmapSettings m_heatmap;
    bool m_nodeFigures = false;

    ResultPtr m_result;
    uint64_t m_shownRequestId = 0;
    std::map<std::string, ResultPtr> m_taps;  // node -> result holding it, for m_result's source
                                              // and engine; cleared when either changes
    uint64_t m_lastRequestId = 0;
    LiveStats m_stats;
    std::deque<Clock::time_point> m_shownTimes;  // live results of the last second

    // Insight jobs, each on its own thread (declared last: destroyed, and stopped, first).
    bool m_explainWanted = false;
    ExplainSettings m_explainSettings;
    std::vector<ExplanationPtr> m_explanations;  // for the shown source and engine
    struct ExplainKey {
        uint64_t sourceId = 0;
        uint64_t engineId = 0;
        ExplainSettings settings;
        bool operator==(const ExplainKey& o) const {
            return sourceId == o.sourceId && engineId == o.engineId && settings == o.settings;
        }
    };
    ExplainKey m_explainAsked;  // the last map asked for (computing, done or cancelled)
    uint64_t m_explainJobId = 0;
    std::shared_ptr<ExplainRunner> m_explainRunner;
    QString m_atlasFolder;
    std::shared_ptr<const ChannelAtlas> m_atlas;
    std::shared_ptr<const Model> m_atlasModel;
    uint64_t m_atlasJobId = 0;
    std::map<std::pair<std::string, int64_t>, std::vector<ChannelPatch>> m_patches;
    std::pair<std::string, int64_t> m_patchesAsked{"", -1};
    std::map<std::pair<std::string, int64_t>, std::shared_ptr<const Visualization>>
        m_visualizations;
    std::shared_ptr<const Model> m_visualizationModel;
    uint64_t m_visualizeJobId = 0;
    std::shared_ptr<VisualizeRunner> m_visualizeRunner;
    bool m_compareWanted = false;
    std::map<std::string, ComparisonPtr> m_comparisons;  // node -> for m_comparedSource
    uint64_t m_comparedSource = 0;
    std::pair<uint64_t, std::string> m_compareAsked{0, ""};
    uint64_t m_compareJobId = 0;
    std::shared_ptr<CompareRunner> m_compareRunner;
    std::shared_ptr<const Model> m_compareModel;
    std::deque<std::shared_ptr<const Tensor>> m_recentInputs;  // int8 calibration for A/B
    JobThread* m_compareJobs = nullptr;
    JobThread* m_explainJobs = nullptr;
    JobThread* m_atlasJobs = nullptr;
    JobThread* m_patchJobs = nullptr;
    JobThread* m_visualizeJobs = nullptr;
};

}  // namespace r18::ui
