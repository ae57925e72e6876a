// InputPanel: the image on screen with the crop the network sees, and "where it looked": the
// heat-map switch, the layer it is read at and its opacity. It renders the Session's result()
// and shownHeatmap(); its controls change the Session's heat-map settings.
#pragma once

#include <QImage>
#include <QObject>

#include "ui/session/inference_types.h"

class QCheckBox;
class QComboBox;
class QSettings;
class QSlider;
class QWidget;

namespace r18::ui {

class InputView;
class Session;

class InputPanel : public QObject {
    Q_OBJECT

public:
    InputPanel(Session* session, QObject* parent = nullptr);

    QWidget* panel() const { return m_panel; }
    InputView* view() const { return m_view; }

    void setHeatmapEnabled(bool on);  // the H action calls this
    bool heatmapEnabled() const;
    // Pins the heat map to a class (a click in the predictions); the same class again, or
    // kTopClass, follows the top-1.
    void toggleHeatmapClass(int64_t classIndex);
    // The enlarged channel blended over the crop (LayerPanel::overlayChanged).
    void setOverlay(const QImage& overlay, qreal opacity);

    void readSettings(const QSettings& settings);
    void writeSettings(QSettings& settings) const;

signals:
    void heatmapToggled(bool on);  // the menu's check mark follows
    // The class the shown heat map is for (-1: none), for the predictions' highlight.
    void heatmapClassShown(int64_t classIndex);

private:
    void refresh();
    void pushSettings();

    Session* m_session;
    QWidget* m_panel = nullptr;
    InputView* m_view = nullptr;
    QCheckBox* m_heatmap = nullptr;
    QComboBox* m_target = nullptr;
    QSlider* m_opacity = nullptr;
    uint64_t m_shownSourceId = 0;
};

}  // namespace r18::ui
