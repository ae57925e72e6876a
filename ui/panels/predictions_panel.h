// PredictionsPanel: the top-5 of the result on screen (PredictionsView), in grey bars when the
// weights are not the official ImageNet weights. It follows the Session like the other panels.
#pragma once

#include <QObject>

class QWidget;

namespace r18::ui {

class PredictionsView;
class Session;

class PredictionsPanel : public QObject {
    Q_OBJECT

public:
    PredictionsPanel(Session* session, QObject* parent = nullptr);

    QWidget* panel() const { return m_panel; }
    PredictionsView* view() const { return m_view; }

private:
    PredictionsView* m_view;
    QWidget* m_panel;
};

}  // namespace r18::ui
