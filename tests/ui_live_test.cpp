// Live sources, offscreen, driven by a video made from the fixture photos: results per frame
// that follow the content, end of file, a slow engine dropping frames instead of queueing
// them, a source dying mid-stream, a missing camera, freezing, and closing while busy.
#include <gtest/gtest.h>

#include <QElapsedTimer>
#include <QSignalSpy>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "tests/qt_test_util.h"
#include "tests/test_util.h"
#include "ui/feature_map_view.h"
#include "ui/inference_worker.h"
#include "ui/main_window.h"
#include "ui/predictions_view.h"

namespace r18::ui {
namespace {

using test::fixture;

// An MJPG AVI with `perPhoto` frames of each photo in turn, at `fps`.
std::string makeVideo(const std::vector<std::string>& photos, int perPhoto, double fps) {
    const std::string path = test::tempDir() + "/clip.avi";
    cv::VideoWriter writer(path, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), fps,
                           cv::Size(320, 240));
    EXPECT_TRUE(writer.isOpened());
    for (const std::string& id : photos) {
        cv::Mat frame;
        cv::resize(cv::imread(test::fixtureImage(id).path), frame, cv::Size(320, 240), 0, 0,
                   cv::INTER_AREA);
        for (int i = 0; i < perPhoto; ++i) writer.write(frame);
    }
    return path;
}

CaptureThread::Options fileOptions(const std::string& path, bool paced = true) {
    CaptureThread::Options o;
    o.spec = QString::fromStdString(path);
    o.paced = paced;
    o.loop = false;
    return o;
}

TEST(Live, PredictionsFollowTheFramesUntilTheVideoEnds) {
    auto w = test::openWindow(fixture("weights/resnet18_seeded.pth"), QStringLiteral("layer1.0"),
                              QSize(1200, 800));
    const std::string clip = makeVideo({"dog", "eagle", "kite"}, 8, 10.0);
    std::vector<std::string> top1;
    QObject::connect(w.get(), &MainWindow::resultShown, [&] {
        const auto& p = w->predictionsView()->predictions();
        if (!p.empty() && (top1.empty() || top1.back() != p[0].label)) top1.push_back(p[0].label);
    });
    QSignalSpy stopped(w.get(), &MainWindow::liveStopped);
    w->startLive(fileOptions(clip));
    ASSERT_TRUE(test::waitForCount(stopped, 1, 60000));
    EXPECT_FALSE(stopped.first().at(1).toBool());  // not an error
    EXPECT_TRUE(stopped.first().at(0).toString().contains("end of the video"))
        << stopped.first().at(0).toString().toStdString();
    EXPECT_EQ(top1, (std::vector<std::string>{"Samoyed", "bald eagle", "kite"}));
    const auto stats = w->liveStats();
    EXPECT_GE(stats.framesShown, 6u);
    EXPECT_GT(stats.latencyMs, 0.0);
    EXPECT_EQ(w->featureMapView()->channelCount(), 64);  // the selected layer updates per frame
    EXPECT_FALSE(w->isLive());
    std::printf("[ live ] %llu frames shown of 24, latency %.0f ms, %llu dropped\n",
                static_cast<unsigned long long>(stats.framesShown), stats.latencyMs,
                static_cast<unsigned long long>(stats.framesDropped));
}

TEST(Live, ASlowEngineDropsFramesInsteadOfQueueingThem) {
    auto w = test::openWindow(fixture("weights/resnet18_seeded.pth"), QStringLiteral("layer1.0"),
                              QSize(1200, 800));
    w->worker()->setExtraLatencyForTesting(250);
    const std::string clip = makeVideo({"dog", "eagle"}, 20, 30.0);
    QSignalSpy stopped(w.get(), &MainWindow::liveStopped);
    QSignalSpy shown(w.get(), &MainWindow::resultShown);
    w->startLive(fileOptions(clip, false));  // as fast as the file can be read
    ASSERT_TRUE(test::waitForCount(stopped, 1, 60000));
    QTest::qWait(800);  // at most the one frame in flight may still arrive
    const auto stats = w->liveStats();
    EXPECT_LT(stats.framesShown, 10u);
    EXPECT_GE(stats.framesShown + stats.framesDropped + 1,
              40u);  // every frame was shown or dropped
    EXPECT_GT(stats.framesDropped, 30u);
    const int afterEnd = shown.count();
    QTest::qWait(600);
    EXPECT_EQ(shown.count(), afterEnd);  // nothing queued up behind
}

TEST(Live, ASourceDyingMidStreamIsReportedAndTheWindowGoesOn) {
    auto w = test::openWindow(fixture("weights/resnet18_seeded.pth"), QStringLiteral("layer1.0"),
                              QSize(1200, 800));
    const std::string clip = makeVideo({"eagle"}, 30, 30.0);
    CaptureThread::Options o = fileOptions(clip);
    o.failAfterFrames = 5;
    QSignalSpy stopped(w.get(), &MainWindow::liveStopped);
    w->startLive(o);
    ASSERT_TRUE(test::waitForCount(stopped, 1, 30000));
    EXPECT_TRUE(stopped.first().at(1).toBool());
    EXPECT_TRUE(stopped.first().at(0).toString().contains("stopped delivering frames"));
    w->openFile(QString::fromStdString(test::fixtureImage("kite").path));
    // a frame that was in flight may land first; the opened image follows
    EXPECT_TRUE(QTest::qWaitFor(
        [&] {
            const auto& p = w->predictionsView()->predictions();
            return !p.empty() && p[0].label == "kite";
        },
        30000));
}

TEST(Live, MissingCameraAndBrokenFilesSayWhichAndWhy) {
    auto w = test::openWindow(fixture("weights/resnet18_seeded.pth"), QStringLiteral("layer1.0"),
                              QSize(1200, 800));
    QSignalSpy stopped(w.get(), &MainWindow::liveStopped);
    CaptureThread::Options camera;
    camera.spec = QStringLiteral("/dev/video97");
    w->startLive(camera);
    ASSERT_TRUE(test::waitForCount(stopped, 1, 10000));
    EXPECT_TRUE(stopped.at(0).at(1).toBool());
    EXPECT_EQ(stopped.at(0).at(0).toString(),
              "/dev/video97: there is no such camera (is it plugged in?).");
    w->startLive(fileOptions(fixture("bad/text.jpg")));
    ASSERT_TRUE(test::waitForCount(stopped, 2, 10000));
    EXPECT_TRUE(stopped.at(1).at(1).toBool());
    EXPECT_TRUE(stopped.at(1).at(0).toString().startsWith(
        QString::fromStdString(fixture("bad/text.jpg")) + ": no frame could be read"))
        << stopped.at(1).at(0).toString().toStdString();
}

TEST(Live, FreezeHoldsTheFrameForBrowsing) {
    auto w = test::openWindow(fixture("weights/resnet18_seeded.pth"), QStringLiteral("layer1.0"),
                              QSize(1200, 800));
    const std::string clip = makeVideo({"dog", "kite"}, 40, 20.0);
    QSignalSpy shown(w.get(), &MainWindow::resultShown);
    w->startLive(fileOptions(clip));
    ASSERT_TRUE(test::waitForCount(shown, 2, 30000));
    w->setFrozen(true);
    QTest::qWait(300);  // a request already in flight may still land
    const auto frozenAt = w->liveStats().framesShown;
    w->selectNode(QStringLiteral("layer3.0.downsample"));  // browse the held frame
    ASSERT_TRUE(QTest::qWaitFor(
        [&] { return w->featureMapView()->node() == "layer3.0.downsample"; }, 10000));
    QTest::qWait(500);
    EXPECT_EQ(w->liveStats().framesShown, frozenAt);  // no new frames while frozen
    EXPECT_TRUE(w->isLive());
    w->setFrozen(false);
    ASSERT_TRUE(QTest::qWaitFor([&] { return w->liveStats().framesShown > frozenAt; }, 10000));
    w->stopLive();
}

TEST(Live, ClosingWhileCaptureAndInferenceAreBusyIsQuick) {
    auto w = test::openWindow(fixture("weights/resnet18_seeded.pth"), QStringLiteral("layer1.0"),
                              QSize(1200, 800));
    w->worker()->setExtraLatencyForTesting(400);
    CaptureThread::Options o = fileOptions(makeVideo({"dog"}, 30, 30.0));
    o.loop = true;
    QSignalSpy shown(w.get(), &MainWindow::resultShown);
    w->startLive(o);
    ASSERT_TRUE(test::waitForCount(shown, 1, 30000));
    QElapsedTimer t;
    t.start();
    w.reset();  // inference sleeping, capture looping
    EXPECT_LT(t.elapsed(), 3000);
}

}  // namespace
}  // namespace r18::ui
