#include "core/media/capture.h"

#include <opencv2/core.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/error.h"
#include "core/media/video_source.h"

namespace r18 {
namespace {

constexpr auto kCameraSilence = std::chrono::seconds(3);  // no frame for this long: camera lost
constexpr auto kShutdownWait = std::chrono::milliseconds(1500);

}  // namespace

// Shared between the object and its thread, so a thread abandoned in a stuck read can still
// finish safely after the object is gone.
struct Capture::State {
    mutable std::mutex mutex;
    std::condition_variable exited;
    bool owned = true;     // false once the Capture let go of it; guarded by mutex
    bool running = false;  // guarded by mutex
    CaptureCallbacks callbacks;
    std::atomic<bool> stopRequested{false};
    std::atomic<bool> mirror{false};
    std::atomic<double> fps{0.0};
    std::thread thread;

    // Runs `f` with the callbacks if the Capture still owns this state.
    template <typename F>
    void call(F&& f) {
        std::lock_guard<std::mutex> lock(mutex);
        if (owned) f(callbacks);
    }

    // The capture thread's loop. Returns why it ended, and whether that is an error.
    std::pair<std::string, bool> loop(const CaptureOptions& options);

    // Lets go of the thread: joins it if it ends within kShutdownWait, else leaves it to end on
    // its own. No callback runs afterwards.
    void release() {
        stopRequested = true;
        std::unique_lock<std::mutex> lock(mutex);
        owned = false;
        const bool finished = exited.wait_for(lock, kShutdownWait, [this] { return !running; });
        lock.unlock();
        if (!thread.joinable()) return;
        if (finished)
            thread.join();
        else
            thread.detach();  // a read is stuck in the driver; it will end on its own
    }
};

std::pair<std::string, bool> Capture::State::loop(const CaptureOptions& options) {
    std::unique_ptr<VideoSource> source =
        VideoSource::open(options.spec, options.width, options.height);
    const std::string label = source->label();
    const double fileFps = source->fps() > 0 ? source->fps() : 30.0;
    call([&](const CaptureCallbacks& c) {
        if (c.opened) c.opened(label, source->fps(), source->size().width, source->size().height);
    });
    uint64_t frameIndex = 0;
    Clock::time_point start = Clock::now();
    Clock::time_point lastFrame = start;
    Clock::time_point windowStart = start;
    int windowFrames = 0;
    uint64_t sincePace = 0;
    const bool failing = options.failAfterFrames >= 0;
    while (!stopRequested) {
        auto frame = std::make_shared<Frame>();
        const bool ok = (!failing || frameIndex < static_cast<uint64_t>(options.failAfterFrames)) &&
                        source->read(frame->image);
        if (!ok) {
            if (source->isFile() && frameIndex == 0)
                return {options.spec +
                            ": no frame could be read (not a video OpenCV can read, or corrupt).",
                        true};
            if (source->isFile() && !failing) {
                if (options.loop && frameIndex > 0 && source->rewind()) {
                    start = Clock::now();
                    sincePace = 0;
                    continue;
                }
                return {label + ": end of the video.", false};
            }
            if (source->isCamera() && !failing && Clock::now() - lastFrame < kCameraSilence) {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
                continue;
            }
            return {label + " stopped delivering frames (unplugged, or taken by another program).",
                    true};
        }
        frame->grabbed = Clock::now();
        lastFrame = frame->grabbed;
        frame->frameIndex = ++frameIndex;
        if (mirror) cv::flip(frame->image, frame->image, 1);
        if (++windowFrames, frame->grabbed - windowStart > std::chrono::seconds(1)) {
            fps =
                windowFrames / std::chrono::duration<double>(frame->grabbed - windowStart).count();
            windowStart = frame->grabbed;
            windowFrames = 0;
        }
        call([&](const CaptureCallbacks& c) {
            if (c.frame) c.frame(frame, label);
        });
        if (source->isFile() && options.paced) {
            ++sincePace;
            std::this_thread::sleep_until(
                start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                            static_cast<double>(sincePace) / fileFps)));
        }
    }
    return {label + " stopped.", false};
}

Capture::Capture() : m_state(std::make_shared<State>()) {}

Capture::~Capture() {
    m_state->release();
}

bool Capture::isRunning() const {
    std::lock_guard<std::mutex> lock(m_state->mutex);
    return m_state->running;
}

void Capture::setMirror(bool mirror) {
    m_state->mirror = mirror;
}

double Capture::fps() const {
    return m_state->fps.load();
}

void Capture::stop() {
    m_state->stopRequested = true;
}

void Capture::start(const CaptureOptions& options, CaptureCallbacks callbacks) {
    // One source at a time: let a previous thread go first (never waiting on a stuck one).
    if (m_state->thread.joinable()) {
        m_state->release();
        m_state = std::make_shared<State>();
    }
    std::shared_ptr<State> state = m_state;
    state->stopRequested = false;
    state->mirror = options.mirror;
    {
        std::lock_guard<std::mutex> lock(state->mutex);
        state->running = true;
        state->callbacks = std::move(callbacks);
    }
    state->thread = std::thread([state, options] {
        std::pair<std::string, bool> end;
        try {
            end = state->loop(options);
        } catch (...) {  // no exception may leave this thread
            end = {currentExceptionMessage(options.spec), true};
        }
        std::lock_guard<std::mutex> lock(state->mutex);
        state->running = false;
        state->fps = 0.0;
        if (state->owned && state->callbacks.stopped)
            state->callbacks.stopped(end.first, end.second);
        state->exited.notify_all();
    });
}

}  // namespace r18
