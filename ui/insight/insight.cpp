#include "ui/insight/insight.h"

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
