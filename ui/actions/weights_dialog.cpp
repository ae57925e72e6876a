#include "ui/actions/weights_dialog.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

#include "ui/actions/weights_downloader.h"

namespace r18::ui {

WeightsDialog::WeightsDialog(Mode mode, QWidget* parent) : QDialog(parent), m_mode(mode) {
    setWindowTitle(mode == Mode::FirstRun ? tr("Weights for ResNet18")
                                          : tr("Download the official weights"));
    setMinimumWidth(660);
    m_downloader = new WeightsDownloader(this);
    const WeightsDownloader::Target target = WeightsDownloader::official();

    auto* text = new QLabel;
    text->setWordWrap(true);
    text->setTextFormat(Qt::RichText);
    text->setText(
        (mode == Mode::FirstRun
             ? tr("<p><b>No trained weights were found.</b> Without them ResNet18 runs on random "
                  "weights and its predictions are meaningless.</p>")
             : QString()) +
        tr("<p>Download torchvision's official ImageNet weights, <code>%1</code> (44.7 MB), "
           "from<br>%2<br>into "
           "%3.<br>The file is kept only if its SHA-256 starts with <code>%4</code>.</p>")
            .arg(target.fileName, target.url.toDisplayString().toHtmlEscaped(),
                 WeightsDownloader::defaultFolder().toHtmlEscaped(), target.sha256Prefix));
    m_bar = new QProgressBar;
    m_bar->setRange(0, 100);
    m_bar->setValue(0);
    m_bar->setTextVisible(true);
    m_status = new QLabel;
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);

    m_download = new QPushButton(tr("&Download"));
    m_download->setDefault(true);
    m_open = new QPushButton(tr("&Open a Weights File…"));
    m_demo =
        new QPushButton(mode == Mode::FirstRun ? tr("Continue with &Demo Weights") : tr("Close"));
    m_cancel = new QPushButton(tr("&Cancel Download"));
    m_cancel->hide();
    auto* buttons = new QDialogButtonBox;
    buttons->addButton(m_download, QDialogButtonBox::AcceptRole);
    buttons->addButton(m_open, QDialogButtonBox::ActionRole);
    buttons->addButton(m_cancel, QDialogButtonBox::ActionRole);
    buttons->addButton(m_demo, QDialogButtonBox::RejectRole);
    m_dontAsk = new QCheckBox(tr("Don't show this at start again"));
    m_dontAsk->setToolTip(tr("Model → Download Official Weights is always there"));
    m_dontAsk->setVisible(mode == Mode::FirstRun);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(text);
    layout->addWidget(m_bar);
    layout->addWidget(m_status);
    layout->addWidget(m_dontAsk);
    layout->addWidget(buttons);
    m_cancel->hide();  // QDialogButtonBox shows the buttons it is given
    m_bar->hide();
    // Wrapped text needs the height its width implies: grow with it instead of clipping.
    layout->setSizeConstraint(QLayout::SetMinimumSize);

    connect(m_download, &QPushButton::clicked, this, &WeightsDialog::startDownload);
    connect(m_cancel, &QPushButton::clicked, m_downloader, &WeightsDownloader::cancel);
    connect(m_open, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(
            this, tr("Open Weights"), QString(),
            tr("Weights (*.pth *.pt *.bin *.safetensors *.onnx);;All files (*)"));
        if (path.isEmpty()) return;
        emit weightsReady(path);
        accept();
    });
    connect(m_demo, &QPushButton::clicked, this, [this] {
        if (m_mode == Mode::FirstRun) emit demoChosen();
        reject();
    });
    connect(m_downloader, &WeightsDownloader::progress, this,
            [this](qint64 received, qint64 total, double speed) {
                if (total > 0) m_bar->setValue(static_cast<int>(100 * received / total));
                m_status->setText(
                    tr("%1 of %2 MB · %3 MB/s")
                        .arg(received / 1048576.0, 0, 'f', 1)
                        .arg(total > 0 ? QString::number(total / 1048576.0, 'f', 1) : tr("?"))
                        .arg(speed / 1048576.0, 0, 'f', 1));
            });
    connect(m_downloader, &WeightsDownloader::finished, this, [this](const QString& path) {
        setBusy(false);
        m_status->setText(tr("Saved %1").arg(path));
        emit weightsReady(path);
        accept();
    });
    connect(m_downloader, &WeightsDownloader::failed, this, [this](const QString& message) {
        setBusy(false);
        m_bar->hide();  // a bar at "0%" would say the download is about to start
        m_bar->setValue(0);
        m_status->setText(
            QStringLiteral("<span style='color:#b00020'>%1</span>").arg(message.toHtmlEscaped()));
        m_download->setText(tr("&Retry"));
    });
}

void WeightsDialog::startDownload() {
    setBusy(true);
    m_status->setText(tr("Connecting…"));
    m_downloader->start(WeightsDownloader::official(), WeightsDownloader::defaultFolder());
}

void WeightsDialog::setBusy(bool busy) {
    if (busy) m_bar->show();
    m_download->setEnabled(!busy);
    m_open->setEnabled(!busy);
    m_demo->setEnabled(!busy);
    m_cancel->setVisible(busy);
}

bool WeightsDialog::dontAskAgain() const {
    return m_dontAsk->isChecked();
}

QString WeightsDialog::status() const {
    return m_status->text();
}

}  // namespace r18::ui
