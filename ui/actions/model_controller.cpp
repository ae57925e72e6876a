#include "ui/actions/model_controller.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QMessageBox>
#include <QSettings>

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

void ModelController::onEngine(const EngineInfo& engine) {
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
