// BatchWindow: classifies every image in a folder (recursively) in the background and lists
// them in a sortable table — file, top-1, probability, top-5, or the error — with a progress
// bar and Cancel; exports CSV/JSON; double-clicking a row opens that image in the Explorer.
// The job runs on its own thread with its own engine, so the Explorer stays interactive.
#pragma once

#include <QMetaType>
#include <QThread>
#include <QWidget>

#include <atomic>
#include <memory>
#include <vector>

#include "core/batch.h"
#include "core/model/model.h"

class QLabel;
class QProgressBar;
class QPushButton;
class QStandardItemModel;
class QTableView;

namespace r18::ui {

// Classifies the files of a folder with the core's FolderJob (decoding overlapped with the
// network); lives in BatchWindow's thread.
class BatchJob : public QObject {
    Q_OBJECT

public:
    BatchJob(std::shared_ptr<const Model> model, int threads);
    void cancel() { m_cancel = true; }  // thread-safe; takes effect before the next image

public slots:
    void run(const QString& folder);

signals:
    void found(int total);
    void rowReady(int index, const r18::BatchRow& row);
    void finished(bool cancelled, const QString& error);

private:
    std::shared_ptr<const Model> m_model;
    int m_threads;
    std::atomic<bool> m_cancel{false};
};

class BatchWindow : public QWidget {
    Q_OBJECT

public:
    explicit BatchWindow(QWidget* parent = nullptr);
    ~BatchWindow() override;

    // Starts on `folder` with the model's weights (cancelling a run in progress).
    void start(const QString& folder, std::shared_ptr<const Model> model, int threads);
    void cancel();
    bool isRunning() const { return m_running; }
    const std::vector<BatchRow>& rows() const { return m_rows; }
    QTableView* table() const { return m_table; }
    // Writes the rows as JSON (a .json path) or CSV; "" on success, else the error.
    QString exportRows(const QString& path) const;

signals:
    void openRequested(const QString& path);
    void finished(bool cancelled);

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void addRow(int index, const BatchRow& row);
    void stopThread();
    void updateStatus();

    QThread m_thread;
    BatchJob* m_job = nullptr;  // lives in m_thread
    QString m_folder;
    std::vector<BatchRow> m_rows;  // by file order
    int m_total = 0;
    int m_errors = 0;
    bool m_running = false;
    QLabel* m_title = nullptr;
    QLabel* m_status = nullptr;
    QProgressBar* m_progress = nullptr;
    QPushButton* m_cancel = nullptr;
    QPushButton* m_csv = nullptr;
    QPushButton* m_json = nullptr;
    QTableView* m_table = nullptr;
    QStandardItemModel* m_model = nullptr;
};

}  // namespace r18::ui

Q_DECLARE_METATYPE(r18::BatchRow)
