#include "ui/insight/job_thread.h"

#include <QElapsedTimer>
#include <QMetaObject>

namespace r18::ui {
namespace {

constexpr int64_t kProgressEveryMs = 50;

int64_t nowMs() {
    static QElapsedTimer timer = [] {
        QElapsedTimer t;
        t.start();
        return t;
    }();
    return timer.elapsed();
}

}  // namespace

bool JobThread::Context::cancelled() const {
    return !m_owner->wanted(m_jobId);
}

bool JobThread::Context::keepGoing(int done, int total) const {
    if (cancelled()) return false;
    const int64_t now = nowMs();
    if (done >= total || now - m_lastProgressMs >= kProgressEveryMs) {
        m_lastProgressMs = now;
        JobThread* owner = m_owner;
        const uint64_t id = m_jobId;
        QMetaObject::invokeMethod(
            owner,
            [owner, id, done, total] {
                if (owner->wanted(id)) emit owner->progress(id, done, total);
            },
            Qt::QueuedConnection);
    }
    return true;
}

void JobThread::Context::deliver(std::function<void()> fn) const {
    JobThread* owner = m_owner;
    const uint64_t id = m_jobId;
    QMetaObject::invokeMethod(
        owner,
        [owner, id, fn = std::move(fn)] {
            if (owner->wanted(id)) fn();
        },
        Qt::QueuedConnection);
}

JobThread::JobThread(const QString& name, QObject* parent) : QObject(parent) {
    m_runner = new QObject;
    m_runner->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_runner, &QObject::deleteLater);
    m_thread.setObjectName(name);
    m_thread.start(QThread::LowPriority);
}

JobThread::~JobThread() {
    cancel();
    m_thread.quit();
    m_thread.wait();
}

uint64_t JobThread::submit(Job job) {
    const uint64_t id = ++m_nextId;
    bool wake = false;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        wake = !m_pending;
        m_pending = std::move(job);
        m_pendingId = id;
        m_wanted = id;  // a running job sees it is no longer wanted and stops
    }
    if (wake)
        QMetaObject::invokeMethod(
            m_runner, [this] { runPending(); }, Qt::QueuedConnection);
    return id;
}

void JobThread::cancel() {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_pending.reset();
    m_wanted = 0;
}

void JobThread::runPending() {
    Job job;
    Context ctx;
    ctx.m_owner = this;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        if (!m_pending) return;
        job = std::move(*m_pending);
        m_pending.reset();
        ctx.m_jobId = m_pendingId;
    }
    m_busy = true;
    job(ctx);
    m_busy = false;
    const uint64_t id = ctx.m_jobId;
    QMetaObject::invokeMethod(
        this, [this, id] { emit finished(id); }, Qt::QueuedConnection);
}

}  // namespace r18::ui
