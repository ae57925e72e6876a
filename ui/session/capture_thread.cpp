#include "ui/session/capture_thread.h"

namespace r18::ui {

CaptureThread::CaptureThread(QObject* parent) : QObject(parent) {}

CaptureThread::~CaptureThread() = default;  // m_capture lets go of its thread first

void CaptureThread::start(const Options& options, Sink sink) {
    CaptureOptions o;
    o.spec = options.spec.toStdString();
    o.width = options.resolution.isValid() ? options.resolution.width() : 0;
    o.height = options.resolution.isValid() ? options.resolution.height() : 0;
    o.mirror = options.mirror;
    o.loop = options.loop;
    o.paced = options.paced;
    o.failAfterFrames = options.failAfterFrames;
    CaptureCallbacks callbacks;
    callbacks.opened = [this](const std::string& label, double fps, int width, int height) {
        emit opened(QString::fromStdString(label), fps, QSize(width, height));
    };
    callbacks.frame = [sink = std::move(sink)](const FramePtr& frame, const std::string& label) {
        sink(frame, QString::fromStdString(label));
    };
    callbacks.stopped = [this](const std::string& reason, bool error) {
        emit stopped(QString::fromStdString(reason), error);
    };
    m_capture.start(o, std::move(callbacks));
}

}  // namespace r18::ui
