#include "ui/panels/status_panel.h"

#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QStatusBar>
#include <QTimer>
#include <QToolButton>

#include "core/app_data.h"
#include "ui/session/session.h"

namespace r18::ui {
namespace {

// The download script as this binary can reach it — the installed fetch-weights.sh, or the
// checkout's weights/fetch.sh for a build-tree binary — as ", or <code>PATH</code>"; nothing if
// there is none (never a source-tree path for an installed app).
QString fetchScript() {
    const std::string script = fetchWeightsScript();
    if (script.empty()) return {};
    return QObject::tr(", or <code>%1</code>").arg(QString::fromStdString(script).toHtmlEscaped());
}

QString threadsText(int threads) {
    return threads == 1 ? QObject::tr("1 thread") : QObject::tr("%1 threads").arg(threads);
}

QString imagesText(int n) {
    return n == 1 ? QObject::tr("1 image") : QObject::tr("%1 images").arg(n);
}

QString precisionText(const EngineInfo& e) {
    if (e.precision == Precision::Int8)
        return QObject::tr("int8 (calibrated on %1)").arg(imagesText(e.calibrationImages));
    return QString::fromLatin1(precisionName(e.precision));
}

QString baseName(const QString& path) {
    const QString name = QFileInfo(path).fileName();
    return name.isEmpty() ? path : name;
}

// A label of the status bar that, when the window is too narrow for it, ends in "…" rather than
// in the middle of a word or number ("1 of 12" for "1 of 128").
class ElidedLabel : public QLabel {
public:
    using QLabel::QLabel;

protected:
    void paintEvent(QPaintEvent*) override {
        QPainter p(this);
        const QRect r = contentsRect();
        p.setPen(palette().color(foregroundRole()));
        p.drawText(r, static_cast<int>(alignment()),
                   fontMetrics().elidedText(text(), Qt::ElideRight, r.width()));
    }
};

}  // namespace

StatusPanel::StatusPanel(Session* session, QStatusBar* bar, QObject* parent)
    : QObject(parent), m_session(session) {
    m_activity = new QLabel;
    m_activity->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_engine = new QLabel;
    m_model = new ElidedLabel;
    m_model->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_model->setMinimumWidth(120);
    m_ablations = new ElidedLabel;
    m_ablations->setStyleSheet(QStringLiteral("color: #d71e1e; font-weight: bold;"));
    m_ablations->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_ablations->setMinimumWidth(120);
    m_ablations->hide();
    bar->addWidget(m_activity, 3);
    bar->addPermanentWidget(m_ablations, 2);
    bar->addPermanentWidget(m_engine);
    bar->addPermanentWidget(m_model, 2);

    m_banner = new QLabel;
    m_banner->setWordWrap(true);
    m_banner->setTextFormat(Qt::RichText);
    m_banner->setStyleSheet(
        QStringLiteral("QLabel { background: #fff4ce; color: #4a3800; border: 1px solid #e0b000; "
                       "border-radius: 4px; padding: 6px 10px; }"));
    m_banner->hide();

    m_liveBanner = new QWidget;
    m_liveBanner->setObjectName(QStringLiteral("liveBanner"));
    m_liveBanner->setStyleSheet(
        QStringLiteral("#liveBanner { background: #fde8e8; border: 1px solid #d33; "
                       "border-radius: 4px; } QLabel { color: #6b0d0d; }"));
    auto* layout = new QHBoxLayout(m_liveBanner);
    layout->setContentsMargins(10, 4, 4, 4);
    m_liveText = new QLabel;
    m_liveText->setWordWrap(true);
    auto* close = new QToolButton;
    close->setText(QStringLiteral("✕"));
    close->setAutoRaise(true);
    close->setToolTip(tr("Dismiss"));
    connect(close, &QToolButton::clicked, m_liveBanner, &QWidget::hide);
    layout->addWidget(m_liveText, 1);
    layout->addWidget(close, 0, Qt::AlignTop);
    m_liveBanner->hide();

    // Not QStatusBar::showMessage(): it hides the left part and paints the message in the room
    // the permanent labels leave, which is none (the model label stretches), so nothing showed.
    m_flashTimer = new QTimer(this);
    m_flashTimer->setSingleShot(true);
    connect(m_flashTimer, &QTimer::timeout, this, [this] {
        m_flash.clear();
        refresh();
    });

    m_liveTimer = new QTimer(this);
    m_liveTimer->setInterval(1000);
    connect(m_liveTimer, &QTimer::timeout, this, &StatusPanel::refresh);

    connect(session, &Session::resultShown, this, [this](const ResultPtr& r) {
        if (r && !r->source->live) m_liveBanner->hide();  // an image opened fine: old news
        refresh();
    });
    connect(session, &Session::engineChanged, this, &StatusPanel::refresh);
    connect(session, &Session::ablationsChanged, this, &StatusPanel::refresh);
    connect(session, &Session::ablationsDropped, this,
            [this](const QString& why) { flash(why, 8000); });
    connect(session, &Session::modelLoading, this, &StatusPanel::refresh);
    connect(session, &Session::engineFailed, this, &StatusPanel::refresh);
    connect(session, &Session::imageFailed, this, &StatusPanel::refresh);
    // What the user does next is newer than a message about the last thing.
    const auto stateChanged = [this] {
        m_flash.clear();
        m_flashTimer->stop();
        refresh();
    };
    connect(session, &Session::sourceOpening, this, stateChanged);
    connect(session, &Session::frozenChanged, this, stateChanged);
    connect(session, &Session::liveStarted, this, [this] {
        m_flash.clear();
        m_liveBanner->hide();
        m_liveTimer->start();
        refresh();
    });
    connect(session, &Session::liveOpened, this,
            [this](const QString& label, double fps, QSize size) {
                flash(tr("%1: %2×%3 at %4 fps")
                          .arg(label)
                          .arg(size.width())
                          .arg(size.height())
                          .arg(fps, 0, 'f', 1));
                refresh();
            });
    connect(session, &Session::liveStopped, this, [this](const QString& reason, bool error) {
        m_liveTimer->stop();
        if (error)
            showLiveError(reason);
        else
            flash(reason, 6000);
        refresh();
    });
    refresh();
}

QWidget* StatusPanel::trustBanner() const {
    return m_banner;
}

void StatusPanel::showLiveError(const QString& reason) {
    m_liveText->setText(tr("<b>Live source stopped.</b> %1 Pick another source and press Space.")
                            .arg(reason.toHtmlEscaped()));
    m_liveBanner->show();
}

void StatusPanel::flash(const QString& message, int ms) {
    m_flash = message;
    m_flashTimer->start(ms);
    refresh();
}

QString StatusPanel::flashText() const {
    return m_flash;
}

QString StatusPanel::bannerText() const {
    return m_banner->isHidden() ? QString() : m_banner->text();
}

QString StatusPanel::liveBannerText() const {
    return m_liveBanner->isHidden() ? QString() : m_liveText->text();
}

QString StatusPanel::activityText() const {
    return m_activity->text();
}

QString StatusPanel::engineText() const {
    return m_engine->text();
}

QString StatusPanel::ablationText() const {
    return m_ablations->isHidden() ? QString() : m_ablations->text();
}

QString StatusPanel::modelText() const {
    return m_model->text();
}

void StatusPanel::refresh() {
    const ResultPtr r = m_session->result();
    const Session::LiveStats live = m_session->liveStats();
    QString activity;
    if (!m_flash.isEmpty())
        activity = m_flash;
    else if (const SourcePtr opening = m_session->openingSource())
        activity = tr("Opening %1…").arg(opening->label);
    else if (m_session->liveOpening())
        activity = tr("Opening %1…").arg(m_session->liveLabel());
    else if (m_session->isFrozen() && r)
        activity = tr("Frame frozen · network %1 ms — browse its layers; press F to go live again.")
                       .arg(r->networkMs, 0, 'f', 1);
    else if (m_session->isLive() && r)
        activity = tr("camera %1 fps · processed %2 fps · latency %3 ms · network %4 ms")
                       .arg(live.cameraFps, 0, 'f', 1)
                       .arg(live.processedFps, 0, 'f', 1)
                       .arg(live.latencyMs, 0, 'f', 0)
                       .arg(r->networkMs, 0, 'f', 1);
    else if (r)
        activity = tr("decode %1 · preprocess %2 · network %3 ms")
                       .arg(r->decodeMs, 0, 'f', 1)
                       .arg(r->preprocessMs, 0, 'f', 1)
                       .arg(r->networkMs, 0, 'f', 1);
    m_activity->setText(activity);
    const QString off = m_session->ablationsText();
    m_ablations->setText(off.isEmpty() ? QString() : tr("Switched off — %1").arg(off));
    m_ablations->setToolTip(
        tr("%1\nEvery node after these channels is computed without them: top-5, heat map, "
           "feature maps.\nChannels → Switch Every Channel Back On (Shift+R).")
            .arg(m_ablations->text()));
    m_ablations->setVisible(!off.isEmpty());

    const EngineInfo& e = m_session->engine();
    if (m_session->isLoadingModel()) {
        const QString weights = m_session->loadingWeights();
        m_model->setText(
            tr("Loading %1…").arg(weights.isEmpty() ? tr("the model") : baseName(weights)));
    } else if (e.model) {
        const Model& m = *e.model;
        m_model->setText(QString::fromStdString(m.summary()));
        m_model->setToolTip(tr("weights: %1\nformat: %2\nlabels: %3\npreprocessing: %4\n%5")
                                .arg(m.file().empty() ? tr("built-in untrained weights")
                                                      : QString::fromStdString(m.file()),
                                     QString::fromStdString(m.weightsSource()),
                                     QString::fromStdString(m.labelsSource()),
                                     QString::fromStdString(m.preprocessSource()),
                                     QString::fromStdString(m.trustNote())));
    } else {
        m_model->setText(tr("Loading the model…"));
    }
    if (e.model) {
        const bool changing = m_session->engineChanging() && !m_session->isLoadingModel();
        m_engine->setText(
            changing ? tr("switching to %1 · %2…")
                           .arg(QString::fromLatin1(precisionName(m_session->wantedPrecision())),
                                threadsText(m_session->wantedThreads()))
                     : tr("%1 · %2").arg(precisionText(e), threadsText(e.threads)));
        m_engine->setToolTip(tr("oneDNN on %1: %2")
                                 .arg(QString::fromStdString(Engine::cpuIsa()), e.implementations));
        if (e.model->trust() == Trust::Official) {
            m_banner->hide();
        } else {
            m_banner->setText(
                e.model->trust() == Trust::Untrained
                    ? tr("<b>Untrained demo weights.</b> The network is random, so its predictions "
                         "are meaningless. Get torchvision's official ImageNet weights (Model → "
                         "Download Official Weights%1), or open a weights file (Ctrl+Shift+O).")
                          .arg(fetchScript())
                    : tr("<b>Not the official ImageNet weights</b> (%1). Predictions are only as "
                         "good as whatever trained these weights, and meaningless if they are "
                         "untrained.")
                          .arg(baseName(QString::fromStdString(e.model->file())).toHtmlEscaped()));
            m_banner->show();
        }
    }
}

}  // namespace r18::ui
