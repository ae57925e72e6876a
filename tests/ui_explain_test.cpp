// The window's insight panels as a user drives them: "where it looked" by six methods for any
// class, with faithfulness curves, computed in the background (progress, cancel, stale maps never
// shown), and "what this channel detects": a folder's channel atlas, the top-9 patches of the
// channel under the mouse, and its feature visualisation. What is shown is compared with what
// core computes for the image on screen.
#include <gtest/gtest.h>

#include <numeric>

#include <QComboBox>
#include <QCompleter>
#include <QDockWidget>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QStringListModel>

#include <cmath>
#include <set>

#include "core/attribution.h"
#include "core/channel_atlas.h"
#include "core/engine/calibration.h"
#include "core/feature_vis.h"
#include "core/media/image_io.h"
#include "core/media/preprocess.h"
#include "core/pipeline.h"
#include "core/score_cam.h"
#include "tests/qt_test_util.h"
#include "tests/test_util.h"
#include "ui/insight/atlas_insight.h"
#include "ui/insight/compare_insight.h"
#include "ui/insight/explain_insight.h"
#include "ui/insight/visualize_insight.h"
#include "ui/panels/atlas_panel.h"
#include "ui/panels/compare_panel.h"
#include "ui/panels/explain_panel.h"
#include "ui/panels/input_panel.h"
#include "ui/session/image_convert.h"
#include "ui/views/colormap.h"
#include "ui/views/explain_views.h"
#include "ui/views/feature_map_view.h"
#include "ui/window/main_window.h"

namespace r18::ui {
namespace {

using test::fixture;

std::unique_ptr<MainWindow> window(const QString& node = QStringLiteral("layer4.1")) {
    // Visualisations and atlases are cached under XDG_CACHE_HOME: a fresh one per window.
    static int n = 0;
    const std::string cache = test::tempDir() + "/cache" + std::to_string(++n);
    qputenv("XDG_CACHE_HOME", cache.c_str());
    auto w = test::openWindow(fixture("weights/resnet18_seeded.pth"), node, QSize(1300, 850));
    w->inputPanel()->setHeatmapEnabled(false);
    return w;
}

bool waitExplained(MainWindow& w, int ms = 120000) {
    return QTest::qWaitFor([&] { return w.explainPanel()->shown() != nullptr; }, ms);
}

void chooseMethod(MainWindow& w, AttributionMethod method) {
    QComboBox* box = w.explainPanel()->methodBox();
    box->setCurrentIndex(box->findData(static_cast<int>(method)));
}

// A window showing `image` with the methods panel open (E) on its gradient map; null if the map
// did not come.
std::unique_ptr<MainWindow> gradientOf(const std::string& image) {
    auto w = window();
    w->openFile(QString::fromStdString(image));
    if (!test::waitShown(*w, [](const InferenceResult& r) { return r.input != nullptr; }))
        return nullptr;
    test::typeShortcut(*w, QKeySequence(Qt::Key_E));
    chooseMethod(*w, AttributionMethod::Gradient);
    return waitExplained(*w) ? std::move(w) : nullptr;
}

// The input the window ran on equals the model's preprocessing of the file, and the map shown
// equals core's for that input, method and class.
void expectCoreMap(MainWindow& w, const std::string& path, Explainer& core,
                   const std::vector<ChannelAblation>& ablations = {}) {
    const ExplanationPtr e = w.explainPanel()->shown();
    ASSERT_TRUE(e);
    const ResultPtr r = w.session()->result();
    ASSERT_TRUE(r && r->input);
    EXPECT_EQ(e->sourceId, r->source->sourceId);
    const Model& model = *w.session()->engine().model;
    const Tensor input = model.prepare(readImage(path));
    ASSERT_EQ(r->input->data, input.data) << "the window's input is not the file's";

    AttributionOptions options;
    options.method = e->settings.method;
    options.classIndex = e->settings.classIndex;
    options.layer = e->settings.layer;
    options.ablations = ablations;
    const std::optional<Attribution> expected = core.explain(input, options);
    ASSERT_TRUE(expected);
    // The same engine configuration on both sides (model, threads, the process's algorithm
    // table): the same bytes, whichever thread or process computes them.
    const test::Comparison c = test::compare(expected->map, e->attribution.map);
    EXPECT_TRUE(c.sameShape);
    EXPECT_EQ(c.maxAbsDiff, 0.0) << c.report(methodName(options.method), expected->map,
                                             e->attribution.map);
    const std::optional<Faithfulness> f =
        core.faithfulness(input, expected->map, expected->classIndex, 32, {}, ablations);
    ASSERT_TRUE(f);
    EXPECT_EQ(e->faithfulness.deletion, f->deletion);
    EXPECT_EQ(e->faithfulness.insertion, f->insertion);
    EXPECT_EQ(e->faithfulness.deletionArea, f->deletionArea);
    EXPECT_EQ(e->faithfulness.insertionArea, f->insertionArea);
    // The plots show these curves, and the view the heat map of this map.
    EXPECT_EQ(w.explainPanel()->deletionPlot()->values(), e->faithfulness.deletion);
    EXPECT_EQ(w.explainPanel()->insertionPlot()->values(), e->faithfulness.insertion);
    const Tensor heat = heatValues(e->attribution.map, input.dims[2]);
    const int s = static_cast<int>(input.dims[2]);
    if (w.explainPanel()->displayBox()->currentIndex() == 0 || e->signedRgb.isNull()) {
        EXPECT_EQ(w.explainPanel()->view()->overlay(),
                  heatImage(heat.ptr(), s, s, 1.0F, Colormap::Magma));
    }
}

TEST(ExplainPanel, EveryMethodShowsCoresMapAndItsFaithfulness) {
    auto w = window();
    const std::string dog = test::fixtureImage("dog").path;
    w->openFile(QString::fromStdString(dog));
    ASSERT_TRUE(test::waitShown(*w, [](const InferenceResult& r) { return r.input != nullptr; }));
    // The panel computes nothing while it is closed.
    EXPECT_FALSE(w->explainPanel()->insight()->busy());
    test::typeShortcut(*w, QKeySequence(Qt::Key_E));
    ASSERT_TRUE(QTest::qWaitFor([&] { return w->explainDock()->isVisible(); }, 3000));
    EXPECT_TRUE(w->action("view.explain")->isChecked());

    Explainer core(w->session()->engine().model, w->session()->engine().threads);
    std::set<AttributionMethod> seen;
    for (const AttributionMethod method : allMethods()) {
        chooseMethod(*w, method);
        ASSERT_TRUE(waitExplained(*w)) << methodName(method);
        EXPECT_EQ(w->explainPanel()->shown()->attribution.method, method);
        EXPECT_EQ(w->explainPanel()->shown()->settings.classIndex,
                  w->session()->result()->top.front().index);
        expectCoreMap(*w, dog, core);
        seen.insert(method);
    }
    // Every method computed for this image and class is in the comparison, with its areas.
    EXPECT_EQ(w->explainPanel()->insight()->shownExplanations().size(), allMethods().size());
    const QString table = w->explainPanel()->comparisonLabel()->text();
    for (const char* name : {"CAM", "Grad-CAM", "Gradient", "Guided backprop",
                             "Integrated gradients", "SmoothGrad", "Score-CAM"})
        EXPECT_TRUE(table.contains(QLatin1String(name))) << name;
    // Integrated gradients reports its completeness gap.
    chooseMethod(*w, AttributionMethod::IntegratedGradients);
    ASSERT_TRUE(waitExplained(*w));
    EXPECT_TRUE(w->explainPanel()->statusLabel()->text().contains("completeness gap"));
    // Signed RGB shows signedRgb() of the same map.
    w->explainPanel()->displayBox()->setCurrentIndex(1);
    EXPECT_EQ(w->explainPanel()->view()->base(), w->explainPanel()->shown()->signedRgb);
    EXPECT_TRUE(w->explainPanel()->view()->overlay().isNull());
}

// Score-CAM runs forward passes only, so the window's int8 engine gets a map of its own: the one
// core's ScoreCam computes at int8, calibrated on the images the window's engine was, at the
// layer chosen in the panel; the curves are measured in fp32.
TEST(ExplainPanel, ScoreCamRunsAtTheWindowsPrecision) {
    auto w = window();
    const std::string dog = test::fixtureImage("dog").path;
    w->openFile(QString::fromStdString(dog));
    ASSERT_TRUE(test::waitShown(*w, [](const InferenceResult& r) { return r.input != nullptr; }));
    w->session()->setPrecision(Precision::Int8);
    ASSERT_TRUE(test::waitShown(*w, [&](const InferenceResult& r) {
        return r.engineId == w->session()->engine().engineId &&
               w->session()->engine().precision == Precision::Int8;
    }));
    test::typeShortcut(*w, QKeySequence(Qt::Key_E));
    chooseMethod(*w, AttributionMethod::ScoreCam);
    QComboBox* layer = w->explainPanel()->layerBox();
    EXPECT_TRUE(layer->isVisible());
    layer->setCurrentIndex(layer->findText(QStringLiteral("layer3")));
    ASSERT_TRUE(waitExplained(*w));
    const ExplanationPtr e = w->explainPanel()->shown();
    EXPECT_EQ(e->attribution.method, AttributionMethod::ScoreCam);
    EXPECT_EQ(e->attribution.layer, "layer3.1");
    EXPECT_TRUE(w->explainPanel()->statusLabel()->text().contains(QStringLiteral("at int8")))
        << w->explainPanel()->statusLabel()->text().toStdString();

    const auto model = w->session()->engine().model;
    const int threads = w->session()->engine().threads;
    const Tensor input = model->prepare(readImage(dog));
    ASSERT_EQ(w->session()->engine().calibration.size(), 1u);
    ASSERT_EQ(w->session()->engine().calibration.front()->data, input.data);
    ScoreCam int8(model, test::windowEngineOptions(w->session()->engine(), kScoreCamBatch));
    ScoreCamOptions o;
    o.layer = "layer3";
    o.classIndex = e->settings.classIndex;
    const std::optional<ScoreCamResult> expected = int8.compute(input, o);
    ASSERT_TRUE(expected);
    const test::Comparison c = test::compare(expected->map, e->attribution.map);
    EXPECT_TRUE(c.sameShape);
    EXPECT_EQ(c.maxAbsDiff, 0.0) << c.report("int8 Score-CAM", expected->map, e->attribution.map);
    EXPECT_EQ(e->attribution.maskedPasses, expected->passes);
    // Its own map: not the fp32 one.
    Explainer fp32(model, threads);
    AttributionOptions f;
    f.method = AttributionMethod::ScoreCam;
    f.layer = "layer3";
    f.classIndex = o.classIndex;
    const std::optional<Attribution> whole = fp32.explain(input, f);
    ASSERT_TRUE(whole);
    EXPECT_NE(whole->map.data, e->attribution.map.data);
    const std::optional<Faithfulness> curves =
        fp32.faithfulness(input, e->attribution.map, o.classIndex, 32);
    ASSERT_TRUE(curves);
    EXPECT_EQ(e->faithfulness.deletion, curves->deletion);
}

// With channels switched off, the panel explains the network without them: the old map goes at
// once, the new one equals core's with the same channels off, curves included.
TEST(ExplainPanel, WithChannelsOffItExplainsThatNetwork) {
    const std::string dog = test::fixtureImage("dog").path;
    auto w = gradientOf(dog);
    ASSERT_TRUE(w);
    const Tensor whole = w->explainPanel()->shown()->attribution.map;

    std::vector<int> half(128);
    std::iota(half.begin(), half.end(), 0);
    ASSERT_TRUE(w->session()->setSwitchedOff(QStringLiteral("layer3.1"), half));
    EXPECT_EQ(w->explainPanel()->shown(), nullptr);  // the whole network's map is not shown
    ASSERT_TRUE(waitExplained(*w));
    Explainer core(w->session()->engine().model, w->session()->engine().threads);
    expectCoreMap(*w, dog, core, w->session()->ablations());
    EXPECT_NE(w->explainPanel()->shown()->attribution.map.data, whole.data);
}

TEST(ExplainPanel, AnyClassBySearchingTheLabels) {
    const std::string dog = test::fixtureImage("dog").path;
    auto w = gradientOf(dog);
    ASSERT_TRUE(w);
    const Labels& labels = w->session()->engine().model->labels();
    const int64_t top1 = w->session()->result()->top.front().index;
    // A class outside the top-5, typed by name: the completer offers it, Return picks it.
    int64_t wanted = -1;
    for (int64_t c = 500; c < 1000 && wanted < 0; ++c) {
        bool inTop = false;
        for (const Prediction& p : w->session()->result()->top) inTop |= p.index == c;
        if (!inTop && labels.name(c).size() > 6) wanted = c;
    }
    ASSERT_GE(wanted, 0);
    const QString name = QString::fromStdString(labels.name(wanted));
    QLineEdit* edit = w->explainPanel()->classEdit();
    edit->setFocus();
    QTest::keyClicks(edit, name.left(6));
    QCompleter* completer = w->explainPanel()->classCompleter();
    ASSERT_TRUE(QTest::qWaitFor([&] { return completer->completionCount() > 0; }, 3000));
    bool offered = false;
    for (int i = 0; completer->setCurrentRow(i); ++i)
        offered |= completer->currentCompletion().startsWith(QString::number(wanted) + " ");
    EXPECT_TRUE(offered) << name.toStdString();
    edit->selectAll();
    QTest::keyClicks(edit, QString::number(wanted) + " " + name);
    QTest::keyClick(edit, Qt::Key_Return);
    ASSERT_TRUE(QTest::qWaitFor(
        [&] {
            const auto e = w->explainPanel()->shown();
            return e && e->settings.classIndex == wanted;
        },
        120000));
    Explainer core(w->session()->engine().model, w->session()->engine().threads);
    expectCoreMap(*w, dog, core);
    // Top-1 follows the image again.
    QTest::mouseClick(w->explainPanel()->classEdit()->parentWidget()->findChild<QPushButton*>(),
                      Qt::LeftButton);
    ASSERT_TRUE(QTest::qWaitFor(
        [&] {
            const auto e = w->explainPanel()->shown();
            return e && e->settings.classIndex == top1;
        },
        120000));
}

TEST(ExplainPanel, AMapOfAnotherImageIsNeverShown) {
    auto w = window();
    test::typeShortcut(*w, QKeySequence(Qt::Key_E));
    chooseMethod(*w, AttributionMethod::IntegratedGradients);
    const std::string dog = test::fixtureImage("dog").path;
    const std::string kite = test::fixtureImage("kite").path;
    std::vector<uint64_t> shownSources;
    QObject::connect(w->explainPanel()->insight(), &ExplainInsight::shown, w.get(), [&] {
        if (const ExplanationPtr e = w->explainPanel()->insight()->explanation())
            shownSources.push_back(e->sourceId);
    });
    w->openFile(QString::fromStdString(dog));
    ASSERT_TRUE(QTest::qWaitFor(
        [&] {
            return w->explainPanel()->insight()->busy() &&
                   w->explainPanel()->progressBar()->value() > 0;
        },
        60000));
    const uint64_t dogSource = w->session()->result()->source->sourceId;
    EXPECT_FALSE(w->explainPanel()->shown());
    w->openFile(QString::fromStdString(kite));  // mid-computation
    // While the kite is opening, the dog's map is not shown, nor computed further.
    EXPECT_FALSE(w->explainPanel()->shown());
    ASSERT_TRUE(QTest::qWaitFor(
        [&] {
            const auto e = w->explainPanel()->shown();
            return e && e->sourceId != dogSource;
        },
        120000));
    for (const uint64_t id : shownSources) EXPECT_NE(id, dogSource);
    EXPECT_EQ(w->explainPanel()->shown()->sourceId, w->session()->result()->source->sourceId);
    Explainer core(w->session()->engine().model, w->session()->engine().threads);
    expectCoreMap(*w, kite, core);
}

TEST(ExplainPanel, CancelStopsTheMapAndComputeResumes) {
    auto w = window();
    test::typeShortcut(*w, QKeySequence(Qt::Key_E));
    chooseMethod(*w, AttributionMethod::SmoothGrad);
    const std::string dog = test::fixtureImage("dog").path;
    w->openFile(QString::fromStdString(dog));
    ASSERT_TRUE(QTest::qWaitFor([&] { return w->explainPanel()->insight()->busy(); }, 60000));
    QPushButton* button = w->explainPanel()->computeButton();
    EXPECT_EQ(button->text().toStdString(), "Cancel");
    QTest::mouseClick(button, Qt::LeftButton);
    EXPECT_FALSE(w->explainPanel()->insight()->busy());
    EXPECT_EQ(button->text().toStdString(), "Compute");
    QTest::qWait(1500);  // what the job was doing stops and is never shown
    EXPECT_FALSE(w->explainPanel()->shown());
    EXPECT_TRUE(w->explainPanel()->view()->message().contains("cancelled"));
    QTest::mouseClick(button, Qt::LeftButton);
    ASSERT_TRUE(waitExplained(*w));
    Explainer core(w->session()->engine().model, w->session()->engine().threads);
    expectCoreMap(*w, dog, core);
}

TEST(AtlasPanel, TopPatchesOfTheHoveredChannelAndItsVisualisation) {
    auto w = window(QStringLiteral("layer3.1"));
    const std::string dog = test::fixtureImage("dog").path;
    w->openFile(QString::fromStdString(dog));
    ASSERT_TRUE(test::waitForTap(*w, QStringLiteral("layer3.1")));
    test::typeShortcut(*w, QKeySequence(Qt::Key_A));
    ASSERT_TRUE(QTest::qWaitFor([&] { return w->atlasDock()->isVisible(); }, 3000));
    AtlasPanel* panel = w->atlasPanel();
    const QString folder = QString::fromStdString(fixture("insight/folder"));
    panel->chooseFolder(folder);
    EXPECT_TRUE(w->atlasPanel()->atlasInsight()->building());
    ASSERT_TRUE(QTest::qWaitFor([&] { return w->atlasPanel()->atlasInsight()->atlas() != nullptr; },
                                180000));
    EXPECT_FALSE(w->atlasPanel()->atlasInsight()->building());

    // Hover over a tile of the feature-map grid: its top images' patches appear.
    FeatureMapView* grid = w->featureMapView();
    const int channel = 5;
    QPoint tile;
    for (int y = 0; y < grid->height() && tile.isNull(); y += 2)
        for (int x = 0; x < grid->width(); x += 2)
            if (grid->channelAt(QPoint(x, y)) == channel) {
                tile = QPoint(x + grid->tileSize().width() / 2, y + grid->tileSize().height() / 2);
                break;
            }
    ASSERT_FALSE(tile.isNull());
    QTest::mouseMove(grid, tile);
    ASSERT_EQ(panel->channel(), channel);
    EXPECT_EQ(panel->layer().toStdString(), "layer3.1");
    ASSERT_TRUE(QTest::qWaitFor([&] { return !panel->patchGrid()->patches().empty(); }, 30000));

    // The same as core's atlas of that folder: files, values and receptive-field crops.
    AtlasOptions options;
    options.useCache = false;
    options.threads = w->session()->engine().threads;
    const std::optional<ChannelAtlas> atlas =
        buildChannelAtlas(w->session()->engine().model, folder.toStdString(), options);
    ASSERT_TRUE(atlas);
    const auto& hits = atlas->layer("layer3.1").channels[channel];
    const auto& patches = panel->patchGrid()->patches();
    ASSERT_EQ(patches.size(), hits.size());
    const Model& model = *w->session()->engine().model;
    for (size_t i = 0; i < hits.size(); ++i) {
        EXPECT_EQ(patches[i].file.toStdString(), atlas->files[hits[i].file]);
        EXPECT_EQ(patches[i].value, hits[i].value);
        EXPECT_EQ(patches[i].box, hits[i].box);
        const cv::Mat crop =
            resizeAndCropDecoded(readImage(atlas->files[hits[i].file]), model.preprocess());
        const PixelBox& b = hits[i].box;
        const QImage expected =
            rgbImage(crop(cv::Rect(static_cast<int>(b.x0), static_cast<int>(b.y0),
                                   static_cast<int>(b.x1 - b.x0), static_cast<int>(b.y1 - b.y0)))
                         .clone());
        EXPECT_EQ(patches[i].image, expected) << i;
    }

    // Visualise: the synthesised input, the same as core's (seeded), shown beside the patches.
    QTest::mouseClick(panel->visualizeButton(), Qt::LeftButton);
    EXPECT_TRUE(w->atlasPanel()->visualizeInsight()->busy());
    ASSERT_TRUE(QTest::qWaitFor(
        [&] {
            return w->atlasPanel()->visualizeInsight()->visualization("layer3.1", channel) !=
                   nullptr;
        },
        300000));
    const auto shown = w->atlasPanel()->visualizeInsight()->visualization("layer3.1", channel);
    EXPECT_FALSE(panel->visualizationView()->base().isNull());
    EXPECT_EQ(panel->visualizationView()->base(), rgbImage(shown->rgb));
    FeatureVisualizer visualizer(w->session()->engine().model, w->session()->engine().threads);
    VisualizeOptions v = w->atlasPanel()->visualizeInsight()->options("layer3.1", channel);
    v.useCache = false;
    const std::optional<Visualization> expected = visualizer.visualize(v);
    ASSERT_TRUE(expected);
    // Hundreds of gradient steps amplify any difference in the last bit: equal only because
    // both sides compute alike (same threads, same algorithm table).
    const test::Comparison c = test::compare(expected->input, shown->input);
    EXPECT_EQ(c.maxAbsDiff, 0.0) << c.report("visualisation", expected->input, shown->input);
    // Its mean activation beats every photo of the folder's.
    float best = 0.0F;
    for (const std::string& file : atlas->files)
        best = std::max(
            best, visualizer.channelMean(model.prepare(readImage(file)), "layer3.1", channel));
    EXPECT_GT(shown->activation, best);
}

TEST(AtlasPanel, CancelStopsTheAtlasAndNothingIsShown) {
    auto w = window(QStringLiteral("layer2.0"));
    test::typeShortcut(*w, QKeySequence(Qt::Key_A));
    AtlasPanel* panel = w->atlasPanel();
    QSignalSpy progress(w->atlasPanel()->atlasInsight(), &AtlasInsight::progress);
    panel->chooseFolder(QString::fromStdString(fixture("insight/folder")));
    ASSERT_TRUE(w->atlasPanel()->atlasInsight()->building());
    EXPECT_TRUE(panel->cancelButton()->isVisible());
    QTest::mouseClick(panel->cancelButton(), Qt::LeftButton);
    EXPECT_FALSE(w->atlasPanel()->atlasInsight()->building());
    QTest::qWait(1500);
    EXPECT_FALSE(w->atlasPanel()->atlasInsight()->atlas());
    EXPECT_FALSE(panel->cancelButton()->isVisible());
}

// While the window runs int8, the comparison's int8 is that engine — calibrated on the images it
// was built with, not on the ones opened since — so its int8 top-5 is the one on screen.
TEST(ComparePanel, ItsInt8IsTheWindowsInt8) {
    auto w = window(QStringLiteral("layer3.0"));
    w->openFile(QString::fromStdString(test::fixtureImage("dog").path));
    ASSERT_TRUE(test::waitShown(*w, [](const InferenceResult& r) { return r.input != nullptr; }));
    w->session()->setPrecision(Precision::Int8);
    ASSERT_TRUE(test::waitShown(*w, [&](const InferenceResult& r) {
        return r.engineId == w->session()->engine().engineId &&
               w->session()->engine().precision == Precision::Int8;
    }));
    ASSERT_EQ(w->session()->engine().calibrationImages, 1);
    w->openFile(QString::fromStdString(test::fixtureImage("eagle").path));
    ASSERT_TRUE(test::waitShown(*w, [&](const InferenceResult& r) {
        return r.source->label.contains(QStringLiteral("eagle"));
    }));
    ASSERT_EQ(w->session()->recentInputs().size(), 2u);  // int8 chosen now would use both
    test::typeShortcut(*w, QKeySequence(Qt::Key_C));
    ASSERT_TRUE(QTest::qWaitFor(
        [&] { return w->comparePanel()->insight()->comparison() != nullptr; }, 120000));
    const ComparisonPtr c = w->comparePanel()->insight()->comparison();
    EXPECT_EQ(c->calibrationImages, 1);
    const auto& shown = w->session()->result()->top;
    ASSERT_EQ(c->topInt8.size(), shown.size());
    for (size_t i = 0; i < shown.size(); ++i) {
        EXPECT_EQ(c->topInt8[i].index, shown[i].index);
        EXPECT_EQ(c->topInt8[i].probability, shown[i].probability);
    }
}

TEST(ComparePanel, TheImageOnScreenAtFp32AndInt8) {
    auto w = window(QStringLiteral("layer2.0"));
    const std::string dog = test::fixtureImage("dog").path;
    w->openFile(QString::fromStdString(dog));
    ASSERT_TRUE(test::waitShown(*w, [](const InferenceResult& r) { return r.input != nullptr; }));
    QString failure;
    QObject::connect(w->comparePanel()->insight(), &CompareInsight::failed, w.get(),
                     [&](const QString& message) { failure = message; });
    test::typeShortcut(*w, QKeySequence(Qt::Key_C));
    ASSERT_TRUE(QTest::qWaitFor([&] { return w->compareDock()->isVisible(); }, 3000));
    ASSERT_TRUE(QTest::qWaitFor(
        [&] {
            return w->comparePanel()->insight()->busy() ||
                   w->comparePanel()->insight()->comparison();
        },
        3000));
    ASSERT_TRUE(QTest::qWaitFor(
        [&] { return w->comparePanel()->insight()->comparison() != nullptr; }, 120000))
        << failure.toStdString();
    const ComparisonPtr c = w->comparePanel()->insight()->comparison();
    EXPECT_EQ(c->node, "layer2.0");
    EXPECT_EQ(c->sourceId, w->session()->result()->source->sourceId);
    EXPECT_EQ(c->calibrationImages, 1);

    // Core's fp32 and int8 pipelines, int8 calibrated on the same image.
    const auto model = w->session()->engine().model;
    const int threads = w->session()->engine().threads;
    const Tensor input = model->prepare(readImage(dog));
    Pipeline fp32(model, EngineOptions().withThreads(threads));
    Pipeline int8(model, EngineOptions()
                             .with(Precision::Int8)
                             .withThreads(threads)
                             .withCalibration(std::make_shared<const Calibration>(
                                 calibrate(model->spec(), model->weights(), {input}, threads))));
    RunRequest request;
    request.taps = {"layer2.0"};
    const Classification a = fp32.run(input, request);
    const Classification b = int8.run(input, request);
    ASSERT_EQ(c->topFp32.size(), a.top.size());
    ASSERT_EQ(c->topInt8.size(), b.top.size());
    for (size_t i = 0; i < a.top.size(); ++i) {
        EXPECT_EQ(c->topFp32[i].index, a.top[i].index);
        EXPECT_EQ(c->topInt8[i].index, b.top[i].index);
    }
    const Tensor expected = absoluteDifference(a.taps.at("layer2.0"), b.taps.at("layer2.0"));
    const test::Comparison d = test::compare(expected, c->difference);
    EXPECT_EQ(d.maxAbsDiff, 0.0) << d.report("difference", expected, c->difference);
    std::printf("[ insight ] A/B layer2.0: max |int8 - fp32| %.3g of max |fp32| %.3g\n",
                c->maxAbsDifference, c->maxAbsFp32);
    // The difference view shows that difference; the labels name both top-1s.
    EXPECT_EQ(w->comparePanel()->differenceView()->activations().data, c->difference.data);
    const QString table = w->comparePanel()->predictionsLabel()->text();
    EXPECT_TRUE(table.contains(QString::fromStdString(a.top.front().label).toHtmlEscaped()));
    EXPECT_TRUE(table.contains(QString::fromStdString(b.top.front().label).toHtmlEscaped()));

    // Another node: the comparison follows it, and the old one is not shown for it.
    w->selectNode(QStringLiteral("layer4.1"));
    EXPECT_TRUE(!w->comparePanel()->insight()->comparison() ||
                w->comparePanel()->insight()->comparison()->node == "layer4.1");
    ASSERT_TRUE(QTest::qWaitFor(
        [&] {
            const auto x = w->comparePanel()->insight()->comparison();
            return x && x->node == "layer4.1";
        },
        120000));
}

// Opening another image while the compare panel is open: the panel stops showing the old image's
// comparison at once (not when the next result happens to arrive), then shows the new one's.
TEST(ComparePanel, AnotherImageClearsTheOldComparisonAtOnce) {
    auto w = window(QStringLiteral("layer3.0"));
    w->openFile(QString::fromStdString(test::fixtureImage("dog").path));
    ASSERT_TRUE(test::waitShown(*w, [](const InferenceResult& r) { return r.input != nullptr; }));
    test::typeShortcut(*w, QKeySequence(Qt::Key_C));
    ASSERT_TRUE(QTest::qWaitFor(
        [&] { return w->comparePanel()->insight()->comparison() != nullptr; }, 120000));
    const uint64_t dogSource = w->comparePanel()->insight()->comparison()->sourceId;
    ASSERT_FALSE(w->comparePanel()->predictionsLabel()->text().isEmpty());
    ASSERT_FALSE(w->comparePanel()->differenceView()->activations().data.empty());

    w->openFile(QString::fromStdString(test::fixtureImage("kite").path));
    EXPECT_TRUE(w->comparePanel()->predictionsLabel()->text().isEmpty());
    EXPECT_TRUE(w->comparePanel()->differenceView()->activations().data.empty());
    ASSERT_TRUE(QTest::qWaitFor(
        [&] {
            const auto c = w->comparePanel()->insight()->comparison();
            return c && c->sourceId != dogSource;
        },
        120000));
    EXPECT_EQ(w->comparePanel()->insight()->comparison()->sourceId,
              w->session()->result()->source->sourceId);
    EXPECT_FALSE(w->comparePanel()->predictionsLabel()->text().isEmpty());
    EXPECT_EQ(w->comparePanel()->differenceView()->activations().data,
              w->comparePanel()->insight()->comparison()->difference.data);
}

}  // namespace
}  // namespace r18::ui
