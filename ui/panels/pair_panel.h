// PairPanel: two images side by side — A (pinned) and B (the image on screen): both top-5s, the
// cosine similarity of their activations node by node as a curve along the network (click a
// point to select that node; where the curve falls is where the network stops seeing them
// alike), and the selected node's A, B and |B − A| feature maps. Its PairInsight computes them on
// its own thread; the panel renders the insight's pair() and nothing else.
#pragma once

#include <QObject>

class QLabel;
class QPushButton;
class QWidget;

namespace r18::ui {

class FeatureMapView;
class PairInsight;
class Session;
class SimilarityCurve;

class PairPanel : public QObject {
    Q_OBJECT

public:
    PairPanel(Session* session, QObject* parent = nullptr);

    QWidget* panel() const { return m_panel; }
    PairInsight* insight() const { return m_insight; }
    void setActive(bool active);  // computed only while the panel is visible

    // For tests.
    SimilarityCurve* curve() const { return m_curve; }
    FeatureMapView* viewA() const { return m_a; }
    FeatureMapView* viewB() const { return m_b; }
    FeatureMapView* difference() const { return m_difference; }
    QLabel* summaryLabel() const { return m_summary; }
    QLabel* predictionsLabel() const { return m_predictions; }
    QPushButton* unpinButton() const { return m_unpin; }

private:
    void refresh();

    Session* m_session;
    PairInsight* m_insight;
    QWidget* m_panel = nullptr;
    QLabel* m_pinned = nullptr;  // A's thumbnail and name
    QPushButton* m_pin = nullptr;
    QPushButton* m_unpin = nullptr;
    QLabel* m_predictions = nullptr;
    QLabel* m_summary = nullptr;
    SimilarityCurve* m_curve = nullptr;
    FeatureMapView* m_a = nullptr;
    FeatureMapView* m_b = nullptr;
    FeatureMapView* m_difference = nullptr;
};

}  // namespace r18::ui
