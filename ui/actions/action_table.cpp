#include "ui/actions/action_table.h"

#include <QFileInfo>

#include "ui/actions/exports.h"
#include "ui/actions/image_intake.h"
#include "ui/actions/live_controller.h"
#include "ui/actions/model_controller.h"
#include "ui/actions/recent_files.h"
#include "ui/panels/input_panel.h"
#include "ui/panels/layer_panel.h"
#include "ui/panels/status_panel.h"
#include "ui/session/session.h"
#include "ui/views/architecture_view.h"

namespace r18::ui {

QString sampleActionId(const QString& path) {
    return QStringLiteral("file.sample.") + QFileInfo(path).completeBaseName();
}

QString recentActionId(int index) {
    return QStringLiteral("file.recent%1").arg(index);
}

namespace {

// File → Open Sample (one entry per installed photo) and File → Open Recent (fixed slots that
// RecentFiles names and shows), for after File → Open.
std::vector<ActionSpec> sampleAndRecentActions(const ActionTargets& t) {
    std::vector<ActionSpec> table;
    const QString samples = QObject::tr("&File/Open &Sample");
    for (const QString& path : t.samples) {
        QString name = QFileInfo(path).completeBaseName();
        name[0] = name[0].toUpper();
        table.push_back({sampleActionId(path),
                         samples,
                         QStringLiteral("&") + name,
                         {},
                         [t, path](bool) { t.openSample(path); },
                         false,
                         {},
                         QObject::tr("open the sample photo %1").arg(QFileInfo(path).fileName())});
    }
    const QString recent = QObject::tr("&File/Open &Recent");
    for (int i = 0; i < RecentFiles::kMaxEntries; ++i)
        table.push_back({recentActionId(i), recent, {}, {}, [t, i](bool) { t.recent->open(i); }});
    table.push_back({"-", recent});
    table.push_back({"file.recentClear", recent, QObject::tr("&Clear Menu"), {}, [t](bool) {
                         t.recent->clear();
                     }});
    return table;
}

}  // namespace

std::vector<ActionSpec> explorerActions(const ActionTargets& t) {
    std::vector<ActionSpec> table = {
        {"file.open",
         QObject::tr("&File"),
         QObject::tr("&Open Images…"),
         QKeySequence::Open,
         [t](bool) { t.intake->openDialog(); },
         false,
         {},
         {},
         QStyle::SP_DialogOpenButton,
         true},
    };
    const std::vector<ActionSpec> samplesAndRecent = sampleAndRecentActions(t);
    table.insert(table.end(), samplesAndRecent.begin(), samplesAndRecent.end());
    const std::vector<ActionSpec> afterOpen = {
        {"file.previous",
         QObject::tr("&File"),
         QObject::tr("Pre&vious Image"),
         Qt::Key_PageUp,
         [t](bool) { t.intake->step(-1); },
         false,
         {},
         QObject::tr("previous image (in its folder)"),
         -1,
         false,
         QKeySequence(Qt::CTRL | Qt::Key_Left)},
        {"file.next",
         QObject::tr("&File"),
         QObject::tr("&Next Image"),
         Qt::Key_PageDown,
         [t](bool) { t.intake->step(+1); },
         false,
         {},
         QObject::tr("next image (in its folder)"),
         -1,
         false,
         QKeySequence(Qt::CTRL | Qt::Key_Right)},
        {"file.folder", QObject::tr("&File"), QObject::tr("Classify a &Folder…"),
         QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_F), [t](bool) { t.classifyFolder(); }},
        {"-", QObject::tr("&File")},
        {"file.saveMaps",
         QObject::tr("&File"),
         QObject::tr("&Save Feature Maps as PNG…"),
         QKeySequence::Save,
         [t](bool) { t.exports->askFeatureMaps(); },
         false,
         {},
         {},
         QStyle::SP_DialogSaveButton,
         true},
        {"file.saveChannel",
         QObject::tr("&File"),
         QObject::tr("Save &Channel as PNG…"),
         {},
         [t](bool) { t.exports->askChannel(); }},
        {"file.saveOverlay",
         QObject::tr("&File"),
         QObject::tr("Save Image with &Overlay as PNG…"),
         {},
         [t](bool) { t.exports->askOverlay(); }},
        {"file.saveWindow", QObject::tr("&File"), QObject::tr("Save &Window as PNG…"),
         QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S), [t](bool) { t.exports->askWindow(); }},
        {"file.exportPredictions", QObject::tr("&File"), QObject::tr("&Export Predictions…"),
         QKeySequence(Qt::CTRL | Qt::Key_E), [t](bool) { t.exports->askPredictions(); }},
        {"-", QObject::tr("&File")},
        {"file.quit", QObject::tr("&File"), QObject::tr("&Quit"),
         QKeySequence(Qt::CTRL | Qt::Key_Q), [t](bool) { t.quit(); }},
        {"edit.paste",
         QObject::tr("&Edit"),
         QObject::tr("&Paste Image"),
         QKeySequence::Paste,
         [t](bool) { t.intake->paste(); },
         false,
         {},
         QObject::tr("paste an image, a path or a URL"),
         QStyle::SP_FileDialogContentsView,
         true},
        {"edit.copyImage", QObject::tr("&Edit"), QObject::tr("Copy &Image with Overlay"),
         QKeySequence::Copy, [t](bool) { t.exports->copyImage(); }},
        {"edit.copyPredictions", QObject::tr("&Edit"), QObject::tr("Copy &Predictions"),
         QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C),
         [t](bool) { t.exports->copyPredictions(); }},
        {"view.heatmap", QObject::tr("&View"), QObject::tr("&Where It Looked (Heat Map)"),
         Qt::Key_H, [t](bool on) { t.input->setHeatmapEnabled(on); }, true},
        {"view.perLayer",
         QObject::tr("&View"),
         QObject::tr("Scale per &Layer"),
         Qt::Key_N,
         [t](bool on) { t.layers->setPerLayerScale(on); },
         true,
         {},
         QObject::tr("one colour scale per layer / per channel")},
        {"view.sort", QObject::tr("&View"), QObject::tr("&Sort Channels by Mean"), Qt::Key_S,
         [t](bool on) { t.layers->setSortByMean(on); }, true},
        {"view.blend", QObject::tr("&View"), QObject::tr("&Blend Channel over Input"), Qt::Key_B,
         [t](bool on) { t.layers->setBlend(on); }, true},
        {"-", QObject::tr("&View")},
        {"view.explain",
         QObject::tr("&View"),
         QObject::tr("Where It Looked — &Methods"),
         Qt::Key_E,
         [t](bool on) { t.showExplain(on); },
         true,
         {},
         QObject::tr("CAM, Grad-CAM, gradients, integrated gradients, SmoothGrad, faithfulness")},
        {"view.atlas",
         QObject::tr("&View"),
         QObject::tr("What This Channel &Detects"),
         Qt::Key_A,
         [t](bool on) { t.showAtlas(on); },
         true,
         {},
         QObject::tr("top-9 images of your folder and feature visualisation per channel")},
        {"view.compare",
         QObject::tr("&View"),
         QObject::tr("&Compare fp32 / int8"),
         Qt::Key_C,
         [t](bool on) { t.showCompare(on); },
         true,
         {},
         QObject::tr("the image at fp32 and int8: both top-5s, the selected node's difference")},
        {"view.atlasFolder", QObject::tr("&View"), QObject::tr("Channel Atlas of a F&older…"),
         QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_A), [t](bool) { t.atlasFolder(); }},
        {"-", QObject::tr("&View")},
        {"view.fit", QObject::tr("&View"), QObject::tr("&Fit Diagram"),
         QKeySequence(Qt::CTRL | Qt::Key_0), [t](bool) { t.diagram->fitDiagram(); }},
        {"model.openWeights", QObject::tr("&Model"), QObject::tr("Open &Weights…"),
         QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O),
         [t](bool) { t.models->openWeightsDialog(); }},
        {"model.openLabels",
         QObject::tr("&Model"),
         QObject::tr("Open &Labels…"),
         {},
         [t](bool) { t.models->openLabelsDialog(); }},
        {"-", QObject::tr("&Model")},
        {"model.download",
         QObject::tr("&Model"),
         QObject::tr("&Download Official Weights…"),
         {},
         [t](bool) { t.models->showWeightsDialog(WeightsDialog::Mode::Download); }},
    };
    table.insert(table.end(), afterOpen.begin(), afterOpen.end());
    const int precisionKeys[] = {Qt::Key_1, Qt::Key_2, Qt::Key_3};
    for (int i = 0; i < 3; ++i)
        table.push_back({QStringLiteral("engine.") + precisionName(kPrecisions[i]),
                         QObject::tr("E&ngine"), QString::fromLatin1(precisionName(kPrecisions[i])),
                         QKeySequence(Qt::CTRL | precisionKeys[i]),
                         [t, i](bool) { t.session->setPrecision(kPrecisions[i]); }, true,
                         QStringLiteral("precision"),
                         QObject::tr("run the network in %1").arg(precisionName(kPrecisions[i]))});
    table.push_back({"-", QObject::tr("E&ngine")});
    for (int n = 1; n <= t.cores; ++n)
        table.push_back({QStringLiteral("engine.threads%1").arg(n),
                         QObject::tr("E&ngine"),
                         n == 1 ? QObject::tr("1 thread") : QObject::tr("%1 threads").arg(n),
                         {},
                         [t, n](bool) { t.session->setThreads(n); },
                         true,
                         QStringLiteral("threads")});
    const std::vector<ActionSpec> rest = {
        {"live.start",
         QObject::tr("&Live"),
         QObject::tr("&Start"),
         Qt::Key_Space,
         [t](bool) { t.live->toggleRunning(); },
         false,
         {},
         QObject::tr("start/stop the camera or video"),
         QStyle::SP_MediaPlay,
         true},
        {"live.freeze",
         QObject::tr("&Live"),
         QObject::tr("&Freeze Frame"),
         Qt::Key_F,
         [t](bool on) { t.live->setFrozen(on); },
         true,
         {},
         QObject::tr("freeze the frame to browse its layers"),
         -1,
         true},
        {"live.mirror",
         QObject::tr("&Live"),
         QObject::tr("&Mirror"),
         Qt::Key_M,
         [t](bool on) { t.live->setMirror(on); },
         true,
         {},
         QObject::tr("mirror the camera"),
         -1,
         true},
        {"live.snapshot",
         QObject::tr("&Live"),
         QObject::tr("Save &Snapshot"),
         Qt::Key_P,
         [t](bool) {
             QString error;
             const QString path = t.live->snapshot(&error);
             t.status->flash(path.isEmpty() ? error : QObject::tr("Snapshot saved: %1").arg(path),
                             6000);
         },
         false,
         {},
         QObject::tr("save the frame on screen to Pictures")},
        {"live.video",
         QObject::tr("&Live"),
         QObject::tr("Open &Video File or Stream…"),
         {},
         [t](bool) { t.live->askForVideo(); }},
        {"-", QObject::tr("&Live")},
        {"live.loop",
         QObject::tr("&Live"),
         QObject::tr("&Loop Videos"),
         {},
         [t](bool on) { t.live->setLoop(on); },
         true},
        {"help.guide",
         QObject::tr("&Help"),
         QObject::tr("&What Am I Looking At?"),
         QKeySequence::HelpContents,
         [t](bool) { t.showGuide(); },
         false,
         {},
         QObject::tr("what the diagram, feature maps, heat map and precisions show")},
        {"help.shortcuts", QObject::tr("&Help"), QObject::tr("&Keyboard Shortcuts"),
         QKeySequence(Qt::CTRL | Qt::Key_Slash), [t](bool) { t.showShortcuts(); }},
        {"help.about",
         QObject::tr("&Help"),
         QObject::tr("&About"),
         {},
         [t](bool) { t.showAbout(); }},
    };
    table.insert(table.end(), rest.begin(), rest.end());
    return table;
}

}  // namespace r18::ui
