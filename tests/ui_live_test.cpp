// Live sources, offscreen, driven by a video made from the fixture photos: results per frame
// that follow the content, end of file, a slow engine dropping frames instead of queueing
// them, a source dying mid-stream, a missing camera, freezing, and closing while busy.
#include <gtest/gtest.h>

#include <QDir>

#include <QFileInfo>
#include <QLabel>
#include <deque>

#include <QAbstractButton>
#include <QComboBox>
#include <QElapsedTimer>
#include <QSignalSpy>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "core/pipeline.h"
#include "tests/qt_test_util.h"
#include "tests/test_util.h"
#include "ui/actions/recorder.h"
#include "ui/panels/diagram_panel.h"
#include "ui/panels/layer_panel.h"
#include "ui/panels/status_panel.h"
#include "ui/session/inference_worker.h"
#include "ui/session/session.h"
#include "ui/views/architecture_view.h"
#include "ui/views/feature_map_view.h"
#include "ui/views/histogram_view.h"
#include "ui/views/input_view.h"
#include "ui/views/predictions_view.h"
#include "ui/window/main_window.h"

namespace r18::ui {
namespace {

using test::fixture;

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
    const std::string clip = test::makeVideo({"dog", "eagle", "kite"}, 8, 5.0);
    std::vector<std::string> top1;
    QObject::connect(w.get(), &MainWindow::resultShown, [&] {
        const auto& p = w->predictionsView()->predictions();
        if (!p.empty() && (top1.empty() || top1.back() != p[0].label)) top1.push_back(p[0].label);
    });
    QSignalSpy stopped(w->session(), &Session::liveStopped);
    w->session()->startLive(fileOptions(clip));
    ASSERT_TRUE(test::waitForCount(stopped, 1, 60000));
    EXPECT_FALSE(stopped.first().at(1).toBool());  // not an error
    EXPECT_TRUE(stopped.first().at(0).toString().contains("end of the video"))
        << stopped.first().at(0).toString().toStdString();
    EXPECT_EQ(top1, (std::vector<std::string>{"Samoyed", "bald eagle", "kite"}));
    const auto stats = w->session()->liveStats();
    EXPECT_GE(stats.framesShown, 6u);
    EXPECT_GT(stats.latencyMs, 0.0);
    EXPECT_EQ(w->featureMapView()->channelCount(), 64);  // the selected layer updates per frame
    EXPECT_FALSE(w->session()->isLive());
    std::printf("[ live ] %llu frames shown of 24, latency %.0f ms, %llu dropped\n",
                static_cast<unsigned long long>(stats.framesShown), stats.latencyMs,
                static_cast<unsigned long long>(stats.framesDropped));
}

TEST(Live, ASlowEngineDropsFramesInsteadOfQueueingThem) {
    auto w = test::openWindow(fixture("weights/resnet18_seeded.pth"), QStringLiteral("layer1.0"),
                              QSize(1200, 800));
    w->worker()->setExtraLatencyForTesting(250);
    const std::string clip = test::makeVideo({"dog", "eagle"}, 20, 30.0);
    QSignalSpy stopped(w->session(), &Session::liveStopped);
    QSignalSpy shown(w.get(), &MainWindow::resultShown);
    w->session()->startLive(fileOptions(clip, false));  // as fast as the file can be read
    ASSERT_TRUE(test::waitForCount(stopped, 1, 60000));
    // The frame running and the one waiting when the video ended still arrive; then nothing.
    ASSERT_TRUE(QTest::qWaitFor(
        [&] {
            const auto s = w->session()->liveStats();
            return s.framesShown + s.framesDropped >= 40u;
        },
        10000));
    const auto stats = w->session()->liveStats();
    EXPECT_LT(stats.framesShown, 10u);
    EXPECT_EQ(stats.framesShown + stats.framesDropped, 40u);  // every frame shown or dropped
    EXPECT_GT(stats.framesDropped, 30u);
    const int afterEnd = shown.count();
    QTest::qWait(600);
    EXPECT_EQ(shown.count(), afterEnd);  // nothing queued up behind
}

TEST(Live, ASourceDyingMidStreamIsReportedAndTheWindowGoesOn) {
    auto w = test::openWindow(fixture("weights/resnet18_seeded.pth"), QStringLiteral("layer1.0"),
                              QSize(1200, 800));
    const std::string clip = test::makeVideo({"eagle"}, 30, 30.0);
    CaptureThread::Options o = fileOptions(clip);
    o.failAfterFrames = 5;
    QSignalSpy stopped(w->session(), &Session::liveStopped);
    w->session()->startLive(o);
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
    QSignalSpy stopped(w->session(), &Session::liveStopped);
    CaptureThread::Options camera;
    camera.spec = QStringLiteral("/dev/video97");
    w->session()->startLive(camera);
    ASSERT_TRUE(test::waitForCount(stopped, 1, 10000));
    EXPECT_TRUE(stopped.at(0).at(1).toBool());
    EXPECT_EQ(stopped.at(0).at(0).toString(),
              "/dev/video97: there is no such camera (is it plugged in?).");
    w->session()->startLive(fileOptions(fixture("bad/text.jpg")));
    ASSERT_TRUE(test::waitForCount(stopped, 2, 10000));
    EXPECT_TRUE(stopped.at(1).at(1).toBool());
    EXPECT_TRUE(stopped.at(1).at(0).toString().startsWith(
        QString::fromStdString(fixture("bad/text.jpg")) + ": the video has no frames"))
        << stopped.at(1).at(0).toString().toStdString();
}

// F during live, then clicks on diagram nodes: every panel shows the frozen frame — the image,
// the top-5, the heat map and each node's feature maps are those the engine computes on that
// frame — while the video goes on cycling through other photos behind it. F again: the live
// figures come back.
TEST(Live, FreezeShowsTheFrozenFrameInEveryPanelThenGoesLiveAgain) {
    auto w = test::openWindow(fixture("weights/resnet18_seeded.pth"), QStringLiteral("layer1.0"),
                              QSize(1300, 850));
    w->action("view.heatmap")->trigger();  // "Where it looked" on
    CaptureThread::Options o = fileOptions(test::makeVideo({"dog", "eagle", "kite"}, 6, 20.0));
    o.loop = true;
    QSignalSpy shown(w.get(), &MainWindow::resultShown);
    w->session()->startLive(o);
    ASSERT_TRUE(test::waitForCount(shown, 8, 30000));
    test::typeShortcut(*w, QKeySequence(Qt::Key_F));
    ASSERT_TRUE(w->session()->isFrozen());
    EXPECT_TRUE(w->action("live.freeze")->isChecked());
    const SourcePtr frozen = w->session()->shownSource();
    ASSERT_TRUE(frozen && frozen->live);
    EXPECT_TRUE(w->statusPanel()->activityText().contains("Frame frozen"));

    // What the engine computes on the frozen frame, for comparison.
    ModelOptions mo;
    mo.weightsPath = fixture("weights/resnet18_seeded.pth");
    Pipeline pipeline(Model::open(mo), EngineOptions().withThreads(w->engine().threads));
    const Tensor input = pipeline.model().prepare(frozen->frame);
    for (const char* node : {"layer3.0.downsample", "layer4.1", "conv1", "layer2.0"}) {
        ArchitectureView* diagram = w->architectureView();
        QTest::mouseClick(diagram->viewport(), Qt::LeftButton, {}, diagram->viewportPointOf(node));
        ASSERT_EQ(diagram->selected(), node);
        ASSERT_TRUE(test::waitForTap(*w, node, 20000)) << node;
        QTest::qWait(150);  // frames in flight when F was pressed must not land now
        EXPECT_EQ(w->session()->shownSource(), frozen) << node;
        EXPECT_EQ(w->session()->tapResult()->source, frozen) << node;
        RunRequest request;
        request.taps = {node};
        const Classification c = pipeline.run(input, request);
        const Tensor& expected = c.taps.at(node);
        const Tensor& panel = w->featureMapView()->activations();
        const auto cmp = test::compare(expected, panel);
        EXPECT_EQ(cmp.maxAbsDiff, 0.0) << cmp.report(node, expected, panel);
        const auto& top = w->predictionsView()->predictions();
        ASSERT_EQ(top.size(), 5u);
        EXPECT_EQ(top[0].index, c.top[0].index) << node;
        EXPECT_EQ(w->predictionsView()->highlighted(), c.top[0].index) << node;  // its heat map
        EXPECT_TRUE(w->inputView()->hasHeatmap());
    }
    EXPECT_TRUE(w->session()->isLive());

    test::typeShortcut(*w, QKeySequence(Qt::Key_F));  // live again
    EXPECT_FALSE(w->session()->isFrozen());
    const auto resumedAt = w->session()->liveStats().framesShown;
    ASSERT_TRUE(QTest::qWaitFor(
        [&] { return w->session()->liveStats().framesShown > resumedAt + 3; }, 10000));
    EXPECT_NE(w->session()->shownSource(), frozen);
    ASSERT_TRUE(QTest::qWaitFor(
        [&] { return w->statusPanel()->activityText().contains("processed"); }, 3000))
        << w->statusPanel()->activityText().toStdString();
    w->session()->stopLive();
}

// A camera that is not there: "Opening …" ends, the red banner says why and can be dismissed,
// and an image that opens fine afterwards clears it.
TEST(Live, FailedSourcesLeaveNoStaleStatus) {
    auto w = test::openWindow(fixture("weights/resnet18_seeded.pth"), QStringLiteral("layer1.0"),
                              QSize(1300, 850));
    QSignalSpy stopped(w->session(), &Session::liveStopped);
    CaptureThread::Options camera;
    camera.spec = QStringLiteral("/dev/video93");
    w->session()->startLive(camera);
    EXPECT_TRUE(w->statusPanel()->activityText().contains("Opening /dev/video93"));
    ASSERT_TRUE(test::waitForCount(stopped, 1, 10000));
    EXPECT_FALSE(w->statusPanel()->activityText().contains("Opening"));
    EXPECT_TRUE(w->statusPanel()->liveBannerText().contains("/dev/video93"));
    auto* close = w->statusPanel()->liveBanner()->findChild<QAbstractButton*>();
    ASSERT_NE(close, nullptr);
    QTest::mouseClick(close, Qt::LeftButton);
    EXPECT_TRUE(w->statusPanel()->liveBannerText().isEmpty());

    w->session()->startLive(camera);
    ASSERT_TRUE(test::waitForCount(stopped, 2, 10000));
    EXPECT_FALSE(w->statusPanel()->liveBannerText().isEmpty());
    w->openFile(QString::fromStdString(test::fixtureImage("kite").path));
    ASSERT_TRUE(
        test::waitShown(*w, [](const InferenceResult& r) { return r.top[0].label == "kite"; }));
    EXPECT_TRUE(w->statusPanel()->liveBannerText().isEmpty());
}

TEST(Live, ClosingWhileCaptureAndInferenceAreBusyIsQuick) {
    auto w = test::openWindow(fixture("weights/resnet18_seeded.pth"), QStringLiteral("layer1.0"),
                              QSize(1200, 800));
    w->worker()->setExtraLatencyForTesting(400);
    CaptureThread::Options o = fileOptions(test::makeVideo({"dog"}, 30, 30.0));
    o.loop = true;
    QSignalSpy shown(w.get(), &MainWindow::resultShown);
    w->session()->startLive(o);
    ASSERT_TRUE(test::waitForCount(shown, 1, 30000));
    QElapsedTimer t;
    t.start();
    w.reset();  // inference sleeping, capture looping
    EXPECT_LT(t.elapsed(), 3000);
}

// Recording (Ctrl+R): the live view with its heat map and top-5 strip is written to a video as
// the frames are shown, under a temporary name until the source ends; then the file stands under
// the chosen name, plays, and has the composed frame's size.
TEST(Live, RecordingWritesTheLiveViewAndKeepsItWhenTheSourceEnds) {
    auto w = test::openWindow(fixture("weights/resnet18_seeded.pth"), QStringLiteral("layer1.0"),
                              QSize(1200, 800));
    const std::string clip = test::makeVideo({"dog", "eagle"}, 8, 8.0);
    const QString out = QString::fromStdString(test::tempDir() + "/recorded.avi");
    QString error;
    EXPECT_FALSE(w->recorder()->start(out, &error));  // nothing live yet
    EXPECT_TRUE(error.contains("Start a camera")) << error.toStdString();
    EXPECT_FALSE(w->action("live.record")->isEnabled());

    QSignalSpy stopped(w->session(), &Session::liveStopped);
    QSignalSpy shown(w.get(), &MainWindow::resultShown);
    w->session()->startLive(fileOptions(clip));
    ASSERT_TRUE(test::waitForCount(shown, 1, 60000));
    EXPECT_TRUE(w->action("live.record")->isEnabled());
    ASSERT_TRUE(w->recorder()->start(out, &error)) << error.toStdString();
    EXPECT_TRUE(w->action("live.record")->isChecked());
    EXPECT_TRUE(w->recorder()->indicator()->isVisibleTo(w.get()));
    ASSERT_TRUE(QTest::qWaitFor([&] { return w->recorder()->frames() > 0; }, 30000));
    EXPECT_FALSE(QFileInfo::exists(out));  // still a temporary file
    const QImage frame = w->recorder()->composeFrame();
    ASSERT_TRUE(test::waitForCount(stopped, 1, 60000));
    EXPECT_FALSE(w->recorder()->recording());
    ASSERT_TRUE(QFileInfo::exists(out));
    EXPECT_FALSE(w->action("live.record")->isChecked());

    cv::VideoCapture video(out.toStdString());
    ASSERT_TRUE(video.isOpened());
    cv::Mat first;
    ASSERT_TRUE(video.read(first));
    EXPECT_EQ(first.cols, frame.width());
    EXPECT_EQ(first.rows, frame.height());
    int frames = 1;
    for (cv::Mat f; video.read(f);) ++frames;
    // Real time at 30 fps: a 2-second clip played at its pace is about 60 frames.
    EXPECT_GE(frames, 30);
    EXPECT_LE(frames, 120);
    // The strip at the bottom carries the top-5 text: not one flat colour.
    const cv::Mat strip = first.rowRange(first.rows - 24, first.rows);
    double lo = 0, hi = 0;
    cv::minMaxLoc(strip.reshape(1), &lo, &hi);
    EXPECT_GT(hi - lo, 100.0);
    const QStringList left = QFileInfo(out).dir().entryList(QDir::Files);
    EXPECT_EQ(left, QStringList{QStringLiteral("recorded.avi")});  // no temporary file left
}

// The layer's figures line: on a live source a channel is dead when it was zero everywhere on
// every one of the last 30 frames shown — counted here from the frames' own taps.
TEST(Live, DeadChannelsAreThoseZeroOnEveryRecentFrame) {
    const QString node = QStringLiteral("layer1.0.conv1");
    auto w = test::openWindow(fixture("weights/resnet18_seeded.pth"), node, QSize(1200, 800));
    const std::string clip = test::makeVideo({"dog", "eagle", "kite"}, 4, 8.0);
    std::deque<Tensor> recent;
    QObject::connect(w->session(), &Session::resultShown, [&](const ResultPtr& r) {
        if (!r || !r->source->live || !r->taps.count(node.toStdString())) return;
        recent.push_back(r->taps.at(node.toStdString()));
        while (recent.size() > LayerPanel::kDeadFrames) recent.pop_front();
    });
    QSignalSpy stopped(w->session(), &Session::liveStopped);
    w->session()->startLive(fileOptions(clip));
    ASSERT_TRUE(test::waitForCount(stopped, 1, 60000));
    QTest::qWait(200);
    ASSERT_FALSE(recent.empty());
    const Tensor& last = recent.back();
    const int64_t channels = last.dims[1];
    const int64_t plane = last.dims[2] * last.dims[3];
    int dead = 0;
    for (int64_t c = 0; c < channels; ++c) {
        bool active = false;
        for (const Tensor& t : recent)
            for (int64_t i = 0; i < plane && !active; ++i)
                active = t.data[static_cast<size_t>(c * plane + i)] != 0.0F;
        dead += !active;
    }
    const QString text = w->layerPanel()->figuresText();
    EXPECT_TRUE(text.contains(
        QStringLiteral("dead %1 (zero on all of the last %2 frames)").arg(dead).arg(recent.size())))
        << text.toStdString() << " expected dead " << dead;
    EXPECT_EQ(w->layerPanel()->histogram()->histogram().counts,
              computeTapStats(last).histogram.counts);
}

// At int8, live frames are compared with fp32 only while the diagram is coloured by that error
// (it costs an fp32 pass per frame); then every frame carries every node's error and cosine.
TEST(Live, Int8FramesAreComparedWithFp32WhileTheDiagramShowsIt) {
    auto w = test::openWindow(fixture("weights/resnet18_seeded.pth"), QStringLiteral("layer3.1"),
                              QSize(1200, 800));
    w->diagramPanel()->figureBox()->setCurrentIndex(0);
    w->openFile(QString::fromStdString(test::fixtureImage("dog").path));
    ASSERT_TRUE(test::waitShown(*w, [](const InferenceResult&) { return true; }));
    test::typeShortcut(*w, QKeySequence(Qt::CTRL | Qt::Key_3));  // int8, calibrated on the dog
    ASSERT_TRUE(test::waitShown(*w, [&](const InferenceResult& r) {
        return r.engineId == w->session()->engine().engineId &&
               w->session()->engine().precision == Precision::Int8;
    }));
    const size_t taps = w->session()->engine().model->spec().tapNames().size();
    int plain = 0;
    int compared = 0;
    int other = 0;
    QObject::connect(w->session(), &Session::resultShown, [&](const ResultPtr& r) {
        if (!r || !r->source->live) return;
        if (r->vsFp32.empty())
            ++plain;
        else if (r->vsFp32.size() == taps && r->vsFp32.at("layer3.1").relativeError > 0.0 &&
                 r->vsFp32.at("layer3.1").cosine < 1.0)
            ++compared;
        else
            ++other;
    });
    const std::string clip = test::makeVideo({"dog", "eagle", "kite"}, 4, 8.0);
    QSignalSpy stopped(w->session(), &Session::liveStopped);
    w->session()->startLive(fileOptions(clip));
    ASSERT_TRUE(test::waitForCount(stopped, 1, 60000));
    EXPECT_GT(plain, 5);
    EXPECT_EQ(compared + other, 0);
    plain = 0;
    w->diagramPanel()->figureBox()->setCurrentIndex(5);  // Error vs fp32
    w->session()->startLive(fileOptions(clip));
    ASSERT_TRUE(test::waitForCount(stopped, 2, 60000));
    EXPECT_GT(compared, 5);
    EXPECT_EQ(plain + other, 0);
    EXPECT_TRUE(w->layerPanel()->figuresText().contains(QStringLiteral("vs fp32: error")));

    // A frozen frame is compared as a still image is, whatever the diagram shows.
    w->diagramPanel()->figureBox()->setCurrentIndex(0);
    compared = 0;
    CaptureThread::Options o = fileOptions(clip);
    o.loop = true;
    w->session()->startLive(o);
    ASSERT_TRUE(QTest::qWaitFor([&] { return plain >= 3; }, 30000));
    test::typeShortcut(*w, QKeySequence(Qt::Key_F));
    ASSERT_TRUE(w->session()->isFrozen());
    ASSERT_TRUE(QTest::qWaitFor(
        [&] { return w->layerPanel()->figuresText().contains(QStringLiteral("vs fp32: error")); },
        10000))
        << w->layerPanel()->figuresText().toStdString();
    const ResultPtr frozen = w->session()->result();
    EXPECT_EQ(frozen->vsFp32.size(), taps);
    EXPECT_TRUE(w->layerPanel()->figuresText().contains(
        QStringLiteral("cosine %1").arg(frozen->vsFp32.at("layer3.1").cosine, 0, 'f', 5)));
    w->session()->stopLive();
}

}  // namespace
}  // namespace r18::ui
