#include "ui/window/main_window.h"

#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenuBar>
#include <QMimeData>
#include <QScreen>
#include <QSettings>
#include <QSplitter>
#include <QStackedWidget>
#include <QStandardItemModel>
#include <QStatusBar>
#include <QTextBrowser>
#include <QThread>
#include <QTimer>
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
#include "ui/panels/atlas_panel.h"
#include "ui/panels/compare_panel.h"
#include "ui/panels/diagram_panel.h"
#include "ui/panels/explain_panel.h"
#include "ui/panels/input_panel.h"
#include "ui/panels/layer_panel.h"
#include "ui/panels/panel.h"
#include "ui/panels/status_panel.h"
#include "ui/session/inference_worker.h"
#include "ui/session/session.h"
#include "ui/views/architecture_view.h"
#include "ui/views/feature_map_view.h"
#include "ui/views/predictions_view.h"
#include "ui/window/app_info.h"
#include "ui/window/batch_window.h"
#include "ui/window/start_view.h"

namespace r18::ui {
namespace {

constexpr int kScreenshotTimeoutMs = 120'000;
constexpr int kDockedMinWidth = 1360;  // narrower windows float the insight panels

int cores() {
    return machineCores();
}

QString threadsText(int n) {
    return n == 1 ? QObject::tr("1 thread") : QObject::tr("%1 threads").arg(n);
}

}  // namespace

MainWindow::MainWindow(const WindowOptions& options, QWidget* parent) : QMainWindow(parent) {
    setWindowTitle(tr("ResNet18 Explorer"));
    setAcceptDrops(true);
    m_screenshotPath = options.screenshotPath;
    createParts(options);
    createActions();
    createToolBar();
    createStartView();
    setCentralWidget(createCentral());
    createDocks();
    wire();
    readSettings(options);

    const Precision precision = static_cast<Precision>(std::max(0, m_precisionBox->currentIndex()));
    m_session->openModel(ModelController::startupWeights(options.weightsPath), precision,
                         m_threadsBox->currentData().toInt());
    if (!options.images.isEmpty()) m_intake->openFiles(options.images);
    if (!options.camera.isEmpty()) {
        m_live->setLoop(options.loop || m_live->loop());
        m_live->start(options.camera);
    }
    if (!m_screenshotPath.isEmpty())
        QTimer::singleShot(kScreenshotTimeoutMs, this, [this] {
            if (m_screenshotTaken) return;
            qWarning("screenshot: nothing was shown within %d s", kScreenshotTimeoutMs / 1000);
            QCoreApplication::exit(2);
        });
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
    m_predictions = new PredictionsView;
    m_status = new StatusPanel(m_session, statusBar(), this);
    m_live = new LiveController(m_session, this, this);
    const bool firstRun = options.weightsPath.isEmpty() && options.screenshotPath.isEmpty();
    m_models = new ModelController(m_session, this, firstRun, this);
    m_intake = new ImageIntake(m_session, m_models, this, this);
    m_exports = new Exports(m_session, m_layers, m_input, m_predictions, this, this);
    m_recent = new RecentFiles(this);
    m_explain = new ExplainPanel(m_session, this);
    m_atlas = new AtlasPanel(m_session, m_layers->features(), this);
    m_compare = new ComparePanel(m_session, this);

    m_precisionBox = new QComboBox;
    m_precisionBox->setToolTip(tr("Numeric precision of the network"));
    for (const Precision p : kPrecisions) m_precisionBox->addItem(precisionName(p));
    m_precisionBox->setItemData(2, tr("8-bit integers, calibrated on the last images you opened"),
                                Qt::ToolTipRole);
    if (!Engine::supports(Precision::Bf16)) {
        if (auto* model = qobject_cast<QStandardItemModel*>(m_precisionBox->model()))
            model->item(1)->setEnabled(false);
        m_precisionBox->setItemData(1,
                                    tr("bf16 needs a CPU with AVX-512 BF16 (this one offers %1)")
                                        .arg(QString::fromStdString(Engine::cpuIsa())),
                                    Qt::ToolTipRole);
    }
    m_threadsBox = new QComboBox;
    m_threadsBox->setToolTip(
        tr("Threads for the network (this machine has %1 cores)").arg(cores()));
    for (int t = 1; t <= cores(); ++t) m_threadsBox->addItem(threadsText(t), t);
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
    t.showExplain = [this](bool on) { showDock(m_explainDock, on); };
    t.showAtlas = [this](bool on) { showDock(m_atlasDock, on); };
    t.showCompare = [this](bool on) { showDock(m_compareDock, on); };
    t.atlasFolder = [this] {
        showDock(m_atlasDock, true);
        m_atlas->chooseFolder();
    };
    t.showShortcuts = [this] { showShortcuts(); };
    t.showGuide = [this] { showGuide(); };
    t.showAbout = [this] { showAbout(); };
    t.quit = [this] { close(); };
    t.cores = cores();
    m_actions = new Actions(this, menuBar(), explorerActions(t));
    std::vector<QAction*> recent;
    for (int i = 0; i < RecentFiles::kMaxEntries; ++i) recent.push_back(action(recentActionId(i)));
    m_recent->setActions(recent, action("file.recentClear"));
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

void MainWindow::createToolBar() {
    QToolBar* tools = addToolBar(tr("Main"));
    tools->setObjectName(QStringLiteral("mainToolBar"));
    tools->setMovable(false);
    tools->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    // Short labels on the toolbar (the menus keep the full ones), so it fits 1024 pixels.
    const std::pair<const char*, QString> labels[] = {
        {"file.open", tr("Open")},   {"edit.paste", tr("Paste")},   {"file.saveMaps", tr("Save")},
        {"live.start", tr("Start")}, {"live.freeze", tr("Freeze")}, {"live.mirror", tr("Mirror")}};
    for (const auto& [id, label] : labels) action(id)->setIconText(label);
    for (const char* id : {"file.open", "edit.paste", "file.saveMaps"})
        tools->addAction(action(id));
    tools->addSeparator();
    tools->addWidget(m_precisionBox);
    tools->addWidget(m_threadsBox);
    tools->addSeparator();
    tools->addWidget(m_live->sourceBox());
    tools->addWidget(m_live->resolutionBox());
    for (const char* id : {"live.start", "live.freeze", "live.mirror"})
        tools->addAction(action(id));
}

QWidget* MainWindow::createCentral() {
    m_topSplitter = new QSplitter(Qt::Horizontal);
    m_topSplitter->addWidget(m_input->panel());
    m_topSplitter->addWidget(m_layers->channelPanel());
    m_topSplitter->addWidget(titledPanel(tr("Top-5 predictions"), m_predictions));
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

void MainWindow::createDocks() {
    const auto dock = [this](const QString& title, const QString& name, QWidget* content) {
        auto* d = new QDockWidget(title, this);
        d->setObjectName(name);
        d->setWidget(content);
        d->setAllowedAreas(Qt::AllDockWidgetAreas);
        addDockWidget(Qt::RightDockWidgetArea, d);
        d->hide();
        return d;
    };
    m_explainDock =
        dock(tr("Where it looked — methods"), QStringLiteral("explainDock"), m_explain->panel());
    m_atlasDock =
        dock(tr("What this channel detects"), QStringLiteral("atlasDock"), m_atlas->panel());
    m_compareDock =
        dock(tr("Compare fp32 / int8"), QStringLiteral("compareDock"), m_compare->panel());
    tabifyDockWidget(m_explainDock, m_atlasDock);
    tabifyDockWidget(m_atlasDock, m_compareDock);
    connect(m_explainDock, &QDockWidget::visibilityChanged, this, [this](bool visible) {
        action("view.explain")->setChecked(m_explainDock->isVisible());
        m_explain->setActive(visible);
    });
    connect(m_atlasDock, &QDockWidget::visibilityChanged, this,
            [this] { action("view.atlas")->setChecked(m_atlasDock->isVisible()); });
    connect(m_compareDock, &QDockWidget::visibilityChanged, this, [this](bool visible) {
        action("view.compare")->setChecked(m_compareDock->isVisible());
        m_compare->setActive(visible);
    });
}

void MainWindow::showDock(QDockWidget* dock, bool on) {
    if (!on) return dock->hide();
    const int wanted = std::clamp(width() / 4, 340, 480);
    if (!dock->isFloating() && width() < kDockedMinWidth) {
        // Docked, the panel would push the window wider than a small laptop's screen: it floats
        // over the window's right side instead (and can be docked by dragging its title).
        dock->setFloating(true);
        const QRect frame = geometry();
        dock->setGeometry(frame.right() - wanted, frame.top() + 40, wanted, frame.height() - 60);
    }
    dock->show();
    dock->raise();  // in front of the others when they share a tab bar
    if (!dock->isFloating() && dock->width() < wanted)
        resizeDocks({dock}, {wanted}, Qt::Horizontal);
}

void MainWindow::wire() {
    connect(m_session, &Session::resultShown, this, [this](const ResultPtr& r) {
        m_predictions->setPredictions(r ? r->top : std::vector<Prediction>{});
        if (r) {
            setWindowTitle(
                tr("%1 — ResNet18 Explorer").arg(QFileInfo(r->source->label).fileName()));
            emit resultShown(r->requestId);
        }
        if (!m_screenshotPath.isEmpty() && !m_screenshotTaken && m_session->tapResult()) {
            m_screenshotTaken = true;
            QTimer::singleShot(300, this, &MainWindow::takeScreenshot);
        }
    });
    connect(m_session, &Session::engineChanged, this, &MainWindow::onEngine);
    connect(m_session, &Session::imageFailed, this, [this](const QString& label, const QString& m) {
        const QString name = QFileInfo(label).fileName();
        showError(tr("Could not open %1").arg(name.isEmpty() ? label : name), m);
        if (!m_screenshotPath.isEmpty() && !m_session->result()) QCoreApplication::exit(1);
    });
    connect(m_session, &Session::frozenChanged, action("live.freeze"), &QAction::setChecked);
    connect(m_live, &LiveController::runningChanged, this, [this](bool running) {
        QAction* start = action("live.start");
        start->setText(running ? tr("&Stop") : tr("&Start"));
        start->setIconText(running ? tr("Stop") : tr("Start"));
        start->setIcon(
            style()->standardIcon(running ? QStyle::SP_MediaStop : QStyle::SP_MediaPlay));
    });
    connect(m_predictions, &PredictionsView::classClicked, m_input,
            &InputPanel::toggleHeatmapClass);
    connect(m_input, &InputPanel::heatmapClassShown, m_predictions,
            &PredictionsView::setHighlighted);
    connect(m_input, &InputPanel::heatmapToggled, action("view.heatmap"), &QAction::setChecked);
    connect(m_layers, &LayerPanel::overlayChanged, m_input, &InputPanel::setOverlay);
    connect(m_layers, &LayerPanel::optionsChanged, this, [this] {
        action("view.perLayer")->setChecked(m_layers->perLayerScale());
        action("view.sort")->setChecked(m_layers->sortByMean());
        action("view.blend")->setChecked(m_layers->blend());
    });
    connect(m_precisionBox, &QComboBox::activated, this,
            [this](int i) { m_session->setPrecision(kPrecisions[i]); });
    connect(m_threadsBox, &QComboBox::activated, this,
            [this](int i) { m_session->setThreads(m_threadsBox->itemData(i).toInt()); });
    connect(m_models, &ModelController::error, this, &MainWindow::showError);
    connect(m_intake, &ImageIntake::error, this, &MainWindow::showError);
    connect(m_exports, &Exports::error, this, &MainWindow::showError);
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

void MainWindow::onEngine(const EngineInfo& engine) {
    const int precision = static_cast<int>(m_session->wantedPrecision());
    m_precisionBox->setCurrentIndex(precision);
    action(QStringLiteral("engine.") + precisionName(kPrecisions[precision]))->setChecked(true);
    m_threadsBox->setCurrentIndex(std::clamp(engine.threads, 1, cores()) - 1);
    action(QStringLiteral("engine.threads%1").arg(std::clamp(engine.threads, 1, cores())))
        ->setChecked(true);
    action("engine.bf16")->setEnabled(Engine::supports(Precision::Bf16));
    m_predictions->setTrusted(engine.model && engine.model->trust() == Trust::Official);
    emit modelShown();
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
    const bool bf16 =
        s.value("engine/precision").toString() == "bf16" && Engine::supports(Precision::Bf16);
    m_precisionBox->setCurrentIndex(bf16 ? 1 : 0);
    // Settings may come from a larger machine (or be edited): never more threads than cores.
    const qlonglong stored = s.value("engine/threads", cores()).toLongLong();
    std::string capped;
    const int threads = capThreads(stored, &capped);
    if (!capped.empty())
        m_status->flash(tr("The settings ask for %1 threads: %2.")
                            .arg(stored)
                            .arg(QString::fromStdString(capped)));
    m_threadsBox->setCurrentIndex(threads - 1);
    m_layers->readSettings(s);
    m_input->readSettings(s);
    m_explain->readSettings(s);
    m_diagram->readSettings(s);
    m_live->readSettings(s);
    action("live.mirror")->setChecked(m_live->mirror());
    action("live.loop")->setChecked(m_live->loop());
    action("view.heatmap")->setChecked(m_input->heatmapEnabled());
    emit m_layers->optionsChanged();
}

void MainWindow::writeSettings() const {
    QSettings s;
    s.setValue("window/geometry", saveGeometry());
    s.setValue("window/state", saveState());
    s.setValue("window/mainSplitter", m_mainSplitter->saveState());
    s.setValue("window/rightSplitter", m_rightSplitter->saveState());
    s.setValue("window/topSplitter", m_topSplitter->saveState());
    s.setValue("engine/precision",
               QString::fromLatin1(precisionName(m_session->engine().precision)));
    s.setValue("engine/threads", m_session->engine().threads);
    m_layers->writeSettings(s);
    m_input->writeSettings(s);
    m_explain->writeSettings(s);
    m_diagram->writeSettings(s);
    m_live->writeSettings(s);
}

void MainWindow::closeEvent(QCloseEvent* event) {
    if (m_screenshotPath.isEmpty()) writeSettings();
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
    if (!m_errorBox) {
        m_errorBox = new QMessageBox(QMessageBox::Warning, tr("ResNet18 Explorer"), QString(),
                                     QMessageBox::Ok, this);
        m_errorBox->setAttribute(Qt::WA_DeleteOnClose);
        m_errorBox->setWindowModality(Qt::WindowModal);
    }
    m_errorBox->setText(title);
    m_errorBox->setInformativeText(message);
    m_errorBox->open();
    emit errorShown(message);
}

void MainWindow::showShortcuts() {
    if (!m_helpBox) {
        m_helpBox = new QMessageBox(QMessageBox::Information, tr("Keyboard shortcuts"), {},
                                    QMessageBox::Close, this);
        m_helpBox->setAttribute(Qt::WA_DeleteOnClose);
    }
    m_helpBox->setText(m_actions->shortcutHelpHtml() + viewKeysHtml());
    m_helpBox->open();
}

void MainWindow::showGuide() {
    if (!m_guide) {
        m_guide = new QDialog(this);
        m_guide->setObjectName(QStringLiteral("guide"));
        m_guide->setAttribute(Qt::WA_DeleteOnClose);
        m_guide->setWindowTitle(tr("What am I looking at?"));
        auto* text = new QTextBrowser;
        text->setObjectName(QStringLiteral("guideText"));
        text->setOpenExternalLinks(true);
        auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close);
        connect(buttons, &QDialogButtonBox::rejected, m_guide, &QDialog::close);
        auto* layout = new QVBoxLayout(m_guide);
        layout->addWidget(text);
        layout->addWidget(buttons);
        m_guide->resize(680, std::min(760, std::max(480, height() - 80)));
    }
    // Rebuilt each time: the shortcuts are the actions' as they are now.
    m_guide->findChild<QTextBrowser*>()->setHtml(guideHtml(m_actions->shortcutHelpHtml()));
    m_guide->show();
    m_guide->raise();
    m_guide->activateWindow();
}

QString MainWindow::guideText() const {
    return m_guide ? m_guide->findChild<QTextBrowser*>()->toPlainText() : QString();
}

bool MainWindow::startViewShown() const {
    return m_pages->currentWidget() == m_start && m_start->isVisible();
}

void MainWindow::showAbout() {
    if (!m_aboutBox) {
        m_aboutBox = new QMessageBox(QMessageBox::NoIcon, tr("About ResNet18 Explorer"), {},
                                     QMessageBox::Close, this);
        m_aboutBox->setObjectName(QStringLiteral("about"));
        m_aboutBox->setAttribute(Qt::WA_DeleteOnClose);
        const QIcon icon = appIcon();
        if (!icon.isNull()) m_aboutBox->setIconPixmap(icon.pixmap(96, 96));
        m_aboutBox->setTextInteractionFlags(Qt::TextSelectableByMouse);
    }
    m_aboutBox->setText(aboutHtml());
    m_aboutBox->open();
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

void MainWindow::takeScreenshot() {
    const bool ok = grab().save(m_screenshotPath, "PNG");
    if (!ok) qWarning("screenshot: could not write %s", qPrintable(m_screenshotPath));
    QCoreApplication::exit(ok ? 0 : 1);
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

InputView* MainWindow::inputView() const {
    return m_input->view();
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
