// Exports: taking results away — the feature-map grid, one channel, the image with its
// overlays, the whole window (PNG), the predictions (CSV or JSON), and copies to the clipboard.
// Save dialogs start in the folder last exported to, else the user's Pictures folder — never a
// system folder an image happened to come from. Every file is written whole (core's AtomicFile:
// a temporary file renamed over the target when complete), never over the image on screen or the
// model's files, and the dialog asks before replacing an existing file.
#pragma once

#include <QImage>
#include <QObject>
#include <QString>

#include <functional>

class QWidget;

namespace r18::ui {

class InputPanel;
class LayerPanel;
class PredictionsView;
class Session;

class Exports : public QObject {
    Q_OBJECT

public:
    Exports(Session* session, LayerPanel* layers, InputPanel* input, PredictionsView* predictions,
            QWidget* window, QObject* parent = nullptr);

    // Each writes `path` and returns "" on success, or the reason it could not.
    QString saveFeatureMaps(const QString& path) const;
    QString saveChannel(const QString& path) const;  // enlarged, nearest-neighbour
    QString saveOverlay(const QString& path) const;  // the image with heat map and overlay
    QString saveWindow(const QString& path) const;
    QString exportPredictions(const QString& path) const;  // .json, else CSV

    // The dialogs behind the File menu's Save entries.
    void askFeatureMaps();
    void askChannel();
    void askOverlay();
    void askWindow();
    void askPredictions();
    // Edit → Copy.
    void copyImage();
    void copyPredictions();

    // Where save dialogs start: the last export folder, else Pictures, else home.
    static QString defaultFolder();
    // `image` as PNG, written whole: "" on success, else the reason.
    static QString savePng(const QImage& image, const QString& path);
    // "" if `path` may be written; else why not: it is the image on screen, the weights, the
    // labels or the model's config (the window's side of outputOverInputProblem()).
    QString outputProblem(const QString& path) const;

signals:
    void message(const QString& text);
    void error(const QString& title, const QString& message);

private:
    void ask(const QString& title, const QString& name, const QString& filter,
             const std::function<QString(const QString&)>& save);
    QString baseName() const;  // of the image on screen: "dog"

    Session* m_session;
    LayerPanel* m_layers;
    InputPanel* m_input;
    PredictionsView* m_predictions;
    QWidget* m_window;
};

}  // namespace r18::ui
