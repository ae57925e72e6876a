// Insight features of the window: heat maps that equal the core's Grad-CAM and follow a clicked
// class, figure colouring of the diagram, exports (PNG, CSV, JSON), and folder batches with
// error rows and prompt cancel.
#include <gtest/gtest.h>

#include <QCheckBox>
#include <QComboBox>
#include <QElapsedTimer>
#include <QHeaderView>
#include <QSignalSpy>
#include <QTableView>

#include <algorithm>
#include <cmath>

#include "core/engine/calibration.h"
#include "core/engine/engine.h"
#include "core/engine/gradcam.h"
#include "core/media/image_io.h"
#include "core/media/preprocess.h"
#include "core/pipeline.h"
#include "core/tap_stats.h"
#include "tests/qt_test_util.h"
#include "tests/test_util.h"
#include "ui/actions/exports.h"
#include "ui/panels/diagram_panel.h"
#include "ui/panels/input_panel.h"
#include "ui/panels/layer_panel.h"
#include "ui/views/architecture_view.h"
#include "ui/views/colormap.h"
#include "ui/views/feature_map_view.h"
#include "ui/views/input_view.h"
#include "ui/views/predictions_view.h"
#include "ui/window/batch_window.h"
#include "ui/window/main_window.h"

namespace r18::ui {
namespace {

using test::fixture;

std::unique_ptr<MainWindow> window() {
    auto w = test::openWindow(fixture("weights/resnet18_seeded.pth"), QStringLiteral("layer1.0"),
                              QSize(1300, 850));
    w->inputPanel()->setHeatmapEnabled(false);
    w->diagramPanel()->figureBox()->setCurrentIndex(0);
    return w;
}

bool showResult(MainWindow& w, const std::function<bool(const InferenceResult&)>& done) {
    return test::waitShown(w, done);
}

// Distinct colours in an image, sampled: a blank export has one or two.
int colours(const QImage& image) {
    QSet<QRgb> seen;
    for (int y = 0; y < image.height(); y += 3)
        for (int x = 0; x < image.width(); x += 3) seen.insert(image.pixel(x, y));
    return seen.size();
}

TEST(HeatMap, EqualsTheCoresGradCamAndFollowsAClickedClass) {
    auto w = window();
    const std::string dog = test::fixtureImage("dog").path;
    test::typeShortcut(*w, QKeySequence(Qt::Key_H));
    EXPECT_TRUE(w->inputPanel()->heatmapEnabled());
    w->openFile(QString::fromStdString(dog));
    ASSERT_TRUE(showResult(*w, [](const InferenceResult& r) { return r.heatmap.has_value(); }));
    ASSERT_NE(w->session()->shownHeatmap(), nullptr);
    const Heatmap shown = *w->session()->shownHeatmap();
    EXPECT_EQ(shown.classIndex, 258);  // the top-1
    EXPECT_EQ(shown.target, "layer4.1");
    EXPECT_TRUE(w->inputView()->hasHeatmap());
    EXPECT_EQ(w->predictionsView()->highlighted(), 258);

    ModelOptions o;
    o.weightsPath = fixture("weights/resnet18_seeded.pth");
    const auto model = Model::open(o);
    Pipeline pipeline(model, EngineOptions().withThreads(w->engine().threads));
    GradCam gradCam(model->spec(), model->weights());
    RunRequest request;
    request.taps = gradCam.neededTaps("layer4");
    const Classification r = pipeline.classifyFile(dog, request);
    const Heatmap core = gradCam.compute(r.taps, "layer4", 258);
    ASSERT_EQ(core.values.size(), shown.values.size());
    for (size_t i = 0; i < core.values.size(); ++i)
        EXPECT_EQ(shown.values[i], core.values[i]) << i;  // the same engine and backward pass

    // Clicking the second prediction asks for its heat map.
    const int64_t second = w->predictionsView()->predictions()[1].index;
    const QRect area = w->predictionsView()->rect();
    QPoint at;
    for (int y = 0; y < area.height(); ++y)
        if (w->predictionsView()->rowAt(QPoint(area.width() / 2, y)) == 1) {
            at = QPoint(area.width() / 2, y);
            break;
        }
    QTest::mouseClick(w->predictionsView(), Qt::LeftButton, {}, at);
    ASSERT_TRUE(showResult(*w, [&](const InferenceResult& res) {
        return res.heatmap && res.heatmap->classIndex == second;
    }));
    EXPECT_EQ(w->predictionsView()->highlighted(), second);
}

TEST(Figures, ColourTheDiagramByZeroActivations) {
    auto w = window();
    w->openFile(QString::fromStdString(test::fixtureImage("kite").path));
    ASSERT_TRUE(showResult(*w, [](const InferenceResult&) { return true; }));
    const QColor stageColour = w->architectureView()->boxColor("layer2.0.conv1");
    w->diagramPanel()->figureBox()->setCurrentIndex(2);  // zero activations: every node's figures
    ASSERT_TRUE(showResult(*w, [](const InferenceResult& r) { return !r.nodeFigures.empty(); }));
    const auto& stats = w->session()->result()->nodeFigures;
    const int conv1 = w->architectureView()->spec()->find("layer2.0.conv1");
    EXPECT_GT(stats[static_cast<size_t>(conv1)].zeroFraction, 0.0F);  // after a ReLU
    EXPECT_LT(stats[static_cast<size_t>(conv1)].zeroFraction, 1.0F);
    EXPECT_NE(w->architectureView()->boxColor("layer2.0.conv1"), stageColour);
    EXPECT_EQ(w->architectureView()->figure(), ArchitectureView::Figure::Zeros);
    w->diagramPanel()->figureBox()->setCurrentIndex(0);
    EXPECT_EQ(w->architectureView()->boxColor("layer2.0.conv1"), stageColour);
}

// Pictures: every box shows its node's most active channel and value histogram, from core's
// taps of the image (sampled every k-th pixel to at most 28 on a side).
TEST(Figures, PicturesShowEachNodesMostActiveChannel) {
    auto w = window();
    const std::string kite = test::fixtureImage("kite").path;
    w->openFile(QString::fromStdString(kite));
    ASSERT_TRUE(showResult(*w, [](const InferenceResult&) { return true; }));
    EXPECT_TRUE(w->architectureView()->pictureOf("layer2.0.conv1").isNull());
    w->diagramPanel()->figureBox()->setCurrentIndex(4);  // Pictures
    ASSERT_TRUE(showResult(*w, [](const InferenceResult& r) { return !r.nodeFigures.empty(); }));
    const NetworkSpec& spec = *w->architectureView()->spec();
    ModelOptions o;
    o.weightsPath = fixture("weights/resnet18_seeded.pth");
    Pipeline pipeline(Model::open(o), EngineOptions().withThreads(w->engine().threads));
    RunRequest request;
    request.taps = spec.tapNames();
    const Classification core = pipeline.classifyFile(kite, request);
    for (const char* name : {"conv1", "layer2.0.conv1", "layer4.1"}) {
        const Tensor& tap = core.taps.at(name);
        const TapStats stats = computeTapStats(tap);
        const int c = stats.byMean.front();
        const int64_t h = tap.dims[2];
        const int64_t wd = tap.dims[3];
        const int64_t step = std::max((h + 27) / 28, (wd + 27) / 28);
        const NodeFigures& f =
            w->session()->result()->nodeFigures[static_cast<size_t>(spec.find(name))];
        ASSERT_EQ(f.thumbnail.dims,
                  (std::vector<int64_t>{(h + step - 1) / step, (wd + step - 1) / step}))
            << name;
        for (int64_t y = 0; y < f.thumbnail.dims[0]; ++y)
            for (int64_t x = 0; x < f.thumbnail.dims[1]; ++x)
                ASSERT_EQ(f.thumbnail.data[static_cast<size_t>(y * f.thumbnail.dims[1] + x)],
                          tap.data[static_cast<size_t>((c * h + y * step) * wd + x * step)])
                    << name;
        EXPECT_EQ(f.histogram, stats.histogram.counts) << name;
        const QImage picture = w->architectureView()->pictureOf(name);
        EXPECT_EQ(picture.size(), QSize(static_cast<int>(f.thumbnail.dims[1]),
                                        static_cast<int>(f.thumbnail.dims[0])))
            << name;
    }
    w->diagramPanel()->figureBox()->setCurrentIndex(0);
    EXPECT_TRUE(w->architectureView()->pictureOf("layer2.0.conv1").isNull());
}

// Error vs fp32: at int8 every box is coloured by max |q − f| / max |f| of its output, and the
// selected node's figures name that error and the cosine; both equal core's compareTaps of the
// window's int8 engine (calibrated on the same image) and an fp32 pipeline, with the channels
// switched off on both. At fp32 the legend says what to do instead.
TEST(Figures, ErrorVsFp32ColoursTheDiagramAtInt8) {
    auto w = window();
    const std::string dog = test::fixtureImage("dog").path;
    w->openFile(QString::fromStdString(dog));
    ASSERT_TRUE(showResult(*w, [](const InferenceResult&) { return true; }));
    EXPECT_TRUE(w->session()->result()->vsFp32.empty());  // fp32: nothing to compare
    w->diagramPanel()->figureBox()->setCurrentIndex(5);   // Error vs fp32
    EXPECT_TRUE(w->diagramPanel()->legendText().contains(QStringLiteral("Ctrl+3")));
    test::typeShortcut(*w, QKeySequence(Qt::CTRL | Qt::Key_3));  // int8
    ASSERT_TRUE(showResult(*w, [&](const InferenceResult& r) {
        return r.engineId == w->session()->engine().engineId && !r.vsFp32.empty();
    }));
    ASSERT_EQ(w->session()->engine().precision, Precision::Int8);
    ASSERT_TRUE(w->session()->setSwitchedOff(QStringLiteral("layer2.0"), {1, 2, 3}));
    ASSERT_TRUE(showResult(*w, [&](const InferenceResult& r) {
        return !r.vsFp32.empty() && !r.needs.ablations.empty();
    }));
    const ResultPtr r = w->session()->result();

    const auto model = w->session()->engine().model;
    const int threads = w->session()->engine().threads;
    const Tensor input = model->prepare(readImage(dog));
    ASSERT_EQ(w->session()->engine().calibration.size(), 1u);
    ASSERT_EQ(w->session()->engine().calibration.front()->data, input.data);
    Pipeline fp32(model, EngineOptions().withThreads(threads));
    Pipeline int8(model, test::windowEngineOptions(w->session()->engine()));
    RunRequest request;
    request.taps = model->spec().tapNames();
    request.ablations = w->session()->ablations();
    const Classification f = fp32.run(input, request);
    const Classification q = int8.run(input, request);
    ASSERT_EQ(r->vsFp32.size(), request.taps.size());
    for (const std::string& name : request.taps) {
        const TapDifference expected = compareTaps(f.taps.at(name), q.taps.at(name));
        ASSERT_TRUE(r->vsFp32.count(name)) << name;
        EXPECT_EQ(r->vsFp32.at(name).relativeError, expected.relativeError) << name;
        EXPECT_EQ(r->vsFp32.at(name).cosine, expected.cosine) << name;
    }
    // The boxes: one fixed log scale from 0.1 % (and below) to 30 % (and above), so that
    // precisions, images and frames compare by colour.
    ArchitectureView* view = w->architectureView();
    const auto expectedColour = [](double error) {
        const double t =
            std::clamp(std::log10(std::max(error, 0.001) / 0.001) / std::log10(300.0), 0.0, 1.0);
        return QColor(colormapTable(Colormap::Viridis)[static_cast<size_t>(std::lround(t * 255))]);
    };
    for (const std::string& name : request.taps)
        EXPECT_EQ(view->boxColor(QString::fromStdString(name)),
                  expectedColour(r->vsFp32.at(name).relativeError))
            << name;
    EXPECT_EQ(view->boxColor(QStringLiteral("input")), expectedColour(0.0));  // no error at all
    EXPECT_TRUE(w->diagramPanel()->legendText().contains(QStringLiteral("error vs fp32")));
    EXPECT_TRUE(w->diagramPanel()->legendText().contains(QStringLiteral("log scale")));
    // The selected node (layer1.0) names its error and cosine.
    const TapDifference& selected = r->vsFp32.at("layer1.0");
    const QString text = w->layerPanel()->figuresText();
    EXPECT_TRUE(text.contains(
        QStringLiteral("vs fp32: error %1%").arg(100.0 * selected.relativeError, 0, 'g', 3)))
        << text.toStdString();
    EXPECT_TRUE(text.contains(QStringLiteral("cosine %1").arg(selected.cosine, 0, 'f', 5)))
        << text.toStdString();
    w->diagramPanel()->figureBox()->setCurrentIndex(0);
}

TEST(Exports, PngsHaveTheirSizeAndAreNotBlankAndPredictionsExport) {
    auto w = window();
    w->inputPanel()->setHeatmapEnabled(true);
    w->openFile(QString::fromStdString(test::fixtureImage("dog").path));
    ASSERT_TRUE(showResult(*w, [](const InferenceResult& r) { return r.heatmap.has_value(); }));
    ASSERT_TRUE(QTest::qWaitFor([&] { return w->featureMapView()->channelCount() == 64; }, 10000));
    const QString dir = QString::fromStdString(test::tempDir());

    ASSERT_EQ(w->exports()->saveChannel(dir + "/channel.png"), QString());
    const QImage channel(dir + "/channel.png");
    EXPECT_EQ(channel.size(), QSize(448, 448));  // 56×56 enlarged 8×
    EXPECT_GT(colours(channel), 20);

    ASSERT_EQ(w->exports()->saveOverlay(dir + "/overlay.png"), QString());
    const QImage overlay(dir + "/overlay.png");
    EXPECT_EQ(overlay.size(), QSize(768, 576));  // the photo's own size
    EXPECT_GT(colours(overlay), 1000);
    EXPECT_NE(overlay.pixel(384, 288),
              QImage(QString::fromStdString(test::fixtureImage("dog").path)).pixel(384, 288));

    ASSERT_EQ(w->exports()->saveFeatureMaps(dir + "/grid.png"), QString());
    const QImage grid(dir + "/grid.png");
    EXPECT_GE(grid.width(), 1000);
    EXPECT_GT(colours(grid), 100);

    ASSERT_EQ(w->exports()->exportPredictions(dir + "/top5.csv"), QString());
    const std::string csv = test::readText((dir + "/top5.csv").toStdString());
    EXPECT_NE(csv.find(",258,Samoyed,"), std::string::npos) << csv;
    ASSERT_EQ(w->exports()->exportPredictions(dir + "/top5.json"), QString());
    EXPECT_NE(test::readText((dir + "/top5.json").toStdString()).find("\"label\":\"Samoyed\""),
              std::string::npos);
}

// The window never saves over the image on screen or the model's files (issue 23): the save
// dialogs' paths are refused naming both, and the file is untouched.
TEST(Exports, NeverOverTheImageOnScreenOrTheWeights) {
    auto w = window();
    const std::string dir = test::tempDir();
    const std::string photo = dir + "/photo.jpg";
    ASSERT_EQ(std::system(("cp " + test::fixtureImage("dog").path + " " + photo).c_str()), 0);
    ASSERT_EQ(std::system(("ln -s photo.jpg " + dir + "/link.jpg").c_str()), 0);
    w->openFile(QString::fromStdString(photo));
    ASSERT_TRUE(showResult(*w, [](const InferenceResult&) { return true; }));
    const std::vector<uint8_t> before = test::readBytes(photo);
    for (const std::string& target : {photo, dir + "/link.jpg"}) {
        const QString problem = w->exports()->outputProblem(QString::fromStdString(target));
        EXPECT_TRUE(problem.contains("is the image on screen " + QString::fromStdString(photo) +
                                     ": an output is never written over an input"))
            << problem.toStdString();
    }
    const QString weights = QString::fromStdString(w->engine().model->file());
    EXPECT_TRUE(w->exports()->outputProblem(weights).contains("is the weights"));
    EXPECT_EQ(w->exports()->outputProblem(QString::fromStdString(dir + "/new.png")), QString());
    EXPECT_EQ(test::readBytes(photo), before);
}

TEST(Batch, RowsForEveryGoodImageAndAnErrorRow) {
    auto w = window();
    const std::string dir = test::tempDir();
    for (const char* id : {"dog", "eagle", "kite"})
        ASSERT_EQ(std::system(("cp " + test::fixtureImage(id).path + " " + dir + "/").c_str()), 0);
    ASSERT_EQ(
        std::system(("cp " + fixture("bad/truncated.png") + " " + dir + "/corrupt.png").c_str()),
        0);
    w->classifyFolder(QString::fromStdString(dir));
    BatchWindow* batch = w->batchWindow();
    ASSERT_NE(batch, nullptr);
    QSignalSpy finished(batch, &BatchWindow::finished);
    ASSERT_TRUE(test::waitForCount(finished, 1, 60000));
    EXPECT_FALSE(finished.first().first().toBool());
    const auto& rows = batch->rows();
    ASSERT_EQ(rows.size(), 4u);
    std::map<std::string, std::string> top1;
    for (const BatchRow& r : rows)
        top1[r.file.substr(r.file.rfind('/') + 1)] =
            r.error.empty() ? r.top[0].label : "error: " + r.error;
    EXPECT_EQ(top1["dog.jpg"], "Samoyed");
    EXPECT_EQ(top1["eagle.jpg"], "bald eagle");
    EXPECT_EQ(top1["kite.jpg"], "kite");
    EXPECT_NE(top1["corrupt.png"].find("corrupt.png: the PNG file is truncated"), std::string::npos)
        << top1["corrupt.png"];
    EXPECT_EQ(batch->table()->model()->rowCount(), 4);
    const QString csv = QString::fromStdString(dir) + "/out.csv";
    ASSERT_EQ(batch->exportRows(csv), QString());
    const std::string text = test::readText(csv.toStdString());
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 5);  // header + 4 rows
    // Exporting over one of the folder's images is refused; the image is untouched.
    const std::vector<uint8_t> kite = test::readBytes(dir + "/kite.jpg");
    EXPECT_TRUE(batch->exportRows(QString::fromStdString(dir + "/kite.jpg"))
                    .contains("an output is never written over an input"));
    EXPECT_EQ(test::readBytes(dir + "/kite.jpg"), kite);
    // Double-clicking a row explores that image in the main window.
    QSignalSpy open(batch, &BatchWindow::openRequested);
    QTableView* table = batch->table();
    table->sortByColumn(0, Qt::AscendingOrder);
    const QModelIndex first = table->model()->index(1, 0);  // sorted: corrupt, dog, eagle, kite
    emit table->doubleClicked(first);
    ASSERT_EQ(open.count(), 1);
    EXPECT_TRUE(open.first().first().toString().endsWith("dog.jpg"))
        << open.first().first().toString().toStdString();
}

// A second folder after sorting the first by another column: the header shows the order the
// rows really have, and rows arriving under a sort take their sorted place.
TEST(Batch, TheSortIndicatorAlwaysMatchesTheRows) {
    auto w = window();
    const std::string dir = test::tempDir();
    for (const char* id : {"dog", "eagle", "kite", "horses"})
        ASSERT_EQ(std::system(("cp " + test::fixtureImage(id).path + " " + dir + "/").c_str()), 0);
    w->classifyFolder(QString::fromStdString(dir));
    BatchWindow* batch = w->batchWindow();
    QSignalSpy finished(batch, &BatchWindow::finished);
    ASSERT_TRUE(test::waitForCount(finished, 1, 60000));
    QHeaderView* header = batch->table()->horizontalHeader();
    QTest::mouseClick(header->viewport(), Qt::LeftButton, {},
                      QPoint(header->sectionViewportPosition(1) + 10, header->height() / 2));
    ASSERT_EQ(header->sortIndicatorSection(), 1);  // by top-1 label: not the files' order
    w->classifyFolder(QString::fromStdString(dir));
    ASSERT_TRUE(test::waitForCount(finished, 2, 60000));
    ASSERT_EQ(batch->table()->model()->rowCount(), 4);
    // Whatever the header shows, the rows are in that order.
    std::vector<QString> shown;
    for (int r = 0; r < 4; ++r)
        shown.push_back(batch->table()
                            ->model()
                            ->index(r, header->sortIndicatorSection())
                            .data(Qt::UserRole)
                            .toString());
    if (header->sortIndicatorOrder() == Qt::AscendingOrder)
        EXPECT_TRUE(std::is_sorted(shown.begin(), shown.end()));
    else
        EXPECT_TRUE(std::is_sorted(shown.rbegin(), shown.rend()));
}

TEST(Batch, CancelStopsPromptly) {
    auto w = window();
    const std::string dir = test::tempDir();
    for (int i = 0; i < 40; ++i)
        ASSERT_EQ(std::system(("cp " + test::fixtureImage("giraffe").path + " " + dir + "/g" +
                               std::to_string(i) + ".jpg")
                                  .c_str()),
                  0);
    w->classifyFolder(QString::fromStdString(dir));
    BatchWindow* batch = w->batchWindow();
    QSignalSpy finished(batch, &BatchWindow::finished);
    ASSERT_TRUE(QTest::qWaitFor([&] { return !batch->rows().empty(); }, 30000));
    QElapsedTimer t;
    t.start();
    batch->cancel();
    ASSERT_TRUE(test::waitForCount(finished, 1, 10000));
    std::printf("[ batch ] cancelled after %zu of 40 images, %lld ms after the request\n",
                batch->rows().size(), static_cast<long long>(t.elapsed()));
    EXPECT_TRUE(finished.first().first().toBool());
    EXPECT_LT(t.elapsed(), 1500);  // at most the image in progress
    EXPECT_LT(batch->rows().size(), 40u);
}

}  // namespace
}  // namespace r18::ui
