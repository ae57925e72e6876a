// CaptureThread: core's Capture (a camera, video file or stream read on its own thread, frames
// handed to a sink on that thread — the inference worker's newest-wins slot, so the GUI thread
// is not involved) with Qt signals for the Session: opened() and stopped(). Destroying it never
// hangs; see core/media/capture.h.
#pragma once

#include <QObject>
#include <QSize>
#include <QString>

#include <functional>

#include "core/media/capture.h"

namespace r18::ui {

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
    void stop() { m_capture.stop(); }
    bool isRunning() const { return m_capture.isRunning(); }
    void setMirror(bool mirror) { m_capture.setMirror(mirror); }
    // Frames per second delivered over the last second or so.
    double fps() const { return m_capture.fps(); }

signals:
    void opened(const QString& label, double fps, QSize size);
    // The source ended: `error` for a failure (missing, busy, unplugged), else end of file or stop.
    void stopped(const QString& reason, bool error);

private:
    Capture m_capture;
};

}  // namespace r18::ui
