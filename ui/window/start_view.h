// StartView: what the window shows while nothing is open — an invitation instead of empty
// panels. "Drop an image here", the four ways to get something on screen (Paste, Open…, Open
// sample, Start camera), and the weights that will run, with the one button that fixes them
// when they are only the demo. Its buttons trigger the window's actions (the action table), so
// they do exactly what the menus do.
//
// It decides from the Session alone whether it is wanted: while no image, frame or camera is
// shown or being opened. The window shows either it or the views, never both, so it cannot
// appear beside results that no longer belong to anything.
#pragma once

#include <QWidget>

class QAction;
class QLabel;
class QMenu;
class QPushButton;
class QToolButton;

namespace r18::ui {

class Session;
struct EngineInfo;

class StartView : public QWidget {
    Q_OBJECT

public:
    struct Triggers {  // the window's actions the buttons trigger
        QAction* paste = nullptr;
        QAction* open = nullptr;
        QAction* firstSample = nullptr;  // null if no samples are installed
        QMenu* samples = nullptr;        // all of them, for the button's arrow
        QAction* camera = nullptr;
        QAction* downloadWeights = nullptr;
        QAction* openWeights = nullptr;
        QAction* guide = nullptr;  // its shortcut is named in the hint
    };
    StartView(Session* session, const Triggers& triggers, QWidget* parent = nullptr);

    // True while nothing is shown or being opened (and no folder was opened in this window).
    bool wanted() const;
    // A folder went to the folder table: from now on the views stay, ready for its rows.
    void dismiss();

    // What it says about the weights, and whether it offers the fix (for tests).
    QString weightsText() const;
    QPushButton* weightsButton() const { return m_weightsButton; }
    QPushButton* pasteButton() const { return m_paste; }
    QPushButton* openButton() const { return m_open; }
    QToolButton* sampleButton() const { return m_sample; }
    QPushButton* cameraButton() const { return m_camera; }

signals:
    void wantedChanged(bool wanted);

private:
    void refresh();
    void showEngine(const EngineInfo& engine);
    void showWeightsProblem(const QString& message);

    Session* m_session;
    Triggers m_triggers;
    bool m_dismissed = false;
    bool m_wanted = true;
    QPushButton* m_paste = nullptr;
    QPushButton* m_open = nullptr;
    QToolButton* m_sample = nullptr;
    QPushButton* m_camera = nullptr;
    QLabel* m_weights = nullptr;
    QPushButton* m_weightsButton = nullptr;
    QAction* m_weightsAction = nullptr;  // what m_weightsButton triggers
};

}  // namespace r18::ui
