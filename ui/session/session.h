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
//
// The insights (ui/insight/: attribution maps, fp32/int8 A/B, channel atlas, visualisation) are
// objects of their own that follow this one's signals; they ask it one question, stillShows(),
// before they show what they computed. The Session knows none of them.
#pragma once

#include <QObject>
#include <QString>
#include <QThread>

#include <deque>
#include <map>
#include <memory>
#include <string>

#include "ui/session/capture_thread.h"
#include "ui/session/inference_types.h"

namespace r18::ui {

class InferenceWorker;

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
    // Live frames are compared with fp32 too (InferenceResult::vsFp32; stills always are).
    void setErrorFiguresWanted(bool wanted);

    // ---- channels switched off ----
    // Switches `channels` of `node` off, replacing that node's set (empty: back on), and
    // recomputes what is shown: a still image or frozen frame at once, live from the next frame.
    // Checked against the model; false with a finished sentence in `error` if a node or channel
    // is not one of it.
    bool setSwitchedOff(const QString& node, std::vector<int> channels, QString* error = nullptr);
    void switchAllBackOn();
    const std::vector<ChannelAblation>& ablations() const { return m_ablations; }
    std::vector<int> switchedOff(const QString& node) const;  // sorted; empty if none
    // "layer3.1: 3 of 256 channels off; …", or empty when every channel is on.
    QString ablationsText() const;

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

    // ---- what the insights ask ----
    // A still image or frozen frame is on screen, its result from the engine asked for, and
    // nothing else is opening: what insights compute for.
    bool settled() const;
    // What the screen shows: the settled result's source and engine (zero if none is settled)
    // and the weights (zero before the first model).
    ComputedFor onScreen() const;
    // Whether the screen still shows what `c` was computed for (its zero fields not compared).
    bool stillShows(const ComputedFor& c) const;
    // The inputs of the last (up to 16) distinct images shown (live: every 30th frame), oldest
    // first: what int8 calibrates on, in the engine and in the A/B comparison alike.
    CalibrationSet recentInputs() const;
    // What int8 calibrates on for what the user sees: the running engine's own set while it is
    // int8 (later images do not change it until the engine is rebuilt), else recentInputs() — what
    // int8 would calibrate on if chosen now. The A/B comparison's int8 uses it, so it is the
    // window's int8.
    CalibrationSet int8Calibration() const;

signals:
    void resultShown(const r18::ui::ResultPtr& result);  // result() changed
    void tapShown();                                     // tapResult() may have changed
    void nodeSelected(const QString& node);              // selectedNode() changed
    void sourceOpening(const QString& label);            // a still image was asked for
    void imageFailed(const QString& label, const QString& message);
    void engineChanged(const r18::ui::EngineInfo& engine);
    void modelLoading(const QString& weightsPath);
    void engineFailed(const QString& message, bool labels);
    void liveStarted(const QString& label);
    void liveOpened(const QString& label, double fps, QSize size);
    void liveStopped(const QString& reason, bool error);
    void frozenChanged(bool frozen);
    void ablationsChanged();                    // ablations() changed
    void ablationsDropped(const QString& why);  // the new model has no such node or channel

private:
    void request();
    void onResult(const ResultPtr& result);
    void onFailed(quint64 requestId, const SourcePtr& source, const QString& message);
    void onEngineReady(const EngineInfo& info);
    void openSource(std::shared_ptr<Source> source);
    ViewNeeds needs(bool live) const;
    void updateLiveNeeds();
    uint64_t newEngineId();
    void rememberInput(const InferenceResult& result);
    // Adopts checked, sorted ablations and recomputes what is shown.
    void applyAblations(std::vector<ChannelAblation> ablations);

    QThread m_thread;
    InferenceWorker* m_worker = nullptr;  // lives in m_thread; deleted when it finishes
    CaptureThread* m_capture = nullptr;
    std::shared_ptr<std::atomic<bool>> m_forwardFrames;  // capture -> worker, off while frozen

    EngineInfo m_engine;            // running, as last reported
    uint64_t m_engineId = 0;        // asked for; results from any other engine are dropped
    uint64_t m_failedEngineId = 0;  // the last engine asked for that could not be built
    uint64_t m_weightsId = 0;       // of the running engine's weights
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
    bool m_errorFigures = false;
    std::vector<ChannelAblation> m_ablations;  // sorted by node; results with others are stale
    uint64_t m_ablationsId = 0;                // 0 while none; a fresh id for every change

    ResultPtr m_result;
    uint64_t m_shownRequestId = 0;
    std::map<std::string, ResultPtr> m_taps;  // node -> result holding it, for m_result's source
                                              // and engine; cleared when either changes
    uint64_t m_lastRequestId = 0;
    LiveStats m_stats;
    std::deque<Clock::time_point> m_shownTimes;  // live results of the last second

    struct RecentInput {
        size_t hash = 0;  // of the tensor: the same image opened twice counts once
        std::shared_ptr<const Tensor> input;
    };
    std::deque<RecentInput> m_recentInputs;  // the int8 calibration set, oldest first
};

}  // namespace r18::ui
