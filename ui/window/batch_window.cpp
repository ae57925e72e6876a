#include "ui/window/batch_window.h"

#include <QCloseEvent>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QStandardItemModel>
#include <QTableView>
#include <QVBoxLayout>

#include <chrono>

#include "core/error.h"
#include "core/files.h"
#include "core/folder_job.h"
#include "ui/actions/exports.h"

namespace r18::ui {
namespace {

enum Column { kFile, kTop1, kProbability, kTop5, kMs, kColumns };

}  // namespace

BatchJob::BatchJob(std::shared_ptr<const Model> model, int threads)
    : m_model(std::move(model)), m_threads(threads) {}

void BatchJob::run(const QString& folder) {
    try {
        const std::vector<std::string> files = findImages(folder.toStdString());
        emit found(static_cast<int>(files.size()));
        // The core's folder job: decoding overlaps with the network, rows come in file order.
        FolderJobOptions options;
        options.threads = m_threads;
        FolderJob job(m_model, options);
        const bool completed = job.run(
            files, [this](FolderResult&& r) { emit rowReady(static_cast<int>(r.index), r.row); },
            &m_cancel);
        emit finished(!completed, QString());
    } catch (...) {  // no exception may leave this thread's slot
        emit finished(false, QString::fromStdString(currentExceptionMessage(folder.toStdString())));
    }
}

BatchWindow::BatchWindow(QWidget* parent) : QWidget(parent, Qt::Window) {
    qRegisterMetaType<BatchRow>("r18::BatchRow");
    setWindowTitle(tr("Folder — ResNet18 Explorer"));
    resize(980, 620);
    m_title = new QLabel;
    QFont bold = m_title->font();
    bold.setBold(true);
    m_title->setFont(bold);
    m_status = new QLabel;
    m_progress = new QProgressBar;
    m_cancel = new QPushButton(tr("&Cancel"));
    m_csv = new QPushButton(tr("Export &CSV…"));
    m_json = new QPushButton(tr("Export &JSON…"));
    m_model = new QStandardItemModel(0, kColumns, this);
    m_model->setHorizontalHeaderLabels(
        {tr("File"), tr("Top-1"), tr("Probability"), tr("Top-5"), tr("ms")});
    m_model->setSortRole(Qt::UserRole);
    m_table = new QTableView;
    m_table->setModel(m_model);
    m_table->setSortingEnabled(true);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setAlternatingRowColors(true);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setSectionResizeMode(kTop5, QHeaderView::Stretch);
    m_table->horizontalHeader()->setSectionResizeMode(kFile, QHeaderView::Interactive);
    m_table->setColumnWidth(kFile, 260);
    m_table->setColumnWidth(kTop1, 180);
    m_table->setToolTip(tr("Double-click a row to explore that image"));

    auto* top = new QHBoxLayout;
    top->addWidget(m_progress, 1);
    top->addWidget(m_cancel);
    auto* bottom = new QHBoxLayout;
    bottom->addWidget(m_status, 1);
    bottom->addWidget(m_csv);
    bottom->addWidget(m_json);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_title);
    layout->addLayout(top);
    layout->addWidget(m_table, 1);
    layout->addLayout(bottom);

    connect(m_cancel, &QPushButton::clicked, this, &BatchWindow::cancel);
    connect(m_table, &QTableView::doubleClicked, this, [this](const QModelIndex& index) {
        emit openRequested(m_model->item(index.row(), kFile)->data(Qt::UserRole + 1).toString());
    });
    auto exportTo = [this](const QString& filter, const QString& suffix) {
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Export"),
            QDir(Exports::defaultFolder()).filePath("resnet18-results." + suffix), filter);
        if (path.isEmpty()) return;
        QSettings().setValue("files/exportFolder", QFileInfo(path).absolutePath());
        const QString error = exportRows(path);
        m_status->setText(error.isEmpty() ? tr("Saved %1").arg(path) : error);
    };
    connect(m_csv, &QPushButton::clicked, this, [=] { exportTo(tr("CSV (*.csv)"), "csv"); });
    connect(m_json, &QPushButton::clicked, this, [=] { exportTo(tr("JSON (*.json)"), "json"); });
}

BatchWindow::~BatchWindow() {
    stopThread();
}

void BatchWindow::stopThread() {
    if (m_job) m_job->cancel();
    m_thread.quit();
    m_thread.wait();  // at most one image: the job checks for cancel between files
    m_job = nullptr;
}

void BatchWindow::start(const QString& folder, std::shared_ptr<const Model> model, int threads) {
    stopThread();
    m_folder = folder;
    m_rows.clear();
    m_total = 0;
    m_errors = 0;
    m_model->removeRows(0, m_model->rowCount());
    m_table->horizontalHeader()->setSortIndicator(kFile, Qt::AscendingOrder);  // file order
    m_title->setText(tr("%1 — %2").arg(QDir::toNativeSeparators(folder),
                                       QString::fromStdString(model->spec().archName())));
    m_progress->setRange(0, 0);
    m_cancel->setEnabled(true);
    m_running = true;
    m_job = new BatchJob(std::move(model), threads);
    m_job->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_job, &QObject::deleteLater);
    connect(m_job, &BatchJob::found, this, [this](int total) {
        m_total = total;
        m_progress->setRange(0, std::max(total, 1));
        m_progress->setValue(0);
        updateStatus();
    });
    connect(m_job, &BatchJob::rowReady, this, &BatchWindow::addRow);
    connect(m_job, &BatchJob::finished, this, [this](bool cancelled, const QString& error) {
        m_running = false;
        m_cancel->setEnabled(false);
        if (!error.isEmpty()) m_title->setText(error);
        updateStatus();
        if (cancelled) m_status->setText(m_status->text() + tr(" · cancelled"));
        emit finished(cancelled);
    });
    m_thread.start();
    QMetaObject::invokeMethod(
        m_job, [job = m_job, folder] { job->run(folder); }, Qt::QueuedConnection);
    show();
    raise();
}

void BatchWindow::cancel() {
    if (m_job) m_job->cancel();
}

void BatchWindow::addRow(int index, const BatchRow& row) {
    if (static_cast<size_t>(index) >= m_rows.size()) m_rows.resize(static_cast<size_t>(index) + 1);
    m_rows[static_cast<size_t>(index)] = row;
    const QString path = QString::fromStdString(row.file);
    auto* file = new QStandardItem(QDir(m_folder).relativeFilePath(path));
    file->setData(file->text(), Qt::UserRole);
    file->setData(path, Qt::UserRole + 1);
    file->setToolTip(path);
    QList<QStandardItem*> items{file};
    if (row.error.empty()) {
        const Prediction& best = row.top.front();
        auto* top1 = new QStandardItem(QString::fromStdString(best.label));
        top1->setData(top1->text(), Qt::UserRole);
        auto* prob =
            new QStandardItem(QStringLiteral("%1%").arg(100.0 * best.probability, 0, 'f', 1));
        prob->setData(static_cast<double>(best.probability), Qt::UserRole);
        prob->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        QStringList rest;
        for (const Prediction& p : row.top)
            rest << QStringLiteral("%1 %2%")
                        .arg(QString::fromStdString(p.label))
                        .arg(100.0 * p.probability, 0, 'f', 1);
        auto* top5 = new QStandardItem(rest.join(QStringLiteral(" · ")));
        top5->setData(top5->text(), Qt::UserRole);
        items << top1 << prob << top5;
    } else {
        ++m_errors;
        auto* error = new QStandardItem(tr("error"));
        error->setData(QString(), Qt::UserRole);
        auto* none = new QStandardItem;
        none->setData(-1.0, Qt::UserRole);
        auto* why = new QStandardItem(QString::fromStdString(row.error));
        why->setData(why->text(), Qt::UserRole);
        why->setToolTip(why->text());
        for (QStandardItem* it : {file, error, why}) it->setForeground(QColor(176, 0, 32));
        items << error << none << why;
    }
    auto* ms = new QStandardItem(QString::number(row.ms, 'f', 1));
    ms->setData(row.ms, Qt::UserRole);
    ms->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    items << ms;
    m_model->appendRow(items);
    // Rows arrive in file order; under another sort the new row takes its sorted place, so the
    // header never shows an order the rows do not have.
    const QHeaderView* header = m_table->horizontalHeader();
    if (header->sortIndicatorSection() != kFile ||
        header->sortIndicatorOrder() != Qt::AscendingOrder)
        m_model->sort(header->sortIndicatorSection(), header->sortIndicatorOrder());
    m_progress->setValue(m_model->rowCount());
    updateStatus();
}

void BatchWindow::updateStatus() {
    m_status->setText(tr("%1 of %2 images · %3 could not be read")
                          .arg(m_model->rowCount())
                          .arg(m_total)
                          .arg(m_errors));
}

QString BatchWindow::exportRows(const QString& path) const {
    const std::string file = QFile::encodeName(path).toStdString();
    std::vector<RoleAndPath> images;
    for (const BatchRow& row : m_rows) images.push_back({"the image", row.file});
    if (const std::string refused = outputOverInputProblem({{"The file", file}}, images);
        !refused.empty())
        return QString::fromStdString(refused);
    try {
        writeText(file,
                  path.endsWith(".json", Qt::CaseInsensitive) ? toJson(m_rows) : toCsv(m_rows));
    } catch (const Error& e) {
        return QString::fromStdString(e.what());
    }
    return {};
}

void BatchWindow::closeEvent(QCloseEvent* event) {
    cancel();
    event->accept();
}

}  // namespace r18::ui
