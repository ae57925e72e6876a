#include "ui/actions/model_controller.h"

#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QMessageBox>
#include <QSettings>
#include <QStandardItemModel>

#include <algorithm>

#include "core/engine/threads.h"
#include "ui/actions/action_table.h"
#include "ui/session/session.h"

namespace r18::ui {
namespace {

const QStringList kWeightSuffixes = {QStringLiteral("pth"), QStringLiteral("pt"),
                                     QStringLiteral("bin"), QStringLiteral("onnx"),
                                     QStringLiteral("safetensors")};

QString lastFolder() {
    return QSettings().value("files/lastFolder").toString();
}

}  // namespace

ModelController::ModelController(Session* session, QWidget* window, bool askAtFirstRun,
                                 QObject* parent)
    : QObject(parent), m_session(session), m_window(window), m_askAtFirstRun(askAtFirstRun) {
    m_precisionBox = new QComboBox;
    m_precisionBox->setToolTip(tr("Numeric precision of the network"));
    for (const Precision p : kPrecisions) m_precisionBox->addItem(precisionName(p));
    m_precisionBox->setItemData(2, tr("8-bit integers, calibrated on the last images you opened"),
                                Qt::ToolTipRole);
    if (!Engine::supports(Precision::Bf16)) {
        if (auto* model = qobject_cast<QStandardItemModel*>(m_precisionBox->model()))
            model->item(1)->setEnabled(false);
        m_precisionBox->setItemData(1,
                                    tr("bf16 needs a CPU with AVX-512 BF16 (this one offers %1)")
                                        .arg(QString::fromStdString(Engine::cpuIsa())),
                                    Qt::ToolTipRole);
    }
    m_threadsBox = new QComboBox;
    m_threadsBox->setToolTip(
        tr("Threads for the network (this machine has %1 cores)").arg(machineCores()));
    for (int n = 1; n <= machineCores(); ++n)
        m_threadsBox->addItem(n == 1 ? tr("1 thread") : tr("%1 threads").arg(n), n);
    connect(m_precisionBox, &QComboBox::activated, this,
            [this](int i) { m_session->setPrecision(kPrecisions[i]); });
    connect(m_threadsBox, &QComboBox::activated, this,
            [this](int i) { m_session->setThreads(m_threadsBox->itemData(i).toInt()); });
    connect(session, &Session::engineChanged, this, &ModelController::onEngine);
    connect(session, &Session::engineFailed, this, [this](const QString& message, bool labels) {
        emit error(
            labels ? tr("The labels could not be used") : tr("The model could not be loaded"),
            message);
    });
}

bool ModelController::isWeightsFile(const QString& path) {
    return kWeightSuffixes.contains(QFileInfo(path).suffix().toLower());
}

QString ModelController::startupWeights(const QString& requested) {
    if (!requested.isEmpty()) return requested;
    const QString remembered = QSettings().value("model/weights").toString();
    return !remembered.isEmpty() && QFileInfo(remembered).isFile() ? remembered : QString();
}

void ModelController::openStartupModel(const QString& requestedWeights) {
    m_session->openModel(startupWeights(requestedWeights),
                         kPrecisions[std::max(0, m_precisionBox->currentIndex())],
                         m_threadsBox->currentData().toInt());
}

void ModelController::readSettings(const QSettings& s) {
    const bool bf16 =
        s.value("engine/precision").toString() == "bf16" && Engine::supports(Precision::Bf16);
    m_precisionBox->setCurrentIndex(bf16 ? 1 : 0);
    // Settings may come from a larger machine (or be edited): never more threads than cores.
    const qlonglong stored = s.value("engine/threads", machineCores()).toLongLong();
    std::string capped;
    const int threads = capThreads(stored, &capped);
    if (!capped.empty())
        emit message(tr("The settings ask for %1 threads: %2.")
                         .arg(stored)
                         .arg(QString::fromStdString(capped)));
    m_threadsBox->setCurrentIndex(threads - 1);
}

void ModelController::writeSettings(QSettings& s) const {
    s.setValue("engine/precision",
               QString::fromLatin1(precisionName(m_session->engine().precision)));
    s.setValue("engine/threads", m_session->engine().threads);
}

void ModelController::onEngine(const EngineInfo& engine) {
    m_precisionBox->setCurrentIndex(static_cast<int>(m_session->wantedPrecision()));
    m_threadsBox->setCurrentIndex(std::clamp(engine.threads, 1, machineCores()) - 1);
    if (!m_chosen.isEmpty() && engine.model &&
        QFileInfo(QString::fromStdString(engine.model->file())) == QFileInfo(m_chosen)) {
        QSettings().setValue("model/weights", QFileInfo(m_chosen).absoluteFilePath());
        m_chosen.clear();
    }
    const bool first = !m_firstEngineSeen;
    m_firstEngineSeen = true;
    if (first && m_askAtFirstRun && engine.model && engine.model->trust() == Trust::Untrained &&
        !QSettings().value("firstRun/dontAsk", false).toBool())
        showWeightsDialog(WeightsDialog::Mode::FirstRun);
}

void ModelController::loadWeights(const QString& path) {
    m_chosen = path;
    m_session->openModel(path, m_session->wantedPrecision(), m_session->wantedThreads());
}

void ModelController::openWeightsDialog() {
    const QString path = QFileDialog::getOpenFileName(
        m_window, tr("Open Weights"), lastFolder(),
        tr("Weights (*.pth *.pt *.bin *.safetensors *.onnx);;All files (*)"));
    if (!path.isEmpty()) loadWeights(path);
}

void ModelController::openLabelsDialog() {
    const QString path = QFileDialog::getOpenFileName(m_window, tr("Open Labels"), lastFolder(),
                                                      tr("Labels (*.txt *.json);;All files (*)"));
    if (!path.isEmpty()) m_session->setLabels(path);
}

void ModelController::showWeightsDialog(WeightsDialog::Mode mode) {
    if (m_weightsDialog) {
        m_weightsDialog->raise();
        return;
    }
    m_weightsDialog = new WeightsDialog(mode, m_window);
    m_weightsDialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(m_weightsDialog, &WeightsDialog::weightsReady, this, &ModelController::loadWeights);
    connect(m_weightsDialog, &QDialog::finished, this, [this] {
        if (m_weightsDialog && m_weightsDialog->dontAskAgain())
            QSettings().setValue("firstRun/dontAsk", true);
    });
    m_weightsDialog->open();
    if (mode == WeightsDialog::Mode::Download) m_weightsDialog->startDownload();
}

void ModelController::confirmWeightsDrop(const QString& path) {
    if (!m_session->shownSource()) return loadWeights(path);
    auto* box = new QMessageBox(QMessageBox::Question, tr("Load weights?"),
                                tr("Use %1 as the model?").arg(QFileInfo(path).fileName()),
                                QMessageBox::Yes | QMessageBox::Cancel, m_window);
    box->setInformativeText(tr("The current image is run again with the new weights."));
    box->setAttribute(Qt::WA_DeleteOnClose);
    connect(box, &QMessageBox::accepted, this, [this, path] { loadWeights(path); });
    m_confirmBox = box;
    box->open();
}

}  // namespace r18::ui
