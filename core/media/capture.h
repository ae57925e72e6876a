// Capture: reads a camera, video file or stream (VideoSource) on a thread of its own and hands
// each frame to a callback on that thread. Nothing is buffered here: whoever receives a frame
// keeps only the newest (the window's worker, LivePipeline), so a slow network drops frames
// instead of queueing them.
//
// Files are paced at their frame rate, like a camera (unless asked not to), and may loop. A camera
// that stops delivering (unplugged) or a file that ends stops the thread with a reason.
// Destroying a Capture never hangs: a read stuck in a driver is abandoned after a short wait and
// its thread left to finish on its own; no callback runs after the destructor returns.
#pragma once

#include <opencv2/core.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/clock.h"

namespace r18 {

struct Frame {
    cv::Mat image;            // BGR 8-bit, mirrored if asked
    uint64_t frameIndex = 0;  // 1 for the first frame read since start()
    Clock::time_point grabbed;
};
using FramePtr = std::shared_ptr<const Frame>;

struct CaptureOptions {
    std::string spec;  // "0", "/dev/video2", a file or a URL
    int width = 0;     // requested camera resolution; 0 keeps the default
    int height = 0;
    bool mirror = false;       // flip horizontally (webcams)
    bool loop = false;         // files: start again at the end
    bool paced = true;         // files: deliver at the file's frame rate, not as fast as possible
    int failAfterFrames = -1;  // test hook: act as if the source died after this many frames
};

// Called on the capture thread, never after the Capture is destroyed.
struct CaptureCallbacks {
    std::function<void(const std::string& label, double fps, int width, int height)> opened;
    std::function<void(const FramePtr& frame, const std::string& label)> frame;
    // The source ended: `error` for a failure (missing, busy, unplugged), else end of file or
    // stop(). `reason` is a sentence naming the source.
    std::function<void(const std::string& reason, bool error)> stopped;
};

class Capture {
public:
    Capture();
    ~Capture();
    Capture(const Capture&) = delete;
    Capture& operator=(const Capture&) = delete;

    // Opens the source on a new thread (letting go of a previous one first); `opened` or
    // `stopped(reason, true)` follows.
    void start(const CaptureOptions& options, CaptureCallbacks callbacks);
    // Asks the thread to stop; `stopped` follows once it has let go of the source.
    void stop();
    bool isRunning() const;
    void setMirror(bool mirror);
    // Frames per second delivered over the last second or so; 0 when stopped.
    double fps() const;

private:
    struct State;
    std::shared_ptr<State> m_state;
};

}  // namespace r18
