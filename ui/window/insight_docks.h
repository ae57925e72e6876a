// InsightDocks: the five insight panels (where it looked, what this channel detects, fp32/int8,
// channel importance, two images side by side)
// as tabbed docks at the window's right. Each panel works only while its dock is visible; on a
// window narrower than a large screen a dock floats over the window's right side instead of
// widening it.
#pragma once

#include <QObject>

class QDockWidget;
class QMainWindow;

namespace r18::ui {

class AtlasPanel;
class ComparePanel;
class ExplainPanel;
class ImportancePanel;
class PairPanel;

class InsightDocks : public QObject {
    Q_OBJECT

public:
    InsightDocks(QMainWindow* window, ExplainPanel* explain, AtlasPanel* atlas,
                 ComparePanel* compare, ImportancePanel* importance, PairPanel* pair);

    QDockWidget* explain() const { return m_explain; }
    QDockWidget* atlas() const { return m_atlas; }
    QDockWidget* compare() const { return m_compare; }
    QDockWidget* importance() const { return m_importance; }
    QDockWidget* pair() const { return m_pair; }
    // Shows `dock` in front of its tabs (floating it over a narrow window), or hides it.
    void show(QDockWidget* dock, bool on);

signals:
    void visibilityChanged();  // a dock was shown or hidden

private:
    QMainWindow* m_window;
    QDockWidget* m_explain;
    QDockWidget* m_atlas;
    QDockWidget* m_compare;
    QDockWidget* m_importance;
    QDockWidget* m_pair;
};

}  // namespace r18::ui
