#include "ui/panels/importance_panel.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

#include <algorithm>

#include "ui/insight/importance_insight.h"
#include "ui/session/session.h"
#include "ui/views/importance_view.h"

namespace r18::ui {

namespace {
constexpr size_t kPickCount = 10;
}  // namespace

ImportancePanel::ImportancePanel(Session* session, QObject* parent)
    : QObject(parent), m_session(session), m_insight(new ImportanceInsight(session, this)) {
    m_summary = new QLabel;
    m_summary->setWordWrap(true);
    m_summary->setTextFormat(Qt::RichText);
    m_view = new ImportanceView;
    m_view->setToolTip(
        tr("Δ logit when the channel alone is switched off: red, the class loses score without "
           "it; blue, it gains. Click to pick the channel in the feature maps."));
    m_progress = new QProgressBar;
    m_progress->setTextVisible(true);
    m_cancel = new QPushButton(tr("Cancel"));
    m_pick = new QPushButton(tr("Pick the Top %1").arg(kPickCount));
    m_pick->setToolTip(tr("Pick the %1 channels the class leans on most in the feature maps; "
                          "O then switches them off.")
                           .arg(kPickCount));
    m_panel = new QWidget;
    auto* layout = new QVBoxLayout(m_panel);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->setSpacing(3);
    layout->addWidget(m_summary);
    auto* row = new QHBoxLayout;
    row->addWidget(m_progress, 1);
    row->addWidget(m_cancel);
    row->addWidget(m_pick);
    layout->addLayout(row);
    layout->addWidget(m_view, 1);
    connect(m_insight, &ImportanceInsight::shown, this, &ImportancePanel::refresh);
    connect(m_insight, &ImportanceInsight::busyChanged, this, &ImportancePanel::refresh);
    connect(m_insight, &ImportanceInsight::progress, this, [this](int done, int total) {
        m_progress->setRange(0, std::max(total, 1));
        m_progress->setValue(done);
    });
    connect(m_insight, &ImportanceInsight::failed, this, [this](const QString& message) {
        m_summary->setText(tr("Could not compute the importance: %1").arg(message.toHtmlEscaped()));
    });
    connect(m_cancel, &QPushButton::clicked, this, [this] {
        if (m_insight->busy()) {
            m_insight->cancel();
        } else {
            m_insight->compute();  // the button reads "Compute" after a cancel
        }
    });
    connect(m_view, &ImportanceView::channelClicked, this,
            [this](int c) { emit channelsPicked({c}); });
    connect(m_pick, &QPushButton::clicked, this, [this] {
        if (const ImportancePtr r = m_insight->importance()) {
            std::vector<int> top(r->ranked.begin(),
                                 r->ranked.begin() + static_cast<std::ptrdiff_t>(
                                                         std::min(kPickCount, r->ranked.size())));
            std::sort(top.begin(), top.end());
            emit channelsPicked(top);
        }
    });
    refresh();
}

void ImportancePanel::setActive(bool active) {
    m_insight->setWanted(active);
}

void ImportancePanel::refresh() {
    const bool busy = m_insight->busy();
    m_progress->setVisible(busy);
    m_cancel->setText(busy ? tr("Cancel") : tr("Compute"));
    const ImportancePtr r = m_insight->importance();
    const ImportanceKey key = m_insight->key();
    m_cancel->setVisible(busy || (!r && !key.node.empty() && key.node != "input"));
    m_pick->setEnabled(r != nullptr);
    if (!r) {
        if (!busy) m_progress->setValue(0);
        const bool live = m_session->isLive() && !m_session->isFrozen();
        const QString node = m_session->selectedNode();
        m_summary->setText(
            live                             ? tr("Freeze the frame (F) to rank its channels.")
            : !m_session->result()           ? tr("Open an image to rank a layer's channels.")
            : node == QLatin1String("input") ? tr("Select a layer in the diagram: the input has "
                                                  "no channels to rank.")
            : busy ? tr("Switching each channel of %1 off in turn…").arg(node.toHtmlEscaped())
                   : tr("Stopped. Compute ranks %1's channels.").arg(node.toHtmlEscaped()));
        m_view->clear(QString());
        return;
    }
    const int lowers = static_cast<int>(
        std::count_if(r->deltas.begin(), r->deltas.end(), [](float d) { return d < 0; }));
    const QString label =
        m_session->hasModel()
            ? QString::fromStdString(m_session->engine().model->labels().name(r->classIndex))
            : QString::number(r->classIndex);
    m_summary->setText(
        tr("<b>%1</b> for <b>%2</b> (logit %3): without each channel alone, %4 of %5 lower the "
           "logit. %6 runs, %7 ms.%8")
            .arg(QString::fromStdString(r->node).toHtmlEscaped(), label.toHtmlEscaped())
            .arg(r->logit, 0, 'f', 3)
            .arg(lowers)
            .arg(r->deltas.size())
            .arg(r->runs)
            .arg(r->ms, 0, 'f', 0)
            .arg(m_session->ablations().empty()
                     ? QString()
                     : tr("<br>With %1.").arg(m_session->ablationsText().toHtmlEscaped())));
    m_view->setRanking(r->ranked, r->deltas);
}

}  // namespace r18::ui
