#include "ui/actions/recorder.h"

#include <QFileInfo>
#include <QFontMetrics>
#include <QLabel>
#include <QPainter>
#include <QTimer>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "core/error.h"
#include "core/media/video_writer.h"
#include "ui/session/session.h"
#include "ui/views/input_view.h"

namespace r18::ui {
namespace {

constexpr int kMaxWidth = 1280;
constexpr int kStrip = 28;
constexpr size_t kQueued = 8;  // frames waiting for the encoder before one is left out

}  // namespace

// The encoder's thread: writes what it is handed, in order; a frame arriving while kQueued wait
// stands in as a repeat of the previous one. finish() drains the queue and closes the file.
class Encoder {
public:
    explicit Encoder(std::unique_ptr<VideoFileWriter> writer)
        : m_writer(std::move(writer)), m_thread([this] { loop(); }) {}
    ~Encoder() {
        stopThread();  // the writer deletes its temporary file unless finish() renamed it
    }

    // `bgr` written `times` times (times ≥ 1).
    void push(cv::Mat bgr, int times) {
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            if (m_queue.size() >= kQueued && !m_queue.empty())
                m_queue.back().second += times;  // too far behind: the last one stands longer
            else
                m_queue.emplace_back(std::move(bgr), times);
        }
        m_wake.notify_one();
    }
    int frames() const { return m_frames.load(); }
    // The encoder's error, once it had one ("" while all is well).
    std::string error() const {
        std::lock_guard<std::mutex> lock(m_mutex);
        return m_error;
    }
    // Writes what is queued, closes the file and renames it into place. Throws Error.
    void finish() {
        stopThread();
        const std::string why = error();
        if (!why.empty()) throw VideoError(why);
        m_writer->finish();
    }
    VideoFormat format() const { return m_writer->format(); }

private:
    void loop() {
        std::unique_lock<std::mutex> lock(m_mutex);
        for (;;) {
            m_wake.wait(lock, [this] { return m_stop || !m_queue.empty(); });
            if (m_queue.empty()) return;  // stopping, and everything is written
            auto [bgr, times] = std::move(m_queue.front());
            m_queue.pop_front();
            if (!m_error.empty()) continue;  // the file is lost: drain without writing
            lock.unlock();
            std::string failure;
            try {
                for (int n = 0; n < times; ++n) {
                    m_writer->write(bgr);
                    ++m_frames;
                }
            } catch (const std::exception& e) {
                failure = e.what();
            }
            lock.lock();
            if (!failure.empty()) m_error = failure;
        }
    }
    void stopThread() {
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_stop = true;
        }
        m_wake.notify_one();
        if (m_thread.joinable()) m_thread.join();
    }

    std::unique_ptr<VideoFileWriter> m_writer;
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<std::pair<cv::Mat, int>> m_queue;
    bool m_stop = false;
    std::string m_error;
    std::atomic<int> m_frames{0};
    std::thread m_thread;  // last: starts once the rest exists
};

Recorder::Recorder(Session* session, InputView* input, QObject* parent)
    : QObject(parent), m_session(session), m_input(input) {
    m_indicator = new QLabel;
    m_indicator->setStyleSheet(QStringLiteral("color: #d71e1e; font-weight: bold;"));
    m_indicator->hide();
    m_blink = new QTimer(this);
    m_blink->setInterval(500);
    connect(m_blink, &QTimer::timeout, this, [this] {
        const qint64 s = m_clock.elapsed() / 1000;
        m_indicator->setText(tr("● REC %1:%2 · %3 frames")
                                 .arg(s / 60)
                                 .arg(s % 60, 2, 10, QLatin1Char('0'))
                                 .arg(frames()));
    });
    connect(session, &Session::resultShown, this, [this](const ResultPtr& r) {
        if (m_recording && r && r->source->live) onResult();
    });
    connect(session, &Session::liveStopped, this, [this] {
        if (m_recording) stop();
    });
}

Recorder::~Recorder() {
    if (m_recording) stop();
}

QString Recorder::bestFormatName() {
    return QString::fromLatin1(videoFormatName(bestVideoFormat()));
}

QString Recorder::bestExtension() {
    return QString::fromLatin1(videoFormatExtension(bestVideoFormat()));
}

int Recorder::frames() const {
    return m_encoder ? m_encoder->frames() : 0;
}

bool Recorder::start(const QString& path, QString* error) {
    if (m_recording) stop();
    if (!m_session->isLive()) {
        *error = tr("Start a camera or video first (Space): recording writes the live source.");
        return false;
    }
    const QFileInfo target(path);
    const QFileInfo source(m_session->liveLabel());
    if (source.exists() && target.exists() &&
        target.canonicalFilePath() == source.canonicalFilePath()) {
        *error = tr("%1 is the video being played; choose another file to record to.").arg(path);
        return false;
    }
    try {
        (void)videoFormatForPath(path.toStdString());  // .mp4 this build cannot write: say so now
    } catch (const Error& e) {
        *error = QString::fromStdString(e.what());
        return false;
    }
    m_path = path;
    m_recording = true;
    m_clock.start();
    m_indicator->setText(tr("● REC 0:00"));
    m_indicator->show();
    m_blink->start();
    emit recordingChanged(true);
    return true;
}

QImage Recorder::composeFrame() const {
    QImage shown = m_input->composite();
    if (shown.isNull()) return {};
    if (shown.width() > kMaxWidth) shown = shown.scaledToWidth(kMaxWidth, Qt::SmoothTransformation);
    // Even sizes: H.264 encoders want them.
    const int w = shown.width() & ~1;
    const int h = (shown.height() + kStrip) & ~1;
    QImage frame(w, h, QImage::Format_RGB32);
    frame.fill(QColor(20, 20, 20));
    QPainter p(&frame);
    p.drawImage(0, 0, shown);
    const ResultPtr r = m_session->result();
    QStringList top;
    if (r)
        for (size_t i = 0; i < r->top.size(); ++i)
            top << QStringLiteral("%1. %2 %3%")
                       .arg(i + 1)
                       .arg(QString::fromStdString(r->top[i].label))
                       .arg(100.0 * r->top[i].probability, 0, 'f', 1);
    const QRect strip(6, h - kStrip, w - 12, kStrip);
    const QString text = top.join(QStringLiteral("   "));
    // All five on the strip: a smaller font where the frame is narrow, then "…" at the end.
    QFont f = p.font();
    for (int px = 14; px >= 9; --px) {
        f.setPixelSize(px);
        if (QFontMetrics(f).horizontalAdvance(text) <= strip.width()) break;
    }
    p.setFont(f);
    p.setPen(Qt::white);
    p.drawText(strip, Qt::AlignLeft | Qt::AlignVCenter,
               QFontMetrics(f).elidedText(text, Qt::ElideRight, strip.width()));
    const QString off = m_session->ablationsText();
    if (!off.isEmpty()) {
        p.setPen(QColor(255, 90, 90));
        p.drawText(QRect(6, 4, w - 12, 20), Qt::AlignLeft | Qt::AlignTop,
                   tr("switched off: %1").arg(off));
    }
    return frame;
}

void Recorder::onResult() {
    const QImage frame = composeFrame().convertToFormat(QImage::Format_RGB888);
    if (frame.isNull()) return;
    const cv::Mat rgb(frame.height(), frame.width(), CV_8UC3, const_cast<uchar*>(frame.bits()),
                      static_cast<size_t>(frame.bytesPerLine()));
    cv::Mat bgr;
    cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
    try {
        if (!m_encoder) {
            m_encoder = std::make_unique<Encoder>(std::make_unique<VideoFileWriter>(
                m_path.toStdString(), videoFormatForPath(m_path.toStdString()), kFps,
                cv::Size(bgr.cols, bgr.rows)));
            m_scheduled = 0;
            m_clock.start();  // the file's time starts with its first frame
        }
    } catch (const Error& e) {
        return fail(QString::fromStdString(e.what()));
    }
    const std::string error = m_encoder->error();
    if (!error.empty()) return fail(QString::fromStdString(error));
    // Real time: the frame stands until the next one arrives.
    const int due = std::max(1, static_cast<int>(std::lround(m_clock.elapsed() * kFps / 1000.0)));
    const int times = std::max(1, due - m_scheduled);
    m_scheduled += times;
    m_encoder->push(std::move(bgr), times);
}

void Recorder::fail(const QString& why) {
    m_encoder.reset();  // the temporary file goes with it
    m_recording = false;
    m_blink->stop();
    m_indicator->hide();
    emit recordingChanged(false);
    emit message(tr("Recording stopped: %1").arg(why));
}

QString Recorder::stop() {
    if (!m_recording) return {};
    m_recording = false;
    m_blink->stop();
    m_indicator->hide();
    QString saved;
    if (m_encoder && m_scheduled > 0) {
        try {
            m_encoder->finish();  // the queued frames, then the rename
            saved = m_path;
            emit message(tr("Video saved: %1 (%2 frames, %3)")
                             .arg(m_path)
                             .arg(m_encoder->frames())
                             .arg(QString::fromLatin1(videoFormatName(m_encoder->format()))));
        } catch (const Error& e) {
            emit message(
                tr("The video could not be saved: %1").arg(QString::fromStdString(e.what())));
        }
    } else {
        emit message(tr("Nothing was recorded: no live frame was shown."));
    }
    m_encoder.reset();
    emit recordingChanged(false);
    return saved;
}

}  // namespace r18::ui
