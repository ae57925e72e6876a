// JobThread: one background thread for long, cancellable jobs (attributions with many passes, a
// folder's channel atlas, feature visualisation), newest job wins.
//
// submit() stores the job in a one-slot mailbox (replacing one that has not started) and asks a
// running job to stop; the thread then takes the newest. A job polls ctx.keepGoing(done, total)
// between its steps: it reports progress (posted to the GUI thread, at most every 50 ms) and
// learns whether it should stop. What a job computes goes back with ctx.deliver(fn): `fn` runs on
// the GUI thread, in the receiver's context, unless a newer job was submitted or the job was
// cancelled meanwhile. Everything a job captures must be safe to use from the job thread: values,
// shared_ptr<const ...>, or state that only this thread's jobs touch.
#pragma once

#include <QObject>
#include <QThread>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

namespace r18::ui {

class JobThread : public QObject {
    Q_OBJECT

public:
    class Context {
    public:
        // Reports progress; false once the job should stop (cancelled or superseded).
        bool keepGoing(int done, int total) const;
        bool cancelled() const;
        // Runs `fn` on the GUI thread if the job is still wanted when it gets there.
        void deliver(std::function<void()> fn) const;
        uint64_t jobId() const { return m_jobId; }

    private:
        friend class JobThread;
        JobThread* m_owner = nullptr;
        uint64_t m_jobId = 0;
        mutable int64_t m_lastProgressMs = -1000;
    };
    using Job = std::function<void(const Context& ctx)>;

    // `name` names the thread (for debuggers and ps).
    explicit JobThread(const QString& name, QObject* parent = nullptr);
    ~JobThread() override;  // cancels the running job and waits for it

    // Queues `job`, replacing a pending one and stopping a running one. Returns its id.
    uint64_t submit(Job job);
    // Stops the running job and drops a pending one; nothing of theirs is delivered.
    void cancel();
    bool busy() const { return m_busy.load(); }

signals:
    // On the GUI thread: job `jobId` has done `done` of `total`.
    void progress(quint64 jobId, int done, int total);
    // On the GUI thread: job `jobId` ended (finished, failed, cancelled or superseded).
    void finished(quint64 jobId);

private:
    void runPending();
    bool wanted(uint64_t jobId) const { return m_wanted.load() == jobId; }

    QThread m_thread;
    QObject* m_runner = nullptr;  // lives in m_thread; runs the jobs
    std::mutex m_mutex;
    std::optional<Job> m_pending;       // guarded by m_mutex
    uint64_t m_pendingId = 0;           // guarded by m_mutex
    std::atomic<uint64_t> m_wanted{0};  // the newest job id; 0 after cancel()
    std::atomic<uint64_t> m_nextId{0};
    std::atomic<bool> m_busy{false};
};

}  // namespace r18::ui
