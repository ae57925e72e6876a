#include "ui/actions/exports.h"

#include <QBuffer>
#include <QClipboard>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QGuiApplication>
#include <QSettings>
#include <QStandardPaths>
#include <QWidget>

#include "core/batch.h"
#include "core/error.h"
#include "core/files.h"
#include "ui/panels/input_panel.h"
#include "ui/panels/layer_panel.h"
#include "ui/session/session.h"
#include "ui/views/feature_map_view.h"
#include "ui/views/input_view.h"
#include "ui/views/predictions_view.h"

namespace r18::ui {
namespace {

std::string pathBytes(const QString& path) {
    return QFile::encodeName(path).toStdString();
}

}  // namespace

Exports::Exports(Session* session, LayerPanel* layers, InputPanel* input,
                 PredictionsView* predictions, QWidget* window, QObject* parent)
    : QObject(parent),
      m_session(session),
      m_layers(layers),
      m_input(input),
      m_predictions(predictions),
      m_window(window) {}

QString Exports::defaultFolder() {
    const QString last = QSettings().value("files/exportFolder").toString();
    if (!last.isEmpty() && QFileInfo(last).isDir() && QFileInfo(last).isWritable()) return last;
    const QString pictures = QStandardPaths::writableLocation(QStandardPaths::PicturesLocation);
    if (!pictures.isEmpty() && QFileInfo(pictures).isDir()) return pictures;
    return QDir::homePath();
}

QString Exports::savePng(const QImage& image, const QString& path) {
    QByteArray png;
    QBuffer buffer(&png);
    buffer.open(QIODevice::WriteOnly);
    if (image.isNull() || !image.save(&buffer, "PNG"))
        return tr("%1: the image could not be encoded as PNG.").arg(path);
    try {
        writeFileChecked(pathBytes(path), png.constData(), static_cast<size_t>(png.size()));
    } catch (const Error& e) {
        return QString::fromStdString(e.what());
    }
    return {};
}

QString Exports::outputProblem(const QString& path) const {
    std::vector<RoleAndPath> inputs;
    if (const SourcePtr shown = m_session->shownSource(); shown && !shown->path.isEmpty())
        inputs.push_back({"the image on screen", pathBytes(shown->path)});
    if (const EngineInfo& e = m_session->engine(); e.model)
        for (const RoleAndPath& f : e.model->sourceFiles()) inputs.push_back(f);
    return QString::fromStdString(outputOverInputProblem({{"The file", pathBytes(path)}}, inputs));
}

QString Exports::baseName() const {
    const SourcePtr shown = m_session->shownSource();
    const QString base = shown ? QFileInfo(shown->label).completeBaseName() : QString();
    return base.isEmpty() || shown->path.isEmpty() ? QStringLiteral("image") : base;
}

QString Exports::saveFeatureMaps(const QString& path) const {
    if (m_layers->features()->channelCount() == 0)
        return tr("There are no feature maps to save yet: open an image first.");
    return savePng(m_layers->features()->renderGrid(1800), path);
}

QString Exports::saveChannel(const QString& path) const {
    const QImage channel = m_layers->channelImage();
    if (channel.isNull()) return tr("Select a channel first.");
    const int scale = std::max(1, 448 / std::max(channel.width(), 1));
    return savePng(
        channel.scaled(channel.size() * scale, Qt::KeepAspectRatio, Qt::FastTransformation), path);
}

QString Exports::saveOverlay(const QString& path) const {
    const QImage image = m_input->view()->composite();
    if (image.isNull()) return tr("Open an image first.");
    return savePng(image, path);
}

QString Exports::saveWindow(const QString& path) const {
    return savePng(m_window->grab().toImage(), path);
}

QString Exports::exportPredictions(const QString& path) const {
    const ResultPtr r = m_session->result();
    if (!r) return tr("There are no predictions yet.");
    BatchRow row;
    row.file = r->source->label.toStdString();
    row.top = r->top;
    row.ms = r->decodeMs + r->preprocessMs + r->networkMs;
    try {
        writeText(pathBytes(path),
                  path.endsWith(".json", Qt::CaseInsensitive) ? toJson({row}) : toCsv({row}));
    } catch (const Error& e) {
        return QString::fromStdString(e.what());
    }
    return {};
}

void Exports::ask(const QString& title, const QString& name, const QString& filter,
                  const std::function<QString(const QString&)>& save) {
    const QString path =
        QFileDialog::getSaveFileName(m_window, title, QDir(defaultFolder()).filePath(name), filter);
    if (path.isEmpty()) return;  // (the dialog itself asked before replacing an existing file)
    QSettings().setValue("files/exportFolder", QFileInfo(path).absolutePath());
    if (const QString refused = outputProblem(path); !refused.isEmpty())
        return emit error(tr("Not saved"), refused);
    const QString problem = save(path);
    if (!problem.isEmpty()) return emit error(tr("Could not save"), problem);
    emit message(tr("Saved %1").arg(path));
}

void Exports::askFeatureMaps() {
    if (m_layers->features()->channelCount() == 0)
        return emit message(tr("No feature maps to save yet: open an image first."));
    ask(tr("Save Feature Maps"),
        QStringLiteral("%1-%2.png").arg(baseName(), m_layers->features()->node()),
        tr("PNG images (*.png)"), [this](const QString& p) { return saveFeatureMaps(p); });
}

void Exports::askChannel() {
    if (m_layers->channelImage().isNull()) return emit message(tr("Select a channel first."));
    ask(tr("Save Channel"), QStringLiteral("%1-%2.png").arg(baseName(), m_layers->channelName()),
        tr("PNG images (*.png)"), [this](const QString& p) { return saveChannel(p); });
}

void Exports::askOverlay() {
    if (!m_session->result()) return emit message(tr("Open an image first."));
    ask(tr("Save Image with Overlay"), QStringLiteral("%1-overlay.png").arg(baseName()),
        tr("PNG images (*.png)"), [this](const QString& p) { return saveOverlay(p); });
}

void Exports::askWindow() {
    ask(tr("Save Window"), QStringLiteral("resnet18-explorer.png"), tr("PNG images (*.png)"),
        [this](const QString& p) { return saveWindow(p); });
}

void Exports::askPredictions() {
    if (!m_session->result()) return emit message(tr("There are no predictions yet."));
    ask(tr("Export Predictions"), QStringLiteral("%1-predictions.csv").arg(baseName()),
        tr("CSV (*.csv);;JSON (*.json)"),
        [this](const QString& p) { return exportPredictions(p); });
}

void Exports::copyImage() {
    const QImage image = m_input->view()->composite();
    if (image.isNull()) return emit message(tr("Open an image first."));
    QGuiApplication::clipboard()->setImage(image);
    emit message(tr("Image copied."));
}

void Exports::copyPredictions() {
    if (m_predictions->predictions().empty())
        return emit message(tr("There are no predictions yet."));
    // What the window shows, as text: the image, the engine, the top-5 and the selected layer.
    const ResultPtr r = m_session->result();
    const EngineInfo& e = m_session->engine();
    QString text = tr("%1\n%2 · %3 · %4\n")
                       .arg(r->source->label,
                            QString::fromStdString(e.model ? e.model->summary() : std::string()),
                            QString::fromLatin1(precisionName(e.precision)),
                            e.threads == 1 ? tr("1 thread") : tr("%1 threads").arg(e.threads));
    if (!m_session->ablations().empty()) {
        // Which channels were off, in the form the CLI takes back: classify --ablate NODE:C1,…
        QStringList ablate;
        for (const ChannelAblation& a : m_session->ablations())
            ablate << QStringLiteral("--ablate ") + QString::fromStdString(ablationText(a));
        text += tr("Switched off: %1 (%2)\n").arg(m_session->ablationsText(), ablate.join(' '));
    }
    text += m_predictions->asText();
    const FeatureMapView* f = m_layers->features();
    if (f->channelCount() > 0 && f->pendingMessage().isEmpty()) {
        const TapStats& s = f->tapStats();
        text += tr("\n%1: %2 channels, min %3, mean %4, max %5, zeros %6%")
                    .arg(f->node())
                    .arg(f->channelCount())
                    .arg(s.min, 0, 'g', 4)
                    .arg(s.mean, 0, 'g', 4)
                    .arg(s.max, 0, 'g', 4)
                    .arg(100.0 * s.zeroFraction, 0, 'f', 1);
        if (f->selectedChannel() >= 0) {
            const ChannelStats& c = f->stats(f->selectedChannel());
            text += tr("\nchannel %1: min %2, mean %3, max %4")
                        .arg(f->selectedChannel())
                        .arg(c.min, 0, 'g', 4)
                        .arg(c.mean, 0, 'g', 4)
                        .arg(c.max, 0, 'g', 4);
        }
    }
    QGuiApplication::clipboard()->setText(text + QStringLiteral("\n"));
    emit message(tr("Predictions copied."));
}

}  // namespace r18::ui
