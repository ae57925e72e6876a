// WeightsDialog: how someone without weights gets some — download torchvision's official file
// (progress with MB and speed, Cancel, checksum check), open a weights file, or go on with the
// untrained demo weights. Shown at first run and from Model → Download Official Weights.
#pragma once

#include <QDialog>

class QCheckBox;
class QLabel;
class QProgressBar;
class QPushButton;

namespace r18::ui {

class WeightsDownloader;

class WeightsDialog : public QDialog {
    Q_OBJECT

public:
    enum class Mode { FirstRun, Download };
    explicit WeightsDialog(Mode mode, QWidget* parent = nullptr);

    void startDownload();
    WeightsDownloader* downloader() const { return m_downloader; }
    bool dontAskAgain() const;
    QString status() const;  // the line under the progress bar

signals:
    void weightsReady(const QString& path);  // downloaded or picked
    void demoChosen();

private:
    void setBusy(bool busy);

    Mode m_mode;
    WeightsDownloader* m_downloader = nullptr;
    QProgressBar* m_bar = nullptr;
    QLabel* m_status = nullptr;
    QPushButton* m_download = nullptr;
    QPushButton* m_open = nullptr;
    QPushButton* m_demo = nullptr;
    QPushButton* m_cancel = nullptr;
    QCheckBox* m_dontAsk = nullptr;
};

}  // namespace r18::ui
