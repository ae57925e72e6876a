// ExplainPanel: "Where it looked" — which pixels drove the decision, by any of six methods (CAM,
// Grad-CAM, gradient, guided backprop, integrated gradients, SmoothGrad), for any class (a
// search box completing over the labels; empty follows the top-1), with the map's faithfulness:
// deletion and insertion curves and their areas, and the areas of every method computed so far
// for this image and class, to compare. The maps are computed by the panel's ExplainInsight on
// its own thread, with progress and cancel; the panel renders its explanation() and nothing else.
#pragma once

#include <QObject>
#include <QString>

#include "ui/insight/explain_insight.h"

class QComboBox;
class QCompleter;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSettings;
class QWidget;

namespace r18::ui {

class AttributionView;
class CurvePlot;
class Session;

class ExplainPanel : public QObject {
    Q_OBJECT

public:
    ExplainPanel(Session* session, QObject* parent = nullptr);

    QWidget* panel() const { return m_panel; }
    ExplainInsight* insight() const { return m_insight; }
    // Maps are computed only while the panel is visible (the window calls this).
    void setActive(bool active);

    // The controls and views, for tests (driven as a user drives them).
    QComboBox* methodBox() const { return m_method; }
    QComboBox* layerBox() const { return m_layer; }
    QComboBox* displayBox() const { return m_display; }
    QLineEdit* classEdit() const { return m_class; }
    QCompleter* classCompleter() const { return m_completer; }
    QPushButton* computeButton() const { return m_compute; }
    QProgressBar* progressBar() const { return m_progress; }
    AttributionView* view() const { return m_view; }
    CurvePlot* deletionPlot() const { return m_deletion; }
    CurvePlot* insertionPlot() const { return m_insertion; }
    QLabel* statusLabel() const { return m_status; }
    QLabel* comparisonLabel() const { return m_compare; }
    // The explanation on screen (null if none): what view() and the plots show.
    ExplanationPtr shown() const { return m_shown; }

    void readSettings(const QSettings& settings);
    void writeSettings(QSettings& settings) const;

private:
    void refresh();
    void refreshState();
    void pushSettings();
    void chooseClass(const QString& text);
    void fillLabels();

    Session* m_session;
    ExplainInsight* m_insight;
    QWidget* m_panel = nullptr;
    QComboBox* m_method = nullptr;
    QComboBox* m_layer = nullptr;
    QComboBox* m_display = nullptr;
    QLineEdit* m_class = nullptr;
    QCompleter* m_completer = nullptr;
    QPushButton* m_top1 = nullptr;
    QPushButton* m_compute = nullptr;
    QProgressBar* m_progress = nullptr;
    AttributionView* m_view = nullptr;
    CurvePlot* m_deletion = nullptr;
    CurvePlot* m_insertion = nullptr;
    QLabel* m_status = nullptr;
    QLabel* m_compare = nullptr;
    ExplanationPtr m_shown;
    int64_t m_classIndex = -1;  // kTopClass: the top-1
};

}  // namespace r18::ui
