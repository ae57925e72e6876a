// DiagramPanel: the network as the classic ResNet diagram (ArchitectureView), with each node's
// time for the image on screen, optionally coloured by a figure (time, zero activations, mean
// activation, int8 or bf16 error against fp32) with its legend, or with a picture in each box.
// Clicking a node selects it in the Session; the diagram is rebuilt whenever the model's network
// description changes.
#pragma once

#include <QObject>
#include <QString>

#include "ui/session/inference_types.h"

class QComboBox;
class QLabel;
class QSettings;
class QWidget;

namespace r18::ui {

class ArchitectureView;
class Session;

class DiagramPanel : public QObject {
    Q_OBJECT

public:
    // `preferredNode` is selected once the first model is known (--select, or the remembered
    // node); an unknown name falls back to a default.
    DiagramPanel(Session* session, const QString& preferredNode, QObject* parent = nullptr);

    QWidget* panel() const { return m_panel; }
    ArchitectureView* view() const { return m_view; }
    QComboBox* figureBox() const { return m_figure; }
    QString legendText() const;

    void readSettings(const QSettings& settings);
    void writeSettings(QSettings& settings) const;

private:
    void onEngine(const EngineInfo& engine);
    void refresh();
    // False when the engine runs int8 calibrated on other images than r's.
    bool calibratedOnThisImage(const InferenceResult& r) const;

    Session* m_session;
    QWidget* m_panel = nullptr;
    ArchitectureView* m_view = nullptr;
    QLabel* m_title = nullptr;
    QLabel* m_legend = nullptr;
    QComboBox* m_figure = nullptr;
    QString m_preferredNode;
    const NetworkSpec* m_spec = nullptr;  // the one drawn
};

}  // namespace r18::ui
