#include "ui/insight/insight.h"

#include "core/engine/calibration.h"
#include "ui/session/session.h"

namespace r18::ui {

Insight::Insight(Session* session, const QString& threadName, QObject* parent)
    : QObject(parent), m_session(session), m_jobs(new JobThread(threadName, this)) {
    connect(m_jobs, &JobThread::progress, this, [this](quint64 jobId, int done, int total) {
        if (jobId == m_jobId) emit progress(done, total);
    });
    connect(m_jobs, &JobThread::finished, this, [this](quint64 jobId) {
        if (endJob(jobId)) emit busyChanged();
    });
}

bool SameEngine::changed(const EngineInfo& engine, int batch, EngineOptions* options) {
    std::vector<const Tensor*> set;
    if (engine.precision == Precision::Int8)
        for (const auto& t : engine.calibration) set.push_back(t.get());
    if (m_model && engine.model == m_model && engine.precision == m_precision &&
        engine.threads == m_threads && batch == m_batch && set == m_calibratedOn)
        return false;
    *options = EngineOptions().with(engine.precision).withThreads(engine.threads).withBatch(batch);
    if (engine.precision == Precision::Int8) {
        std::vector<Tensor> inputs;
        for (const auto& t : engine.calibration) inputs.push_back(*t);
        options->withCalibration(std::make_shared<const Calibration>(
            calibrate(engine.model->spec(), engine.model->weights(), inputs, engine.threads)));
    }
    m_model = engine.model;
    m_precision = engine.precision;
    m_threads = engine.threads;
    m_batch = batch;
    m_calibratedOn = set;
    return true;
}

void Insight::followImageOnScreen(std::function<void()> update) {
    const auto stillOrFrozen = [this] { return !m_session->isLive() || m_session->isFrozen(); };
    connect(m_session, &Session::resultShown, this,
            [this, update, stillOrFrozen](const ResultPtr& r) {
                if (!r || (r->source->live && !stillOrFrozen())) return;  // not every live frame
                update();
                emit shown();
            });
    const auto stop = [this] {
        if (busy()) cancel();  // what it computes is no longer what is shown
        emit shown();
    };
    connect(m_session, &Session::sourceOpening, this, stop);
    connect(m_session, &Session::ablationsChanged, this, stop);
    connect(m_session, &Session::frozenChanged, this, [this, update, stop, stillOrFrozen] {
        if (stillOrFrozen()) {
            update();
            emit shown();
        } else {
            stop();  // live again: the frozen frame's is not wanted
        }
    });
}

Insight::~Insight() {
    delete m_jobs;  // cancels the running job and waits for it; nothing more is delivered
    m_jobs = nullptr;
}

void Insight::cancel() {
    m_jobs->cancel();
    m_jobId = 0;
    emit busyChanged();
}

void Insight::submitJob(JobThread::Job job) {
    m_jobId = m_jobs->submit(std::move(job));
    emit busyChanged();
}

bool Insight::endJob(uint64_t jobId) {
    if (jobId != m_jobId) return false;
    m_jobId = 0;
    return true;
}

}  // namespace r18::ui
