#include "ui/actions/recorder.h"

#include <QFileInfo>
#include <QLabel>
#include <QPainter>
#include <QTimer>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/media/video_writer.h"
#include "ui/session/session.h"
#include "ui/views/input_view.h"

namespace r18::ui {
namespace {

constexpr int kMaxWidth = 1280;
constexpr int kStrip = 28;

}  // namespace

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
    return m_writer ? m_writer->frames() : 0;
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
    QFont f = p.font();
    f.setPixelSize(14);
    p.setFont(f);
    const QRect strip(6, h - kStrip, w - 12, kStrip);
    p.setPen(Qt::white);
    p.drawText(strip, Qt::AlignLeft | Qt::AlignVCenter, top.join(QStringLiteral("   ")));
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
        if (!m_writer) {
            m_writer = std::make_unique<VideoFileWriter>(m_path.toStdString(),
                                                         videoFormatForPath(m_path.toStdString()),
                                                         kFps, cv::Size(bgr.cols, bgr.rows));
            m_clock.start();  // the file's time starts with its first frame
        }
        // Real time: the frame stands until the next one arrives.
        const int due =
            std::max(1, static_cast<int>(std::lround(m_clock.elapsed() * kFps / 1000.0)));
        for (int n = std::max(1, due - m_writer->frames()); n > 0; --n) m_writer->write(bgr);
    } catch (const Error& e) {
        fail(QString::fromStdString(e.what()));
    }
}

void Recorder::fail(const QString& why) {
    m_writer.reset();  // the temporary file goes with it
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
    if (m_writer && m_writer->frames() > 0) {
        try {
            const int n = m_writer->frames();
            m_writer->finish();
            saved = m_path;
            emit message(tr("Video saved: %1 (%2 frames, %3)")
                             .arg(m_path)
                             .arg(n)
                             .arg(QString::fromLatin1(videoFormatName(m_writer->format()))));
        } catch (const Error& e) {
            emit message(
                tr("The video could not be saved: %1").arg(QString::fromStdString(e.what())));
        }
    } else {
        emit message(tr("Nothing was recorded: no live frame was shown."));
    }
    m_writer.reset();
    emit recordingChanged(false);
    return saved;
}

}  // namespace r18::ui
