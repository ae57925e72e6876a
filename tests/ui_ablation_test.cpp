// Switching channels off in the window, driven as a person does: clicks on tiles of the feature
// grid (plain, Ctrl, Shift), the Channels shortcuts and menu. What the window then shows — top-5
// logits, the selected node's maps, a later node's maps, the heat map — equals what core computes
// with the same channels switched off; the diagram, the status bar and the copied text say which
// channels are off; precision changes keep them; live frames carry them.
#include <gtest/gtest.h>

#include <QApplication>
#include <QClipboard>
#include <QDockWidget>
#include <QLabel>
#include <QMenu>
#include <QPushButton>
#include <QSignalSpy>

#include <algorithm>

#include "core/channel_importance.h"
#include "core/engine/ablation.h"
#include "core/engine/gradcam.h"
#include "core/pipeline.h"
#include "core/tap_stats.h"
#include "tests/qt_test_util.h"
#include "tests/test_util.h"
#include "ui/insight/importance_insight.h"
#include "ui/insight/pair_insight.h"
#include "ui/panels/importance_panel.h"
#include "ui/panels/input_panel.h"
#include "ui/panels/pair_panel.h"
#include "ui/panels/status_panel.h"
#include "ui/session/session.h"
#include "ui/views/architecture_view.h"
#include "ui/views/feature_map_view.h"
#include "ui/views/importance_view.h"
#include "ui/views/similarity_curve.h"
#include "ui/window/main_window.h"

namespace r18::ui {
namespace {

using test::fixture;

const QString kNode = QStringLiteral("layer3.1");

// The centre of channel `c`'s tile (or bar) in the grid, found as the mouse would.
QPoint pointOf(const FeatureMapView& v, int channel) {
    for (int y = 0; y < v.height(); y += 2)
        for (int x = 0; x < v.width(); x += 2)
            if (v.channelAt({x, y}) == channel) {
                QPoint far(x, y);
                while (v.channelAt(far + QPoint(1, 0)) == channel) far += QPoint(1, 0);
                while (v.channelAt(far + QPoint(0, 1)) == channel) far += QPoint(0, 1);
                return (QPoint(x, y) + far) / 2;
            }
    return {-1, -1};
}

void click(FeatureMapView& v, int channel, Qt::KeyboardModifiers mods = {}) {
    const QPoint at = pointOf(v, channel);
    ASSERT_GE(at.x(), 0) << "channel " << channel << " is not in the grid";
    QTest::mouseClick(&v, Qt::LeftButton, mods, at);
}

// What core computes for the image with `ablations`: the same engine options as the window's.
Classification coreRun(const MainWindow& w, const std::string& image,
                       const std::vector<ChannelAblation>& ablations,
                       const std::vector<std::string>& taps) {
    ModelOptions o;
    o.weightsPath = fixture("weights/resnet18_seeded.pth");
    Pipeline pipeline(Model::open(o), EngineOptions()
                                          .with(w.session()->engine().precision)
                                          .withThreads(w.session()->engine().threads));
    RunRequest request;
    request.taps = taps;
    request.ablations = ablations;
    return pipeline.classifyFile(image, request);
}

bool shownWith(MainWindow& w, const std::vector<ChannelAblation>& ablations) {
    return test::waitShown(
        w, [&](const InferenceResult& r) { return r.needs.ablations == ablations; });
}

TEST(SwitchOff, PickedChannelsRecomputeEverythingAfterThem) {
    auto w = test::openWindow(fixture("weights/resnet18_seeded.pth"), kNode, QSize(1300, 850));
    w->inputPanel()->setHeatmapEnabled(true);
    const std::string dog = test::fixtureImage("dog").path;
    w->openFile(QString::fromStdString(dog));
    ASSERT_TRUE(test::waitForTap(*w, kNode));
    const std::vector<float> before = w->session()->result()->logits.data;
    FeatureMapView& grid = *w->featureMapView();
    grid.setSortByMean(false);

    // Click 3, Ctrl+click 7, Shift+click 10: the run from 7 to 10 joins 3.
    click(grid, 3);
    click(grid, 7, Qt::ControlModifier);
    click(grid, 10, Qt::ShiftModifier);
    const std::vector<int> picked{3, 7, 8, 9, 10};
    EXPECT_EQ(grid.pickedChannels(), picked);
    EXPECT_TRUE(w->action("channels.toggle")->isEnabled());
    EXPECT_FALSE(w->action("channels.allOn")->isEnabled());

    test::typeShortcut(*w, QKeySequence(Qt::Key_O));
    const std::vector<ChannelAblation> off{{kNode.toStdString(), picked, -1}};
    ASSERT_EQ(w->session()->ablations(), off);
    ASSERT_TRUE(shownWith(*w, off));
    ASSERT_TRUE(test::waitForTap(*w, kNode));
    ASSERT_TRUE(QTest::qWaitFor([&] { return w->session()->shownHeatmap() != nullptr; }, 30000));

    // What the window shows equals core's run with the same channels off, bit for bit.
    const ResultPtr r = w->session()->result();
    const Model& model = *w->session()->engine().model;
    GradCam gradCam(model.spec(), model.weights());
    std::vector<std::string> taps = gradCam.neededTaps("layer4");
    taps.push_back(kNode.toStdString());
    const Classification core = coreRun(*w, dog, off, taps);
    EXPECT_EQ(r->logits.data, core.logits.data);
    EXPECT_NE(r->logits.data, before);  // and switching them off changed the decision's numbers
    const Tensor& tap = w->session()->tapResult()->taps.at(kNode.toStdString());
    EXPECT_EQ(tap.data, core.taps.at(kNode.toStdString()).data);
    const int64_t plane = tap.dims[2] * tap.dims[3];
    for (const int c : picked)
        for (int64_t i = 0; i < plane; ++i)
            ASSERT_EQ(tap.data[static_cast<size_t>(c * plane + i)], 0.0F);
    const Heatmap shown = *w->session()->shownHeatmap();
    const Heatmap coreMap = gradCam.compute(core.taps, "layer4", shown.classIndex, off);
    EXPECT_EQ(shown.values, coreMap.values);

    // The grid crosses them out; the diagram, the status bar and the copied text say so.
    EXPECT_EQ(grid.switchedOff(), picked);
    EXPECT_EQ(w->architectureView()->switchedOffCount(kNode), 5);
    EXPECT_EQ(w->architectureView()->switchedOffCount("layer4.0"), 0);
    EXPECT_TRUE(w->statusPanel()->ablationText().contains("layer3.1: 5 of 256"))
        << w->statusPanel()->ablationText().toStdString();
    test::typeShortcut(*w, QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C));
    EXPECT_TRUE(QApplication::clipboard()->text().contains("--ablate layer3.1:3,7-10"))
        << QApplication::clipboard()->text().toStdString();
    EXPECT_TRUE(w->action("channels.allOn")->isEnabled());

    // A later node's maps are computed with the channels off.
    w->selectNode(QStringLiteral("layer4.0"));
    ASSERT_TRUE(test::waitForTap(*w, QStringLiteral("layer4.0")));
    const Classification later = coreRun(*w, dog, off, {"layer4.0"});
    EXPECT_EQ(w->session()->tapResult()->taps.at("layer4.0").data, later.taps.at("layer4.0").data);
    EXPECT_TRUE(grid.switchedOff().empty());  // none of layer4.0's own

    // Back to layer3.1, the same channels picked: O again switches them back on.
    w->selectNode(kNode);
    ASSERT_TRUE(test::waitForTap(*w, kNode));
    grid.pickChannels(picked);
    test::typeShortcut(*w, QKeySequence(Qt::Key_O));
    EXPECT_TRUE(w->session()->ablations().empty());
    ASSERT_TRUE(shownWith(*w, {}));
    EXPECT_EQ(w->session()->result()->logits.data, before);
    EXPECT_EQ(w->architectureView()->switchedOffCount(kNode), 0);
    EXPECT_TRUE(w->statusPanel()->ablationText().isEmpty());
}

TEST(SwitchOff, KeepOnlyAndBackOnThroughTheMenu) {
    auto w = test::openWindow(fixture("weights/resnet18_seeded.pth"), kNode, QSize(1300, 850));
    const std::string kite = test::fixtureImage("kite").path;
    w->openFile(QString::fromStdString(kite));
    ASSERT_TRUE(test::waitForTap(*w, kNode));
    FeatureMapView& grid = *w->featureMapView();
    click(grid, 42);
    ASSERT_TRUE(test::clickMenu(*w, QStringLiteral("&Channels"), "channels.keepOnly"));
    ASSERT_EQ(w->session()->ablations().size(), 1u);
    EXPECT_EQ(w->session()->ablations()[0].channels.size(), 255u);
    EXPECT_FALSE(std::binary_search(w->session()->ablations()[0].channels.begin(),
                                    w->session()->ablations()[0].channels.end(), 42));
    ASSERT_TRUE(shownWith(*w, w->session()->ablations()));
    const Classification core = coreRun(*w, kite, w->session()->ablations(), {});
    EXPECT_EQ(w->session()->result()->logits.data, core.logits.data);
    EXPECT_EQ(w->architectureView()->switchedOffCount(kNode), 255);

    // The context menu of the grid holds the same actions.
    EXPECT_EQ(grid.contextMenuPolicy(), Qt::ActionsContextMenu);
    EXPECT_TRUE(grid.actions().contains(w->action("channels.allOn")));

    ASSERT_TRUE(test::clickMenu(*w, QStringLiteral("&Channels"), "channels.allOn"));
    EXPECT_TRUE(w->session()->ablations().empty());
    ASSERT_TRUE(shownWith(*w, {}));
    EXPECT_EQ(w->session()->result()->logits.data, coreRun(*w, kite, {}, {}).logits.data);
    EXPECT_FALSE(w->action("channels.allOn")->isEnabled());
}

TEST(SwitchOff, AnotherPrecisionKeepsTheChannelsOff) {
    auto w = test::openWindow(fixture("weights/resnet18_seeded.pth"), kNode, QSize(1300, 850));
    const std::string dog = test::fixtureImage("dog").path;
    w->openFile(QString::fromStdString(dog));
    ASSERT_TRUE(test::waitForTap(*w, kNode));
    QString error;
    ASSERT_TRUE(w->session()->setSwitchedOff(kNode, {0, 1, 2}, &error));
    const std::vector<ChannelAblation> off = w->session()->ablations();
    EXPECT_FALSE(w->session()->setSwitchedOff(kNode, {0, 256}, &error));  // no channel 256
    EXPECT_TRUE(error.contains("256")) << error.toStdString();
    EXPECT_EQ(w->session()->ablations(), off);

    QSignalSpy engines(w->session(), &Session::engineChanged);
    test::typeShortcut(*w, QKeySequence(Qt::CTRL | Qt::Key_3));  // int8
    ASSERT_TRUE(test::waitForCount(engines, 1, 60000));
    EXPECT_EQ(w->session()->engine().precision, Precision::Int8);
    EXPECT_EQ(w->session()->ablations(), off);
    ASSERT_TRUE(test::waitShown(*w, [&](const InferenceResult& r) {
        return r.engineId == w->session()->engine().engineId && r.needs.ablations == off &&
               r.taps.count(kNode.toStdString());
    }));
    const Tensor& tap = w->session()->tapResult()->taps.at(kNode.toStdString());
    const int64_t plane = tap.dims[2] * tap.dims[3];
    for (int64_t i = 0; i < 3 * plane; ++i) ASSERT_EQ(tap.data[static_cast<size_t>(i)], 0.0F);
    EXPECT_EQ(w->architectureView()->switchedOffCount(kNode), 3);
}

TEST(SwitchOff, LiveFramesCarryTheChannelsOff) {
    const QString node = QStringLiteral("layer2.0");
    auto w = test::openWindow(fixture("weights/resnet18_seeded.pth"), node, QSize(1200, 800));
    ASSERT_TRUE(w->session()->setSwitchedOff(node, {1, 5}));
    const std::vector<ChannelAblation> off = w->session()->ablations();
    const std::string clip = test::makeVideo({"dog", "eagle"}, 6, 5.0);
    int withOff = 0;
    int without = 0;
    QObject::connect(w->session(), &Session::resultShown, [&](const ResultPtr& r) {
        if (!r || !r->source->live) return;
        (r->needs.ablations == off ? withOff : without) += 1;
    });
    QSignalSpy stopped(w->session(), &Session::liveStopped);
    CaptureThread::Options o;
    o.spec = QString::fromStdString(clip);
    o.loop = false;
    w->session()->startLive(o);
    ASSERT_TRUE(test::waitForCount(stopped, 1, 60000));
    EXPECT_GE(withOff, 3);
    EXPECT_EQ(without, 0);  // no frame on screen was computed with every channel on
    const Tensor& tap = w->session()->tapResult()->taps.at(node.toStdString());
    ASSERT_EQ(tap.dims[1], 128);
    const int64_t plane = tap.dims[2] * tap.dims[3];
    for (const int64_t c : {1, 5})
        for (int64_t i = 0; i < plane; ++i)
            ASSERT_EQ(tap.data[static_cast<size_t>(c * plane + i)], 0.0F);
    EXPECT_EQ(w->architectureView()->switchedOffCount(node), 2);
}

// Channel importance (I): the panel's ranking equals core's ChannelImportance for the node,
// the top-1 and the channels switched off; clicking a row picks that channel in the feature maps,
// "Pick the top 10" picks the ten the class leans on most; Cancel stops it and shows nothing.
TEST(Importance, RanksTheChannelsAsCoreDoesAndLeadsToThem) {
    auto w = test::openWindow(fixture("weights/resnet18_seeded.pth"), kNode, QSize(1400, 900));
    const std::string dog = test::fixtureImage("dog").path;
    w->openFile(QString::fromStdString(dog));
    ASSERT_TRUE(test::waitForTap(*w, kNode));
    ASSERT_TRUE(w->session()->setSwitchedOff(QStringLiteral("layer2.0"), {3}));
    ASSERT_TRUE(shownWith(*w, w->session()->ablations()));
    ASSERT_TRUE(test::waitForTap(*w, kNode));
    test::typeShortcut(*w, QKeySequence(Qt::Key_I));
    ASSERT_TRUE(QTest::qWaitFor([&] { return w->importanceDock()->isVisible(); }, 3000));
    EXPECT_TRUE(w->action("view.importance")->isChecked());
    ImportanceInsight* insight = w->importancePanel()->insight();
    ASSERT_TRUE(QTest::qWaitFor([&] { return insight->importance() != nullptr; }, 60000));
    const ImportancePtr shown = insight->importance();
    EXPECT_EQ(shown->node, kNode.toStdString());
    EXPECT_EQ(shown->classIndex, w->session()->result()->top.front().index);
    ASSERT_EQ(shown->deltas.size(), 256u);

    ChannelImportance core(
        w->session()->engine().model,
        EngineOptions().withThreads(w->session()->engine().threads).withBatch(16));
    ChannelImportanceOptions o;
    o.node = kNode.toStdString();
    o.classIndex = shown->classIndex;
    o.ablations = w->session()->ablations();
    const std::optional<ChannelImportanceResult> expected =
        core.compute(*w->session()->result()->input, o);
    ASSERT_TRUE(expected);
    EXPECT_EQ(shown->deltas, expected->deltas);
    EXPECT_EQ(shown->ranked, expected->ranked);
    EXPECT_EQ(shown->logit, expected->logit);

    // The view draws the ranking; a click on its third row picks that channel.
    ImportanceView* view = w->importancePanel()->view();
    ASSERT_GE(view->rowCount(), 3);
    QTest::mouseClick(view, Qt::LeftButton, {}, view->rowRect(2).center());
    EXPECT_EQ(w->featureMapView()->pickedChannels(), std::vector<int>{shown->ranked[2]});
    EXPECT_EQ(w->featureMapView()->selectedChannel(), shown->ranked[2]);
    QTest::mouseClick(w->importancePanel()->pickButton(), Qt::LeftButton);
    std::vector<int> top10(shown->ranked.begin(), shown->ranked.begin() + 10);
    std::sort(top10.begin(), top10.end());
    EXPECT_EQ(w->featureMapView()->pickedChannels(), top10);

    // Another node: computed again, with progress; Cancel stops it and nothing is shown.
    QSignalSpy progress(insight, &Insight::progress);
    w->selectNode(QStringLiteral("layer1.0"));
    ASSERT_TRUE(QTest::qWaitFor([&] { return insight->busy(); }, 5000));
    QTest::mouseClick(w->importancePanel()->cancelButton(), Qt::LeftButton);
    ASSERT_TRUE(QTest::qWaitFor([&] { return !insight->busy(); }, 30000));
    EXPECT_EQ(insight->importance(), nullptr);
    EXPECT_EQ(w->importancePanel()->cancelButton()->text(), QStringLiteral("Compute"));
    QTest::mouseClick(w->importancePanel()->cancelButton(), Qt::LeftButton);  // Compute
    ASSERT_TRUE(QTest::qWaitFor([&] { return insight->importance() != nullptr; }, 60000));
    EXPECT_EQ(insight->importance()->deltas.size(), 64u);
    EXPECT_GT(progress.count(), 0);
}

// Two images side by side: Shift+P pins the dog as A, the kite opened next is B. Both top-5s and
// every node's cosine and max |B − A| equal core's for the two files (compareEveryNode of two
// Pipeline runs); a click on the curve selects that node, whose A, B and |B − A| grids follow.
TEST(Pair, PinAOpenBAndWalkTheCurve) {
    auto w = test::openWindow(fixture("weights/resnet18_seeded.pth"), kNode, QSize(1400, 900));
    const std::string dog = test::fixtureImage("dog").path;
    const std::string kite = test::fixtureImage("kite").path;
    w->openFile(QString::fromStdString(dog));
    ASSERT_TRUE(test::waitForTap(*w, kNode));
    test::typeShortcut(*w, QKeySequence(Qt::SHIFT | Qt::Key_P));
    PairInsight* insight = w->pairPanel()->insight();
    ASSERT_TRUE(insight->pinned());
    ASSERT_TRUE(QTest::qWaitFor([&] { return w->pairDock()->isVisible(); }, 3000));
    EXPECT_TRUE(w->action("view.pair")->isChecked());
    EXPECT_EQ(insight->pair(), nullptr);  // A itself is on screen
    EXPECT_TRUE(w->pairPanel()->summaryLabel()->text().contains("A is on screen"));

    w->openFile(QString::fromStdString(kite));
    ASSERT_TRUE(QTest::qWaitFor([&] { return insight->pair() != nullptr; }, 60000));
    const PairPtr pair = insight->pair();

    ModelOptions o;
    o.weightsPath = fixture("weights/resnet18_seeded.pth");
    const auto model = Model::open(o);
    Pipeline pipeline(model, EngineOptions().withThreads(w->session()->engine().threads));
    RunRequest request;
    request.taps = model->spec().tapNames();
    const Classification a = pipeline.classifyFile(dog, request);
    const Classification b = pipeline.classifyFile(kite, request);
    const std::vector<NodeComparison> core = compareEveryNode(model->spec(), a.taps, b.taps);
    ASSERT_EQ(pair->nodes.size(), core.size());
    for (size_t i = 0; i < core.size(); ++i) {
        EXPECT_EQ(pair->nodes[i].node, core[i].node);
        EXPECT_EQ(pair->nodes[i].difference.cosine, core[i].difference.cosine) << core[i].node;
        EXPECT_EQ(pair->nodes[i].difference.maxAbsDiff, core[i].difference.maxAbsDiff);
    }
    EXPECT_EQ(pair->topA.front().index, a.top.front().index);
    EXPECT_EQ(pair->topB.front().index, b.top.front().index);
    EXPECT_EQ(pair->nodes.front().difference.cosine < 1.0, true);  // two different photos
    EXPECT_TRUE(w->pairPanel()->predictionsLabel()->text().contains("A: "));

    // A click on the curve's point of layer2.0 selects it; the three grids show it.
    SimilarityCurve* curve = w->pairPanel()->curve();
    ASSERT_EQ(curve->count(), static_cast<int>(core.size()));
    int layer2 = -1;
    for (size_t i = 0; i < core.size(); ++i)
        if (core[i].node == "layer2.0") layer2 = static_cast<int>(i);
    ASSERT_GE(layer2, 0);
    QTest::mouseClick(curve, Qt::LeftButton, {}, curve->pointOf(layer2));
    EXPECT_EQ(w->session()->selectedNode(), QStringLiteral("layer2.0"));
    EXPECT_EQ(w->architectureView()->selected(), QStringLiteral("layer2.0"));  // the diagram too
    ASSERT_EQ(w->pairPanel()->viewA()->node(), QStringLiteral("layer2.0"));
    EXPECT_EQ(w->pairPanel()->viewA()->activations().data, a.taps.at("layer2.0").data);
    EXPECT_EQ(w->pairPanel()->viewB()->activations().data, b.taps.at("layer2.0").data);
    const Tensor& d = w->pairPanel()->difference()->activations();
    ASSERT_EQ(d.data.size(), a.taps.at("layer2.0").data.size());
    for (size_t i = 0; i < d.data.size(); i += 997)
        EXPECT_EQ(d.data[i],
                  std::abs(b.taps.at("layer2.0").data[i] - a.taps.at("layer2.0").data[i]));
    EXPECT_TRUE(w->pairPanel()->summaryLabel()->text().contains("layer2.0"));

    // Unpinned: nothing is compared any more.
    QTest::mouseClick(w->pairPanel()->unpinButton(), Qt::LeftButton);
    EXPECT_FALSE(insight->pinned());
    EXPECT_EQ(insight->pair(), nullptr);
    EXPECT_TRUE(w->pairPanel()->summaryLabel()->text().contains("Pin the image"));
}

}  // namespace
}  // namespace r18::ui
