// InferenceWorker: owns the model's Pipeline (the oneDNN engine) and lives in its own QThread.
//
// Newest request wins (like Qt's Mandelbrot example): submit() stores the request in a single
// mutex-guarded slot and posts a wake-up only if none is pending, so a request that has not
// started when a newer one arrives is dropped and a slow network never builds a queue. A job
// that is running is abandoned between its steps when the user asks for something else (a new
// image, another node); a newer live frame never abandons one, or nothing would ever finish.
//
// Live frames come straight from the capture thread (submitFrame()), not through the GUI
// thread: each is turned into a request with the needs last set by setLiveNeeds().
//
// Every result carries its request id, its source and the id of the engine that computed it;
// the Session decides whether it still belongs on screen. Exceptions never cross the event
// loop: every slot catches and reports by signal.
#pragma once

#include <QMutex>
#include <QObject>
#include <QString>

#include <atomic>
#include <memory>
#include <optional>

#include "core/engine/gradcam.h"
#include "core/pipeline.h"
#include "ui/session/capture_thread.h"
#include "ui/session/inference_types.h"

namespace r18::ui {

class InferenceWorker : public QObject {
    Q_OBJECT

public:
    explicit InferenceWorker(QObject* parent = nullptr);
    ~InferenceWorker() override;

    // Thread-safe; call from any thread. Replaces a pending request that has not started.
    void submit(InferenceRequest request);
    // Thread-safe: a live frame, with the needs from setLiveNeeds(). Called on the capture thread.
    void submitFrame(const FramePtr& frame, const QString& label);
    void setLiveNeeds(const ViewNeeds& needs);

    // Requests replaced in the slot before they started, or abandoned while running (frames
    // dropped because the network was busy), since the worker was made.
    uint64_t droppedCount() const { return m_dropped.load(); }
    // Requests and frames handed to submit()/submitFrame() since the worker was made.
    uint64_t submittedCount() const { return m_submitted.load(); }

    // Test hook: sleep this long before every inference, to simulate a slow engine.
    void setExtraLatencyForTesting(int ms) { m_extraLatencyMs = ms; }

public slots:
    // Opens a model (core Model::open: an empty path means the default locations and, failing
    // those, the untrained demo weights) and compiles it as engine `engineId`. Emits
    // engineReady, or engineFailed followed by engineReady for the engine that still runs.
    void loadModel(quint64 engineId, const QString& weightsPath, r18::Precision precision,
                   int threads, const r18::ui::CalibrationSet& calibration = {});
    // Recompiles the current model with another precision or thread count. int8 calibrates on
    // `calibration` (the Session's recent images); with none it refuses.
    void configure(quint64 engineId, r18::Precision precision, int threads,
                   const r18::ui::CalibrationSet& calibration = {});
    // The current model named by a labels file; engineFailed if it cannot be used.
    void setLabels(quint64 engineId, const QString& path);

signals:
    void engineReady(const r18::ui::EngineInfo& info);
    // What was asked for as `engineId` could not be done; `labels` when only the labels failed.
    void engineFailed(quint64 engineId, const QString& message, bool labels);
    void started(quint64 requestId);  // the request left the slot and is being processed
    void resultReady(const r18::ui::ResultPtr& result);
    void failed(quint64 requestId, const r18::ui::SourcePtr& source, const QString& message);

private slots:
    void processPending();

private:
    void post(InferenceRequest request, bool live);
    bool compile(uint64_t engineId, std::shared_ptr<const Model> model, Precision precision,
                 int threads, const CalibrationSet& calibration);
    void prepareSource(const Source& source, InferenceResult& result);
    bool newerUserRequestPending();

    QMutex m_mutex;
    std::optional<InferenceRequest> m_pending;  // guarded by m_mutex
    bool m_pendingIsLive = false;               // guarded by m_mutex
    bool m_wakeQueued = false;                  // guarded by m_mutex
    ViewNeeds m_liveNeeds;                      // guarded by m_mutex
    std::atomic<int> m_extraLatencyMs{0};
    std::atomic<uint64_t> m_dropped{0};
    std::atomic<uint64_t> m_submitted{0};

    // Worker-thread state.
    std::unique_ptr<Pipeline> m_pipeline;
    std::unique_ptr<Pipeline> m_fp32;    // int8, bf16: fp32 with m_pipeline's options, for vsFp32
    std::unique_ptr<GradCam> m_gradCam;  // reads the model's weights; reset before they change
    EngineInfo m_info;
    uint64_t m_sourceId = 0;                // of the prepared image below
    std::shared_ptr<const Tensor> m_input;  // shared with the results computed from it
    QImage m_display;
    QSize m_originalSize;
    double m_decodeMs = 0.0;
    double m_preprocessMs = 0.0;
};

}  // namespace r18::ui
