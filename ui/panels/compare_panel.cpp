#include "ui/panels/compare_panel.h"

#include <QLabel>
#include <QVBoxLayout>

#include <algorithm>

#include "ui/insight/compare_insight.h"
#include "ui/panels/panel.h"
#include "ui/session/session.h"
#include "ui/views/feature_map_view.h"

namespace r18::ui {

ComparePanel::ComparePanel(Session* session, QObject* parent)
    : QObject(parent), m_session(session), m_insight(new CompareInsight(session, this)) {
    m_summary = new QLabel;
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_predictions = new QLabel;
    m_predictions->setTextFormat(Qt::RichText);
    m_difference = new FeatureMapView;
    m_difference->setColormap(Colormap::Magma);
    m_difference->setNormalization(FeatureMapView::Normalization::PerLayer);
    m_difference->setToolTip(
        tr("|int8 − fp32| of the selected node, one colour scale for the "
           "whole layer: bright where int8 is furthest from fp32"));
    m_panel = new QWidget;
    auto* layout = new QVBoxLayout(m_panel);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->setSpacing(3);
    layout->addWidget(m_predictions);
    layout->addWidget(m_summary);
    layout->addWidget(m_difference, 1);
    connect(m_insight, &CompareInsight::shown, this, &ComparePanel::refresh);
    connect(m_insight, &CompareInsight::busyChanged, this, &ComparePanel::refresh);
    connect(m_insight, &CompareInsight::failed, this, [this](const QString& message) {
        m_summary->setText(tr("Could not compare: %1").arg(message));
    });
    refresh();
}

void ComparePanel::setActive(bool active) {
    m_insight->setWanted(active);
}

void ComparePanel::refresh() {
    const ComparisonPtr c = m_insight->comparison();
    if (!c) {
        m_predictions->clear();
        const bool live = m_session->isLive() && !m_session->isFrozen();
        m_summary->setText(live                   ? tr("Freeze the frame (F) to compare it.")
                           : !m_session->result() ? tr("Open an image to compare fp32 and int8.")
                           : m_insight->busy()
                               ? tr("Running %1 at fp32 and int8…").arg(m_session->selectedNode())
                               : QString());
        m_difference->clear(QString());
        return;
    }
    m_predictions->setText(topFivesTable(tr("fp32"), c->topFp32, tr("int8"), c->topInt8));
    const bool sameTop1 = !c->topFp32.empty() && !c->topInt8.empty() &&
                          c->topFp32.front().index == c->topInt8.front().index;
    m_summary->setText(
        tr("%1: max |int8 − fp32| %2 (%3 % of max |fp32|), mean %4 · top-1 %5 · int8 calibrated "
           "on %6 image(s)")
            .arg(QString::fromStdString(c->node))
            .arg(c->maxAbsDifference, 0, 'g', 3)
            .arg(c->maxAbsFp32 > 0 ? 100.0 * c->maxAbsDifference / c->maxAbsFp32 : 0.0, 0, 'f', 1)
            .arg(c->meanAbsDifference, 0, 'g', 3)
            .arg(sameTop1 ? tr("agrees") : tr("differs"))
            .arg(c->calibrationImages));
    m_difference->setActivations(QString::fromStdString(c->node), c->difference,
                                 c->differenceStats);
}

}  // namespace r18::ui
