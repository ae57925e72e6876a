// MainWindow: the Explorer's composition root. It lays out the parts — diagram, input, channel,
// predictions, feature maps, status — builds the menus, toolbar and shortcuts from one action
// table, and wires the parts to the Session, which owns "what is shown". The parts talk by
// signals; none of them knows this class.
#pragma once

#include <QMainWindow>
#include <QMessageBox>
#include <QPointer>

#include "ui/session/capture_thread.h"
#include "ui/session/inference_types.h"

class QComboBox;
class QDialog;
class QDockWidget;
class QSplitter;
class QStackedWidget;

namespace r18::ui {

class Actions;
class ArchitectureView;
class AtlasPanel;
class ComparePanel;
class BatchWindow;
class DiagramPanel;
class ExplainPanel;
class Exports;
class FeatureMapView;
class ImageIntake;
class InferenceWorker;
class InputPanel;
class InputView;
class LayerPanel;
class LiveController;
class ModelController;
class PredictionsView;
class RecentFiles;
class Session;
class StartView;
class StatusPanel;
class WeightsDialog;

struct WindowOptions {
    QString weightsPath;     // empty: the remembered choice, the default locations, the demo
    QString selectNode;      // node selected at start (overrides the remembered one)
    QStringList images;      // opened at start; the first is shown, PgDn steps to the next
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

    // Conveniences for tests and main(): the same as the menu entries do.
    void openFile(const QString& path);
    void selectNode(const QString& node);
    void classifyFolder(const QString& folder);

    // The parts, for tests.
    Session* session() const { return m_session; }
    InferenceWorker* worker() const;
    Actions* actions() const { return m_actions; }
    QAction* action(const QString& id) const;
    ArchitectureView* architectureView() const;
    FeatureMapView* featureMapView() const;
    PredictionsView* predictionsView() const { return m_predictions; }
    InputView* inputView() const;
    InputPanel* inputPanel() const { return m_input; }
    LayerPanel* layerPanel() const { return m_layers; }
    DiagramPanel* diagramPanel() const { return m_diagram; }
    StatusPanel* statusPanel() const { return m_status; }
    LiveController* liveController() const { return m_live; }
    ImageIntake* intake() const { return m_intake; }
    ModelController* models() const { return m_models; }
    Exports* exports() const { return m_exports; }
    BatchWindow* batchWindow() const { return m_batch; }
    ExplainPanel* explainPanel() const { return m_explain; }
    AtlasPanel* atlasPanel() const { return m_atlas; }
    ComparePanel* comparePanel() const { return m_compare; }
    QDockWidget* compareDock() const { return m_compareDock; }
    QDockWidget* explainDock() const { return m_explainDock; }
    QDockWidget* atlasDock() const { return m_atlasDock; }
    QComboBox* precisionBox() const { return m_precisionBox; }
    QComboBox* threadsBox() const { return m_threadsBox; }
    QMessageBox* errorBox() const { return m_errorBox; }
    QMessageBox* helpBox() const { return m_helpBox; }
    QMessageBox* aboutBox() const { return m_aboutBox; }
    QDialog* guide() const { return m_guide; }
    QString guideText() const;  // the F1 page as plain text, "" if it was never opened
    StartView* startView() const { return m_start; }
    bool startViewShown() const;  // the start view is on screen instead of the views
    RecentFiles* recentFiles() const { return m_recent; }
    WeightsDialog* weightsDialog() const;
    QMessageBox* confirmBox() const;
    QString bannerText() const;
    const EngineInfo& engine() const;

signals:
    void resultShown(quint64 requestId);
    void errorShown(const QString& message);
    void modelShown();

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;
    void closeEvent(QCloseEvent* event) override;

private:
    void createParts(const WindowOptions& options);
    void createActions();
    void createToolBar();
    QWidget* createCentral();
    void createDocks();
    void showDock(QDockWidget* dock, bool on);
    void wire();
    void readSettings(const WindowOptions& options);
    void writeSettings() const;
    void showError(const QString& title, const QString& message);
    void showShortcuts();
    void showAbout();
    void showGuide();
    void createStartView();
    void onEngine(const EngineInfo& engine);
    void takeScreenshot();

    Session* m_session = nullptr;
    Actions* m_actions = nullptr;
    DiagramPanel* m_diagram = nullptr;
    InputPanel* m_input = nullptr;
    LayerPanel* m_layers = nullptr;
    PredictionsView* m_predictions = nullptr;
    StatusPanel* m_status = nullptr;
    LiveController* m_live = nullptr;
    ModelController* m_models = nullptr;
    ImageIntake* m_intake = nullptr;
    Exports* m_exports = nullptr;
    BatchWindow* m_batch = nullptr;
    RecentFiles* m_recent = nullptr;
    StartView* m_start = nullptr;
    QStackedWidget* m_pages = nullptr;  // the start view or m_views
    QWidget* m_views = nullptr;         // the weights banner and the panels
    ExplainPanel* m_explain = nullptr;
    AtlasPanel* m_atlas = nullptr;
    QDockWidget* m_explainDock = nullptr;
    QDockWidget* m_atlasDock = nullptr;
    ComparePanel* m_compare = nullptr;
    QDockWidget* m_compareDock = nullptr;
    QComboBox* m_precisionBox = nullptr;
    QComboBox* m_threadsBox = nullptr;
    QSplitter* m_mainSplitter = nullptr;
    QSplitter* m_rightSplitter = nullptr;
    QSplitter* m_topSplitter = nullptr;
    QPointer<QMessageBox> m_errorBox;
    QPointer<QMessageBox> m_helpBox;
    QPointer<QMessageBox> m_aboutBox;
    QPointer<QDialog> m_guide;
    QString m_screenshotPath;
    bool m_screenshotTaken = false;
};

}  // namespace r18::ui
