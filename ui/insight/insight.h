// Insight: the base of the window's background insights — where it looked (ExplainInsight),
// fp32 against int8 (CompareInsight), a folder's channel atlas (AtlasInsight), feature
// visualisation (VisualizeInsight). Each is an object of its own, like the Mandelbrot example's
// render thread: it owns one JobThread (newest job wins), remembers what it was asked, keeps what
// it computed in a KeyedCache, and reports by signal. It follows the Session's signals (source
// opening, result shown, frozen, engine changed, node selected) and asks the Session one question
// before it shows anything: stillShows(what it was computed for). The Session knows no insight.
//
// A new insight, in outline:
//
//   class MyInsight : public Insight {
//   public:
//       explicit MyInsight(Session* session, QObject* parent = nullptr)
//           : Insight(session, QStringLiteral("mine"), parent) {
//           connect(session, &Session::resultShown, this, &MyInsight::update);
//       }
//       std::shared_ptr<const Value> value() const {         // what the panel paints
//           return m_cache.find(session()->onScreen(), m_key);
//       }
//   private:
//       void update() {
//           const ComputedFor on = session()->onScreen();
//           if (!on.sourceId || m_cache.find(on, m_key) || !m_cache.ask(on, m_key)) return;
//           submit<Value>(
//               [input = ...](const ProgressFn& progress) -> std::optional<Value> {
//                   return core(input, progress);            // on the job thread
//               },
//               [this, on](std::shared_ptr<const Value> v) { // on the GUI thread, if still wanted
//                   if (session()->stillShows(on)) m_cache.store(on, m_key, v);
//               });
//       }
//       KeyedCache<Key, Value> m_cache{16};
//   };
//
// submit() wires progress, busy and failure once for every insight: progress(done, total) while
// the job runs, busyChanged() when it starts and ends, failed(message) with what it threw, and
// shown() after `done` ran. What a job captures must be safe on the job thread: values,
// shared_ptr<const ...>, or state only that thread's jobs touch (a runner held by shared_ptr).
#pragma once

#include <QObject>
#include <QString>

#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "core/progress.h"
#include "ui/insight/job_thread.h"
#include "ui/session/inference_types.h"

namespace r18::ui {

class Session;

class Insight : public QObject {
    Q_OBJECT

public:
    ~Insight() override;  // stops the running job and waits for it

    // A job is running (or waiting to run).
    bool busy() const { return m_jobId != 0; }
    // Stops the running job: nothing of it is shown. busyChanged() follows.
    void cancel();

signals:
    void shown();                         // what the insight shows may have changed
    void progress(int done, int total);   // of the running job
    void failed(const QString& message);  // the job threw: what it said
    void busyChanged();                   // busy(), or what keeps the insight waiting, changed

protected:
    // `threadName` names the job thread (for debuggers and ps).
    Insight(Session* session, const QString& threadName, QObject* parent);

    Session* session() const { return m_session; }

    // For an insight of the image on screen (a still image or a frozen frame): `update` runs
    // when its result is shown and when the frame freezes; the running job stops — nothing of it
    // is shown — when another image opens, the frame goes live again, or channels are switched
    // off or on. shown() follows each.
    void followImageOnScreen(std::function<void()> update);

    template <class T>
    using Work = std::function<std::optional<T>(const ProgressFn& progress)>;
    template <class T>
    using Done = std::function<void(std::shared_ptr<const T> value)>;

    // Runs `work` on the job thread, stopping the job that runs. `work` reports to `progress`
    // (false: stop) and returns nullopt when stopped; an exception it throws arrives as
    // failed(what()). `done` runs on the GUI thread with the value unless a newer job was
    // submitted or cancel() was called meanwhile; shown() follows it.
    template <class T>
    void submit(Work<T> work, Done<T> done);

private:
    void submitJob(JobThread::Job job);
    bool endJob(uint64_t jobId);  // true if `jobId` was the job running: busy() is now false

    Session* const m_session;
    JobThread* m_jobs = nullptr;
    uint64_t m_jobId = 0;  // the job running or waiting, 0 if none
};

// The window's running engine, for a runner that compiles its own copy on a job thread: the same
// model, precision, threads and (int8) calibration images as EngineInfo says. changed() says when
// the copy must be compiled again and gives its options (int8 calibrated here, on those images).
class SameEngine {
public:
    bool changed(const EngineInfo& engine, int batch, EngineOptions* options);
    void forget() { m_model.reset(); }  // the copy is gone (its compile threw): changed() next

private:
    std::shared_ptr<const Model> m_model;
    Precision m_precision = Precision::Fp32;
    int m_threads = 0;
    int m_batch = 0;
    std::vector<const Tensor*> m_calibratedOn;  // by identity
};

// What an insight was asked and what it computed: values by key, all for one ComputedFor (what
// the screen showed when they were asked). Storing a value for another ComputedFor empties the
// cache first; at most `capacity` values are kept, the oldest dropped first.
template <class Key, class Value>
class KeyedCache {
public:
    using Ptr = std::shared_ptr<const Value>;

    explicit KeyedCache(size_t capacity) : m_capacity(capacity) {}

    // The value of `key` computed for `on`, or null.
    Ptr find(const ComputedFor& on, const Key& key) const {
        if (on != m_on) return nullptr;
        for (const auto& [k, value] : m_entries)
            if (k == key) return value;
        return nullptr;
    }
    // Every value kept for `on`, oldest first.
    std::vector<Ptr> all(const ComputedFor& on) const {
        std::vector<Ptr> values;
        if (on == m_on)
            for (const auto& entry : m_entries) values.push_back(entry.second);
        return values;
    }
    void store(const ComputedFor& on, const Key& key, Ptr value) {
        if (on != m_on) m_entries.clear();
        m_on = on;
        for (auto it = m_entries.begin(); it != m_entries.end(); ++it)
            if (it->first == key) {
                m_entries.erase(it);
                break;
            }
        m_entries.emplace_back(key, std::move(value));
        if (m_entries.size() > m_capacity) m_entries.pop_front();
    }
    // Records that (`on`, `key`) is asked for; false if it is what was asked last (computing,
    // done, or cancelled by the user), so it is not asked twice.
    bool ask(const ComputedFor& on, const Key& key) {
        if (m_asked && m_asked->first == on && m_asked->second == key) return false;
        m_asked = std::make_pair(on, key);
        return true;
    }
    // The next ask() is granted even for what was asked last.
    void forgetAsked() { m_asked.reset(); }
    void clear() {
        m_entries.clear();
        m_asked.reset();
    }

private:
    size_t m_capacity;
    ComputedFor m_on;
    std::deque<std::pair<Key, Ptr>> m_entries;
    std::optional<std::pair<ComputedFor, Key>> m_asked;
};

template <class T>
void Insight::submit(Work<T> work, Done<T> done) {
    submitJob(
        [this, work = std::move(work), done = std::move(done)](const JobThread::Context& ctx) {
            try {
                std::optional<T> value =
                    work([&ctx](int n, int total) { return ctx.keepGoing(n, total); });
                if (!value) return;  // stopped
                auto made = std::make_shared<const T>(std::move(*value));
                // Runs only while this job is still wanted, so `this` is alive (it owns the
                // thread).
                ctx.deliver([this, done, made, jobId = ctx.jobId()] {
                    const bool ended = endJob(jobId);
                    done(made);
                    emit shown();
                    if (ended) emit busyChanged();
                });
            } catch (const std::exception& error) {
                const QString message = QString::fromUtf8(error.what());
                ctx.deliver([this, message] { emit failed(message); });
            }
        });
}

}  // namespace r18::ui
