#include "ui/session/capture_thread.h"

#include <QFileInfo>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/error.h"
#include "core/media/video_source.h"

namespace r18::ui {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kCameraSilence = std::chrono::seconds(3);  // no frame for this long: camera lost
constexpr auto kShutdownWait = std::chrono::milliseconds(1500);

}  // namespace

// Shared between the object and its thread, so a thread abandoned in a stuck read can still
// finish safely after the object is gone.
struct CaptureThread::State {
    std::mutex mutex;
    std::condition_variable exited;
    CaptureThread* owner = nullptr;  // null once the object is destroyed; guarded by mutex
    bool running = false;            // guarded by mutex
    std::atomic<bool> stopRequested{false};
    std::atomic<bool> mirror{false};
    std::atomic<double> fps{0.0};
    std::thread thread;

    // Emits through the owner if it still exists.
    template <typename F>
    void withOwner(F&& f) {
        std::lock_guard<std::mutex> lock(mutex);
        if (owner) f(owner);
    }
};

CaptureThread::CaptureThread(QObject* parent)
    : QObject(parent), m_state(std::make_shared<State>()) {
    qRegisterMetaType<FramePtr>("r18::ui::FramePtr");
    m_state->owner = this;
}

CaptureThread::~CaptureThread() {
    stop();
    std::unique_lock<std::mutex> lock(m_state->mutex);
    m_state->owner = nullptr;
    const bool finished =
        m_state->exited.wait_for(lock, kShutdownWait, [this] { return !m_state->running; });
    lock.unlock();
    if (m_state->thread.joinable()) {
        if (finished)
            m_state->thread.join();
        else
            m_state->thread.detach();  // a read is stuck in the driver; it will end on its own
    }
}

bool CaptureThread::isRunning() const {
    std::lock_guard<std::mutex> lock(m_state->mutex);
    return m_state->running;
}

void CaptureThread::setMirror(bool mirror) {
    m_state->mirror = mirror;
}

double CaptureThread::fps() const {
    return m_state->fps.load();
}

void CaptureThread::stop() {
    m_state->stopRequested = true;
}

void CaptureThread::start(const Options& options, Sink sink) {
    // One source at a time: let a previous thread go first (never waiting on a stuck one).
    if (m_state->thread.joinable()) {
        stop();
        std::unique_lock<std::mutex> lock(m_state->mutex);
        const bool finished =
            m_state->exited.wait_for(lock, kShutdownWait, [this] { return !m_state->running; });
        m_state->owner = nullptr;
        lock.unlock();
        if (finished)
            m_state->thread.join();
        else
            m_state->thread.detach();
        m_state = std::make_shared<State>();
        m_state->owner = this;
    }
    std::shared_ptr<State> state = m_state;
    state->stopRequested = false;
    state->mirror = options.mirror;
    {
        std::lock_guard<std::mutex> lock(state->mutex);
        state->running = true;
    }
    state->thread = std::thread([state, options, sink = std::move(sink)] {
        QString reason;
        bool error = false;
        try {
            const std::string spec = options.spec.toStdString();
            std::unique_ptr<VideoSource> source =
                VideoSource::open(spec, options.resolution.width(), options.resolution.height());
            const QString label = QString::fromStdString(source->label());
            const double fileFps = source->fps() > 0 ? source->fps() : 30.0;
            state->withOwner([&](CaptureThread* o) {
                emit o->opened(label, source->fps(),
                               QSize(source->size().width, source->size().height));
            });
            uint64_t sequence = 0;
            Clock::time_point start = Clock::now();
            Clock::time_point lastFrame = start;
            Clock::time_point windowStart = start;
            int windowFrames = 0;
            uint64_t sincePace = 0;
            while (!state->stopRequested) {
                auto frame = std::make_shared<Frame>();
                const bool ok = (options.failAfterFrames < 0 ||
                                 sequence < static_cast<uint64_t>(options.failAfterFrames)) &&
                                source->read(frame->image);
                if (!ok) {
                    if (source->isFile() && sequence == 0) {
                        reason = QObject::tr(
                                     "%1: no frame could be read (not a video OpenCV can read, or "
                                     "corrupt).")
                                     .arg(options.spec);
                        error = true;
                        break;
                    }
                    if (source->isFile() && options.failAfterFrames < 0) {
                        if (options.loop && sequence > 0 && source->rewind()) {
                            start = Clock::now();
                            sincePace = 0;
                            continue;
                        }
                        reason = QObject::tr("%1: end of the video.").arg(label);
                        break;
                    }
                    if (source->isCamera() && options.failAfterFrames < 0 &&
                        Clock::now() - lastFrame < kCameraSilence) {
                        std::this_thread::sleep_for(std::chrono::milliseconds(20));
                        continue;
                    }
                    reason = QObject::tr(
                                 "%1 stopped delivering frames (unplugged, or taken by another "
                                 "program).")
                                 .arg(label);
                    error = true;
                    break;
                }
                frame->grabbed = Clock::now();
                lastFrame = frame->grabbed;
                frame->sequence = ++sequence;
                if (state->mirror) cv::flip(frame->image, frame->image, 1);
                if (++windowFrames, frame->grabbed - windowStart > std::chrono::seconds(1)) {
                    state->fps =
                        windowFrames /
                        std::chrono::duration<double>(frame->grabbed - windowStart).count();
                    windowStart = frame->grabbed;
                    windowFrames = 0;
                }
                state->withOwner([&](CaptureThread*) { sink(frame, label); });
                if (source->isFile() && options.paced) {
                    ++sincePace;
                    std::this_thread::sleep_until(
                        start + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(sincePace / fileFps)));
                }
            }
            if (state->stopRequested && reason.isEmpty())
                reason = QObject::tr("%1 stopped.").arg(label);
        } catch (...) {  // no exception may leave this thread
            reason = QString::fromStdString(currentExceptionMessage(options.spec.toStdString()));
            error = true;
        }
        std::lock_guard<std::mutex> lock(state->mutex);
        state->running = false;
        state->fps = 0.0;
        if (state->owner) emit state->owner->stopped(reason, error);
        state->exited.notify_all();
    });
}

}  // namespace r18::ui
