// MainWindow: the Explorer. Diagram on the left; input, enlarged channel and top-5 on the top
// right; the selected layer's feature maps below. A worker thread owns the engine; the window
// only paints and reacts. Images arrive by drag and drop, paste, the Open dialog or the
// command line.
#pragma once

#include <QMainWindow>
#include <QMessageBox>
#include <QPointer>
#include <QThread>

#include <map>
#include <memory>
#include <string>

#include "ui/capture_thread.h"
#include "ui/inference_types.h"
#include "ui/weights_dialog.h"

class QActionGroup;
class QCheckBox;
class QComboBox;
class QLabel;

class QNetworkAccessManager;
class QSlider;
class QSplitter;

namespace r18::ui {

class ArchitectureView;
class BatchWindow;
class ChannelView;
class FeatureMapView;
class InferenceWorker;
class InputView;
class PredictionsView;

struct WindowOptions {
    QString weightsPath;     // empty: default locations, else demo weights
    QString selectNode;      // node selected at start (overrides the remembered one)
    QStringList images;      // opened at start; the first is shown
    QString screenshotPath;  // save the window here once the first result is on screen, then quit
    QString camera;          // start this camera, video file or stream at once ("0", "clip.mp4")
    bool loop = false;       // loop video files
    QSize windowSize;        // initial size, overriding the remembered geometry
};

class MainWindow : public QMainWindow {
    Q_OBJECT

public:
    explicit MainWindow(const WindowOptions& options, QWidget* parent = nullptr);
    ~MainWindow() override;

    void openFile(const QString& path);
    void openImage(const QImage& image, const QString& label);
    void openBytes(const QByteArray& bytes, const QString& label);
    void selectNode(const QString& node);
    // Classifies every image under `folder` in the folder window (a background job).
    void classifyFolder(const QString& folder);
    // Exports; each returns "" on success or the reason it failed.
    QString saveChannelPng(const QString& path) const;     // the selected channel, enlarged
    QString saveOverlayPng(const QString& path) const;     // the image with heat map and overlay
    QString exportPredictions(const QString& path) const;  // .csv or .json by extension

    // Live sources: a camera, video file or stream through CaptureThread.
    void startLive(const CaptureThread::Options& options);
    void stopLive();
    bool isLive() const;
    void setFrozen(bool frozen);
    bool isFrozen() const { return m_frozen; }
    struct LiveStats {
        double cameraFps = 0.0;     // frames delivered by the source per second
        double processedFps = 0.0;  // results shown per second
        double latencyMs = 0.0;     // grab to display, smoothed
        uint64_t framesShown = 0;
        uint64_t framesDropped = 0;  // replaced while the network was busy
    };
    LiveStats liveStats() const;

    // Parts, for tests.
    InferenceWorker* worker() const { return m_worker; }
    ArchitectureView* architectureView() const { return m_architecture; }
    FeatureMapView* featureMapView() const { return m_features; }
    PredictionsView* predictionsView() const { return m_predictions; }
    InputView* inputView() const { return m_input; }
    BatchWindow* batchWindow() const { return m_batch; }
    QCheckBox* heatmapBox() const { return m_heatmapBox; }
    QComboBox* figureBox() const { return m_figureBox; }
    ResultPtr lastResult() const { return m_lastResult; }
    QMessageBox* errorBox() const { return m_errorBox; }
    QMessageBox* confirmBox() const { return m_confirmBox; }
    WeightsDialog* weightsDialog() const { return m_weightsDialog; }
    const ModelInfo& model() const { return m_model; }
    QString bannerText() const;

signals:
    void resultShown(quint64 id);
    void errorShown(const QString& message);
    void modelShown();
    void liveStopped(const QString& reason, bool error);

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;
    void closeEvent(QCloseEvent* event) override;

private:
    void createActions();
    void createCentral();
    void createStatusBar();
    void openSource(std::shared_ptr<Source> source);
    void openUrls(const QList<QUrl>& urls);
    void request();
    void showSelectedTap();
    void showChannel(int channel);
    void showError(const QString& title, const QString& message);
    void updateBanner();
    void updateStatus();
    void onResult(const ResultPtr& result);
    void onFailed(quint64 id, const QString& label, const QString& message);
    void onModelReady(const ModelInfo& info);
    void onNodeSelected(const QString& node);
    void openDialog();
    void openWeightsDialog();
    void openLabelsDialog();
    void loadWeights(const QString& path);
    void confirmWeightsDrop(const QString& path);
    void showWeightsDialog(WeightsDialog::Mode mode);
    void paste();
    void saveFeatureMaps();
    void saveWindow();
    Precision currentPrecision() const;  // the toolbar box lists Precision in enum order
    void setPrecision(Precision precision);
    void setThreads(int threads);
    void readSettings(const WindowOptions& options);
    void writeSettings() const;
    void takeScreenshot();
    void showHeatmap();
    void updateFigures();
    void openFolderDialog();
    void saveWith(const QString& title, const QString& name, const QString& filter,
                  QString (MainWindow::*save)(const QString&) const);
    void createLiveControls(QMenu* menu, QToolBar* tools);
    void refreshSources();
    void onFrame(const FramePtr& frame);
    void onLiveStopped(const QString& reason, bool error);
    void startSelectedSource();
    void snapshot();

    QThread m_thread;
    InferenceWorker* m_worker = nullptr;  // lives in m_thread; deleted when it finishes
    QNetworkAccessManager* m_network = nullptr;

    ArchitectureView* m_architecture = nullptr;
    InputView* m_input = nullptr;
    ChannelView* m_channel = nullptr;
    PredictionsView* m_predictions = nullptr;
    FeatureMapView* m_features = nullptr;
    QLabel* m_banner = nullptr;
    QLabel* m_legend = nullptr;
    QLabel* m_topChannels = nullptr;
    QCheckBox* m_heatmapBox = nullptr;
    QComboBox* m_heatTarget = nullptr;
    QSlider* m_heatOpacity = nullptr;
    QComboBox* m_figureBox = nullptr;
    BatchWindow* m_batch = nullptr;
    int64_t m_heatClass = kTopClass;
    QLabel* m_featureTitle = nullptr;
    QLabel* m_diagramTitle = nullptr;
    QComboBox* m_normalization = nullptr;
    QCheckBox* m_sort = nullptr;
    QComboBox* m_colormap = nullptr;
    QCheckBox* m_blend = nullptr;
    QSlider* m_opacity = nullptr;
    QComboBox* m_precisionBox = nullptr;
    QComboBox* m_threadsBox = nullptr;
    QLabel* m_statusModel = nullptr;
    QLabel* m_statusEngine = nullptr;
    QLabel* m_statusTiming = nullptr;
    QSplitter* m_mainSplitter = nullptr;
    QSplitter* m_rightSplitter = nullptr;
    QSplitter* m_topSplitter = nullptr;
    CaptureThread* m_capture = nullptr;
    QComboBox* m_sourceBox = nullptr;
    QComboBox* m_resolutionBox = nullptr;
    QAction* m_liveAction = nullptr;
    QAction* m_mirrorAction = nullptr;
    QAction* m_freezeAction = nullptr;
    QAction* m_loopAction = nullptr;
    QLabel* m_liveBanner = nullptr;
    QString m_liveLabel;
    QString m_recentVideo;  // last video file or stream, offered in the source box
    bool m_frozen = false;
    FramePtr m_lastFrame;
    LiveStats m_live;
    std::vector<std::chrono::steady_clock::time_point> m_shownTimes;  // last second of live results
    QPointer<QMessageBox> m_errorBox;
    QPointer<QMessageBox> m_confirmBox;
    QPointer<WeightsDialog> m_weightsDialog;

    ModelInfo m_model;
    bool m_firstModelSeen = false;
    QString m_requestedWeights;                   // --weights, if given
    std::shared_ptr<const Source> m_source;       // newest requested image
    std::shared_ptr<const Source> m_shownSource;  // image on screen
    uint64_t m_nextGeneration = 0;
    uint64_t m_nextId = 0;
    uint64_t m_shownId = 0;
    ResultPtr m_lastResult;
    std::map<std::string, ResultPtr>
        m_tapCache;  // taps of the image on screen -> result holding them
    QString m_lastFolder;
    QString m_screenshotPath;
    QString m_pendingSelect;
    bool m_screenshotTaken = false;
};

}  // namespace r18::ui
