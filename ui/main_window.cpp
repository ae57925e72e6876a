#include "ui/main_window.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QCloseEvent>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QImageReader>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QRegularExpression>
#include <QScreen>
#include <QSettings>
#include <QSlider>
#include <QSplitter>
#include <QStandardItemModel>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTimer>
#include <QToolBar>
#include <QVBoxLayout>

#include <cmath>
#include <numeric>

#include "core/batch.h"
#include "core/engine/engine.h"
#include "core/error.h"
#include "core/media/image_io.h"
#include "core/media/video_source.h"
#include "ui/architecture_view.h"
#include "ui/batch_window.h"
#include "ui/channel_view.h"
#include "ui/feature_map_view.h"
#include "ui/inference_worker.h"
#include "ui/input_view.h"
#include "ui/predictions_view.h"
#include "ui/weights_dialog.h"

namespace r18::ui {
namespace {

constexpr const char* kDefaultNode = "layer2.1";
constexpr int kScreenshotTimeoutMs = 120'000;

QString imageFilter() {
    QStringList globs;
    for (const std::string& suffix : imageSuffixes()) {
        const QString s = QString::fromStdString(suffix);
        globs << "*." + s << "*." + s.toUpper();
    }
    return QObject::tr("Images (%1);;All files (*)").arg(globs.join(' '));
}

// A titled panel around a view.
QWidget* panel(const QString& title, QWidget* content, QLabel** titleLabel = nullptr,
               QWidget* extra = nullptr) {
    auto* box = new QWidget;
    auto* layout = new QVBoxLayout(box);
    layout->setContentsMargins(6, 4, 6, 4);
    layout->setSpacing(2);
    auto* header = new QHBoxLayout;
    auto* label = new QLabel(title);
    QFont f = label->font();
    f.setBold(true);
    label->setFont(f);
    header->addWidget(label, 1);
    if (extra) header->addWidget(extra);
    layout->addLayout(header);
    layout->addWidget(content, 1);
    if (titleLabel) *titleLabel = label;
    return box;
}

// A 10–100 % opacity slider.
QSlider* opacitySlider(int percent, int width, const QString& tip) {
    auto* slider = new QSlider(Qt::Horizontal);
    slider->setRange(10, 100);
    slider->setValue(percent);
    slider->setFixedWidth(width);
    slider->setToolTip(tip);
    return slider;
}

// Widgets side by side, for a panel's header.
QWidget* row(std::initializer_list<QWidget*> widgets) {
    auto* box = new QWidget;
    auto* layout = new QHBoxLayout(box);
    layout->setContentsMargins(0, 0, 0, 0);
    for (QWidget* w : widgets) layout->addWidget(w);
    return box;
}

int defaultThreads() {
    return std::max(1, QThread::idealThreadCount() - 1);
}

}  // namespace

MainWindow::MainWindow(const WindowOptions& options, QWidget* parent) : QMainWindow(parent) {
    registerInferenceTypes();
    setWindowTitle(tr("ResNet18 Explorer"));
    setAcceptDrops(true);
    m_screenshotPath = options.screenshotPath;

    createCentral();
    createActions();
    createStatusBar();
    readSettings(options);

    m_worker = new InferenceWorker;
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_worker, &InferenceWorker::resultReady, this, &MainWindow::onResult);
    connect(m_worker, &InferenceWorker::failed, this, &MainWindow::onFailed);
    connect(m_worker, &InferenceWorker::modelReady, this, &MainWindow::onModelReady);
    connect(m_worker, &InferenceWorker::modelFailed, this, [this](const QString& message) {
        showError(tr("The model could not be loaded"), message);
    });
    m_thread.setObjectName(QStringLiteral("inference"));
    m_thread.start();

    const Precision precision = currentPrecision();
    const int threads = m_threadsBox->currentData().toInt();
    const QString weights = options.weightsPath;
    m_requestedWeights = weights;
    QMetaObject::invokeMethod(
        m_worker,
        [w = m_worker, weights, precision, threads] { w->loadModel(weights, precision, threads); },
        Qt::QueuedConnection);

    if (!options.images.isEmpty()) openFile(options.images.first());
    if (!options.camera.isEmpty()) {
        CaptureThread::Options live;
        live.spec = options.camera;
        live.loop = options.loop || m_loopAction->isChecked();
        live.mirror = m_mirrorAction->isChecked();
        live.resolution = m_resolutionBox->currentData().toSize();
        startLive(live);
    }
    if (!m_screenshotPath.isEmpty()) {
        QTimer::singleShot(kScreenshotTimeoutMs, this, [this] {
            if (m_screenshotTaken) return;
            qWarning("screenshot: nothing was shown within %d s", kScreenshotTimeoutMs / 1000);
            QCoreApplication::exit(2);
        });
    }
}

MainWindow::~MainWindow() {
    m_thread.quit();
    m_thread.wait();
}

void MainWindow::createCentral() {
    m_architecture = new ArchitectureView;
    m_architecture->setAcceptDrops(false);
    m_input = new InputView;
    m_channel = new ChannelView;
    m_predictions = new PredictionsView;
    m_features = new FeatureMapView;

    m_normalization = new QComboBox;
    m_normalization->addItems({tr("Per channel"), tr("Per layer")});
    m_normalization->setToolTip(
        tr("Colour scale: each channel from its own min to max, or one scale for the whole layer"));
    m_sort = new QCheckBox(tr("Sort by mean"));
    m_sort->setToolTip(tr("Order channels by mean activation, strongest first"));
    m_colormap = new QComboBox;
    m_colormap->addItems(colormapNames());
    m_blend = new QCheckBox(tr("Blend over input"));
    m_blend->setToolTip(
        tr("Show the enlarged channel over the part of the image the network sees (B)"));
    m_opacity = opacitySlider(60, 90, tr("Overlay opacity"));
    QWidget* featureControls = row({new QLabel(tr("Scale:")), m_normalization, m_colormap, m_sort});

    connect(m_normalization, &QComboBox::currentIndexChanged, this, [this](int i) {
        m_features->setNormalization(i == 1 ? FeatureMapView::Normalization::PerLayer
                                            : FeatureMapView::Normalization::PerChannel);
        showChannel(m_features->selectedChannel());
    });
    connect(m_sort, &QCheckBox::toggled, m_features, &FeatureMapView::setSortByMean);
    connect(m_colormap, &QComboBox::currentIndexChanged, this, [this](int i) {
        m_features->setColormap(static_cast<Colormap>(i));
        showChannel(m_features->selectedChannel());
    });
    connect(m_blend, &QCheckBox::toggled, this,
            [this] { showChannel(m_features->selectedChannel()); });
    connect(m_opacity, &QSlider::valueChanged, this,
            [this] { showChannel(m_features->selectedChannel()); });
    connect(m_features, &FeatureMapView::channelSelected, this, &MainWindow::showChannel);
    connect(m_architecture, &ArchitectureView::nodeSelected, this, &MainWindow::onNodeSelected);

    QWidget* blendControls = row({m_blend, m_opacity});

    m_topSplitter = new QSplitter(Qt::Horizontal);
    m_heatmapBox = new QCheckBox(tr("Where it looked"));
    m_heatmapBox->setToolTip(
        tr("Grad-CAM heat map for the top class, or the class you click in the predictions (H)"));
    m_heatTarget = new QComboBox;
    m_heatTarget->addItem(tr("layer4 (CAM)"), QStringLiteral("layer4"));
    for (const char* stage : {"layer3", "layer2", "layer1"})
        m_heatTarget->addItem(tr("%1 (Grad-CAM)").arg(stage), QString::fromLatin1(stage));
    m_heatTarget->setToolTip(
        tr("Where the class's gradient is read: the last stage is the classic CAM; earlier stages "
           "are finer"));
    m_heatOpacity = opacitySlider(75, 70, tr("Heat map opacity"));
    QWidget* heatControls = row({m_heatmapBox, m_heatTarget, m_heatOpacity});

    connect(m_heatmapBox, &QCheckBox::toggled, this, [this](bool on) {
        if (!on) {
            m_heatClass = kTopClass;
            m_predictions->setHighlighted(-1);
            m_input->setHeatmap({}, 0);
        }
        request();
    });
    connect(m_heatTarget, &QComboBox::currentIndexChanged, this, [this] {
        if (m_heatmapBox->isChecked()) request();
    });
    connect(m_heatOpacity, &QSlider::valueChanged, this, [this] { showHeatmap(); });
    connect(m_predictions, &PredictionsView::classClicked, this, [this](int64_t cls) {
        m_heatClass =
            cls == m_heatClass ? kTopClass : cls;  // a second click follows the top-1 again
        if (!m_heatmapBox->isChecked())
            m_heatmapBox->setChecked(true);  // requests
        else
            request();
    });
    m_topSplitter->addWidget(panel(tr("Input"), m_input, nullptr, heatControls));
    m_topSplitter->addWidget(panel(tr("Channel"), m_channel, nullptr, blendControls));
    m_topSplitter->addWidget(panel(tr("Top-5 predictions"), m_predictions));
    m_topSplitter->setStretchFactor(0, 4);
    m_topSplitter->setStretchFactor(1, 3);
    m_topSplitter->setStretchFactor(2, 3);

    m_rightSplitter = new QSplitter(Qt::Vertical);
    m_rightSplitter->addWidget(m_topSplitter);
    m_topChannels = new QLabel;
    m_topChannels->setTextFormat(Qt::RichText);
    m_topChannels->setToolTip(
        tr("The channels with the highest mean activation for this image; click to enlarge"));
    connect(m_topChannels, &QLabel::linkActivated, this,
            [this](const QString& link) { m_features->selectChannel(link.toInt()); });
    auto* features = new QWidget;
    auto* featuresLayout = new QVBoxLayout(features);
    featuresLayout->setContentsMargins(0, 0, 0, 0);
    featuresLayout->setSpacing(2);
    featuresLayout->addWidget(m_topChannels);
    featuresLayout->addWidget(m_features, 1);
    m_rightSplitter->addWidget(
        panel(tr("Feature maps"), features, &m_featureTitle, featureControls));
    m_rightSplitter->setStretchFactor(0, 2);
    m_rightSplitter->setStretchFactor(1, 3);

    m_mainSplitter = new QSplitter(Qt::Horizontal);
    auto* diagram = new QWidget;
    auto* diagramLayout = new QVBoxLayout(diagram);
    diagramLayout->setContentsMargins(0, 0, 0, 0);
    diagramLayout->setSpacing(2);
    diagramLayout->addWidget(m_architecture, 1);
    m_legend = new QLabel(ArchitectureView::legendHtml());
    QLabel* legend = m_legend;
    legend->setWordWrap(true);
    QFont small = legend->font();
    small.setPointSizeF(small.pointSizeF() * 0.9);
    legend->setFont(small);
    diagramLayout->addWidget(legend);
    m_figureBox = new QComboBox;
    m_figureBox->addItems(
        {tr("Stages"), tr("Time"), tr("Zero activations"), tr("Mean activation")});
    m_figureBox->setToolTip(tr("Colour the diagram by stage, or by a figure of this image"));
    connect(m_figureBox, &QComboBox::currentIndexChanged, this, [this] {
        const bool needsStats = m_figureBox->currentIndex() >= 2;
        if (needsStats && (!m_lastResult || m_lastResult->nodeStats.empty()))
            request();
        else
            updateFigures();
    });
    m_mainSplitter->addWidget(panel(tr("ResNet18"), diagram, &m_diagramTitle, m_figureBox));
    m_mainSplitter->addWidget(m_rightSplitter);
    m_mainSplitter->setStretchFactor(0, 1);
    m_mainSplitter->setStretchFactor(1, 3);

    m_banner = new QLabel;
    m_banner->setWordWrap(true);
    m_banner->setTextFormat(Qt::RichText);
    m_banner->setStyleSheet(
        QStringLiteral("QLabel { background: #fff4ce; color: #4a3800; border: 1px solid #e0b000; "
                       "border-radius: 4px; padding: 6px 10px; }"));
    m_banner->hide();

    m_liveBanner = new QLabel;
    m_liveBanner->setWordWrap(true);
    m_liveBanner->setStyleSheet(
        QStringLiteral("QLabel { background: #fde8e8; color: #6b0d0d; border: 1px solid #d33; "
                       "border-radius: 4px; padding: 6px 10px; }"));
    m_liveBanner->hide();

    auto* central = new QWidget;
    auto* layout = new QVBoxLayout(central);
    layout->setContentsMargins(6, 6, 6, 0);
    layout->setSpacing(4);
    layout->addWidget(m_banner);
    layout->addWidget(m_liveBanner);
    layout->addWidget(m_mainSplitter, 1);
    setCentralWidget(central);
}

void MainWindow::createActions() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* open = file->addAction(style()->standardIcon(QStyle::SP_DialogOpenButton),
                                    tr("&Open Image…"), this, &MainWindow::openDialog);
    open->setShortcut(QKeySequence::Open);
    QAction* paste = file->addAction(tr("&Paste Image"), this, &MainWindow::paste);
    paste->setShortcut(QKeySequence::Paste);
    paste->setIcon(style()->standardIcon(QStyle::SP_FileDialogContentsView));
    file->addSeparator();
    QAction* save =
        file->addAction(style()->standardIcon(QStyle::SP_DialogSaveButton),
                        tr("&Save Feature Maps as PNG…"), this, &MainWindow::saveFeatureMaps);
    save->setShortcut(QKeySequence::Save);
    file->addAction(tr("Save &Channel as PNG…"), this, [this] {
        saveWith(tr("Save Channel"),
                 QStringLiteral("%1-channel%2.png")
                     .arg(m_features->node())
                     .arg(m_features->selectedChannel()),
                 tr("PNG images (*.png)"), &MainWindow::saveChannelPng);
    });
    file->addAction(tr("Save Image with &Overlay as PNG…"), this, [this] {
        saveWith(tr("Save Image with Overlay"), QStringLiteral("overlay.png"),
                 tr("PNG images (*.png)"), &MainWindow::saveOverlayPng);
    });
    QAction* saveWindowAction =
        file->addAction(tr("Save &Window as PNG…"), this, &MainWindow::saveWindow);
    saveWindowAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S));
    file->addSeparator();
    QAction* folder =
        file->addAction(tr("Classify a &Folder…"), this, &MainWindow::openFolderDialog);
    folder->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_F));
    file->addAction(tr("&Export Predictions…"), this, [this] {
        saveWith(tr("Export Predictions"), QStringLiteral("predictions.csv"),
                 tr("CSV (*.csv);;JSON (*.json)"), &MainWindow::exportPredictions);
    });
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    QAction* copyImage = edit->addAction(tr("Copy &Image with Overlay"), this, [this] {
        const QImage image = m_input->composite();
        if (image.isNull()) return statusBar()->showMessage(tr("Open an image first."), 3000);
        QGuiApplication::clipboard()->setImage(image);
        statusBar()->showMessage(tr("Image copied."), 3000);
    });
    copyImage->setShortcut(QKeySequence::Copy);
    QAction* copy = edit->addAction(tr("&Copy Predictions"), this, [this] {
        QGuiApplication::clipboard()->setText(m_predictions->asText());
        statusBar()->showMessage(tr("Predictions copied."), 3000);
    });
    copy->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C));

    QMenu* view = menuBar()->addMenu(tr("&View"));
    QAction* perLayer = view->addAction(tr("Scale per &Layer"));
    perLayer->setCheckable(true);
    perLayer->setShortcut(QKeySequence(Qt::Key_N));
    connect(perLayer, &QAction::toggled, this,
            [this](bool on) { m_normalization->setCurrentIndex(on ? 1 : 0); });
    connect(m_normalization, &QComboBox::currentIndexChanged, perLayer,
            [perLayer](int i) { perLayer->setChecked(i == 1); });
    QAction* sort = view->addAction(tr("&Sort Channels by Mean"));
    sort->setCheckable(true);
    sort->setShortcut(QKeySequence(Qt::Key_S));
    connect(sort, &QAction::toggled, m_sort, &QCheckBox::setChecked);
    connect(m_sort, &QCheckBox::toggled, sort, &QAction::setChecked);
    QAction* heat = view->addAction(tr("&Where It Looked (Heat Map)"));
    heat->setCheckable(true);
    heat->setShortcut(QKeySequence(Qt::Key_H));
    connect(heat, &QAction::toggled, m_heatmapBox, &QCheckBox::setChecked);
    connect(m_heatmapBox, &QCheckBox::toggled, heat, &QAction::setChecked);
    QAction* blend = view->addAction(tr("&Blend Channel over Input"));
    blend->setCheckable(true);
    blend->setShortcut(QKeySequence(Qt::Key_B));
    connect(blend, &QAction::toggled, m_blend, &QCheckBox::setChecked);
    connect(m_blend, &QCheckBox::toggled, blend, &QAction::setChecked);
    view->addSeparator();
    QAction* fit = view->addAction(tr("&Fit Diagram"), m_architecture,
                                   [this] { m_architecture->fitDiagram(); });
    fit->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_0));

    QMenu* modelMenu = menuBar()->addMenu(tr("&Model"));
    QAction* openWeights =
        modelMenu->addAction(tr("Open &Weights…"), this, &MainWindow::openWeightsDialog);
    openWeights->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
    modelMenu->addAction(tr("Open &Labels…"), this, &MainWindow::openLabelsDialog);
    modelMenu->addSeparator();
    modelMenu->addAction(tr("&Download Official Weights…"), this,
                         [this] { showWeightsDialog(WeightsDialog::Mode::Download); });

    QMenu* engine = menuBar()->addMenu(tr("E&ngine"));
    m_precisionBox = new QComboBox;
    m_precisionBox->addItem(QStringLiteral("fp32"));
    m_precisionBox->addItem(QStringLiteral("bf16"));
    m_precisionBox->addItem(QStringLiteral("int8"));
    m_precisionBox->setItemData(2, tr("8-bit integers, calibrated on the last images you opened"),
                                Qt::ToolTipRole);
    m_precisionBox->setToolTip(tr("Numeric precision of the network"));
    if (!Engine::supports(Precision::Bf16)) {
        auto* model = qobject_cast<QStandardItemModel*>(m_precisionBox->model());
        if (model) model->item(1)->setEnabled(false);
        m_precisionBox->setItemData(1,
                                    tr("bf16 needs a CPU with AVX-512 (this one offers %1)")
                                        .arg(QString::fromStdString(Engine::cpuIsa())),
                                    Qt::ToolTipRole);
    }
    m_threadsBox = new QComboBox;
    for (int t = 1; t <= std::max(1, QThread::idealThreadCount()); ++t)
        m_threadsBox->addItem(t == 1 ? tr("1 thread") : tr("%1 threads").arg(t), t);
    m_threadsBox->setToolTip(
        tr("Threads for the network; one fewer than the cores keeps the window responsive"));
    auto* precisionGroup = new QActionGroup(this);
    for (int i = 0; i < 3; ++i) {
        QAction* a = engine->addAction(m_precisionBox->itemText(i));
        a->setCheckable(true);
        a->setEnabled(i == 0 || Engine::supports(i == 1 ? Precision::Bf16 : Precision::Int8));
        precisionGroup->addAction(a);
        connect(a, &QAction::triggered, this, [this, i] { m_precisionBox->setCurrentIndex(i); });
        connect(m_precisionBox, &QComboBox::currentIndexChanged, a,
                [a, i](int j) { a->setChecked(i == j); });
    }
    connect(m_precisionBox, &QComboBox::activated, this,
            [this](int i) { setPrecision(static_cast<Precision>(i)); });
    connect(m_threadsBox, &QComboBox::activated, this,
            [this](int i) { setThreads(m_threadsBox->itemData(i).toInt()); });

    QMenu* live = menuBar()->addMenu(tr("&Live"));
    QToolBar* tools = addToolBar(tr("Main"));
    tools->setObjectName(QStringLiteral("mainToolBar"));
    tools->setMovable(false);
    tools->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    tools->addAction(open);
    tools->addAction(paste);
    tools->addAction(save);
    tools->addSeparator();
    tools->addWidget(new QLabel(tr(" Precision ")));
    tools->addWidget(m_precisionBox);
    tools->addWidget(new QLabel(QStringLiteral("  ")));
    tools->addWidget(m_threadsBox);
    createLiveControls(live, tools);

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&Keyboard Shortcuts"), this, [this] {
        QMessageBox::information(
            this, tr("Keyboard shortcuts"),
            tr("<table>"
               "<tr><td><b>Ctrl+O</b></td><td>open an image</td></tr>"
               "<tr><td><b>Ctrl+V</b></td><td>paste an image or a path</td></tr>"
               "<tr><td><b>Ctrl+S</b></td><td>save the feature maps as PNG</td></tr>"
               "<tr><td><b>Space</b></td><td>start/stop the camera or video</td></tr>"
               "<tr><td><b>F</b></td><td>freeze the current frame</td></tr>"
               "<tr><td><b>M</b></td><td>mirror the camera</td></tr>"
               "<tr><td><b>P</b></td><td>save a snapshot of the frame</td></tr>"
               "<tr><td><b>Up/Down</b></td><td>previous/next layer (diagram focused)</td></tr>"
               "<tr><td><b>Arrows</b></td><td>move between channels (feature maps "
               "focused)</td></tr>"
               "<tr><td><b>Ctrl+wheel, +/−</b></td><td>zoom the diagram; drag to pan; 0 or Ctrl+0 "
               "to fit</td></tr>"
               "<tr><td><b>N</b></td><td>one colour scale per layer / per channel</td></tr>"
               "<tr><td><b>S</b></td><td>sort channels by mean activation</td></tr>"
               "<tr><td><b>B</b></td><td>blend the enlarged channel over the input</td></tr>"
               "<tr><td><b>Ctrl+Shift+C</b></td><td>copy the predictions</td></tr>"
               "</table>"));
    });
    help->addAction(tr("&About"), this, [this] {
        QMessageBox::about(
            this, tr("About ResNet18 Explorer"),
            tr("<b>ResNet18 Explorer</b><br>See ResNet18 at work: the network, its top-5 and the "
               "feature maps "
               "of any layer.<br><br>Inference: oneDNN %1 on %2.")
                .arg(QStringLiteral("2.6"), QString::fromStdString(Engine::cpuIsa())));
    });
}

void MainWindow::createStatusBar() {
    m_statusModel = new QLabel;
    m_statusEngine = new QLabel;
    m_statusTiming = new QLabel;
    m_statusTiming->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    statusBar()->addWidget(m_statusTiming, 1);
    statusBar()->addPermanentWidget(m_statusEngine);
    statusBar()->addPermanentWidget(m_statusModel);
    m_statusModel->setText(tr("Loading the model…"));
}

void MainWindow::readSettings(const WindowOptions& options) {
    QSettings s;
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
    m_lastFolder = s.value("files/lastFolder", QDir::homePath()).toString();
    m_precisionBox->setCurrentIndex(
        s.value("engine/precision").toString() == "bf16" && Engine::supports(Precision::Bf16) ? 1
                                                                                              : 0);
    const int threads = s.value("engine/threads", defaultThreads()).toInt();
    m_threadsBox->setCurrentIndex(std::clamp(threads, 1, m_threadsBox->count()) - 1);
    m_normalization->setCurrentIndex(s.value("view/normalization", 0).toInt() == 1 ? 1 : 0);
    m_sort->setChecked(s.value("view/sortByMean", false).toBool());
    m_colormap->setCurrentIndex(
        std::clamp(s.value("view/colormap", 0).toInt(), 0, m_colormap->count() - 1));
    m_blend->setChecked(s.value("view/blend", false).toBool());
    m_opacity->setValue(s.value("view/opacity", 60).toInt());
    m_heatmapBox->setChecked(s.value("view/heatmap", false).toBool());
    m_heatTarget->setCurrentIndex(
        std::clamp(s.value("view/heatTarget", 0).toInt(), 0, m_heatTarget->count() - 1));
    m_heatOpacity->setValue(s.value("view/heatOpacity", 75).toInt());
    m_figureBox->setCurrentIndex(
        std::clamp(s.value("view/figure", 0).toInt(), 0, m_figureBox->count() - 1));
    m_pendingSelect = options.selectNode.isEmpty() ? s.value("view/node", kDefaultNode).toString()
                                                   : options.selectNode;
}

void MainWindow::writeSettings() const {
    QSettings s;
    s.setValue("window/geometry", saveGeometry());
    s.setValue("window/state", saveState());
    s.setValue("window/mainSplitter", m_mainSplitter->saveState());
    s.setValue("window/rightSplitter", m_rightSplitter->saveState());
    s.setValue("window/topSplitter", m_topSplitter->saveState());
    s.setValue("files/lastFolder", m_lastFolder);
    s.setValue("engine/precision", m_precisionBox->currentText());
    s.setValue("engine/threads", m_threadsBox->currentData().toInt());
    s.setValue("view/normalization", m_normalization->currentIndex());
    s.setValue("view/sortByMean", m_sort->isChecked());
    s.setValue("view/colormap", m_colormap->currentIndex());
    s.setValue("view/blend", m_blend->isChecked());
    s.setValue("view/opacity", m_opacity->value());
    s.setValue("view/heatmap", m_heatmapBox->isChecked());
    s.setValue("view/heatTarget", m_heatTarget->currentIndex());
    s.setValue("view/heatOpacity", m_heatOpacity->value());
    s.setValue("view/figure", m_figureBox->currentIndex());
    s.setValue("live/mirror", m_mirrorAction->isChecked());
    s.setValue("live/loop", m_loopAction->isChecked());
    s.setValue("live/resolution", m_resolutionBox->currentIndex());
    if (!m_architecture->selected().isEmpty()) s.setValue("view/node", m_architecture->selected());
}

void MainWindow::closeEvent(QCloseEvent* event) {
    if (m_screenshotPath.isEmpty()) writeSettings();
    event->accept();
}

void MainWindow::openFile(const QString& path) {
    auto source = std::make_shared<Source>();
    source->label = QDir::toNativeSeparators(path);
    source->path = path;
    m_lastFolder = QFileInfo(path).absolutePath();
    openSource(std::move(source));
}

void MainWindow::openImage(const QImage& image, const QString& label) {
    auto source = std::make_shared<Source>();
    source->label = label;
    source->image = image;
    openSource(std::move(source));
}

void MainWindow::openBytes(const QByteArray& bytes, const QString& label) {
    auto source = std::make_shared<Source>();
    source->label = label;
    source->bytes = bytes;
    openSource(std::move(source));
}

void MainWindow::openSource(std::shared_ptr<Source> source) {
    m_heatClass = kTopClass;  // a new image: the heat map follows its top-1 again
    source->generation = ++m_nextGeneration;
    m_source = std::move(source);
    statusBar()->showMessage(tr("Opening %1…").arg(m_source->label));
    request();
}

void MainWindow::selectNode(const QString& node) {
    m_architecture->select(node);
}

void MainWindow::request() {
    if (!m_source) return;
    std::vector<std::string> taps;
    const std::string node = m_architecture->selected().toStdString();
    const bool sameImage = m_shownSource && m_source->generation == m_shownSource->generation;
    if (!node.empty() && (!sameImage || !m_tapCache.count(node))) taps.push_back(node);
    InferenceRequest r{++m_nextId, m_source, std::move(taps), true};
    if (m_heatmapBox->isChecked()) {
        r.heatmapClass = m_heatClass;
        r.heatmapTarget = m_heatTarget->currentData().toString().toStdString();
    }
    r.stats = m_figureBox->currentIndex() >= 2;
    m_worker->submit(std::move(r));
}

void MainWindow::onResult(const ResultPtr& result) {
    if (result->id < m_shownId) return;  // an older request finished after a newer one
    if (m_frozen && m_source && result->generation != m_source->generation)
        return;  // late live frame
    m_shownId = result->id;
    const bool newFrame = result->grabbed != std::chrono::steady_clock::time_point{} &&
                          (!m_shownSource || result->generation != m_shownSource->generation);
    if (!m_shownSource || result->generation != m_shownSource->generation) {
        m_tapCache.clear();
        m_shownSource =
            m_source && m_source->generation == result->generation ? m_source : m_shownSource;
        m_input->setImage(result->display, result->originalSize, result->label);
        setWindowTitle(tr("%1 — ResNet18 Explorer").arg(QFileInfo(result->label).fileName()));
        if (result->grabbed == std::chrono::steady_clock::time_point{}) statusBar()->clearMessage();
    }
    for (const auto& [name, tensor] : result->taps) m_tapCache[name] = result;
    m_lastResult = result;
    if (newFrame) {
        const auto now = std::chrono::steady_clock::now();
        const double latency =
            std::chrono::duration<double, std::milli>(now - result->grabbed).count();
        m_live.latencyMs =
            m_live.framesShown == 0 ? latency : 0.8 * m_live.latencyMs + 0.2 * latency;
        ++m_live.framesShown;
        m_shownTimes.push_back(now);
        while (!m_shownTimes.empty() && now - m_shownTimes.front() > std::chrono::seconds(1))
            m_shownTimes.erase(m_shownTimes.begin());
        m_live.processedFps = static_cast<double>(m_shownTimes.size());
    }
    m_predictions->setPredictions(result->top);
    m_architecture->setNodeTimes(result->nodeMs);
    updateFigures();
    showHeatmap();
    showSelectedTap();
    updateStatus();
    emit resultShown(result->id);
    if (!m_screenshotPath.isEmpty() && !m_screenshotTaken &&
        m_tapCache.count(m_architecture->selected().toStdString())) {
        m_screenshotTaken = true;
        QTimer::singleShot(300, this, &MainWindow::takeScreenshot);
    }
}

void MainWindow::onFailed(quint64 id, const QString& label, const QString& message) {
    if (id < m_shownId) return;
    m_shownId = id;
    if (m_source && (!m_shownSource || m_source->generation != m_shownSource->generation))
        m_source = m_shownSource;  // keep exploring the last image that worked
    statusBar()->clearMessage();
    showError(tr("Could not open %1")
                  .arg(QFileInfo(label).fileName().isEmpty() ? label : QFileInfo(label).fileName()),
              message);
    if (!m_screenshotPath.isEmpty() && !m_shownSource) QCoreApplication::exit(1);
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

void MainWindow::onModelReady(const ModelInfo& info) {
    const bool newSpec = !m_model.spec || !info.spec || m_model.spec != info.spec;
    m_model = info;
    m_precisionBox->setCurrentIndex(static_cast<int>(info.precision));
    m_threadsBox->setCurrentIndex(std::clamp(info.threads, 1, m_threadsBox->count()) - 1);
    if (newSpec) {
        m_tapCache.clear();
        const QString keep =
            m_architecture->selected().isEmpty() ? m_pendingSelect : m_architecture->selected();
        m_architecture->setSpec(info.spec);
        m_architecture->select(keep);
        if (m_architecture->selected().isEmpty()) m_architecture->select(kDefaultNode);
        m_diagramTitle->setText(info.arch);
    }
    m_predictions->setTrusted(info.official);
    updateBanner();
    updateStatus();
    const bool firstModel = !m_firstModelSeen;
    m_firstModelSeen = true;
    if (firstModel && info.file.isEmpty() && m_requestedWeights.isEmpty() &&
        m_screenshotPath.isEmpty() && !QSettings().value("firstRun/dontAsk", false).toBool())
        showWeightsDialog(WeightsDialog::Mode::FirstRun);
    emit modelShown();
    if (m_source) request();
}

void MainWindow::onNodeSelected(const QString& node) {
    showSelectedTap();
    const bool sameImage =
        m_shownSource && m_source && m_source->generation == m_shownSource->generation;
    if (m_source && (!sameImage || !m_tapCache.count(node.toStdString()))) request();
}

void MainWindow::showSelectedTap() {
    const QString node = m_architecture->selected();
    const auto it = m_tapCache.find(node.toStdString());
    if (it == m_tapCache.end()) {
        if (!m_shownSource)
            m_features->clear(tr("Open an image to see the feature maps of %1.").arg(node));
        return;  // the request for it is on its way; keep the previous grid meanwhile
    }
    const Tensor& t = it->second->taps.at(node.toStdString());
    m_features->setActivations(node, t);
    QString shape;
    for (size_t i = 1; i < t.dims.size(); ++i)
        shape += (i > 1 ? (i == 2 ? QStringLiteral(" × ") : QStringLiteral("×")) : QString()) +
                 QString::number(t.dims[i]);
    m_featureTitle->setText(tr("Feature maps — %1 · %2").arg(node, shape));
    std::vector<int> order(static_cast<size_t>(m_features->channelCount()));
    std::iota(order.begin(), order.end(), 0);
    const auto shown = std::min<size_t>(6, order.size());
    std::partial_sort(
        order.begin(), order.begin() + static_cast<std::ptrdiff_t>(shown), order.end(),
        [this](int a, int b) { return m_features->stats(a).mean > m_features->stats(b).mean; });
    QStringList links;
    for (size_t i = 0; i < shown; ++i)
        links << QStringLiteral("<a href='%1'>#%1</a> %2")
                     .arg(order[i])
                     .arg(m_features->stats(order[i]).mean, 0, 'g', 3);
    m_topChannels->setText(tr("Most active channels: %1").arg(links.join(QStringLiteral(" · "))));
    showChannel(m_features->selectedChannel());
}

void MainWindow::showChannel(int channel) {
    if (channel < 0 || channel >= m_features->channelCount()) {
        m_channel->clear();
        m_input->setOverlay({}, 0);
        return;
    }
    const QImage image = m_features->channelImage(channel);
    const auto& s = m_features->stats(channel);
    const bool perLayer = m_features->normalization() == FeatureMapView::Normalization::PerLayer;
    float lo = s.min, hi = s.max;
    if (perLayer) {
        lo = INFINITY;
        hi = -INFINITY;
        for (int c = 0; c < m_features->channelCount(); ++c) {
            lo = std::min(lo, m_features->stats(c).min);
            hi = std::max(hi, m_features->stats(c).max);
        }
    }
    m_channel->setChannel(image,
                          tr("%1 · channel %2 of %3 · %4×%5\nmin %6 · mean %7 · max %8")
                              .arg(m_features->node())
                              .arg(channel)
                              .arg(m_features->channelCount())
                              .arg(image.width())
                              .arg(image.height())
                              .arg(s.min, 0, 'g', 3)
                              .arg(s.mean, 0, 'g', 3)
                              .arg(s.max, 0, 'g', 3),
                          lo, hi, m_features->colormap());
    if (m_blend->isChecked() && image.width() > 1)
        m_input->setOverlay(image.scaled(224, 224, Qt::IgnoreAspectRatio, Qt::SmoothTransformation),
                            m_opacity->value() / 100.0);
    else
        m_input->setOverlay({}, 0);
}

QString MainWindow::bannerText() const {
    return m_banner->isHidden() ? QString() : m_banner->text();
}

void MainWindow::updateBanner() {
    if (m_model.official) {
        m_banner->hide();
        return;
    }
    if (m_model.file.isEmpty())
        m_banner->setText(
            tr("<b>Untrained demo weights.</b> The network is random, so its predictions are "
               "meaningless. "
               "Get torchvision's official ImageNet weights with <code>weights/fetch.sh</code>, or "
               "open a weights "
               "file (Ctrl+Shift+O)."));
    else
        m_banner->setText(tr("<b>Not the official ImageNet weights</b> (%1). Predictions are only "
                             "as good as whatever trained "
                             "these weights, and meaningless if they are untrained.")
                              .arg(QFileInfo(m_model.file).fileName().toHtmlEscaped()));
    m_banner->show();
}

void MainWindow::updateStatus() {
    const QString weights =
        m_model.file.isEmpty() ? tr("demo weights") : QFileInfo(m_model.file).fileName();
    const QString trust = m_model.official         ? tr("ImageNet-trained ✓")
                          : m_model.file.isEmpty() ? tr("untrained")
                                                   : tr("not verified");
    m_statusModel->setText(
        tr("%1 · %2 · %3 classes · %4").arg(m_model.arch, weights).arg(m_model.classes).arg(trust));
    m_statusModel->setToolTip(
        tr("%1\nformat: %2\nlabels: %3\n%4")
            .arg(m_model.file.isEmpty() ? tr("built-in untrained weights") : m_model.file,
                 m_model.format,
                 m_model.labelsFile.isEmpty()
                     ? (m_model.classes == 1000 ? tr("ImageNet") : tr("none (class N)"))
                     : m_model.labelsFile,
                 m_model.trustNote));
    const QString precision =
        m_model.precision == Precision::Int8
            ? tr("int8 (calibrated on %1 images)").arg(m_model.calibrationImages)
            : QString::fromLatin1(precisionName(m_model.precision));
    m_statusEngine->setText(tr("%1 · %2").arg(
        precision, m_model.threads == 1 ? tr("1 thread") : tr("%1 threads").arg(m_model.threads)));
    m_statusEngine->setToolTip(
        tr("oneDNN on %1: %2")
            .arg(QString::fromStdString(Engine::cpuIsa()), m_model.implementations));
    if (m_lastResult && isLive())
        m_statusTiming->setText(
            tr("camera %1 fps · processed %2 fps · latency %3 ms · network %4 ms")
                .arg(m_capture->fps(), 0, 'f', 1)
                .arg(m_live.processedFps, 0, 'f', 1)
                .arg(m_live.latencyMs, 0, 'f', 0)
                .arg(m_lastResult->networkMs, 0, 'f', 1));
    else if (m_lastResult)
        m_statusTiming->setText(tr("decode %1 · preprocess %2 · network %3 ms")
                                    .arg(m_lastResult->decodeMs, 0, 'f', 1)
                                    .arg(m_lastResult->preprocessMs, 0, 'f', 1)
                                    .arg(m_lastResult->networkMs, 0, 'f', 1));
}

Precision MainWindow::currentPrecision() const {
    return static_cast<Precision>(m_precisionBox->currentIndex());
}

void MainWindow::setPrecision(Precision precision) {
    const int threads = m_threadsBox->currentData().toInt();
    QMetaObject::invokeMethod(
        m_worker, [w = m_worker, precision, threads] { w->configure(precision, threads); },
        Qt::QueuedConnection);
}

void MainWindow::setThreads(int threads) {
    const Precision precision = currentPrecision();
    QMetaObject::invokeMethod(
        m_worker, [w = m_worker, precision, threads] { w->configure(precision, threads); },
        Qt::QueuedConnection);
}

void MainWindow::openDialog() {
    const QString path =
        QFileDialog::getOpenFileName(this, tr("Open Image"), m_lastFolder, imageFilter());
    if (!path.isEmpty()) openFile(path);
}

void MainWindow::openWeightsDialog() {
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open Weights"), m_lastFolder,
        tr("Weights (*.pth *.pt *.bin *.safetensors *.onnx);;All files (*)"));
    if (!path.isEmpty()) loadWeights(path);
}

void MainWindow::loadWeights(const QString& path) {
    const Precision precision = currentPrecision();
    const int threads = m_threadsBox->currentData().toInt();
    m_statusModel->setText(tr("Loading %1…").arg(QFileInfo(path).fileName()));
    QMetaObject::invokeMethod(
        m_worker,
        [w = m_worker, path, precision, threads] { w->loadModel(path, precision, threads); },
        Qt::QueuedConnection);
}

void MainWindow::openLabelsDialog() {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open Labels"), m_lastFolder,
                                                      tr("Labels (*.txt *.json);;All files (*)"));
    if (path.isEmpty()) return;
    QMetaObject::invokeMethod(
        m_worker, [w = m_worker, path] { w->setLabels(path); }, Qt::QueuedConnection);
}

void MainWindow::showWeightsDialog(WeightsDialog::Mode mode) {
    if (m_weightsDialog) {
        m_weightsDialog->raise();
        return;
    }
    m_weightsDialog = new WeightsDialog(mode, this);
    m_weightsDialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(m_weightsDialog, &WeightsDialog::weightsReady, this, &MainWindow::loadWeights);
    connect(m_weightsDialog, &QDialog::finished, this, [this] {
        if (m_weightsDialog && m_weightsDialog->dontAskAgain())
            QSettings().setValue("firstRun/dontAsk", true);
    });
    m_weightsDialog->open();
    if (mode == WeightsDialog::Mode::Download) m_weightsDialog->startDownload();
}

void MainWindow::confirmWeightsDrop(const QString& path) {
    if (!m_shownSource) return loadWeights(path);
    auto* box = new QMessageBox(QMessageBox::Question, tr("Load weights?"),
                                tr("Use %1 as the model?").arg(QFileInfo(path).fileName()),
                                QMessageBox::Yes | QMessageBox::Cancel, this);
    box->setInformativeText(tr("The current image is run again with the new weights."));
    box->setAttribute(Qt::WA_DeleteOnClose);
    connect(box, &QMessageBox::accepted, this, [this, path] { loadWeights(path); });
    m_confirmBox = box;
    box->open();
}

void MainWindow::paste() {
    const QMimeData* mime = QGuiApplication::clipboard()->mimeData();
    if (!mime) return;
    if (mime->hasImage()) {
        openImage(qvariant_cast<QImage>(mime->imageData()), tr("pasted image"));
    } else if (mime->hasUrls()) {
        openUrls(mime->urls());
    } else {
        const QString text = mime->text().trimmed();
        const QUrl url(text);
        if (QFileInfo(text).isFile())
            openFile(text);
        else if (url.isLocalFile() || url.scheme() == "http" || url.scheme() == "https")
            openUrls({url});
        else
            statusBar()->showMessage(tr("The clipboard holds no image, image file or image URL."),
                                     5000);
    }
}

void MainWindow::openUrls(const QList<QUrl>& urls) {
    for (const QUrl& url : urls) {
        if (url.isLocalFile() && QFileInfo(url.toLocalFile()).isDir()) {
            classifyFolder(url.toLocalFile());
            return;
        }
        if (url.isLocalFile()) {
            const QString suffix = QFileInfo(url.toLocalFile()).suffix().toLower();
            if (suffix == "pth" || suffix == "pt" || suffix == "bin" || suffix == "safetensors" ||
                suffix == "onnx")
                confirmWeightsDrop(url.toLocalFile());
            else
                openFile(url.toLocalFile());
            return;
        }
        if (url.scheme() == "http" || url.scheme() == "https") {
            if (!m_network) m_network = new QNetworkAccessManager(this);
            statusBar()->showMessage(tr("Downloading %1…").arg(url.toDisplayString()));
            QNetworkRequest req(url);
            req.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                             QNetworkRequest::NoLessSafeRedirectPolicy);
            QNetworkReply* reply = m_network->get(req);
            connect(reply, &QNetworkReply::finished, this, [this, reply, url] {
                reply->deleteLater();
                statusBar()->clearMessage();
                if (reply->error() != QNetworkReply::NoError)
                    return showError(tr("Could not download %1").arg(url.fileName()),
                                     tr("%1: %2").arg(url.toDisplayString(), reply->errorString()));
                openBytes(reply->readAll(), url.toDisplayString());
            });
            return;
        }
    }
    statusBar()->showMessage(tr("Nothing to open: drop image files or image URLs."), 5000);
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
    if (event->mimeData()->hasUrls() || event->mimeData()->hasImage())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
    const QMimeData* mime = event->mimeData();
    if (mime->hasUrls() && !mime->urls().isEmpty() && mime->urls().first().isLocalFile())
        openUrls(mime->urls());
    else if (mime->hasImage())
        openImage(qvariant_cast<QImage>(mime->imageData()), tr("dropped image"));
    else if (mime->hasUrls())
        openUrls(mime->urls());
    event->acceptProposedAction();
}

void MainWindow::saveFeatureMaps() {
    if (m_features->channelCount() == 0) {
        statusBar()->showMessage(tr("No feature maps to save yet: open an image first."), 5000);
        return;
    }
    const QString base = m_shownSource ? QFileInfo(m_shownSource->label).completeBaseName()
                                       : QStringLiteral("image");
    const QString suggested =
        QDir(m_lastFolder).filePath(QStringLiteral("%1-%2.png").arg(base, m_features->node()));
    const QString path = QFileDialog::getSaveFileName(this, tr("Save Feature Maps"), suggested,
                                                      tr("PNG images (*.png)"));
    if (path.isEmpty()) return;
    if (!m_features->renderGrid(1800).save(path, "PNG"))
        return showError(tr("Could not save the feature maps"),
                         tr("%1: the file could not be written.").arg(path));
    statusBar()->showMessage(tr("Saved %1").arg(path), 5000);
}

void MainWindow::saveWindow() {
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Save Window"), QDir(m_lastFolder).filePath("resnet18-explorer.png"),
        tr("PNG images (*.png)"));
    if (path.isEmpty()) return;
    if (!grab().save(path, "PNG"))
        showError(tr("Could not save the window"),
                  tr("%1: the file could not be written.").arg(path));
}

void MainWindow::createLiveControls(QMenu* menu, QToolBar* tools) {
    m_capture = new CaptureThread(this);
    connect(m_capture, &CaptureThread::frameCaptured, this, &MainWindow::onFrame);
    connect(m_capture, &CaptureThread::stopped, this, &MainWindow::onLiveStopped);
    connect(m_capture, &CaptureThread::opened, this,
            [this](const QString& label, double fps, QSize size) {
                m_liveLabel = label;
                m_liveBanner->hide();
                statusBar()->showMessage(tr("%1: %2×%3 at %4 fps")
                                             .arg(label)
                                             .arg(size.width())
                                             .arg(size.height())
                                             .arg(fps, 0, 'f', 1),
                                         4000);
            });

    m_sourceBox = new QComboBox;
    m_sourceBox->setToolTip(tr("Camera, or a video file or stream"));
    m_sourceBox->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_resolutionBox = new QComboBox;
    m_resolutionBox->setToolTip(tr("Camera resolution"));
    m_resolutionBox->addItem(tr("default"), QSize());
    for (const QSize& r : {QSize(640, 480), QSize(1280, 720), QSize(1920, 1080)})
        m_resolutionBox->addItem(QStringLiteral("%1×%2").arg(r.width()).arg(r.height()), r);
    refreshSources();
    auto* refresh = new QTimer(this);
    connect(refresh, &QTimer::timeout, this, [this] {
        if (!isLive()) refreshSources();
    });
    refresh->start(3000);

    m_liveAction =
        menu->addAction(style()->standardIcon(QStyle::SP_MediaPlay), tr("&Start"), this, [this] {
            if (isLive())
                stopLive();
            else
                startSelectedSource();
        });
    m_liveAction->setShortcut(QKeySequence(Qt::Key_Space));
    m_liveAction->setToolTip(tr("Start or stop the camera or video (Space)"));
    m_mirrorAction = menu->addAction(tr("&Mirror"));
    m_mirrorAction->setCheckable(true);
    m_mirrorAction->setShortcut(QKeySequence(Qt::Key_M));
    connect(m_mirrorAction, &QAction::toggled, m_capture, &CaptureThread::setMirror);
    m_freezeAction = menu->addAction(tr("&Freeze Frame"), this, [this](bool on) { setFrozen(on); });
    m_freezeAction->setCheckable(true);
    m_freezeAction->setShortcut(QKeySequence(Qt::Key_F));
    m_freezeAction->setToolTip(tr("Hold the current frame to browse its layers (F)"));
    QAction* snap = menu->addAction(tr("Save &Snapshot"), this, &MainWindow::snapshot);
    snap->setShortcut(QKeySequence(Qt::Key_P));
    menu->addSeparator();
    m_loopAction = menu->addAction(tr("&Loop Videos"));
    m_loopAction->setCheckable(true);

    QSettings settings;
    m_mirrorAction->setChecked(settings.value("live/mirror", false).toBool());
    m_loopAction->setChecked(settings.value("live/loop", true).toBool());
    m_resolutionBox->setCurrentIndex(
        std::clamp(settings.value("live/resolution", 0).toInt(), 0, m_resolutionBox->count() - 1));

    tools->addSeparator();
    tools->addWidget(m_sourceBox);
    tools->addWidget(m_resolutionBox);
    tools->addAction(m_liveAction);
    tools->addAction(m_freezeAction);
    tools->addAction(m_mirrorAction);
}

void MainWindow::refreshSources() {
    const QString current = m_sourceBox->currentData().toString();
    QStringList entries;
    const std::vector<CameraInfo> cameras = listCameras();
    for (const CameraInfo& c : cameras) entries << QString::number(c.index);
    QStringList existing;
    for (int i = 0; i < m_sourceBox->count(); ++i) existing << m_sourceBox->itemData(i).toString();
    if (!m_recentVideo.isEmpty()) entries << m_recentVideo;
    entries << QStringLiteral("file");
    if (!cameras.empty()) existing.removeAll(QString());
    if (existing == entries) return;
    m_sourceBox->clear();
    for (const CameraInfo& c : cameras)
        m_sourceBox->addItem(tr("Camera %1 — %2").arg(c.index).arg(QString::fromStdString(c.name)),
                             QString::number(c.index));
    if (cameras.empty()) {
        m_sourceBox->addItem(tr("No camera found"), QString());
        if (auto* model = qobject_cast<QStandardItemModel*>(m_sourceBox->model()))
            model->item(0)->setEnabled(false);
    }
    if (!m_recentVideo.isEmpty())
        m_sourceBox->addItem(QFileInfo(m_recentVideo).fileName(), m_recentVideo);
    m_sourceBox->addItem(tr("Video file or stream…"), QStringLiteral("file"));
    const int keep = m_sourceBox->findData(current);
    m_sourceBox->setCurrentIndex(keep >= 0 ? keep
                                           : (cameras.empty() ? m_sourceBox->count() - 1 : 0));
}

void MainWindow::startSelectedSource() {
    CaptureThread::Options options;
    options.spec = m_sourceBox->currentData().toString();
    options.mirror = m_mirrorAction->isChecked();
    options.loop = m_loopAction->isChecked();
    options.resolution = m_resolutionBox->currentData().toSize();
    if (options.spec == QStringLiteral("file") || options.spec.isEmpty()) {
        options.spec = QFileDialog::getOpenFileName(
            this, tr("Open Video"), m_lastFolder,
            tr("Videos (*.mp4 *.avi *.mkv *.mov *.webm *.mjpg *.mpg);;All files (*)"));
        if (options.spec.isEmpty()) return;
        m_lastFolder = QFileInfo(options.spec).absolutePath();
    }
    startLive(options);
}

void MainWindow::startLive(const CaptureThread::Options& options) {
    if (!QRegularExpression(QStringLiteral("^(/dev/video)?\\d+$")).match(options.spec).hasMatch()) {
        m_recentVideo = options.spec;
        refreshSources();
        m_sourceBox->setCurrentIndex(m_sourceBox->findData(options.spec));
    }
    m_live = LiveStats{};
    m_shownTimes.clear();
    m_liveLabel = QFileInfo(options.spec).fileName().isEmpty() ? options.spec
                                                               : QFileInfo(options.spec).fileName();
    setFrozen(false);
    m_liveBanner->hide();
    m_capture->start(options);
    m_liveAction->setText(tr("&Stop"));
    m_liveAction->setIcon(style()->standardIcon(QStyle::SP_MediaStop));
    statusBar()->showMessage(tr("Opening %1…").arg(options.spec));
}

void MainWindow::stopLive() {
    m_capture->stop();
}

bool MainWindow::isLive() const {
    return m_capture && m_capture->isRunning();
}

MainWindow::LiveStats MainWindow::liveStats() const {
    LiveStats s = m_live;
    s.cameraFps = m_capture ? m_capture->fps() : 0.0;
    s.framesDropped = m_worker ? m_worker->droppedCount() : 0;
    return s;
}

void MainWindow::setFrozen(bool frozen) {
    m_frozen = frozen;
    if (frozen && m_shownSource) m_source = m_shownSource;  // browse the frame on screen
    if (m_freezeAction && m_freezeAction->isChecked() != frozen) m_freezeAction->setChecked(frozen);
    if (!frozen && m_lastFrame && isLive()) onFrame(m_lastFrame);
    if (frozen)
        statusBar()->showMessage(tr("Frame frozen: browse its layers; press F to go live again."));
}

void MainWindow::onFrame(const FramePtr& frame) {
    m_lastFrame = frame;
    if (m_frozen) return;
    auto source = std::make_shared<Source>();
    source->generation = ++m_nextGeneration;
    source->label = m_liveLabel;
    source->frame = frame->image;
    source->grabbed = frame->grabbed;
    m_source = std::move(source);
    request();
}

void MainWindow::onLiveStopped(const QString& reason, bool error) {
    m_liveAction->setText(tr("&Start"));
    m_liveAction->setIcon(style()->standardIcon(QStyle::SP_MediaPlay));
    if (error) {
        m_liveBanner->setText(
            tr("<b>Live source stopped.</b> %1 Pick another source and press Space.")
                .arg(reason.toHtmlEscaped()));
        m_liveBanner->show();
        refreshSources();
    } else {
        statusBar()->showMessage(reason, 6000);
    }
    updateStatus();
    emit liveStopped(reason, error);
}

void MainWindow::snapshot() {
    if (!m_lastResult || m_lastResult->display.isNull()) {
        statusBar()->showMessage(tr("Nothing to save yet."), 4000);
        return;
    }
    QString folder = QStandardPaths::writableLocation(QStandardPaths::PicturesLocation);
    if (folder.isEmpty() || !QDir().mkpath(folder)) folder = QDir::homePath();
    const QString path = QDir(folder).filePath(
        QStringLiteral("resnet18-explorer-%1.png")
            .arg(QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-hhmmss-zzz"))));
    if (!m_lastResult->display.save(path, "PNG"))
        return showError(tr("Could not save the snapshot"),
                         tr("%1: the file could not be written.").arg(path));
    statusBar()->showMessage(tr("Snapshot saved: %1").arg(path), 6000);
}

void MainWindow::showHeatmap() {
    if (!m_heatmapBox->isChecked() || !m_lastResult || !m_lastResult->heatmap) {
        m_input->setHeatmap({}, 0);
        m_predictions->setHighlighted(-1);
        return;
    }
    const Heatmap& h = *m_lastResult->heatmap;
    m_input->setHeatmap(heatImage(h.values.data(), static_cast<int>(h.height),
                                  static_cast<int>(h.width), h.maxValue(), Colormap::Magma),
                        m_heatOpacity->value() / 100.0);
    m_predictions->setHighlighted(h.classIndex);
}

void MainWindow::updateFigures() {
    const auto figure = static_cast<ArchitectureView::Figure>(m_figureBox->currentIndex());
    std::vector<double> values;
    if (m_lastResult && m_model.spec) {
        const NetworkSpec& spec = *m_model.spec;
        values.assign(spec.nodes.size(), NAN);
        for (size_t i = 0; i < spec.nodes.size(); ++i) {
            if (figure == ArchitectureView::Figure::Time && i < m_lastResult->nodeMs.size() &&
                m_lastResult->nodeMs[i] > 0)
                values[i] = m_lastResult->nodeMs[i];
            if (i >= m_lastResult->nodeStats.size()) continue;
            // A conv fused into its block's add shows the block output's figures.
            const int fused = spec.nodes[i].fusedInto;
            const size_t from = fused >= 0 ? static_cast<size_t>(fused) : i;
            const NodeStats& st = m_lastResult->nodeStats[from];
            if (figure == ArchitectureView::Figure::Zeros) values[i] = st.zeroFraction;
            if (figure == ArchitectureView::Figure::Mean) values[i] = st.mean;
        }
    }
    m_legend->setText(m_architecture->setFigures(figure, values));
}

void MainWindow::openFolderDialog() {
    const QString folder =
        QFileDialog::getExistingDirectory(this, tr("Classify a Folder"), m_lastFolder);
    if (!folder.isEmpty()) classifyFolder(folder);
}

void MainWindow::classifyFolder(const QString& folder) {
    if (!m_model.model)
        return showError(tr("No model yet"),
                         tr("Wait for the model to load, then open the folder again."));
    if (!m_batch) {
        m_batch = new BatchWindow(this);
        connect(m_batch, &BatchWindow::openRequested, this, [this](const QString& path) {
            openFile(path);
            raise();
            activateWindow();
        });
    }
    m_lastFolder = folder;
    m_batch->start(folder, m_model.model, m_threadsBox->currentData().toInt());
}

QString MainWindow::saveChannelPng(const QString& path) const {
    const QImage channel = m_features->channelImage(m_features->selectedChannel());
    if (channel.isNull()) return tr("Select a channel first.");
    const int scale = std::max(1, 448 / std::max(channel.width(), 1));
    return channel.scaled(channel.size() * scale, Qt::KeepAspectRatio, Qt::FastTransformation)
                   .save(path, "PNG")
               ? QString()
               : tr("%1: the file could not be written.").arg(path);
}

QString MainWindow::saveOverlayPng(const QString& path) const {
    const QImage image = m_input->composite();
    if (image.isNull()) return tr("Open an image first.");
    return image.save(path, "PNG") ? QString() : tr("%1: the file could not be written.").arg(path);
}

QString MainWindow::exportPredictions(const QString& path) const {
    if (!m_lastResult || !m_shownSource) return tr("There are no predictions yet.");
    BatchRow row;
    row.file = m_shownSource->label.toStdString();
    row.top = m_lastResult->top;
    row.ms = m_lastResult->decodeMs + m_lastResult->preprocessMs + m_lastResult->networkMs;
    try {
        writeText(path.toStdString(),
                  path.endsWith(".json", Qt::CaseInsensitive) ? toJson({row}) : toCsv({row}));
    } catch (const Error& e) {
        return QString::fromStdString(e.what());
    }
    return {};
}

void MainWindow::saveWith(const QString& title, const QString& name, const QString& filter,
                          QString (MainWindow::*save)(const QString&) const) {
    const QString path =
        QFileDialog::getSaveFileName(this, title, QDir(m_lastFolder).filePath(name), filter);
    if (path.isEmpty()) return;
    const QString error = (this->*save)(path);
    if (!error.isEmpty()) return showError(tr("Could not save"), error);
    statusBar()->showMessage(tr("Saved %1").arg(path), 5000);
}

void MainWindow::takeScreenshot() {
    const bool ok = grab().save(m_screenshotPath, "PNG");
    if (!ok) qWarning("screenshot: could not write %s", qPrintable(m_screenshotPath));
    QCoreApplication::exit(ok ? 0 : 1);
}

}  // namespace r18::ui
