#include "ui/actions/weights_downloader.h"

#include <QDir>
#include <QFile>
#include <QNetworkReply>
#include <QStandardPaths>

#include "core/error.h"
#include "core/model/weights.h"

namespace r18::ui {
namespace {

constexpr int kStallTimeoutMs = 30'000;

QString megabytes(qint64 bytes) {
    return QString::number(bytes / 1048576.0, 'f', 1);
}

}  // namespace

WeightsDownloader::Target WeightsDownloader::official() {
    Target t;
    t.fileName = QString::fromLatin1(kOfficialWeightsName);
    t.url = QUrl(QStringLiteral("https://download.pytorch.org/models/") + t.fileName);
    t.sha256Prefix = QString::fromLatin1(kOfficialWeightsHashPrefix);
    if (qEnvironmentVariableIsSet("R18_WEIGHTS_URL"))
        t.url = QUrl(qEnvironmentVariable("R18_WEIGHTS_URL"));
    if (qEnvironmentVariableIsSet("R18_WEIGHTS_SHA256_PREFIX"))
        t.sha256Prefix = qEnvironmentVariable("R18_WEIGHTS_SHA256_PREFIX");
    return t;
}

QString WeightsDownloader::defaultFolder() {
    return QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) +
           QStringLiteral("/resnet18-explorer");
}

WeightsDownloader::WeightsDownloader(QObject* parent) : QObject(parent) {}

WeightsDownloader::~WeightsDownloader() {
    if (m_reply) {
        m_cancelled = true;
        m_reply->abort();
    }
}

void WeightsDownloader::start(const Target& target, const QString& folder) {
    if (m_reply) return;
    m_target = target;
    m_cancelled = false;
    m_received = 0;
    m_hash.reset();
    if (!QDir().mkpath(folder)) return fail(tr("%1: the folder cannot be created.").arg(folder));
    m_path = QDir(folder).filePath(target.fileName);
    m_writeError.clear();
    try {
        m_file = std::make_unique<AtomicFile>(QFile::encodeName(m_path).toStdString());
    } catch (const Error& e) {
        return fail(QString::fromStdString(e.what()));
    }
    QNetworkRequest request(target.url);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                         QNetworkRequest::NoLessSafeRedirectPolicy);
    request.setTransferTimeout(kStallTimeoutMs);
    m_clock.start();
    m_reply = m_network.get(request);
    connect(m_reply, &QNetworkReply::readyRead, this, &WeightsDownloader::onReadyRead);
    connect(m_reply, &QNetworkReply::finished, this, &WeightsDownloader::onFinished);
    connect(m_reply, &QNetworkReply::downloadProgress, this, [this](qint64 received, qint64 total) {
        const double seconds = std::max(m_clock.elapsed(), qint64{1}) / 1000.0;
        emit progress(received, total, static_cast<double>(received) / seconds);
    });
}

void WeightsDownloader::cancel() {
    if (!m_reply) return;
    m_cancelled = true;
    m_reply->abort();  // finished() follows
}

void WeightsDownloader::onReadyRead() {
    const QByteArray chunk = m_reply->readAll();
    m_received += chunk.size();
    m_hash.addData(chunk);
    if (!write(chunk)) {
        m_cancelled = false;
        m_reply->abort();
    }
}

void WeightsDownloader::onFinished() {
    QNetworkReply* reply = m_reply;
    m_reply = nullptr;
    reply->deleteLater();
    if (reply->bytesAvailable() > 0) {
        const QByteArray rest = reply->readAll();
        m_received += rest.size();
        m_hash.addData(rest);
        write(rest);
    }
    const QString source = m_target.url.toDisplayString();
    if (m_cancelled) return fail(tr("The download was cancelled; nothing was saved."));
    if (!m_writeError.isEmpty()) return fail(tr("%1 Nothing was saved.").arg(m_writeError));
    if (reply->error() != QNetworkReply::NoError)
        return fail(tr("%1: the download failed after %2 MB (%3); nothing was saved.")
                        .arg(source, megabytes(m_received), reply->errorString()));
    const qint64 expected = reply->header(QNetworkRequest::ContentLengthHeader).toLongLong();
    if (expected > 0 && m_received != expected)
        return fail(tr("%1: the server sent %2 of %3 MB; nothing was saved.")
                        .arg(source, megabytes(m_received), megabytes(expected)));
    const QString digest = QString::fromLatin1(m_hash.result().toHex());
    if (!digest.startsWith(m_target.sha256Prefix, Qt::CaseInsensitive))
        return fail(tr("%1: checksum mismatch: SHA-256 %2 does not start with %3, so this is not "
                       "the expected "
                       "file; nothing was saved.")
                        .arg(source, digest, m_target.sha256Prefix));
    try {
        m_file->commit();
    } catch (const Error& e) {
        return fail(QString::fromStdString(e.what()));
    }
    m_file.reset();
    emit finished(m_path);
}

bool WeightsDownloader::write(const QByteArray& bytes) {
    if (!m_writeError.isEmpty() || !m_file) return false;
    try {
        m_file->write(bytes.constData(), static_cast<size_t>(bytes.size()));
        return true;
    } catch (const Error& e) {
        m_writeError = QString::fromStdString(e.what());
        return false;
    }
}

void WeightsDownloader::fail(const QString& message) {
    m_file.reset();  // AtomicFile removes its temporary file; the target is untouched
    emit failed(message);
}

}  // namespace r18::ui
