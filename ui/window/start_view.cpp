#include "ui/window/start_view.h"

#include <QAction>
#include <QFileInfo>
#include <QFrame>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QPushButton>
#include <QStyle>
#include <QToolButton>
#include <QVBoxLayout>

#include "core/model/model.h"
#include "ui/session/session.h"
#include "ui/window/app_info.h"

namespace r18::ui {
namespace {

QPushButton* actionButton(const QString& text, QAction* action, QWidget* parent) {
    auto* button = new QPushButton(action ? action->icon() : QIcon(), text, parent);
    button->setMinimumHeight(34);
    if (action) {
        button->setToolTip(action->toolTip());
        QObject::connect(button, &QPushButton::clicked, action, [action] { action->trigger(); });
    } else {
        button->hide();
    }
    return button;
}

}  // namespace

StartView::StartView(Session* session, const Triggers& triggers, QWidget* parent)
    : QWidget(parent), m_session(session), m_triggers(triggers) {
    setObjectName(QStringLiteral("startView"));

    auto* icon = new QLabel;
    const QIcon appIcon = ui::appIcon();
    icon->setPixmap(appIcon.pixmap(96, 96));
    icon->setAlignment(Qt::AlignCenter);
    icon->setVisible(!appIcon.isNull());

    auto* title = new QLabel(tr("Drop an image here"));
    title->setObjectName(QStringLiteral("startTitle"));
    QFont big = title->font();
    big.setPointSizeF(big.pointSizeF() * 2.0);
    big.setBold(true);
    title->setFont(big);
    title->setAlignment(Qt::AlignCenter);
    auto* subtitle =
        new QLabel(tr("a photo, several, a folder or an image URL — or start with "
                      "one of these:"));
    subtitle->setAlignment(Qt::AlignCenter);
    subtitle->setWordWrap(true);

    m_paste = actionButton(tr("Paste"), triggers.paste, this);
    m_open = actionButton(tr("Open…"), triggers.open, this);
    m_sample = new QToolButton(this);
    m_sample->setText(tr("Open sample"));
    m_sample->setMinimumHeight(34);
    m_sample->setToolButtonStyle(Qt::ToolButtonTextOnly);
    if (triggers.firstSample) {
        m_sample->setToolTip(tr("Open %1; the arrow lists the other sample photos")
                                 .arg(QString(triggers.firstSample->text()).remove('&')));
        connect(m_sample, &QToolButton::clicked, triggers.firstSample,
                [a = triggers.firstSample] { a->trigger(); });
        if (triggers.samples) {
            m_sample->setMenu(triggers.samples);
            m_sample->setPopupMode(QToolButton::MenuButtonPopup);
        }
    } else {
        m_sample->hide();
    }
    m_camera = actionButton(tr("Start camera"), triggers.camera, this);
    auto* buttons = new QHBoxLayout;
    buttons->addStretch();
    for (QWidget* b : {static_cast<QWidget*>(m_paste), static_cast<QWidget*>(m_open),
                       static_cast<QWidget*>(m_sample), static_cast<QWidget*>(m_camera)})
        buttons->addWidget(b);
    buttons->addStretch();

    // The drop zone: a dashed frame around the invitation.
    auto* zone = new QFrame;
    zone->setObjectName(QStringLiteral("startDropZone"));
    zone->setStyleSheet(
        QStringLiteral("#startDropZone { border: 2px dashed palette(mid); "
                       "border-radius: 12px; }"));
    zone->setMinimumWidth(520);
    auto* zoneLayout = new QVBoxLayout(zone);
    zoneLayout->setContentsMargins(32, 28, 32, 28);
    zoneLayout->setSpacing(12);
    zoneLayout->addWidget(icon);
    zoneLayout->addWidget(title);
    zoneLayout->addWidget(subtitle);
    zoneLayout->addSpacing(6);
    zoneLayout->addLayout(buttons);

    m_weights = new QLabel;
    m_weights->setObjectName(QStringLiteral("startWeights"));
    m_weights->setAlignment(Qt::AlignCenter);
    m_weights->setWordWrap(true);
    m_weights->setTextFormat(Qt::RichText);
    m_weightsButton = new QPushButton(this);
    m_weightsButton->hide();
    connect(m_weightsButton, &QPushButton::clicked, this, [this] {
        if (m_weightsAction) m_weightsAction->trigger();
    });
    auto* weightsRow = new QHBoxLayout;
    weightsRow->addStretch();
    weightsRow->addWidget(m_weightsButton);
    weightsRow->addStretch();

    auto* hint = new QLabel(
        triggers.guide ? tr("Press %1 to learn what the window shows.")
                             .arg(triggers.guide->shortcut().toString(QKeySequence::NativeText))
                       : QString());
    hint->setAlignment(Qt::AlignCenter);
    hint->setEnabled(false);  // drawn in the quieter colour

    auto* box = new QWidget;  // a readable width on wide screens, centred
    box->setMaximumWidth(760);
    auto* column = new QVBoxLayout(box);
    column->setContentsMargins(0, 0, 0, 0);
    column->setSpacing(10);
    column->addWidget(zone);
    column->addSpacing(8);
    column->addWidget(m_weights);
    column->addLayout(weightsRow);
    column->addSpacing(8);
    column->addWidget(hint);
    auto* center = new QHBoxLayout;
    center->addStretch(1);
    center->addWidget(box, 8);
    center->addStretch(1);
    auto* layout = new QVBoxLayout(this);
    layout->addStretch(1);
    layout->addLayout(center);
    layout->addStretch(2);

    showWeightsProblem({});
    connect(session, &Session::engineChanged, this, &StartView::showEngine);
    connect(session, &Session::modelLoading, this, [this] { showWeightsProblem({}); });
    connect(session, &Session::engineFailed, this, [this](const QString& message, bool labels) {
        if (!labels && !m_session->hasModel()) showWeightsProblem(message);
    });
    connect(session, &Session::sourceOpening, this, &StartView::refresh);
    connect(session, &Session::liveStarted, this, &StartView::refresh);
    connect(session, &Session::resultShown, this, &StartView::refresh);
    connect(session, &Session::imageFailed, this, &StartView::refresh);
    connect(session, &Session::liveStopped, this, &StartView::refresh);
}

bool StartView::wanted() const {
    return m_wanted;
}

void StartView::dismiss() {
    m_dismissed = true;
    refresh();
}

void StartView::refresh() {
    const bool wanted =
        !m_dismissed && !m_session->result() && !m_session->openingSource() && !m_session->isLive();
    if (wanted == m_wanted) return;
    m_wanted = wanted;
    emit wantedChanged(wanted);
}

QString StartView::weightsText() const {
    return m_weights->text();
}

void StartView::showEngine(const EngineInfo& engine) {
    if (!engine.model) return;
    const Model& model = *engine.model;
    const QString file = QFileInfo(QString::fromStdString(model.file())).fileName().toHtmlEscaped();
    m_weightsAction = nullptr;
    switch (model.trust()) {
        case Trust::Official:
            m_weights->setText(
                tr("Ready: torchvision's official ImageNet weights (%1).").arg(file));
            break;
        case Trust::Unverified:
            m_weights->setText(tr("Ready: your weights, %1 — not the official ImageNet weights, so "
                                  "predictions are only as good as whatever trained them.")
                                   .arg(file));
            break;
        case Trust::Untrained:
            m_weights->setText(
                tr("<b>Only the untrained demo weights were found:</b> the network "
                   "is random and its predictions meaningless. Get the official "
                   "ImageNet weights (45 MB, checked by SHA-256):"));
            m_weightsAction = m_triggers.downloadWeights;
            m_weightsButton->setText(tr("Download Official Weights…"));
            break;
    }
    m_weightsButton->setVisible(m_weightsAction != nullptr);
}

void StartView::showWeightsProblem(const QString& message) {
    if (message.isEmpty()) {
        m_weights->setText(tr("Loading the model…"));
        m_weightsAction = nullptr;
    } else {
        m_weights->setText(
            tr("<b>The weights could not be loaded:</b> %1").arg(message.toHtmlEscaped()));
        m_weightsAction = m_triggers.openWeights;
        m_weightsButton->setText(tr("Open Weights…"));
    }
    m_weightsButton->setVisible(m_weightsAction != nullptr);
}

}  // namespace r18::ui
