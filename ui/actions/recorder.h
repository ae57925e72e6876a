// Recorder: what the window shows for a live source — the frame with its heat map and overlay,
// and a strip with the top-5 (and which channels are switched off) — written to a video file as
// the frames are shown, in real time: each shown frame is repeated until the next one so that the
// file plays at the pace the window showed it. H.264 MP4 where this OpenCV build writes it, else
// MJPG AVI (core/media/video_writer.h). The file is written under a temporary name and renamed
// when the recording stops (by the user, or because the live source stopped), so a half-written
// file never stands under the chosen name. A red "● REC m:ss" label says it is recording.
// The window composes each frame (a few milliseconds); a thread of the recorder's own encodes
// them, so the window never waits for the encoder. If the encoder falls behind by more than a
// few frames, a frame is left out and the previous one stands in for it: the file keeps the
// window's pace.
#pragma once

#include <QElapsedTimer>
#include <QImage>
#include <QObject>
#include <QString>

#include <memory>

class QLabel;
class QTimer;

namespace r18::ui {

class InputView;
class Session;
class Encoder;

class Recorder : public QObject {
    Q_OBJECT

public:
    Recorder(Session* session, InputView* input, QObject* parent = nullptr);
    ~Recorder() override;

    static constexpr double kFps = 30.0;

    // Starts recording to `path` (.mp4 or .avi): false with `error` set if no live source runs,
    // the format cannot be written, or the path is the live source's own file.
    bool start(const QString& path, QString* error);
    // Stops and keeps the file; returns its path ("" if nothing was recorded).
    QString stop();
    bool recording() const { return m_recording; }
    int frames() const;  // frames in the file so far (encoded)
    QLabel* indicator() const { return m_indicator; }
    // The frame as it is written: what the window shows, with the top-5 strip.
    QImage composeFrame() const;
    // "H.264 MP4" or "MJPG AVI": what this build writes, and the file extension for it.
    static QString bestFormatName();
    static QString bestExtension();

signals:
    void recordingChanged(bool recording);
    void message(const QString& text);  // for the status bar

private:
    void onResult();
    void fail(const QString& why);

    Session* m_session;
    InputView* m_input;
    std::unique_ptr<Encoder> m_encoder;  // from the first frame on
    int m_scheduled = 0;                 // frames handed to the encoder, repeats included
    QString m_path;
    bool m_recording = false;
    QElapsedTimer m_clock;
    QLabel* m_indicator = nullptr;
    QTimer* m_blink = nullptr;
};

}  // namespace r18::ui
