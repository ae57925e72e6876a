// The first 30 seconds, offscreen, driven as a new user drives them: the start view that greets
// an empty window (and goes when something is shown, and comes back only when nothing is),
// File → Open Sample, File → Open Recent across a restart of the window, Clear, a recent file
// that has gone, F1's "What am I looking at?" with the real shortcuts, and Help → About.
#include <gtest/gtest.h>

#include <QApplication>
#include <QDialog>
#include <QDropEvent>
#include <QFile>
#include <QLabel>
#include <QMessageBox>
#include <QMimeData>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QTest>
#include <QToolButton>
#include <QUrl>

#include <filesystem>
#include <fstream>

#include "core/app_data.h"
#include "core/model/weights.h"
#include "core/pipeline.h"
#include "core/runtime_info.h"
#include "tests/qt_test_util.h"
#include "tests/test_util.h"
#include "ui/actions/actions.h"
#include "ui/actions/recent_files.h"
#include "ui/actions/weights_dialog.h"
#include "ui/session/session.h"
#include "ui/views/input_view.h"
#include "ui/views/predictions_view.h"
#include "ui/window/app_info.h"
#include "ui/window/main_window.h"
#include "ui/window/start_view.h"

namespace r18::ui {
namespace {

using test::clickMenu;
using test::fixture;

const QString kSampleMenu = QStringLiteral("&File/Open &Sample");
const QString kRecentMenu = QStringLiteral("&File/Open &Recent");

std::string seededWeights() {
    return fixture("weights/resnet18_seeded.pth");
}

std::shared_ptr<const Model> seededModel() {
    ModelOptions o;
    o.weightsPath = seededWeights();
    return Model::open(o);
}

std::unique_ptr<MainWindow> makeWindow() {
    return test::openWindow(seededWeights(), QStringLiteral("layer1.0"), QSize(1300, 850));
}

// Each test starts as a new user: nothing recent, the heat map off. CTest runs test cases as
// processes side by side, so each keeps its settings in a file of its own.
class Start : public ::testing::Test {
protected:
    void SetUp() override {
        m_appName = QCoreApplication::applicationName();
        QCoreApplication::setApplicationName(
            m_appName + "-" +
            QString::fromStdString(
                ::testing::UnitTest::GetInstance()->current_test_info()->name()));
        QSettings().clear();
    }
    void TearDown() override {
        QSettings().clear();
        QCoreApplication::setApplicationName(m_appName);
    }

private:
    QString m_appName;
};

bool waitForPredictions(MainWindow& w, const QString& label) {
    return test::waitShown(w, [&](const InferenceResult& r) {
        return r.source->label == label && w.predictionsView()->predictions().size() == 5;
    });
}

// The visible Open Recent entries, as their menu texts.
QStringList recentTexts(MainWindow& w) {
    QStringList texts;
    for (int i = 0; i < RecentFiles::kMaxEntries; ++i)
        if (QAction* a = w.action(QStringLiteral("file.recent%1").arg(i)); a->isVisible())
            texts << a->text();
    return texts;
}

std::string copyToTemp(const std::string& from, const std::string& name) {
    const std::string to = test::tempDir() + "/" + name;
    std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
    return to;
}

TEST_F(Start, AnEmptyWindowInvitesAndASampleFromTheFileMenuOpensClassifiedWithItsHeatMap) {
    auto w = makeWindow();
    EXPECT_TRUE(w->startViewShown());
    EXPECT_FALSE(w->predictionsView()->isVisible());  // no views, so nothing stale either
    StartView* start = w->startView();
    for (QWidget* b :
         {static_cast<QWidget*>(start->pasteButton()), static_cast<QWidget*>(start->openButton()),
          static_cast<QWidget*>(start->sampleButton()),
          static_cast<QWidget*>(start->cameraButton())})
        EXPECT_TRUE(b->isVisible());
    // The seeded test weights are the user's own, not the official ones: no fix to offer.
    EXPECT_TRUE(start->weightsText().contains("resnet18_seeded.pth"))
        << start->weightsText().toStdString();
    EXPECT_TRUE(start->weightsText().contains("not the official"));
    EXPECT_FALSE(start->weightsButton()->isVisible());
    // It points to the guide by the guide's own shortcut.
    QStringList labels;
    for (const QLabel* label : start->findChildren<QLabel*>()) labels << label->text();
    EXPECT_TRUE(labels.contains("Press F1 to learn what the window shows."))
        << labels.join('|').toStdString();

    // File → Open Sample lists the photos that ship, in order.
    const std::vector<std::string> samples = sampleImages();
    ASSERT_EQ(samples.size(), 3U);
    QStringList listed;
    for (QAction* a : w->actions()->menu(kSampleMenu)->actions()) listed << a->text();
    EXPECT_EQ(listed.join(',').toStdString(), "&Cat,&Coffee,&Rocket");

    const QString coffee = QString::fromStdString(samples[1]);
    ASSERT_TRUE(clickMenu(*w, kSampleMenu, QStringLiteral("file.sample.coffee")));
    EXPECT_FALSE(w->startViewShown());  // gone as soon as the image is asked for
    ASSERT_TRUE(waitForPredictions(*w, coffee));
    EXPECT_TRUE(w->predictionsView()->isVisible());
    EXPECT_EQ(w->inputView()->label(), coffee);
    // The predictions are the core's for that photo.
    const auto expected = Pipeline(seededModel(), EngineOptions()).classifyFile(samples[1]).top;
    const auto& shown = w->predictionsView()->predictions();
    for (size_t i = 0; i < 5; ++i) EXPECT_EQ(shown[i].index, expected[i].index) << i;
    // A sample is a demonstration: it opens with "where it looked" showing.
    EXPECT_TRUE(w->action("view.heatmap")->isChecked());
    EXPECT_TRUE(QTest::qWaitFor([&] { return w->session()->shownHeatmap() != nullptr; }, 30000));
}

TEST_F(Start, TheOpenSampleButtonOpensTheFirstSample) {
    auto w = makeWindow();
    QToolButton* button = w->startView()->sampleButton();
    // The left part of the button (its right part is the arrow with the other samples).
    QTest::mouseClick(button, Qt::LeftButton, {}, QPoint(10, button->height() / 2));
    ASSERT_TRUE(waitForPredictions(*w, QString::fromStdString(sampleImages().front())));
    EXPECT_FALSE(w->startViewShown());
    EXPECT_TRUE(w->inputView()->label().endsWith("cat.jpg"));
}

TEST_F(Start, AnImageDroppedOnTheStartViewOpens) {
    auto w = makeWindow();
    const QString dog = QString::fromStdString(test::fixtureImage("dog").path);
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(dog)});
    QWidget* target = w->startView();
    const QPoint at(target->width() / 2, target->height() / 2);
    QDragEnterEvent enter(at, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(target, &enter);  // reaches the window, which takes drops
    ASSERT_TRUE(enter.isAccepted());
    QDropEvent drop(QPointF(at), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(target, &drop);
    ASSERT_TRUE(waitForPredictions(*w, dog));
    EXPECT_FALSE(w->startViewShown());
}

TEST_F(Start, ComesBackOnlyWhenNothingIsShown) {
    const std::string broken = test::tempDir() + "/broken.jpg";
    std::ofstream(broken) << "not a JPEG";
    const QString brokenPath = QString::fromStdString(broken);
    {
        // Nothing shown yet and the image fails: the invitation comes back, with the error.
        auto w = makeWindow();
        QSignalSpy errors(w.get(), &MainWindow::errorShown);
        w->openFile(brokenPath);
        EXPECT_FALSE(w->startViewShown());
        ASSERT_TRUE(test::waitForCount(errors, 1));
        EXPECT_TRUE(QTest::qWaitFor([&] { return w->startViewShown(); }, 5000));
        // A file that cannot be read is not offered again in Open Recent.
        EXPECT_TRUE(recentTexts(*w).isEmpty()) << recentTexts(*w).join(',').toStdString();
    }
    {
        // An image on screen stays when the next one fails: no invitation over a result.
        auto w = makeWindow();
        const QString dog = QString::fromStdString(test::fixtureImage("dog").path);
        w->openFile(dog);
        ASSERT_TRUE(waitForPredictions(*w, dog));
        QSignalSpy errors(w.get(), &MainWindow::errorShown);
        w->openFile(brokenPath);
        ASSERT_TRUE(test::waitForCount(errors, 1));
        QTest::qWait(100);
        EXPECT_FALSE(w->startViewShown());
        EXPECT_EQ(w->session()->result()->source->label, dog);
    }
}

TEST_F(Start, WithOnlyTheDemoWeightsTheStartViewOffersTheDownload) {
    for (const std::string& p : defaultWeightsCandidates())
        if (QFile::exists(QString::fromStdString(p)))
            GTEST_SKIP() << "weights exist in a default location on this machine: " << p;
    QSettings().setValue("firstRun/dontAsk", true);  // the start view, not the first-run dialog
    MainWindow w{WindowOptions{}};
    QSignalSpy models(&w, &MainWindow::modelShown);
    w.show();
    ASSERT_TRUE(test::waitForCount(models, 1, 60000));
    ASSERT_TRUE(w.startViewShown());
    EXPECT_TRUE(w.startView()->weightsText().contains("demo weights"))
        << w.startView()->weightsText().toStdString();
    QPushButton* fix = w.startView()->weightsButton();
    ASSERT_TRUE(fix->isVisible());
    EXPECT_TRUE(fix->text().contains("Download"));
    QTest::mouseClick(fix, Qt::LeftButton);
    ASSERT_NE(w.weightsDialog(), nullptr);
    EXPECT_TRUE(QTest::qWaitFor([&] { return w.weightsDialog()->isVisible(); }, 3000));
    w.weightsDialog()->close();
}

TEST_F(Start, OpenRecentSurvivesARestartClearEmptiesItAndAGoneFileIsRemovedWithAMessage) {
    const QString dog =
        QString::fromStdString(copyToTemp(test::fixtureImage("dog").path, "dog.jpg"));
    const QString cat = QString::fromStdString(sampleImages().front());
    {
        auto w = makeWindow();
        EXPECT_TRUE(recentTexts(*w).isEmpty());
        EXPECT_FALSE(w->action("file.recentClear")->isEnabled());
        w->openFile(dog);
        ASSERT_TRUE(waitForPredictions(*w, dog));
        ASSERT_TRUE(clickMenu(*w, kSampleMenu, QStringLiteral("file.sample.cat")));
        ASSERT_TRUE(waitForPredictions(*w, cat));
        // Stepping to the next image in the folder does not flood the list.
        w->action("file.next")->trigger();
        QTest::qWait(50);
        EXPECT_EQ(recentTexts(*w).join(',').toStdString(), "&1 cat.jpg,&2 dog.jpg");
        w->close();
    }
    {
        // A new window (the app restarted) with the same settings lists them, newest first.
        auto w = makeWindow();
        ASSERT_EQ(recentTexts(*w).join(',').toStdString(), "&1 cat.jpg,&2 dog.jpg");
        EXPECT_EQ(w->action("file.recent1")->toolTip(), dog);
        ASSERT_TRUE(clickMenu(*w, kRecentMenu, QStringLiteral("file.recent1")));
        ASSERT_TRUE(waitForPredictions(*w, dog));
        EXPECT_EQ(recentTexts(*w).join(',').toStdString(), "&1 dog.jpg,&2 cat.jpg");

        // The dog goes away; choosing it says so and removes it.
        ASSERT_TRUE(QFile::remove(dog));
        QSignalSpy errors(w.get(), &MainWindow::errorShown);
        ASSERT_TRUE(clickMenu(*w, kRecentMenu, QStringLiteral("file.recent0")));
        ASSERT_EQ(errors.count(), 1);
        EXPECT_TRUE(errors.first().first().toString().contains(dog));
        ASSERT_NE(w->errorBox(), nullptr);
        EXPECT_TRUE(w->errorBox()->isVisible());
        EXPECT_TRUE(w->errorBox()->text().contains("dog.jpg"));
        w->errorBox()->close();
        EXPECT_EQ(recentTexts(*w).join(',').toStdString(), "&1 cat.jpg");

        // Clear empties the menu, and it stays empty after a restart.
        ASSERT_TRUE(clickMenu(*w, kRecentMenu, QStringLiteral("file.recentClear")));
        EXPECT_TRUE(recentTexts(*w).isEmpty());
        EXPECT_FALSE(w->action("file.recentClear")->isEnabled());
        w->close();
    }
    {
        auto w = makeWindow();
        EXPECT_TRUE(recentTexts(*w).isEmpty());
    }
}

TEST_F(Start, F1ExplainsTheWindowAndListsTheRealShortcuts) {
    auto w = makeWindow();
    test::typeShortcut(*w, QKeySequence(Qt::Key_F1));
    ASSERT_TRUE(QTest::qWaitFor([&] { return w->guide() && w->guide()->isVisible(); }, 3000));
    const QString text = w->guideText();
    EXPECT_TRUE(text.contains("What am I looking at?"));
    for (const char* topic : {"diagram", "Feature maps", "Where it looked", "Precisions", "int8"})
        EXPECT_TRUE(text.contains(topic)) << topic;
    // Every shortcut of the action table is on the page, with what it does; F1 itself too.
    int listed = 0;
    for (const ActionSpec& spec : w->actions()->table()) {
        if (spec.id == "-" || spec.shortcut.isEmpty()) continue;
        const QString keys = spec.shortcut.toString(QKeySequence::NativeText);
        EXPECT_TRUE(text.contains(keys)) << spec.id.toStdString() << " " << keys.toStdString();
        ++listed;
    }
    EXPECT_GE(listed, 20);
    EXPECT_TRUE(text.contains("F1"));
    w->guide()->close();
    QTest::qWait(20);
    EXPECT_TRUE(w->guideText().isEmpty());  // closed and gone
    // Ctrl+/ is the same table without the explanations.
    w->activateWindow();
    ASSERT_TRUE(QTest::qWaitForWindowActive(w.get(), 3000));
    test::typeShortcut(*w, QKeySequence(Qt::CTRL | Qt::Key_Slash));
    ASSERT_TRUE(QTest::qWaitFor([&] { return w->helpBox() != nullptr; }, 3000));
    EXPECT_TRUE(w->helpBox()->text().contains("F1"));
    EXPECT_TRUE(w->helpBox()->text().contains("In the views"));
    w->helpBox()->close();
}

TEST_F(Start, AboutNamesTheVersionAndTheLibrariesFoundAtRunTime) {
    auto w = makeWindow();
    ASSERT_TRUE(clickMenu(*w, QStringLiteral("&Help"), QStringLiteral("help.about")));
    ASSERT_NE(w->aboutBox(), nullptr);
    EXPECT_TRUE(w->aboutBox()->isVisible());
    const QString text = w->aboutBox()->text();
    const RuntimeInfo info = runtimeInfo();
    for (const std::string& part :
         {std::string(appVersion()), info.oneDnnVersion, info.openCvVersion, info.cpuIsa,
          info.convolutions, info.cpuModel, std::string(qVersion()), std::string(appId())})
        EXPECT_TRUE(text.contains(QString::fromStdString(part).toHtmlEscaped())) << part;
    // The icon is the app's own, found beside its data: 48, 128 and 256 pixels.
    EXPECT_FALSE(w->aboutBox()->iconPixmap().isNull());
    const QList<QSize> sizes = appIcon().availableSizes();
    for (int side : {48, 128, 256}) EXPECT_TRUE(sizes.contains(QSize(side, side))) << side;
    w->aboutBox()->close();
}

}  // namespace
}  // namespace r18::ui
