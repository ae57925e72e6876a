#include "ui/window/main_window.h"

#include <QCloseEvent>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QGuiApplication>
#include <QLabel>
#include <QMenuBar>
#include <QMimeData>
#include <QScreen>
#include <QSettings>
#include <QSplitter>
#include <QStackedWidget>
#include <QStandardPaths>
#include <QStatusBar>
#include <QToolBar>
#include <QVBoxLayout>

#include "core/app_data.h"
#include "core/engine/threads.h"
#include "ui/actions/action_table.h"
#include "ui/actions/actions.h"
#include "ui/actions/exports.h"
#include "ui/actions/image_intake.h"
#include "ui/actions/live_controller.h"
#include "ui/actions/model_controller.h"
#include "ui/actions/recent_files.h"
#include "ui/actions/recorder.h"
#include "ui/insight/pair_insight.h"
#include "ui/panels/atlas_panel.h"
#include "ui/panels/compare_panel.h"
#include "ui/panels/diagram_panel.h"
#include "ui/panels/explain_panel.h"
#include "ui/panels/importance_panel.h"
#include "ui/panels/input_panel.h"
#include "ui/panels/layer_panel.h"
#include "ui/panels/pair_panel.h"
#include "ui/panels/predictions_panel.h"
#include "ui/panels/status_panel.h"
#include "ui/session/session.h"
#include "ui/views/architecture_view.h"
#include "ui/views/feature_map_view.h"
#include "ui/views/predictions_view.h"
#include "ui/window/batch_window.h"
#include "ui/window/start_view.h"

namespace r18::ui {

MainWindow::MainWindow(const WindowOptions& options, QWidget* parent)
    : QMainWindow(parent), m_rememberOnClose(options.rememberOnClose) {
    setWindowTitle(tr("ResNet18 Explorer"));
    setAcceptDrops(true);
    createParts(options);
    createActions();
    createToolBar();
    createStartView();
    setCentralWidget(createCentral());
    m_docks = new InsightDocks(this, m_explain, m_atlas, m_compare, m_importance, m_pair);
    wire();
    readSettings(options);

    m_models->openStartupModel(options.weightsPath);
    if (!options.images.isEmpty()) m_intake->openFiles(options.images);
    if (!options.camera.isEmpty()) {
        m_live->setLoop(options.loop || m_live->loop());
        m_live->start(options.camera);
    }
}

MainWindow::~MainWindow() = default;

void MainWindow::createParts(const WindowOptions& options) {
    m_session = new Session(this);
    const QString node = options.selectNode.isEmpty()
                             ? QSettings().value("view/node", QStringLiteral("layer2.1")).toString()
                             : options.selectNode;
    m_diagram = new DiagramPanel(m_session, node, this);
    m_input = new InputPanel(m_session, this);
    m_layers = new LayerPanel(m_session, this);
    m_predictions = new PredictionsPanel(m_session, this);
    m_status = new StatusPanel(m_session, statusBar(), this);
    m_live = new LiveController(m_session, this, this);
    m_models = new ModelController(m_session, this,
                                   options.offerWeights && options.weightsPath.isEmpty(), this);
    m_intake = new ImageIntake(m_session, m_models, this, this);
    m_exports = new Exports(m_session, m_layers, m_input, m_predictions->view(), this, this);
    m_recorder = new Recorder(m_session, m_input->view(), this);
    statusBar()->addPermanentWidget(m_recorder->indicator());
    m_recent = new RecentFiles(this);
    m_explain = new ExplainPanel(m_session, this);
    m_atlas = new AtlasPanel(m_session, m_layers->features(), this);
    m_compare = new ComparePanel(m_session, this);
    m_importance = new ImportancePanel(m_session, this);
    m_pair = new PairPanel(m_session, this);
    m_dialogs = new WindowDialogs(this);
}

void MainWindow::createActions() {
    ActionTargets t;
    t.session = m_session;
    t.intake = m_intake;
    t.exports = m_exports;
    t.input = m_input;
    t.layers = m_layers;
    t.live = m_live;
    t.models = m_models;
    t.status = m_status;
    t.diagram = architectureView();
    t.recent = m_recent;
    for (const std::string& sample : sampleImages()) t.samples << QString::fromStdString(sample);
    t.openSample = [this](const QString& path) {
        m_input->setHeatmapEnabled(true);  // a sample is a demonstration: show where it looked
        m_intake->openFile(path);
    };
    t.classifyFolder = [this] { classifyFolder({}); };
    // The docks exist once the actions do; the table asks for them only when triggered.
    t.showExplain = [this](bool on) { m_docks->show(m_docks->explain(), on); };
    t.explainShown = [this] { return m_docks && m_docks->explain()->isVisible(); };
    t.showAtlas = [this](bool on) { m_docks->show(m_docks->atlas(), on); };
    t.atlasShown = [this] { return m_docks && m_docks->atlas()->isVisible(); };
    t.showCompare = [this](bool on) { m_docks->show(m_docks->compare(), on); };
    t.compareShown = [this] { return m_docks && m_docks->compare()->isVisible(); };
    t.showImportance = [this](bool on) { m_docks->show(m_docks->importance(), on); };
    t.importanceShown = [this] { return m_docks && m_docks->importance()->isVisible(); };
    t.showPair = [this](bool on) { m_docks->show(m_docks->pair(), on); };
    t.recording = [this] { return m_recorder->recording(); };
    t.toggleRecording = [this] { toggleRecording(); };
    t.pairShown = [this] { return m_docks && m_docks->pair()->isVisible(); };
    t.pinA = [this] {
        if (!m_pair->insight()->pin())
            return m_status->flash(tr("Open an image (or freeze a frame) to pin it as A."));
        m_docks->show(m_docks->pair(), true);
        m_status->flash(tr("Pinned %1 as A: open another image to compare.")
                            .arg(m_pair->insight()->pinnedLabel()));
    };
    t.atlasFolder = [this] {
        m_docks->show(m_docks->atlas(), true);
        m_atlas->chooseFolder();
    };
    t.showShortcuts = [this] { m_dialogs->showShortcuts(m_actions->shortcutHelpHtml()); };
    t.showGuide = [this] { m_dialogs->showGuide(m_actions->shortcutHelpHtml()); };
    t.showAbout = [this] { m_dialogs->showAbout(); };
    t.quit = [this] { close(); };
    t.cores = machineCores();
    m_actions = new Actions(this, menuBar(), explorerActions(t));
    std::vector<QAction*> recent;
    for (int i = 0; i < RecentFiles::kMaxEntries; ++i) recent.push_back(action(recentActionId(i)));
    m_recent->setActions(recent, action("file.recentClear"));
}

void MainWindow::createToolBar() {
    QToolBar* tools = addToolBar(tr("Main"));
    tools->setObjectName(QStringLiteral("mainToolBar"));
    tools->setMovable(false);
    tools->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_actions->fillToolbar(tools, {{kPrecisionSlot, m_models->precisionBox()},
                                   {kThreadsSlot, m_models->threadsBox()},
                                   {kLiveSourceSlot, m_live->sourceBox()},
                                   {kResolutionSlot, m_live->resolutionBox()}});
}

void MainWindow::createStartView() {
    StartView::Triggers triggers;
    triggers.paste = action("edit.paste");
    triggers.open = action("file.open");
    const std::vector<std::string> samples = sampleImages();
    if (!samples.empty()) {
        triggers.firstSample = action(sampleActionId(QString::fromStdString(samples.front())));
        triggers.samples = m_actions->menu(tr("&File/Open &Sample"));
    }
    triggers.camera = action("live.start");
    triggers.downloadWeights = action("model.download");
    triggers.openWeights = action("model.openWeights");
    triggers.guide = action("help.guide");
    m_start = new StartView(m_session, triggers);
}

QWidget* MainWindow::createCentral() {
    m_topSplitter = new QSplitter(Qt::Horizontal);
    m_topSplitter->addWidget(m_input->panel());
    m_topSplitter->addWidget(m_layers->channelPanel());
    m_topSplitter->addWidget(m_predictions->panel());
    m_topSplitter->setStretchFactor(0, 4);
    m_topSplitter->setStretchFactor(1, 3);
    m_topSplitter->setStretchFactor(2, 3);
    m_rightSplitter = new QSplitter(Qt::Vertical);
    m_rightSplitter->addWidget(m_topSplitter);
    m_rightSplitter->addWidget(m_layers->featuresPanel());
    m_rightSplitter->setStretchFactor(0, 2);
    m_rightSplitter->setStretchFactor(1, 3);
    m_mainSplitter = new QSplitter(Qt::Horizontal);
    m_mainSplitter->addWidget(m_diagram->panel());
    m_mainSplitter->addWidget(m_rightSplitter);
    m_mainSplitter->setStretchFactor(0, 1);
    m_mainSplitter->setStretchFactor(1, 3);

    auto* central = new QWidget;
    auto* layout = new QVBoxLayout(central);
    layout->setContentsMargins(6, 6, 6, 0);
    layout->setSpacing(4);
    layout->addWidget(m_status->liveBanner());
    // The views with the banner about the weights above them; the start view says the same
    // about the weights itself, with the button that fixes them.
    m_views = new QWidget;
    auto* views = new QVBoxLayout(m_views);
    views->setContentsMargins(0, 0, 0, 0);
    views->setSpacing(4);
    views->addWidget(m_status->trustBanner());
    views->addWidget(m_mainSplitter, 1);
    m_pages = new QStackedWidget;
    m_pages->addWidget(m_start);
    m_pages->addWidget(m_views);
    m_pages->setCurrentWidget(m_start->wanted() ? static_cast<QWidget*>(m_start) : m_views);
    layout->addWidget(m_pages, 1);
    return central;
}

void MainWindow::wire() {
    // Whatever changes what an action shows: the table says how, in one update.
    connect(m_session, &Session::engineChanged, m_actions, &Actions::update);
    connect(m_session, &Session::frozenChanged, m_actions, &Actions::update);
    connect(m_live, &LiveController::runningChanged, m_actions, &Actions::update);
    connect(m_input, &InputPanel::heatmapToggled, m_actions, &Actions::update);
    connect(m_layers, &LayerPanel::optionsChanged, m_actions, &Actions::update);
    connect(m_docks, &InsightDocks::visibilityChanged, m_actions, &Actions::update);
    connect(m_session, &Session::ablationsChanged, m_actions, &Actions::update);
    connect(m_recorder, &Recorder::recordingChanged, m_actions, &Actions::update);
    connect(m_recorder, &Recorder::message, this,
            [this](const QString& text) { m_status->flash(text, 8000); });
    connect(m_layers->features(), &FeatureMapView::pickedChanged, m_actions, &Actions::update);
    connect(m_importance, &ImportancePanel::channelsPicked, m_layers->features(),
            &FeatureMapView::pickChannels);
    // The channel actions are also the feature grid's context menu.
    m_layers->features()->setContextMenuPolicy(Qt::ActionsContextMenu);
    for (const char* id :
         {"channels.toggle", "channels.keepOnly", "channels.nodeOn", "channels.allOn"})
        m_layers->features()->addAction(action(QString::fromLatin1(id)));

    connect(m_session, &Session::resultShown, this, [this](const ResultPtr& r) {
        if (!r) return;
        setWindowTitle(tr("%1 — ResNet18 Explorer").arg(QFileInfo(r->source->label).fileName()));
        emit resultShown(r->requestId);
    });
    connect(m_session, &Session::engineChanged, this, &MainWindow::modelShown);
    connect(m_session, &Session::imageFailed, this, [this](const QString& label, const QString& m) {
        const QString name = QFileInfo(label).fileName();
        showError(tr("Could not open %1").arg(name.isEmpty() ? label : name), m);
    });
    connect(m_predictions->view(), &PredictionsView::classClicked, m_input,
            &InputPanel::toggleHeatmapClass);
    connect(m_input, &InputPanel::heatmapClassShown, m_predictions->view(),
            &PredictionsView::setHighlighted);
    connect(m_layers, &LayerPanel::overlayChanged, m_input, &InputPanel::setOverlay);
    connect(m_models, &ModelController::error, this, &MainWindow::showError);
    connect(m_intake, &ImageIntake::error, this, &MainWindow::showError);
    connect(m_exports, &Exports::error, this, &MainWindow::showError);
    connect(m_models, &ModelController::message, m_status,
            [this](const QString& m) { m_status->flash(m); });
    connect(m_intake, &ImageIntake::message, m_status,
            [this](const QString& m) { m_status->flash(m); });
    connect(m_exports, &Exports::message, m_status,
            [this](const QString& m) { m_status->flash(m); });
    connect(m_live, &LiveController::message, m_status,
            [this](const QString& m) { m_status->flash(m); });
    connect(m_intake, &ImageIntake::folderDropped, this, &MainWindow::classifyFolder);
    connect(m_start, &StartView::wantedChanged, this, [this](bool wanted) {
        m_pages->setCurrentWidget(wanted ? static_cast<QWidget*>(m_start) : m_views);
    });
    connect(m_intake, &ImageIntake::opened, m_recent, &RecentFiles::add);
    connect(m_session, &Session::imageFailed, m_recent,
            [this](const QString& label) { m_recent->remove(label); });  // broken: not offered
    connect(m_recent, &RecentFiles::openFile, m_intake, &ImageIntake::openFile);
    connect(m_recent, &RecentFiles::openFolder, this, &MainWindow::classifyFolder);
    connect(m_recent, &RecentFiles::missing, this, &MainWindow::showError);
}

void MainWindow::readSettings(const WindowOptions& options) {
    const QSettings s;
    if (options.windowSize.isValid()) {
        resize(options.windowSize);
    } else if (!restoreGeometry(s.value("window/geometry").toByteArray())) {
        const QRect screen = QGuiApplication::primaryScreen()
                                 ? QGuiApplication::primaryScreen()->availableGeometry()
                                 : QRect(0, 0, 1600, 1000);
        resize(std::min(1500, screen.width() * 9 / 10), std::min(950, screen.height() * 9 / 10));
    }
    restoreState(s.value("window/state").toByteArray());
    if (!m_mainSplitter->restoreState(s.value("window/mainSplitter").toByteArray()))
        m_mainSplitter->setSizes({420, 1080});
    if (!m_rightSplitter->restoreState(s.value("window/rightSplitter").toByteArray()))
        m_rightSplitter->setSizes({330, 520});
    if (!m_topSplitter->restoreState(s.value("window/topSplitter").toByteArray()))
        m_topSplitter->setSizes({420, 300, 300});
    m_models->readSettings(s);
    m_layers->readSettings(s);
    m_input->readSettings(s);
    m_explain->readSettings(s);
    m_diagram->readSettings(s);
    m_live->readSettings(s);
    m_actions->update();
}

void MainWindow::writeSettings() const {
    QSettings s;
    s.setValue("window/geometry", saveGeometry());
    s.setValue("window/state", saveState());
    s.setValue("window/mainSplitter", m_mainSplitter->saveState());
    s.setValue("window/rightSplitter", m_rightSplitter->saveState());
    s.setValue("window/topSplitter", m_topSplitter->saveState());
    m_models->writeSettings(s);
    m_layers->writeSettings(s);
    m_input->writeSettings(s);
    m_explain->writeSettings(s);
    m_diagram->writeSettings(s);
    m_live->writeSettings(s);
}

void MainWindow::closeEvent(QCloseEvent* event) {
    if (m_rememberOnClose) writeSettings();
    event->accept();
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
    if (event->mimeData()->hasUrls() || event->mimeData()->hasImage())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
    m_intake->openMime(event->mimeData());
    event->acceptProposedAction();
}

void MainWindow::showError(const QString& title, const QString& message) {
    m_dialogs->showError(title, message);
    emit errorShown(message);
}

bool MainWindow::startViewShown() const {
    return m_pages->currentWidget() == m_start && m_start->isVisible();
}

void MainWindow::toggleRecording() {
    if (m_recorder->recording()) {
        m_recorder->stop();
        return;
    }
    if (!m_session->isLive())
        return m_status->flash(tr("Start a camera or video first (Space): recording writes it."));
    // The folder last recorded to, else Videos, else home: one that exists.
    QString folder = QSettings().value("files/recordingFolder").toString();
    if (folder.isEmpty() || !QDir(folder).exists())
        folder = QStandardPaths::writableLocation(QStandardPaths::MoviesLocation);
    if (folder.isEmpty() || !QDir(folder).exists()) folder = QDir::homePath();
    const QString suggested =
        QDir(folder).filePath(QStringLiteral("resnet18-explorer-%1%2")
                                  .arg(QDateTime::currentDateTime().toString("yyyyMMdd-hhmmss"),
                                       Recorder::bestExtension()));
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Record the Live View — this build writes %1").arg(Recorder::bestFormatName()),
        suggested, tr("Video (*%1)").arg(Recorder::bestExtension()));
    if (path.isEmpty()) return;
    QSettings().setValue("files/recordingFolder", QFileInfo(path).absolutePath());
    QString error;
    if (!m_recorder->start(path, &error)) showError(tr("Could not record"), error);
}

void MainWindow::openFile(const QString& path) {
    m_intake->openFile(path);
}

void MainWindow::selectNode(const QString& node) {
    architectureView()->select(node);
}

void MainWindow::classifyFolder(const QString& folder) {
    QString dir = folder;
    if (dir.isEmpty()) {
        dir = QFileDialog::getExistingDirectory(this, tr("Classify a Folder"),
                                                QSettings().value("files/lastFolder").toString());
        if (dir.isEmpty()) return;
    }
    if (!m_session->hasModel())
        return showError(tr("No model yet"),
                         tr("Wait for the model to load, then open the folder again."));
    if (!m_batch) {
        m_batch = new BatchWindow(this);
        connect(m_batch, &BatchWindow::openRequested, this, [this](const QString& path) {
            m_intake->openFile(path);
            raise();
            activateWindow();
        });
    }
    QSettings().setValue("files/lastFolder", dir);
    m_recent->add(dir);
    m_start->dismiss();  // the views stay, ready for the rows the user opens
    m_batch->start(dir, m_session->engine().model, m_session->engine().threads);
}

InferenceWorker* MainWindow::worker() const {
    return m_session->worker();
}

QAction* MainWindow::action(const QString& id) const {
    return m_actions->get(id);
}

ArchitectureView* MainWindow::architectureView() const {
    return m_diagram->view();
}

FeatureMapView* MainWindow::featureMapView() const {
    return m_layers->features();
}

PredictionsView* MainWindow::predictionsView() const {
    return m_predictions->view();
}

InputView* MainWindow::inputView() const {
    return m_input->view();
}

QComboBox* MainWindow::precisionBox() const {
    return m_models->precisionBox();
}

WeightsDialog* MainWindow::weightsDialog() const {
    return m_models->weightsDialog();
}

QMessageBox* MainWindow::confirmBox() const {
    return m_models->confirmBox();
}

QString MainWindow::bannerText() const {
    return m_status->bannerText();
}

const EngineInfo& MainWindow::engine() const {
    return m_session->engine();
}

}  // namespace r18::ui
