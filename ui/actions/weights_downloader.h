// WeightsDownloader: fetches a weights file over HTTP(S) into a folder, hashing it as it
// arrives. The file appears (core's AtomicFile: a temporary file beside it, renamed over it) only
// when the transfer completed and its
// SHA-256 starts with the expected prefix, as torchvision checks its files; a failure or a
// cancel leaves nothing behind and says why.
#pragma once

#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QNetworkAccessManager>
#include <QObject>
#include <QUrl>

#include <memory>

#include "core/files.h"

class QNetworkReply;

namespace r18::ui {

class WeightsDownloader : public QObject {
    Q_OBJECT

public:
    struct Target {
        QUrl url;
        QString fileName;      // name of the file in the folder
        QString sha256Prefix;  // hex digits the file's SHA-256 must start with
    };
    // torchvision's ResNet18 IMAGENET1K_V1 file. For tests only, R18_WEIGHTS_URL and
    // R18_WEIGHTS_SHA256_PREFIX override the URL and the expected hash.
    static Target official();
    // Where downloads go: QStandardPaths' generic data location + "/resnet18-explorer", which
    // is core's userWeightsDir() on Linux, so the app finds the file at its next start.
    static QString defaultFolder();

    explicit WeightsDownloader(QObject* parent = nullptr);
    ~WeightsDownloader() override;

    void start(const Target& target, const QString& folder);
    void cancel();
    bool isRunning() const { return m_reply != nullptr; }

signals:
    void progress(qint64 received, qint64 total, double bytesPerSecond);
    void finished(const QString& path);
    void failed(const QString& message);

private:
    void onReadyRead();
    void onFinished();
    bool write(const QByteArray& bytes);  // false (m_writeError set) once a write failed
    void fail(const QString& message);

    QNetworkAccessManager m_network;
    QNetworkReply* m_reply = nullptr;
    std::unique_ptr<AtomicFile> m_file;
    QString m_writeError;  // the first write that failed, if any
    QCryptographicHash m_hash{QCryptographicHash::Sha256};
    QElapsedTimer m_clock;
    Target m_target;
    QString m_path;
    qint64 m_received = 0;
    bool m_cancelled = false;
};

}  // namespace r18::ui
