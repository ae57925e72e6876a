// ModelController: how the user chooses what runs — the weights at start (--weights, else the
// file they chose last time, else the default locations), Model → Open Weights / Open Labels /
// Download Official Weights, weights dropped on the window (asking first when an image is on
// screen), the first-run dialog when only the demo weights could be found, and the toolbar's
// precision and threads boxes. The weights the user chose are remembered once they loaded; the
// precision and threads when the window closes.
#pragma once

#include <QMessageBox>
#include <QObject>
#include <QPointer>
#include <QString>

#include "ui/actions/weights_dialog.h"

class QComboBox;
class QSettings;
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

    // The toolbar's precision and threads boxes; they show the engine asked for.
    QComboBox* precisionBox() const { return m_precisionBox; }
    QComboBox* threadsBox() const { return m_threadsBox; }
    // Opens the weights to start with at the remembered precision and threads.
    void openStartupModel(const QString& requestedWeights);
    // The remembered precision (bf16 only where the CPU has it; int8 needs images first) and
    // threads (capped at the cores, saying so).
    void readSettings(const QSettings& settings);
    void writeSettings(QSettings& settings) const;

    WeightsDialog* weightsDialog() const { return m_weightsDialog; }
    QMessageBox* confirmBox() const { return m_confirmBox; }

    static bool isWeightsFile(const QString& path);  // by suffix: .pth .pt .bin .onnx .safetensors

signals:
    void error(const QString& title, const QString& message);
    void message(const QString& text);  // for the status bar

private:
    void onEngine(const EngineInfo& engine);

    Session* m_session;
    QWidget* m_window;
    bool m_askAtFirstRun;
    bool m_firstEngineSeen = false;
    QString m_chosen;  // weights the user picked, remembered once they load
    QPointer<WeightsDialog> m_weightsDialog;
    QPointer<QMessageBox> m_confirmBox;
    QComboBox* m_precisionBox = nullptr;
    QComboBox* m_threadsBox = nullptr;
};

}  // namespace r18::ui
