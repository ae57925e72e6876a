// ImportancePanel: which channels of the selected node the class depends on — its
// ImportanceInsight's ranking for the image on screen as bars, with progress and Cancel while it
// is computed. Clicking a channel picks it in the feature maps (where O switches it off);
// "Pick the top 10" picks the ten the class leans on most.
#pragma once

#include <QObject>

#include <vector>

class QLabel;
class QProgressBar;
class QPushButton;
class QWidget;

namespace r18::ui {

class ImportanceInsight;
class ImportanceView;
class Session;

class ImportancePanel : public QObject {
    Q_OBJECT

public:
    ImportancePanel(Session* session, QObject* parent = nullptr);

    QWidget* panel() const { return m_panel; }
    ImportanceInsight* insight() const { return m_insight; }
    void setActive(bool active);  // computed only while the panel is visible

    // For tests.
    ImportanceView* view() const { return m_view; }
    QLabel* summaryLabel() const { return m_summary; }
    QPushButton* cancelButton() const { return m_cancel; }
    QPushButton* pickButton() const { return m_pick; }

signals:
    void channelsPicked(const std::vector<int>& channels);  // to pick in the feature maps

private:
    void refresh();

    Session* m_session;
    ImportanceInsight* m_insight;
    QWidget* m_panel = nullptr;
    QLabel* m_summary = nullptr;
    ImportanceView* m_view = nullptr;
    QProgressBar* m_progress = nullptr;
    QPushButton* m_cancel = nullptr;
    QPushButton* m_pick = nullptr;
};

}  // namespace r18::ui
