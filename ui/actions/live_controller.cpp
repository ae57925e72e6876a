#include "ui/actions/live_controller.h"

#include <QComboBox>
#include <QDateTime>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSettings>
#include <QStandardItemModel>
#include <QStandardPaths>
#include <QTimer>
#include <QVBoxLayout>

#include "core/media/image_io.h"
#include "core/media/video_source.h"
#include "ui/actions/exports.h"
#include "ui/session/session.h"

namespace r18::ui {
namespace {

constexpr int kRecentVideos = 5;
const QString kAskForVideo = QStringLiteral("?video");

bool isCamera(const QString& spec) {
    return QRegularExpression(QStringLiteral("^(/dev/video)?\\d+$")).match(spec).hasMatch();
}

// A file or a stream URL, typed or picked.
QString videoDialog(QWidget* parent, const QString& folder) {
    QDialog dialog(parent);
    dialog.setWindowTitle(QObject::tr("Video File or Stream"));
    auto* layout = new QVBoxLayout(&dialog);
    layout->addWidget(new QLabel(
        QObject::tr("A video file, or a stream URL (rtsp://, http://…) that OpenCV can read:")));
    auto* row = new QHBoxLayout;
    auto* edit = new QLineEdit;
    edit->setPlaceholderText(QStringLiteral("rtsp://camera.local/stream  or  /path/clip.mp4"));
    edit->setMinimumWidth(380);
    auto* browse = new QPushButton(QObject::tr("&Browse…"));
    row->addWidget(edit, 1);
    row->addWidget(browse);
    layout->addLayout(row);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    buttons->button(QDialogButtonBox::Ok)->setText(QObject::tr("&Start"));
    layout->addWidget(buttons);
    QObject::connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
    QObject::connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    QObject::connect(browse, &QPushButton::clicked, &dialog, [&] {
        const QString file = QFileDialog::getOpenFileName(
            &dialog, QObject::tr("Open Video"), folder,
            QObject::tr("Videos (*.mp4 *.avi *.mkv *.mov *.webm *.mjpg *.mpg);;All files (*)"));
        if (!file.isEmpty()) {
            edit->setText(file);
            dialog.accept();
        }
    });
    if (dialog.exec() != QDialog::Accepted) return {};
    return edit->text().trimmed();
}

}  // namespace

LiveController::LiveController(Session* session, QWidget* dialogParent, QObject* parent)
    : QObject(parent), m_session(session), m_dialogParent(dialogParent) {
    m_sources = new QComboBox;
    m_sources->setToolTip(tr("Camera, or a video file or stream"));
    m_sources->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_sources->setMinimumContentsLength(10);
    m_resolution = new QComboBox;
    m_resolution->setToolTip(tr("Camera resolution"));
    m_resolution->addItem(tr("default"), QSize());
    for (const QSize& r : {QSize(640, 480), QSize(1280, 720), QSize(1920, 1080)})
        m_resolution->addItem(QStringLiteral("%1×%2").arg(r.width()).arg(r.height()), r);
    refreshSources();
    auto* refresh = new QTimer(this);
    connect(refresh, &QTimer::timeout, this, [this] {
        if (!m_session->isLive()) refreshSources();
    });
    refresh->start(3000);
    connect(m_sources, &QComboBox::activated, this, [this](int index) {
        if (m_sources->itemData(index).toString() == kAskForVideo)
            askForVideo();
        else
            m_lastIndex = index;
    });
    connect(m_session, &Session::liveStarted, this, [this] { emit runningChanged(true); });
    connect(m_session, &Session::liveStopped, this, [this](const QString&, bool error) {
        emit runningChanged(false);
        if (error) refreshSources();
    });
}

void LiveController::refreshSources() {
    const QString current = m_sources->currentData().toString();
    const std::vector<CameraInfo> cameras = listCameras();
    QStringList entries;
    for (const CameraInfo& c : cameras) entries << QString::number(c.index);
    if (cameras.empty()) entries << QString();
    entries << m_recentVideos << kAskForVideo;
    QStringList existing;
    for (int i = 0; i < m_sources->count(); ++i) existing << m_sources->itemData(i).toString();
    if (existing == entries) return;
    m_sources->clear();
    for (const CameraInfo& c : cameras)
        m_sources->addItem(tr("Camera %1 — %2").arg(c.index).arg(QString::fromStdString(c.name)),
                           QString::number(c.index));
    if (cameras.empty()) {
        m_sources->addItem(tr("No camera found"), QString());
        if (auto* model = qobject_cast<QStandardItemModel*>(m_sources->model()))
            model->item(0)->setEnabled(false);
    }
    for (const QString& video : m_recentVideos) {
        const QString name = QFileInfo(video).fileName();
        m_sources->addItem(name.isEmpty() || video.contains(QStringLiteral("://")) ? video : name,
                           video);
        m_sources->setItemData(m_sources->count() - 1, video, Qt::ToolTipRole);
    }
    m_sources->addItem(tr("Video file or stream…"), kAskForVideo);
    int keep = m_sources->findData(current);
    if (keep < 0 || current == kAskForVideo || current.isEmpty())
        keep = !cameras.empty() ? 0 : (m_recentVideos.isEmpty() ? m_sources->count() - 1 : 1);
    m_sources->setCurrentIndex(keep);
    m_lastIndex = keep;
}

void LiveController::rememberVideo(const QString& spec) {
    m_recentVideos.removeAll(spec);
    m_recentVideos.prepend(spec);
    while (m_recentVideos.size() > kRecentVideos) m_recentVideos.removeLast();
    refreshSources();
    m_sources->setCurrentIndex(m_sources->findData(spec));
    m_lastIndex = m_sources->currentIndex();
}

void LiveController::askForVideo() {
    const QString folder = QSettings().value("files/lastFolder", QDir::homePath()).toString();
    const QString spec = videoDialog(m_dialogParent, folder);
    if (spec.isEmpty()) {
        m_sources->setCurrentIndex(m_lastIndex);
        return;
    }
    start(spec);
}

void LiveController::start(const QString& spec) {
    // A photo picked as the video (or given as --camera) is shown as the still image it is.
    if (const std::string format = stillImageFormat(QFile::encodeName(spec).toStdString());
        !format.empty()) {
        if (m_session->isLive()) m_session->stopLive();
        m_session->openFile(spec);
        emit message(tr("%1 is a still image (%2): opened as an image.")
                         .arg(QFileInfo(spec).fileName(), QString::fromStdString(format)));
        return;
    }
    if (!isCamera(spec)) rememberVideo(spec);
    CaptureThread::Options options;
    options.spec = spec;
    options.mirror = m_mirror;
    options.loop = m_loop;
    options.resolution = m_resolution->currentData().toSize();
    m_session->startLive(options);
}

void LiveController::toggleRunning() {
    if (m_session->isLive()) return m_session->stopLive();
    const QString spec = m_sources->currentData().toString();
    if (spec == kAskForVideo || spec.isEmpty()) return askForVideo();
    start(spec);
}

void LiveController::setFrozen(bool frozen) {
    if (frozen && !m_session->isLive()) {
        emit message(tr("Freeze holds a live frame: start a camera or video first (Space)."));
        return;
    }
    m_session->setFrozen(frozen);
}

void LiveController::setMirror(bool mirror) {
    m_mirror = mirror;
    m_session->capture()->setMirror(mirror);
}

void LiveController::setLoop(bool loop) {
    m_loop = loop;
}

QString LiveController::snapshot(QString* error) {
    const ResultPtr r = m_session->result();
    if (!r || r->display.isNull()) {
        *error = tr("Nothing to save yet.");
        return {};
    }
    QString folder = QStandardPaths::writableLocation(QStandardPaths::PicturesLocation);
    if (folder.isEmpty() || !QDir().mkpath(folder)) folder = QDir::homePath();
    const QString path = QDir(folder).filePath(
        QStringLiteral("resnet18-explorer-%1.png")
            .arg(QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-hhmmss-zzz"))));
    if (const QString problem = Exports::savePng(r->display, path); !problem.isEmpty()) {
        *error = problem;
        return {};
    }
    return path;
}

void LiveController::readSettings(const QSettings& s) {
    m_mirror = s.value("live/mirror", false).toBool();
    m_loop = s.value("live/loop", true).toBool();
    m_resolution->setCurrentIndex(
        std::clamp(s.value("live/resolution", 0).toInt(), 0, m_resolution->count() - 1));
    m_recentVideos = s.value("live/recentVideos").toStringList();
    refreshSources();
}

void LiveController::writeSettings(QSettings& s) const {
    s.setValue("live/mirror", m_mirror);
    s.setValue("live/loop", m_loop);
    s.setValue("live/resolution", m_resolution->currentIndex());
    s.setValue("live/recentVideos", m_recentVideos);
}

}  // namespace r18::ui
