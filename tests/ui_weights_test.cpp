// Getting weights: the download (success, wrong hash, server closing mid-transfer, cancel —
// no file left behind on failure) against a local HTTP server; the first-run flow; dropping
// weights onto the window; fine-tuned heads and ResNet34 in the window.
#include <gtest/gtest.h>

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

#include "core/app_data.h"
#include "core/model/weights.h"
#include "tests/qt_test_util.h"
#include "tests/test_util.h"
#include "ui/actions/weights_dialog.h"
#include "ui/actions/weights_downloader.h"
#include "ui/views/architecture_view.h"
#include "ui/views/input_view.h"
#include "ui/views/predictions_view.h"
#include "ui/window/main_window.h"

namespace r18::ui {
namespace {

using test::fixture;

// A one-file HTTP/1.1 server on 127.0.0.1, driven by the test's event loop.
class HttpServer : public QObject {
public:
    enum class Mode { Whole, CloseHalfway, Trickle };
    HttpServer(QByteArray body, Mode mode) : m_body(std::move(body)), m_mode(mode) {
        m_server.listen(QHostAddress::LocalHost, 0);
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            QTcpSocket* socket = m_server.nextPendingConnection();
            connect(socket, &QTcpSocket::readyRead, this, [this, socket] {
                m_request += socket->readAll();
                if (m_request.contains("\r\n\r\n")) respond(socket);
            });
        });
    }
    QUrl url() const {
        return QUrl(QStringLiteral("http://127.0.0.1:%1/weights.pth").arg(m_server.serverPort()));
    }

private:
    void respond(QTcpSocket* socket) {
        socket->write(
            "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: "
            "close\r\nContent-Length: " +
            QByteArray::number(m_body.size()) + "\r\n\r\n");
        if (m_mode == Mode::Whole) {
            socket->write(m_body);
            socket->disconnectFromHost();
        } else if (m_mode == Mode::CloseHalfway) {
            socket->write(m_body.left(m_body.size() / 2));
            socket->flush();
            socket->disconnectFromHost();
        } else {
            auto* timer = new QTimer(socket);
            connect(timer, &QTimer::timeout, socket, [this, socket] {
                socket->write(m_body.mid(m_sent, 16384));
                m_sent += 16384;
            });
            timer->start(20);
        }
    }
    QTcpServer m_server;
    QByteArray m_body;
    Mode m_mode;
    QByteArray m_request;
    qsizetype m_sent = 0;
};

QByteArray fileBytes(const std::string& path) {
    QFile f(QString::fromStdString(path));
    f.open(QIODevice::ReadOnly);
    return f.readAll();
}

QString sha256Prefix(const QByteArray& bytes) {
    return QString::fromLatin1(
        QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex().left(8));
}

QStringList filesIn(const QString& folder) {
    return QDir(folder).entryList(QDir::Files | QDir::Hidden | QDir::System);
}

struct Outcome {
    QString path;
    QString error;
    int progressSignals = 0;
};

Outcome download(HttpServer& server, const QString& prefix, const QString& folder,
                 bool cancelOnProgress = false) {
    WeightsDownloader downloader;
    Outcome o;
    QObject::connect(&downloader, &WeightsDownloader::progress, [&](qint64, qint64, double) {
        ++o.progressSignals;
        if (cancelOnProgress) downloader.cancel();
    });
    QObject::connect(&downloader, &WeightsDownloader::finished,
                     [&](const QString& p) { o.path = p; });
    QObject::connect(&downloader, &WeightsDownloader::failed,
                     [&](const QString& e) { o.error = e; });
    downloader.start({server.url(), QStringLiteral("resnet18-f37072fd.pth"), prefix}, folder);
    EXPECT_TRUE(QTest::qWaitFor([&] { return !o.path.isEmpty() || !o.error.isEmpty(); }, 60000));
    return o;
}

TEST(Download, SuccessKeepsTheVerifiedFile) {
    const QByteArray body = fileBytes(fixture("weights/finetuned10.pth"));
    HttpServer server(body, HttpServer::Mode::Whole);
    const QString folder = QString::fromStdString(test::tempDir());
    const Outcome o = download(server, sha256Prefix(body), folder);
    ASSERT_TRUE(o.error.isEmpty()) << o.error.toStdString();
    EXPECT_EQ(o.path, folder + "/resnet18-f37072fd.pth");
    EXPECT_EQ(fileBytes(o.path.toStdString()), body);
    EXPECT_EQ(filesIn(folder), QStringList{"resnet18-f37072fd.pth"});  // no temporary left over
    EXPECT_GT(o.progressSignals, 0);
}

TEST(Download, WrongHashIsRejectedAndNothingIsLeft) {
    HttpServer server(fileBytes(fixture("weights/finetuned10.pth")), HttpServer::Mode::Whole);
    const QString folder = QString::fromStdString(test::tempDir());
    const Outcome o = download(server, QStringLiteral("00000000"), folder);
    EXPECT_TRUE(o.path.isEmpty());
    EXPECT_TRUE(o.error.contains("checksum mismatch")) << o.error.toStdString();
    EXPECT_TRUE(o.error.contains("does not start with 00000000")) << o.error.toStdString();
    EXPECT_TRUE(filesIn(folder).isEmpty()) << filesIn(folder).join(' ').toStdString();
}

TEST(Download, ServerClosingMidTransferLeavesNothing) {
    const QByteArray body = fileBytes(fixture("weights/finetuned10.pth"));
    HttpServer server(body, HttpServer::Mode::CloseHalfway);
    const QString folder = QString::fromStdString(test::tempDir());
    const Outcome o = download(server, sha256Prefix(body), folder);
    EXPECT_TRUE(o.path.isEmpty());
    EXPECT_TRUE(o.error.contains("nothing was saved")) << o.error.toStdString();
    EXPECT_TRUE(filesIn(folder).isEmpty()) << filesIn(folder).join(' ').toStdString();
}

TEST(Download, CancelLeavesNothing) {
    const QByteArray body = fileBytes(fixture("weights/finetuned10.pth"));
    HttpServer server(body, HttpServer::Mode::Trickle);
    const QString folder = QString::fromStdString(test::tempDir());
    const Outcome o = download(server, sha256Prefix(body), folder, true);
    EXPECT_TRUE(o.error.contains("cancelled")) << o.error.toStdString();
    EXPECT_TRUE(filesIn(folder).isEmpty()) << filesIn(folder).join(' ').toStdString();
}

TEST(Download, GoesWhereTheAppLooks) {
    EXPECT_EQ(WeightsDownloader::defaultFolder().toStdString(), userWeightsDir());
    EXPECT_EQ(WeightsDownloader::official().url.toString().toStdString(),
              "https://download.pytorch.org/models/resnet18-f37072fd.pth");
}

bool anyDefaultWeights() {
    for (const std::string& p : defaultWeightsCandidates())
        if (QFile::exists(QString::fromStdString(p))) return true;
    return false;
}

// First run without weights: the dialog offers the download; downloading loads the model.
TEST(FirstRun, DialogDownloadsAndLoadsTheWeights) {
    if (anyDefaultWeights()) GTEST_SKIP() << "weights exist in a default location on this machine";
    const QByteArray body = fileBytes(fixture("weights/finetuned10.pth"));
    HttpServer server(body, HttpServer::Mode::Whole);
    qputenv("R18_WEIGHTS_URL", server.url().toString().toUtf8());
    qputenv("R18_WEIGHTS_SHA256_PREFIX", sha256Prefix(body).toUtf8());
    MainWindow w(WindowOptions{});
    QSignalSpy models(&w, &MainWindow::modelShown);
    w.show();
    ASSERT_TRUE(test::waitForCount(models, 1, 60000));
    EXPECT_EQ(w.engine().model->trust(), Trust::Untrained);  // demo weights meanwhile
    EXPECT_TRUE(w.bannerText().contains("Untrained demo weights"));
    // The script this binary can reach, by its path (an installed app names its own
    // fetch-weights.sh, never the source tree's weights/fetch.sh).
    ASSERT_FALSE(fetchWeightsScript().empty());
    EXPECT_TRUE(w.bannerText().contains(QString::fromStdString(fetchWeightsScript())))
        << w.bannerText().toStdString();
    EXPECT_FALSE(w.bannerText().contains("<code>weights/fetch.sh</code>"));
    ASSERT_NE(w.weightsDialog(), nullptr);
    EXPECT_TRUE(w.weightsDialog()->isVisible());
    if (qEnvironmentVariableIsSet("R18_SCREENSHOT_DIR")) {  // for people checking the look
        const QString dir = qEnvironmentVariable("R18_SCREENSHOT_DIR");
        QTest::qWait(200);  // let pending layout requests run
        w.grab().save(dir + "/first-run-window.png");
        w.weightsDialog()->grab().save(dir + "/first-run-dialog.png");
    }
    w.weightsDialog()->startDownload();
    ASSERT_TRUE(test::waitForCount(models, 2, 60000));
    EXPECT_EQ(w.engine().model->file(), userWeightsDir() + "/resnet18-f37072fd.pth");
    EXPECT_EQ(w.engine().model->spec().numClasses, 10);
    QFile::remove(QString::fromStdString(userWeightsDir() + "/resnet18-f37072fd.pth"));
    qunsetenv("R18_WEIGHTS_URL");
    qunsetenv("R18_WEIGHTS_SHA256_PREFIX");
}

TEST(Models, DroppingWeightsAsksThenSwitchesTheModel) {
    auto w = test::openWindow(fixture("weights/resnet18_seeded.pth"));
    QSignalSpy shown(w.get(), &MainWindow::resultShown);
    w->openFile(QString::fromStdString(test::fixtureImage("dog").path));
    ASSERT_TRUE(test::waitForCount(shown, 1, 30000));
    QSignalSpy models(w.get(), &MainWindow::modelShown);
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(QString::fromStdString(fixture("weights/finetuned10.pth")))});
    QDropEvent drop(QPointF(50, 50), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QDragEnterEvent enter(QPoint(50, 50), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(w.get(), &enter);
    QCoreApplication::sendEvent(w.get(), &drop);
    ASSERT_NE(w->confirmBox(), nullptr);
    EXPECT_TRUE(w->confirmBox()->text().contains("finetuned10.pth"));
    w->confirmBox()->button(QMessageBox::Yes)->click();
    ASSERT_TRUE(test::waitForCount(models, 1, 60000));
    EXPECT_EQ(w->engine().model->spec().numClasses, 10);
    EXPECT_TRUE(QString::fromStdString(w->engine().model->labelsSource())
                    .endsWith("finetuned10.labels.txt"));
    // the image is run again with the new head and its labels
    ASSERT_TRUE(QTest::qWaitFor(
        [&] {
            const auto& p = w->predictionsView()->predictions();
            return !p.empty() && p[0].label.rfind("part ", 0) == 0;
        },
        30000));
}

TEST(Models, ResNet34DiagramFollowsTheDepths) {
    auto w = test::openWindow(fixture("weights/resnet34_seeded.onnx"));
    EXPECT_EQ(w->engine().model->spec().archName(), "ResNet34");
    EXPECT_EQ(w->architectureView()->boxCount(),
              40);  // 3/4/6/3 blocks: 32 convs + 3 projections + 5
    EXPECT_EQ(w->architectureView()->identityArcCount(), 13);
    w->selectNode(QStringLiteral("layer3.5"));
    EXPECT_EQ(w->architectureView()->selected(), "layer3.5");
}

}  // namespace
}  // namespace r18::ui
