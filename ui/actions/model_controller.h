// ModelController: how the user chooses what runs — the weights at start (--weights, else the
// file they chose last time, else the default locations), Model → Open Weights / Open Labels /
// Download Official Weights, weights dropped on the window (asking first when an image is on
// screen), and the first-run dialog when only the demo weights could be found. The weights the
// user chose are remembered once they loaded.
#pragma once

#include <QObject>
#include <QPointer>
#include <QString>

#include "ui/actions/weights_dialog.h"

#include <QMessageBox>
class QWidget;

namespace r18::ui {

class Session;
struct EngineInfo;

class ModelController : public QObject {
    Q_OBJECT

public:
    // `askAtFirstRun`: offer the first-run dialog if the demo weights end up running.
    ModelController(Session* session, QWidget* window, bool askAtFirstRun,
                    QObject* parent = nullptr);

    // The weights to open at start: `requested`, else the remembered choice if it still
    // exists, else "" (the default locations).
    static QString startupWeights(const QString& requested);

    void openWeightsDialog();
    void openLabelsDialog();
    void showWeightsDialog(WeightsDialog::Mode mode);
    // Loads `path` as the model, asking first if an image is on screen.
    void confirmWeightsDrop(const QString& path);
    void loadWeights(const QString& path);

    WeightsDialog* weightsDialog() const { return m_weightsDialog; }
    QMessageBox* confirmBox() const { return m_confirmBox; }

    static bool isWeightsFile(const QString& path);  // by suffix: .pth .pt .bin .onnx .safetensors

signals:
    void error(const QString& title, const QString& message);

private:
    void onEngine(const EngineInfo& engine);

    Session* m_session;
    QWidget* m_window;
    bool m_askAtFirstRun;
    bool m_firstEngineSeen = false;
    QString m_chosen;  // weights the user picked, remembered once they load
    QPointer<WeightsDialog> m_weightsDialog;
    QPointer<QMessageBox> m_confirmBox;
};

}  // namespace r18::ui
