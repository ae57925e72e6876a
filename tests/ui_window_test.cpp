// The Explorer window, offscreen: drops, selection, errors, responsiveness, the diagram and the
// feature-map grid, settings, and the --screenshot hook.
#include <gtest/gtest.h>

#include <QApplication>
#include <QClipboard>
#include <QDropEvent>
#include <QElapsedTimer>
#include <QMimeData>
#include <QSettings>
#include <QSignalSpy>
#include <QTest>
#include <QTimer>
#include <QUrl>

#include "core/engine/engine.h"
#include "core/media/image_io.h"
#include "core/media/preprocess.h"
#include "core/model/predictions.h"
#include "core/model/weights.h"
#include "tests/qt_test_util.h"
#include "tests/test_util.h"
#include "ui/architecture_view.h"
#include "ui/feature_map_view.h"
#include "ui/inference_worker.h"
#include "ui/input_view.h"
#include "ui/main_window.h"
#include "ui/predictions_view.h"

namespace r18::ui {
namespace {

using test::fixture;

QString weightsPath() {
    return QString::fromStdString(fixture("weights/resnet18_seeded.pth"));
}

std::unique_ptr<MainWindow> makeWindow(const QString& select = QStringLiteral("layer1.0")) {
    return test::openWindow(weightsPath().toStdString(), select, QSize(1400, 900));
}

void drop(QWidget* target, const QString& path) {
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(path)});
    const QPoint at(target->width() / 2, target->height() / 2);
    QDragEnterEvent enter(at, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(target, &enter);
    ASSERT_TRUE(enter.isAccepted());
    QDropEvent dropEvent(QPointF(at), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(target, &dropEvent);
}

// Waits for the window to show a result for which `done` holds.
bool waitFor(MainWindow& w, const std::function<bool()>& done, int ms = 30000) {
    QElapsedTimer t;
    t.start();
    while (!done()) {
        if (t.elapsed() > ms) return false;
        QSignalSpy shown(&w, &MainWindow::resultShown);
        shown.wait(200);
    }
    return true;
}

std::vector<Prediction> coreTop5(const std::string& image) {
    const WeightSet weights = loadWeights(weightsPath().toStdString());
    Engine engine(inferSpec(weights), weights);
    const RunResult r = engine.run(preprocess(readImage(image)));
    return topK(r.logits.ptr(), 1000, 5, Labels::imagenet());
}

TEST(Window, DroppedImageShowsTheCoresTopFive) {
    auto w = makeWindow();
    const std::string dog = test::fixtureImage("dog").path;
    drop(w.get(), QString::fromStdString(dog));
    ASSERT_TRUE(waitFor(*w, [&] { return w->predictionsView()->predictions().size() == 5; }));
    const auto expected = coreTop5(dog);
    const auto& shown = w->predictionsView()->predictions();
    for (size_t i = 0; i < 5; ++i) {
        EXPECT_EQ(shown[i].index, expected[i].index) << i;
        EXPECT_EQ(shown[i].label, expected[i].label) << i;
        EXPECT_NEAR(shown[i].probability, expected[i].probability, 1e-5) << i;
    }
    EXPECT_TRUE(w->inputView()->hasImage());
    EXPECT_EQ(w->inputView()->label().toStdString(), dog);
    EXPECT_TRUE(w->windowTitle().startsWith("dog.jpg"));
}

TEST(Window, SelectingLayer31Shows256TilesOf14x14) {
    auto w = makeWindow();
    w->openFile(QString::fromStdString(test::fixtureImage("giraffe").path));
    ASSERT_TRUE(waitFor(*w, [&] { return w->featureMapView()->node() == "layer1.0"; }));
    EXPECT_EQ(w->featureMapView()->channelCount(), 64);
    w->selectNode(QStringLiteral("layer3.1"));
    ASSERT_TRUE(waitFor(*w, [&] { return w->featureMapView()->node() == "layer3.1"; }));
    EXPECT_EQ(w->featureMapView()->channelCount(), 256);
    EXPECT_EQ(w->featureMapView()->channelSize(), QSize(14, 14));
    EXPECT_GE(w->featureMapView()->tileSize().width(),
              14);  // every tile fits on screen at least 1:1
    // Going back to a layer already computed for this image needs no new request.
    QSignalSpy started(w->worker(), &InferenceWorker::started);
    w->selectNode(QStringLiteral("layer1.0"));
    EXPECT_EQ(w->featureMapView()->node(), "layer1.0");
    QTest::qWait(300);
    EXPECT_EQ(started.count(), 0);
}

TEST(Window, EventLoopKeepsRunningDuringASlowInference) {
    auto w = makeWindow();
    w->worker()->setExtraLatencyForTesting(1500);
    QElapsedTimer clock;
    qint64 last = 0;
    qint64 worstGap = 0;
    QTimer tick;
    tick.setInterval(10);
    QObject::connect(&tick, &QTimer::timeout, [&] {
        const qint64 now = clock.elapsed();
        worstGap = std::max(worstGap, now - last);
        last = now;
    });
    QSignalSpy shown(w.get(), &MainWindow::resultShown);
    clock.start();
    tick.start();
    w->openFile(QString::fromStdString(test::fixtureImage("horses").path));
    ASSERT_TRUE(test::waitForCount(shown, 1, 60000));
    const qint64 total = clock.elapsed();
    tick.stop();
    std::printf("[ event loop ] inference took %lld ms; longest gap between 10 ms ticks: %lld ms\n",
                static_cast<long long>(total), static_cast<long long>(worstGap));
    EXPECT_GE(total, 1500);    // the slow inference really happened while we watched
    EXPECT_LT(worstGap, 250);  // and the GUI thread never stopped for it
}

TEST(Window, CorruptDropShowsAnErrorAndTheNextFileWorks) {
    auto w = makeWindow();
    QSignalSpy errors(w.get(), &MainWindow::errorShown);
    const std::string bad = fixture("bad/truncated.jpg");
    drop(w.get(), QString::fromStdString(bad));
    ASSERT_TRUE(test::waitForCount(errors, 1, 10000));
    ASSERT_NE(w->errorBox(), nullptr);
    EXPECT_TRUE(w->errorBox()->isVisible());
    EXPECT_TRUE(w->errorBox()->text().contains("truncated.jpg"));
    EXPECT_TRUE(w->errorBox()->informativeText().contains(QString::fromStdString(bad) +
                                                          ": the JPEG file is truncated"));
    EXPECT_FALSE(w->inputView()->hasImage());
    w->errorBox()->close();
    const std::string good = test::fixtureImage("person").path;
    drop(w.get(), QString::fromStdString(good));
    ASSERT_TRUE(waitFor(*w, [&] { return w->inputView()->hasImage(); }));
    EXPECT_EQ(w->inputView()->label().toStdString(), good);
    EXPECT_EQ(w->predictionsView()->predictions().size(), 5u);
}

TEST(Window, PastedImageIsClassified) {
    auto w = makeWindow();
    QImage image(QString::fromStdString(test::fixtureImage("kite").path));
    ASSERT_FALSE(image.isNull());
    QGuiApplication::clipboard()->setImage(image);
    for (QAction* a : w->findChildren<QAction*>())
        if (a->shortcut() == QKeySequence::Paste) a->trigger();
    ASSERT_TRUE(waitFor(*w, [&] { return w->inputView()->hasImage(); }));
    EXPECT_EQ(w->inputView()->label(), "pasted image");
    ASSERT_EQ(w->predictionsView()->predictions().size(), 5u);
    EXPECT_EQ(w->predictionsView()->predictions()[0].label, "kite");
}

TEST(Window, BannerSaysTheWeightsAreNotOfficial) {
    auto w = makeWindow();
    EXPECT_TRUE(w->bannerText().contains("Not the official ImageNet weights"));
    EXPECT_TRUE(w->bannerText().contains("resnet18_seeded.pth"));
    EXPECT_FALSE(w->model().official);
}

TEST(Window, RemembersViewSettings) {
    {
        auto w = makeWindow(QStringLiteral("layer4.0.downsample"));
        w->featureMapView();  // default per-channel
        for (QAction* a : w->findChildren<QAction*>())
            if (a->shortcut() == QKeySequence(Qt::Key_N)) a->trigger();
        EXPECT_EQ(w->featureMapView()->normalization(), FeatureMapView::Normalization::PerLayer);
        w->close();
    }
    WindowOptions options;
    options.weightsPath = weightsPath();
    MainWindow again(options);
    QSignalSpy model(&again, &MainWindow::modelShown);
    ASSERT_TRUE(test::waitForCount(model, 1, 60000));
    EXPECT_EQ(again.featureMapView()->normalization(), FeatureMapView::Normalization::PerLayer);
    EXPECT_EQ(again.architectureView()->selected(), "layer4.0.downsample");
    QSettings().clear();
}

TEST(ArchitectureView, DrawnFromTheSpecWithoutAnEngine) {
    ArchitectureView view;
    view.resize(500, 900);
    view.setSpec(std::make_shared<NetworkSpec>(makeResNet18()));
    EXPECT_EQ(view.boxCount(), 24);  // input, conv1, maxpool, 16 convs, 3 projections, avgpool, fc
    EXPECT_EQ(view.identityArcCount(), 5);
    EXPECT_EQ(view.projectionArcCount(), 3);
    view.setSpec(std::make_shared<NetworkSpec>(makeResNet({3, 4, 6, 3}, 10)));
    EXPECT_EQ(view.boxCount(), 40);
    EXPECT_EQ(view.identityArcCount(), 13);
    EXPECT_EQ(view.projectionArcCount(), 3);
}

TEST(ArchitectureView, ClicksAndKeysSelectNodes) {
    ArchitectureView view;
    view.resize(500, 900);
    view.show();
    view.setSpec(std::make_shared<NetworkSpec>(makeResNet18()));
    QSignalSpy selected(&view, &ArchitectureView::nodeSelected);
    QTest::mouseClick(view.viewport(), Qt::LeftButton, {}, view.viewportPointOf("layer2.0.conv1"));
    EXPECT_EQ(view.selected(), "layer2.0.conv1");
    QTest::mouseClick(view.viewport(), Qt::LeftButton, {}, view.viewportPointOf("layer2.0.conv2"));
    EXPECT_EQ(view.selected(), "layer2.0");  // conv2 is fused: its block's output
    QTest::keyClick(&view, Qt::Key_Down);
    EXPECT_EQ(view.selected(), "layer2.1.conv1");
    QTest::keyClick(&view, Qt::Key_Up);
    QTest::keyClick(&view, Qt::Key_Up);
    EXPECT_EQ(view.selected(), "layer2.0.downsample");
    EXPECT_EQ(selected.count(), 5);
    view.select("no.such.node");
    EXPECT_EQ(view.selected(), "layer2.0.downsample");
}

TEST(FeatureMapView, GridStatsSortingAndHitTesting) {
    FeatureMapView view;
    view.resize(400, 300);
    Tensor t({1, 3, 2, 4});
    for (size_t i = 0; i < t.data.size(); ++i)
        t.data[i] = static_cast<float>(i % 8) * (i < 8 ? 0.1F : i < 16 ? 2.0F : 1.0F);
    QSignalSpy selected(&view, &FeatureMapView::channelSelected);
    view.setActivations("x", t);
    EXPECT_EQ(view.channelCount(), 3);
    EXPECT_EQ(view.channelSize(), QSize(4, 2));
    EXPECT_FLOAT_EQ(view.stats(1).max, 14.0F);
    EXPECT_FLOAT_EQ(view.stats(0).mean, 0.35F);
    EXPECT_EQ(view.selectedChannel(), 1);  // the most active channel is selected first
    EXPECT_EQ(selected.count(), 1);
    const QSize tile = view.tileSize();
    EXPECT_EQ(tile.width(), 2 * tile.height());  // channel aspect kept
    view.setSortByMean(true);
    // sorted: channel 1 (mean 7), 2 (3.5), 0 (0.35); the first tile is channel 1
    int firstHit = -1;
    for (int y = 0; y < view.height() && firstHit < 0; ++y)
        for (int x = 0; x < view.width() && firstHit < 0; ++x)
            firstHit = view.channelAt(QPoint(x, y));
    EXPECT_EQ(firstHit, 1);
    const QImage grid = view.renderGrid(800);
    EXPECT_GT(grid.width(), 100);
    EXPECT_EQ(view.channelImage(2).size(), QSize(4, 2));
}

TEST(Screenshot, CommandLineHookSavesTheWindowAndQuits) {
    const std::string dir = test::tempDir();
    const std::string out = dir + "/shot.png";
    const auto r =
        test::runCommand("QT_QPA_PLATFORM=offscreen XDG_CONFIG_HOME=" + dir + " " +
                         std::string(R18_CLI) + " --weights " + weightsPath().toStdString() +
                         " --select layer3.1 --window-size 1200x800 --screenshot " + out + " " +
                         test::fixtureImage("dog").path);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const QImage shot(QString::fromStdString(out));
    ASSERT_FALSE(shot.isNull());
    EXPECT_EQ(shot.size(), QSize(1200, 800));
    // not blank: many distinct colours
    QSet<QRgb> colours;
    for (int y = 0; y < shot.height(); y += 7)
        for (int x = 0; x < shot.width(); x += 7) colours.insert(shot.pixel(x, y));
    EXPECT_GT(colours.size(), 500);
    const auto bad =
        test::runCommand("QT_QPA_PLATFORM=offscreen XDG_CONFIG_HOME=" + dir + " " +
                         std::string(R18_CLI) + " --weights " + weightsPath().toStdString() +
                         " --screenshot " + dir + "/bad.png " + fixture("bad/text.jpg"));
    EXPECT_NE(bad.exitCode, 0);
    EXPECT_FALSE(test::fileExists(dir + "/bad.png"));
}

}  // namespace
}  // namespace r18::ui
