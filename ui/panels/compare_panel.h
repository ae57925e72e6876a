// ComparePanel: A/B of one image under two precisions — the image on screen at fp32 and at int8
// (calibrated on the last images shown), with the selected node compared: both top-5s side by
// side and the difference |int8 − fp32| of the node's output as a feature-map grid, with its
// largest and mean values. Its CompareInsight computes them on its own thread; the panel renders
// the insight's comparison() and nothing else.
#pragma once

#include <QObject>

class QLabel;
class QWidget;

namespace r18::ui {

class CompareInsight;
class FeatureMapView;
class Session;

class ComparePanel : public QObject {
    Q_OBJECT

public:
    ComparePanel(Session* session, QObject* parent = nullptr);

    QWidget* panel() const { return m_panel; }
    CompareInsight* insight() const { return m_insight; }
    void setActive(bool active);  // computed only while the panel is visible

    // For tests.
    FeatureMapView* differenceView() const { return m_difference; }
    QLabel* summaryLabel() const { return m_summary; }
    QLabel* predictionsLabel() const { return m_predictions; }

private:
    void refresh();

    Session* m_session;
    CompareInsight* m_insight;
    QWidget* m_panel = nullptr;
    QLabel* m_summary = nullptr;
    QLabel* m_predictions = nullptr;
    FeatureMapView* m_difference = nullptr;
};

}  // namespace r18::ui
