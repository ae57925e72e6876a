// MainWindow: the Explorer's composition root. It makes the parts — the Session, the panels
// (diagram, input, channel, top-5, feature maps, status, and the insight panels in their docks),
// the controllers the actions drive — lays them out, builds the menus, toolbar and shortcuts from
// one action table, and wires the parts' signals. The Session owns "what is shown"; the parts
// talk by signals and none of them knows this class.
#pragma once

#include <QMainWindow>
#include <QMessageBox>

#include "ui/session/inference_types.h"
#include "ui/window/insight_docks.h"
#include "ui/window/window_dialogs.h"

class QComboBox;
class QDialog;
class QDockWidget;
class QSplitter;
class QStackedWidget;

namespace r18::ui {

class Actions;
class ArchitectureView;
class AtlasPanel;
class BatchWindow;
class ComparePanel;
class ImportancePanel;
class PairPanel;
class Recorder;
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
class PredictionsPanel;
class PredictionsView;
class RecentFiles;
class Session;
class StartView;
class StatusPanel;
class WeightsDialog;

struct WindowOptions {
    QString weightsPath;  // empty: the remembered choice, the default locations, the demo
    QString selectNode;   // node selected at start (overrides the remembered one)
    QStringList images;   // opened at start; the first is shown, PgDn steps to the next
    QString camera;       // start this camera, video file or stream at once ("0", "clip.mp4")
    bool loop = false;    // loop video files
    QSize windowSize;     // initial size, overriding the remembered geometry
    bool rememberOnClose = true;  // save geometry, panels and engine choices when closed
    bool offerWeights = true;     // offer the weights dialog when only the demo weights run
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
    PredictionsView* predictionsView() const;
    InputView* inputView() const;
    InputPanel* inputPanel() const { return m_input; }
    LayerPanel* layerPanel() const { return m_layers; }
    DiagramPanel* diagramPanel() const { return m_diagram; }
    StatusPanel* statusPanel() const { return m_status; }
    ImageIntake* intake() const { return m_intake; }
    ModelController* models() const { return m_models; }
    Exports* exports() const { return m_exports; }
    BatchWindow* batchWindow() const { return m_batch; }
    ExplainPanel* explainPanel() const { return m_explain; }
    AtlasPanel* atlasPanel() const { return m_atlas; }
    ComparePanel* comparePanel() const { return m_compare; }
    ImportancePanel* importancePanel() const { return m_importance; }
    PairPanel* pairPanel() const { return m_pair; }
    Recorder* recorder() const { return m_recorder; }
    QDockWidget* explainDock() const { return m_docks->explain(); }
    QDockWidget* atlasDock() const { return m_docks->atlas(); }
    QDockWidget* compareDock() const { return m_docks->compare(); }
    QDockWidget* importanceDock() const { return m_docks->importance(); }
    QDockWidget* pairDock() const { return m_docks->pair(); }
    QComboBox* precisionBox() const;
    QMessageBox* errorBox() const { return m_dialogs->errorBox(); }
    QMessageBox* helpBox() const { return m_dialogs->helpBox(); }
    QMessageBox* aboutBox() const { return m_dialogs->aboutBox(); }
    QDialog* guide() const { return m_dialogs->guide(); }
    QString guideText() const { return m_dialogs->guideText(); }
    StartView* startView() const { return m_start; }
    bool startViewShown() const;  // the start view is on screen instead of the views
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
    void createStartView();
    QWidget* createCentral();
    void wire();
    void readSettings(const WindowOptions& options);
    void writeSettings() const;
    void showError(const QString& title, const QString& message);
    void toggleRecording();  // Live → Record Video: asks for a file, or stops

    bool m_rememberOnClose = true;
    Session* m_session = nullptr;
    Actions* m_actions = nullptr;
    DiagramPanel* m_diagram = nullptr;
    InputPanel* m_input = nullptr;
    LayerPanel* m_layers = nullptr;
    PredictionsPanel* m_predictions = nullptr;
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
    ComparePanel* m_compare = nullptr;
    ImportancePanel* m_importance = nullptr;
    PairPanel* m_pair = nullptr;
    Recorder* m_recorder = nullptr;
    InsightDocks* m_docks = nullptr;
    WindowDialogs* m_dialogs = nullptr;
    QSplitter* m_mainSplitter = nullptr;
    QSplitter* m_rightSplitter = nullptr;
    QSplitter* m_topSplitter = nullptr;
};

}  // namespace r18::ui
