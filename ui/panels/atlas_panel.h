// AtlasPanel: "What does this channel detect". For the channel under the mouse in the feature-map
// grid (or, with the mouse elsewhere, the selected one): the channel enlarged, beside it the
// top-9 images of the user's folder for that channel as their receptive-field patches
// (DeepVis-style, from the panel's AtlasInsight), and the channel's feature visualisation (the
// synthesised input that excites it most, from its VisualizeInsight) once the user asks for it.
// Both insights work on threads of their own, with progress and cancel, and core caches what
// they make on disk.
#pragma once

#include <QObject>
#include <QString>

#include <vector>

class QLabel;
class QProgressBar;
class QPushButton;
class QSettings;
class QWidget;

namespace r18::ui {

class AtlasInsight;
class AttributionView;
class FeatureMapView;
class PatchGrid;
class Session;
class VisualizeInsight;

class AtlasPanel : public QObject {
    Q_OBJECT

public:
    AtlasPanel(Session* session, FeatureMapView* features, QObject* parent = nullptr);

    QWidget* panel() const { return m_panel; }
    AtlasInsight* atlasInsight() const { return m_atlas; }
    VisualizeInsight* visualizeInsight() const { return m_visualizer; }
    // Builds the atlas of `folder` (an empty string asks with a folder dialog).
    void chooseFolder(const QString& folder = {});
    // Visualises the channel shown.
    void visualizeShown();

    // What is shown, for tests.
    const QString& layer() const { return m_layer; }
    int channel() const { return m_channel; }
    PatchGrid* patchGrid() const { return m_patches; }
    AttributionView* channelView() const { return m_channelView; }
    AttributionView* visualizationView() const { return m_visual; }
    QPushButton* folderButton() const { return m_folderButton; }
    QPushButton* cancelButton() const { return m_cancel; }
    QPushButton* visualizeButton() const { return m_visualize; }
    QProgressBar* atlasProgress() const { return m_progress; }
    QProgressBar* visualizeProgress() const { return m_visualizeProgress; }
    QLabel* statusLabel() const { return m_status; }

private:
    void follow(int channel);
    void refresh();
    void refreshAtlasState();

    Session* m_session;
    AtlasInsight* m_atlas;
    VisualizeInsight* m_visualizer;
    FeatureMapView* m_features;
    QWidget* m_panel = nullptr;
    QPushButton* m_folderButton = nullptr;
    QPushButton* m_cancel = nullptr;
    QProgressBar* m_progress = nullptr;
    QLabel* m_folder = nullptr;
    QLabel* m_title = nullptr;
    AttributionView* m_channelView = nullptr;
    PatchGrid* m_patches = nullptr;
    AttributionView* m_visual = nullptr;
    QPushButton* m_visualize = nullptr;
    QProgressBar* m_visualizeProgress = nullptr;
    QLabel* m_status = nullptr;
    QString m_layer;
    int m_channel = -1;
};

}  // namespace r18::ui
