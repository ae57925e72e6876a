// InferenceWorker: owns the model and the oneDNN engine and lives in its own QThread.
//
// Newest request wins (like Qt's Mandelbrot example): submit() stores the request in a single
// mutex-guarded slot and posts a wake-up only if none is pending, so a request that has not
// started when a newer one arrives is dropped, and a slow frame never builds a queue. Every
// result carries its request id; views drop results older than what they show.
//
// Exceptions never cross the event loop: every slot catches and reports by signal.
#pragma once

#include <QMutex>
#include <QObject>
#include <QString>

#include <atomic>
#include <deque>
#include <memory>
#include <optional>

#include "core/engine/engine.h"
#include "core/engine/gradcam.h"
#include "core/model/labels.h"
#include "core/model/model.h"
#include "core/model/weights.h"
#include "ui/inference_types.h"

namespace r18::ui {

class InferenceWorker : public QObject {
    Q_OBJECT

public:
    explicit InferenceWorker(QObject* parent = nullptr);
    ~InferenceWorker() override;

    // Thread-safe; call from any thread. Replaces a pending request that has not started.
    void submit(InferenceRequest request);

    // Requests replaced in the slot before they started (frames dropped because the network was
    // busy), since the worker was made.
    uint64_t droppedCount() const { return m_dropped.load(); }

    // Test hook: sleep this long before every inference, to simulate a slow engine.
    void setExtraLatencyForTesting(int ms) { m_extraLatencyMs = ms; }

public slots:
    // Loads weights and compiles the engine. An empty path means the default locations and,
    // failing those, the built-in untrained demo weights. Emits modelReady or modelFailed.
    void loadModel(const QString& weightsPath, r18::Precision precision, int threads);
    // Recompiles the current weights with another precision or thread count. int8 calibrates
    // on the last images the worker has seen (up to 16); with none yet it refuses and says so.
    void configure(r18::Precision precision, int threads);
    // Names the classes from a labels file (one per line, or a JSON list); emits modelReady, or
    // modelFailed when the file cannot be read or has fewer labels than the model has classes.
    void setLabels(const QString& path);

signals:
    void modelReady(const r18::ui::ModelInfo& info);
    void modelFailed(const QString& message);
    void started(quint64 id);  // the request left the slot and is being processed
    void resultReady(const r18::ui::ResultPtr& result);
    void failed(quint64 id, const QString& label, const QString& message);

private slots:
    void processPending();

private:
    void wake();
    bool compile(Precision precision, int threads);
    void prepareSource(const Source& source, InferenceResult& result);

    QMutex m_mutex;
    std::optional<InferenceRequest> m_pending;  // guarded by m_mutex
    bool m_wakeQueued = false;                  // guarded by m_mutex
    std::atomic<int> m_extraLatencyMs{0};
    std::atomic<uint64_t> m_dropped{0};

    // Worker-thread state.
    std::shared_ptr<const Model> m_model;
    std::shared_ptr<const WeightSet> m_weights;
    std::shared_ptr<const NetworkSpec> m_spec;
    std::unique_ptr<Engine> m_engine;
    std::unique_ptr<GradCam> m_gradCam;  // reads *m_weights; reset before the weights change
    std::shared_ptr<const Labels> m_labels;
    ModelInfo m_info;
    uint64_t m_generation = 0;  // of the image below
    Tensor m_input;
    std::deque<Tensor> m_recentInputs;  // int8 calibration set: the last distinct images
    QImage m_display;

    QSize m_originalSize;
    double m_decodeMs = 0.0;
    double m_preprocessMs = 0.0;
};

}  // namespace r18::ui
