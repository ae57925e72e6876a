// CaptureThread: reads a camera, video file or stream on its own thread and hands each frame to
// a sink called on that thread (the inference worker's newest-wins slot: the GUI thread is not
// involved). Nothing is buffered here, and the worker keeps only the newest request, so a slow
// network drops frames instead of queueing them.
//
// Files are paced at their frame rate, like a camera. A camera that stops delivering (unplugged)
// or a file that ends stops the thread with a reason. Destroying it never hangs: a read stuck
// in a driver is abandoned after a short wait and its thread left to finish on its own.
#pragma once

#include <QMetaType>
#include <QObject>
#include <QSize>
#include <QString>

#include <opencv2/core.hpp>

#include <chrono>
#include <functional>
#include <memory>

namespace r18::ui {

struct Frame {
    cv::Mat image;  // BGR 8-bit, mirrored if asked
    uint64_t sequence = 0;
    std::chrono::steady_clock::time_point grabbed;
};
using FramePtr = std::shared_ptr<const Frame>;

class CaptureThread : public QObject {
    Q_OBJECT

public:
    struct Options {
        QString spec;         // "0", "/dev/video2", a file or a URL
        QSize resolution;     // requested camera resolution; invalid keeps the default
        bool mirror = false;  // flip horizontally (webcams)
        bool loop = false;    // files: start again at the end
        bool paced = true;    // files: deliver at the file's frame rate, not as fast as possible
        int failAfterFrames = -1;  // test hook: act as if the source died after this many frames
    };

    // Called on the capture thread for every frame, never after the CaptureThread is destroyed.
    using Sink = std::function<void(const FramePtr& frame, const QString& label)>;

    explicit CaptureThread(QObject* parent = nullptr);
    ~CaptureThread() override;

    // Opens the source on the capture thread; emits opened() or stopped(reason, true). Frames go
    // to `sink`.
    void start(const Options& options, Sink sink);
    // Stops; stopped() follows once the thread has let go of the source.
    void stop();
    bool isRunning() const;
    void setMirror(bool mirror);
    // Frames per second delivered over the last second or so.
    double fps() const;

signals:
    void opened(const QString& label, double fps, QSize size);
    // The source ended: `error` for a failure (missing, busy, unplugged), else end of file or stop.
    void stopped(const QString& reason, bool error);

private:
    struct State;
    std::shared_ptr<State> m_state;
};

}  // namespace r18::ui

Q_DECLARE_METATYPE(r18::ui::FramePtr)
