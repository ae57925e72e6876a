#include "ui/actions/action_table.h"

#include <QFileInfo>

#include <algorithm>

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

QString threadsText(int n) {
    return n == 1 ? QObject::tr("1 thread") : QObject::tr("%1 threads").arg(n);
}

// File: open, samples, recent files, previous/next, folders, saving, quit.
void fileActions(std::vector<ActionSpec>& table, const ActionTargets& t) {
    const QString file = QObject::tr("&File");
    table.push_back(
        command("file.open", file, QObject::tr("&Open Images…"), [t] { t.intake->openDialog(); })
            .key(QKeySequence::Open)
            .icon(QStyle::SP_DialogOpenButton)
            .toolbar(10, QObject::tr("Open")));
    // File → Open Sample (one entry per installed photo) and File → Open Recent (fixed slots that
    // RecentFiles names and shows).
    const QString samples = QObject::tr("&File/Open &Sample");
    for (const QString& path : t.samples) {
        QString name = QFileInfo(path).completeBaseName();
        name[0] = name[0].toUpper();
        table.push_back(
            command(sampleActionId(path), samples, QStringLiteral("&") + name, [t, path] {
                t.openSample(path);
            }).explained(QObject::tr("open the sample photo %1").arg(QFileInfo(path).fileName())));
    }
    const QString recent = QObject::tr("&File/Open &Recent");
    for (int i = 0; i < RecentFiles::kMaxEntries; ++i)
        table.push_back(command(recentActionId(i), recent, {}, [t, i] { t.recent->open(i); }));
    table.push_back(separator(recent));
    table.push_back(command("file.recentClear", recent, QObject::tr("&Clear Menu"),
                            [t] { t.recent->clear(); }));
    table.push_back(
        command("file.previous", file, QObject::tr("Pre&vious Image"), [t] { t.intake->step(-1); })
            .key(Qt::Key_PageUp, QKeySequence(Qt::CTRL | Qt::Key_Left))
            .explained(QObject::tr("previous image (in its folder)")));
    table.push_back(
        command("file.next", file, QObject::tr("&Next Image"), [t] { t.intake->step(+1); })
            .key(Qt::Key_PageDown, QKeySequence(Qt::CTRL | Qt::Key_Right))
            .explained(QObject::tr("next image (in its folder)")));
    table.push_back(command("file.folder", file, QObject::tr("Classify a &Folder…"), [t] {
                        t.classifyFolder();
                    }).key(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_F)));
    table.push_back(separator(file));
    table.push_back(command("file.saveMaps", file, QObject::tr("&Save Feature Maps as PNG…"),
                            [t] { t.exports->askFeatureMaps(); })
                        .key(QKeySequence::Save)
                        .icon(QStyle::SP_DialogSaveButton)
                        .toolbar(12, QObject::tr("Save")));
    table.push_back(command("file.saveChannel", file, QObject::tr("Save &Channel as PNG…"),
                            [t] { t.exports->askChannel(); }));
    table.push_back(command("file.saveOverlay", file,
                            QObject::tr("Save Image with &Overlay as PNG…"),
                            [t] { t.exports->askOverlay(); }));
    table.push_back(command("file.saveWindow", file, QObject::tr("Save &Window as PNG…"), [t] {
                        t.exports->askWindow();
                    }).key(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S)));
    table.push_back(
        command("file.exportPredictions", file, QObject::tr("&Export Predictions…"), [t] {
            t.exports->askPredictions();
        }).key(QKeySequence(Qt::CTRL | Qt::Key_E)));
    table.push_back(separator(file));
    table.push_back(command("file.quit", file, QObject::tr("&Quit"), [t] {
                        t.quit();
                    }).key(QKeySequence(Qt::CTRL | Qt::Key_Q)));
}

void editActions(std::vector<ActionSpec>& table, const ActionTargets& t) {
    const QString edit = QObject::tr("&Edit");
    table.push_back(
        command("edit.paste", edit, QObject::tr("&Paste Image"), [t] { t.intake->paste(); })
            .key(QKeySequence::Paste)
            .explained(QObject::tr("paste an image, a path or a URL"))
            .icon(QStyle::SP_FileDialogContentsView)
            .toolbar(11, QObject::tr("Paste")));
    table.push_back(command("edit.copyImage", edit, QObject::tr("Copy &Image with Overlay"), [t] {
                        t.exports->copyImage();
                    }).key(QKeySequence::Copy));
    table.push_back(command("edit.copyPredictions", edit, QObject::tr("Copy &Predictions"), [t] {
                        t.exports->copyPredictions();
                    }).key(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C)));
}

void viewActions(std::vector<ActionSpec>& table, const ActionTargets& t) {
    const QString view = QObject::tr("&View");
    table.push_back(toggle(
                        "view.heatmap", view, QObject::tr("&Where It Looked (Heat Map)"),
                        [t] { return t.input->heatmapEnabled(); },
                        [t](bool on) { t.input->setHeatmapEnabled(on); })
                        .key(Qt::Key_H));
    table.push_back(toggle(
                        "view.perLayer", view, QObject::tr("Scale per &Layer"),
                        [t] { return t.layers->perLayerScale(); },
                        [t](bool on) { t.layers->setPerLayerScale(on); })
                        .key(Qt::Key_N)
                        .explained(QObject::tr("one colour scale per layer / per channel")));
    table.push_back(toggle(
                        "view.sort", view, QObject::tr("&Sort Channels by Mean"),
                        [t] { return t.layers->sortByMean(); },
                        [t](bool on) { t.layers->setSortByMean(on); })
                        .key(Qt::Key_S));
    table.push_back(toggle(
                        "view.blend", view, QObject::tr("&Blend Channel over Input"),
                        [t] { return t.layers->blend(); }, [t](bool on) { t.layers->setBlend(on); })
                        .key(Qt::Key_B));
    table.push_back(separator(view));
    table.push_back(toggle("view.explain", view, QObject::tr("Where It Looked — &Methods"),
                           t.explainShown, t.showExplain)
                        .key(Qt::Key_E)
                        .explained(QObject::tr("CAM, Grad-CAM, gradients, integrated gradients, "
                                               "SmoothGrad, Score-CAM, faithfulness")));
    table.push_back(toggle("view.atlas", view, QObject::tr("What This Channel &Detects"),
                           t.atlasShown, t.showAtlas)
                        .key(Qt::Key_A)
                        .explained(QObject::tr(
                            "top-9 images of your folder and feature visualisation per channel")));
    table.push_back(
        toggle("view.compare", view, QObject::tr("&Compare fp32 / int8"), t.compareShown,
               t.showCompare)
            .key(Qt::Key_C)
            .explained(QObject::tr(
                "the image at fp32 and int8: both top-5s, the selected node's difference")));
    table.push_back(
        toggle("view.importance", view, QObject::tr("Channel &Importance for the Class"),
               t.importanceShown, t.showImportance)
            .key(Qt::Key_I)
            .explained(QObject::tr(
                "the selected layer's channels ranked by what the class loses without each")));
    table.push_back(toggle("view.pair", view, QObject::tr("Two Images Si&de by Side (A / B)"),
                           t.pairShown, t.showPair)
                        .key(Qt::Key_D)
                        .explained(QObject::tr(
                            "A pinned, B on screen: both top-5s, their similarity node by node")));
    table.push_back(
        command("view.pinA", view, QObject::tr("&Pin This Image as A"), [t] { t.pinA(); })
            .key(QKeySequence(Qt::SHIFT | Qt::Key_P))
            .explained(QObject::tr("the image on screen becomes A; the next one you open is B")));
    table.push_back(
        command("view.atlasFolder", view, QObject::tr("Channel Atlas of a F&older…"), [t] {
            t.atlasFolder();
        }).key(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_A)));
    table.push_back(separator(view));
    table.push_back(command("view.fit", view, QObject::tr("&Fit Diagram"), [t] {
                        t.diagram->fitDiagram();
                    }).key(QKeySequence(Qt::CTRL | Qt::Key_0)));
}

// Channels: switch the picked channels of the node in the grid off, and back on.
void channelActions(std::vector<ActionSpec>& table, const ActionTargets& t) {
    const QString channels = QObject::tr("&Channels");
    const auto run = [t](QString (LayerPanel::*f)()) {
        return [t, f] { t.status->flash((t.layers->*f)(), 6000); };
    };
    table.push_back(command("channels.toggle", channels,
                            QObject::tr("Switch Picked Channels &Off / On"),
                            run(&LayerPanel::togglePicked))
                        .key(Qt::Key_O, QKeySequence(Qt::Key_Delete))
                        .explained(QObject::tr(
                            "switch the picked channels off, everything after them recomputed; "
                            "again: back on"))
                        .enabledWhen([t] { return t.layers->canSwitchChannels(); }));
    table.push_back(command("channels.keepOnly", channels,
                            QObject::tr("&Keep Only the Picked Channels"),
                            run(&LayerPanel::keepOnlyPicked))
                        .key(QKeySequence(Qt::SHIFT | Qt::Key_O))
                        .explained(QObject::tr("switch off every other channel of the layer"))
                        .enabledWhen([t] { return t.layers->canSwitchChannels(); }));
    table.push_back(separator(channels));
    table.push_back(command("channels.nodeOn", channels,
                            QObject::tr("This &Layer's Channels Back On"),
                            run(&LayerPanel::switchNodeBackOn))
                        .key(Qt::Key_R)
                        .enabledWhen([t] { return t.layers->nodeHasChannelsOff(); }));
    table.push_back(command("channels.allOn", channels, QObject::tr("&Every Channel Back On"),
                            [t] {
                                t.session->switchAllBackOn();
                                t.status->flash(QObject::tr("Every channel is on again."));
                            })
                        .key(QKeySequence(Qt::SHIFT | Qt::Key_R))
                        .enabledWhen([t] { return !t.session->ablations().empty(); }));
}

// Model and Engine: weights, labels, precision, threads.
void modelActions(std::vector<ActionSpec>& table, const ActionTargets& t) {
    const QString model = QObject::tr("&Model");
    table.push_back(command("model.openWeights", model, QObject::tr("Open &Weights…"), [t] {
                        t.models->openWeightsDialog();
                    }).key(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O)));
    table.push_back(command("model.openLabels", model, QObject::tr("Open &Labels…"),
                            [t] { t.models->openLabelsDialog(); }));
    table.push_back(separator(model));
    table.push_back(command("model.download", model, QObject::tr("&Download Official Weights…"),
                            [t] { t.models->showWeightsDialog(WeightsDialog::Mode::Download); }));
    const QString engine = QObject::tr("E&ngine");
    const int precisionKeys[] = {Qt::Key_1, Qt::Key_2, Qt::Key_3};
    for (int i = 0; i < 3; ++i) {
        const Precision p = kPrecisions[i];
        const QString name = QString::fromLatin1(precisionName(p));
        table.push_back(toggle(
                            QStringLiteral("engine.") + name, engine, name,
                            [t, p] { return t.session->wantedPrecision() == p; },
                            [t, p](bool) { t.session->setPrecision(p); })
                            .key(QKeySequence(Qt::CTRL | precisionKeys[i]))
                            .inGroup(QStringLiteral("precision"))
                            .explained(QObject::tr("run the network in %1").arg(name))
                            .enabledWhen([p] { return Engine::supports(p); }));
    }
    table.push_back(separator(engine));
    for (int n = 1; n <= t.cores; ++n)
        table.push_back(
            toggle(
                QStringLiteral("engine.threads%1").arg(n), engine, threadsText(n),
                [t, n] { return std::clamp(t.session->wantedThreads(), 1, t.cores) == n; },
                [t, n](bool) { t.session->setThreads(n); })
                .inGroup(QStringLiteral("threads")));
}

void liveActions(std::vector<ActionSpec>& table, const ActionTargets& t) {
    const QString live = QObject::tr("&Live");
    table.push_back(
        command("live.start", live, QObject::tr("&Start"), [t] { t.live->toggleRunning(); })
            .key(Qt::Key_Space)
            .explained(QObject::tr("start/stop the camera or video"))
            .icon(QStyle::SP_MediaPlay)
            .toolbar(32, QObject::tr("Start"))
            .labelled(
                [t] { return t.session->isLive() ? QObject::tr("&Stop") : QObject::tr("&Start"); },
                [t] { return t.session->isLive() ? QStyle::SP_MediaStop : QStyle::SP_MediaPlay; }));
    table.push_back(toggle(
                        "live.freeze", live, QObject::tr("&Freeze Frame"),
                        [t] { return t.session->isFrozen(); },
                        [t](bool on) { t.live->setFrozen(on); })
                        .key(Qt::Key_F)
                        .explained(QObject::tr("freeze the frame to browse its layers"))
                        .toolbar(33, QObject::tr("Freeze")));
    table.push_back(toggle(
                        "live.mirror", live, QObject::tr("&Mirror"),
                        [t] { return t.live->mirror(); }, [t](bool on) { t.live->setMirror(on); })
                        .key(Qt::Key_M)
                        .explained(QObject::tr("mirror the camera"))
                        .toolbar(34, QObject::tr("Mirror")));
    table.push_back(
        command("live.snapshot", live, QObject::tr("Save &Snapshot"),
                [t] {
                    QString error;
                    const QString path = t.live->snapshot(&error);
                    t.status->flash(
                        path.isEmpty() ? error : QObject::tr("Snapshot saved: %1").arg(path), 6000);
                })
            .key(Qt::Key_P)
            .explained(QObject::tr("save the frame on screen to Pictures")));
    table.push_back(
        toggle("live.record", live, QObject::tr("&Record Video…"), t.recording,
               [t](bool) { t.toggleRecording(); })
            .key(QKeySequence(Qt::CTRL | Qt::Key_R))
            .explained(QObject::tr("record the live view with its heat map and top-5; again: stop"))
            .enabledWhen([t] { return t.session->isLive() || t.recording(); }));
    table.push_back(command("live.video", live, QObject::tr("Open &Video File or Stream…"),
                            [t] { t.live->askForVideo(); }));
    table.push_back(separator(live));
    table.push_back(toggle(
        "live.loop", live, QObject::tr("&Loop Videos"), [t] { return t.live->loop(); },
        [t](bool on) { t.live->setLoop(on); }));
}

void helpActions(std::vector<ActionSpec>& table, const ActionTargets& t) {
    const QString help = QObject::tr("&Help");
    table.push_back(
        command("help.guide", help, QObject::tr("&What Am I Looking At?"), [t] { t.showGuide(); })
            .key(QKeySequence::HelpContents)
            .explained(
                QObject::tr("what the diagram, feature maps, heat map and precisions show")));
    table.push_back(command("help.shortcuts", help, QObject::tr("&Keyboard Shortcuts"), [t] {
                        t.showShortcuts();
                    }).key(QKeySequence(Qt::CTRL | Qt::Key_Slash)));
    table.push_back(command("help.about", help, QObject::tr("&About"), [t] { t.showAbout(); }));
}

}  // namespace

std::vector<ActionSpec> explorerActions(const ActionTargets& t) {
    std::vector<ActionSpec> table;
    fileActions(table, t);
    editActions(table, t);
    viewActions(table, t);
    channelActions(table, t);
    modelActions(table, t);
    liveActions(table, t);
    helpActions(table, t);
    return table;
}

}  // namespace r18::ui
