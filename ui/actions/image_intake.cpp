#include "ui/actions/image_intake.h"

#include <QClipboard>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QGuiApplication>
#include <QImage>
#include <QMimeData>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSettings>

#include "core/batch.h"
#include "core/error.h"
#include "core/media/image_io.h"
#include "ui/actions/model_controller.h"
#include "ui/session/session.h"

namespace r18::ui {
namespace {

constexpr qint64 kMaxDownload = qint64{256} << 20;

void rememberFolder(const QString& file) {
    QSettings().setValue("files/lastFolder", QFileInfo(file).absolutePath());
}

}  // namespace

QString imageFileFilter() {
    QStringList globs;
    for (const std::string& suffix : imageSuffixes()) {
        const QString s = QString::fromStdString(suffix);
        globs << "*." + s << "*." + s.toUpper();
    }
    return QObject::tr("Images (%1);;All files (*)").arg(globs.join(' '));
}

ImageIntake::ImageIntake(Session* session, ModelController* models, QWidget* window,
                         QObject* parent)
    : QObject(parent), m_session(session), m_models(models), m_window(window) {}

void ImageIntake::openDialog() {
    const QStringList paths = QFileDialog::getOpenFileNames(
        m_window, tr("Open Images"),
        QSettings().value("files/lastFolder", QDir::homePath()).toString(), imageFileFilter());
    if (paths.size() == 1)
        openFile(paths.first());
    else if (!paths.isEmpty())
        openFiles(paths);
}

void ImageIntake::openFiles(const QStringList& paths) {
    if (paths.isEmpty()) return;
    if (paths.size() == 1) return openFile(paths.first());
    m_sequence = paths;
    m_sequenceIsFolder = false;
    emit opened(paths.first());
    show(0);
}

void ImageIntake::openFile(const QString& path) {
    m_sequence.clear();
    m_sequenceIsFolder = true;
    try {
        for (const std::string& f : findImages(QFileInfo(path).absolutePath().toStdString(), false))
            m_sequence << QString::fromStdString(f);
    } catch (const Error&) {
        // an unreadable folder: just this file
    }
    const QString absolute = QFileInfo(path).absoluteFilePath();
    int at = static_cast<int>(m_sequence.indexOf(absolute));
    if (at < 0) {
        m_sequence = {path};
        at = 0;
    }
    m_position = at;
    rememberFolder(path);
    emit opened(path);
    m_session->openFile(path);
}

void ImageIntake::show(int position) {
    m_position = position;
    const QString path = m_sequence[position];
    rememberFolder(path);
    m_session->openFile(path);
    if (m_sequence.size() > 1)
        emit message(tr("%1 of %2: %3")
                         .arg(position + 1)
                         .arg(m_sequence.size())
                         .arg(QFileInfo(path).fileName()));
}

bool ImageIntake::step(int delta) {
    const int next = m_position + delta;
    if (m_sequence.isEmpty() || next < 0 || next >= m_sequence.size()) {
        emit message(
            m_sequence.size() > 1
                ? (delta > 0 ? tr("This is the last image %1.") : tr("This is the first image %1."))
                      .arg(m_sequenceIsFolder ? tr("in its folder") : tr("opened"))
                : tr("Open an image, or several, to step through them."));
        return false;
    }
    show(next);
    return true;
}

void ImageIntake::paste() {
    const QMimeData* mime = QGuiApplication::clipboard()->mimeData();
    if (!mime || !openMime(mime))
        emit message(tr("The clipboard holds no image, image file or image URL."));
}

bool ImageIntake::openMime(const QMimeData* mime) {
    if (mime->hasUrls() && !mime->urls().isEmpty() && mime->urls().first().isLocalFile()) {
        openUrls(mime->urls());
        return true;
    }
    if (mime->hasImage()) {
        m_session->openImage(qvariant_cast<QImage>(mime->imageData()), tr("pasted image"));
        return true;
    }
    if (mime->hasUrls() && !mime->urls().isEmpty()) {
        openUrls(mime->urls());
        return true;
    }
    const QString text = mime->text().trimmed();
    if (text.isEmpty()) return false;
    const QUrl url(text);
    if (QFileInfo(text).exists()) {
        openUrls({QUrl::fromLocalFile(text)});
        return true;
    }
    if (url.isLocalFile() || url.scheme() == "http" || url.scheme() == "https") {
        openUrls({url});
        return true;
    }
    return false;
}

void ImageIntake::openUrls(const QList<QUrl>& urls) {
    QStringList files;
    for (const QUrl& url : urls) {
        if (!url.isLocalFile()) continue;
        const QString path = url.toLocalFile();
        if (QFileInfo(path).isDir()) return emit folderDropped(path);
        if (ModelController::isWeightsFile(path)) return m_models->confirmWeightsDrop(path);
        files << path;
    }
    if (!files.isEmpty()) return openFiles(files);
    for (const QUrl& url : urls) {
        if (url.scheme() != "http" && url.scheme() != "https") continue;
        if (!m_network) m_network = new QNetworkAccessManager(this);
        emit message(tr("Downloading %1…").arg(url.toDisplayString()));
        QNetworkRequest req(url);
        req.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                         QNetworkRequest::NoLessSafeRedirectPolicy);
        QNetworkReply* reply = m_network->get(req);
        connect(reply, &QNetworkReply::downloadProgress, reply, [reply](qint64 received) {
            if (received > kMaxDownload) reply->abort();  // no image is that large
        });
        connect(reply, &QNetworkReply::finished, this, [this, reply, url] {
            reply->deleteLater();
            if (reply->bytesAvailable() > kMaxDownload ||
                reply->error() == QNetworkReply::OperationCanceledError)
                return emit error(tr("Could not download %1").arg(url.fileName()),
                                  tr("%1: larger than %2 MB, too large for an image.")
                                      .arg(url.toDisplayString())
                                      .arg(kMaxDownload >> 20));
            if (reply->error() != QNetworkReply::NoError)
                return emit error(tr("Could not download %1").arg(url.fileName()),
                                  tr("%1: %2").arg(url.toDisplayString(), reply->errorString()));
            m_session->openBytes(reply->readAll(), url.toDisplayString());
        });
        return;
    }
    emit message(tr("Nothing to open: drop image files or image URLs."));
}

}  // namespace r18::ui
