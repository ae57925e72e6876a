#include "ui/panels/pair_panel.h"

#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPixmap>
#include <QPushButton>
#include <QVBoxLayout>

#include <algorithm>

#include "core/precision_compare.h"
#include "ui/insight/pair_insight.h"
#include "ui/panels/panel.h"
#include "ui/session/session.h"
#include "ui/views/feature_map_view.h"
#include "ui/views/similarity_curve.h"

namespace r18::ui {
namespace {

QString shortName(const QString& label) {
    const QString name = QFileInfo(label).fileName();
    return name.isEmpty() ? label : name;
}

constexpr double kAlike = 0.5;  // where "alike" ends, for the summary

}  // namespace

PairPanel::PairPanel(Session* session, QObject* parent)
    : QObject(parent), m_session(session), m_insight(new PairInsight(session, this)) {
    m_pinned = new QLabel;
    m_pinned->setTextFormat(Qt::RichText);
    m_pin = new QPushButton(tr("Pin This Image as A"));
    m_unpin = new QPushButton(tr("Unpin"));
    m_predictions = new QLabel;
    m_predictions->setTextFormat(Qt::RichText);
    m_summary = new QLabel;
    m_summary->setWordWrap(true);
    m_summary->setTextFormat(Qt::RichText);
    m_curve = new SimilarityCurve;
    m_a = new FeatureMapView;
    m_b = new FeatureMapView;
    m_difference = new FeatureMapView;
    m_difference->setColormap(Colormap::Magma);
    m_difference->setNormalization(FeatureMapView::Normalization::PerLayer);
    for (FeatureMapView* v : {m_a, m_b, m_difference}) v->setMinimumSize(110, 110);
    m_panel = new QWidget;
    auto* layout = new QVBoxLayout(m_panel);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->setSpacing(3);
    auto* top = new QHBoxLayout;
    top->addWidget(m_pinned, 1);
    top->addWidget(m_pin);
    top->addWidget(m_unpin);
    layout->addLayout(top);
    layout->addWidget(m_predictions);
    layout->addWidget(m_curve);
    layout->addWidget(m_summary);
    auto* grids = new QGridLayout;
    grids->setSpacing(2);
    const QString captions[] = {tr("A"), tr("B"), tr("|B − A|")};
    FeatureMapView* views[] = {m_a, m_b, m_difference};
    for (int i = 0; i < 3; ++i) {
        auto* caption = new QLabel(captions[i]);
        caption->setAlignment(Qt::AlignCenter);
        grids->addWidget(caption, 0, i);
        grids->addWidget(views[i], 1, i);
        grids->setColumnStretch(i, 1);
    }
    grids->setRowStretch(1, 1);
    layout->addLayout(grids, 1);

    connect(m_insight, &PairInsight::shown, this, &PairPanel::refresh);
    connect(m_insight, &PairInsight::busyChanged, this, &PairPanel::refresh);
    connect(m_insight, &PairInsight::failed, this, [this](const QString& message) {
        m_summary->setText(tr("Could not compare A and B: %1").arg(message.toHtmlEscaped()));
    });
    connect(m_session, &Session::nodeSelected, this, &PairPanel::refresh);
    connect(m_pin, &QPushButton::clicked, m_insight, [this] { m_insight->pin(); });
    connect(m_unpin, &QPushButton::clicked, m_insight, &PairInsight::unpin);
    connect(m_curve, &SimilarityCurve::nodeClicked, m_session, &Session::selectNode);
    // One channel is looked at in all three grids: clicking it in one selects it in the others.
    for (FeatureMapView* from : {m_a, m_b, m_difference})
        for (FeatureMapView* to : {m_a, m_b, m_difference})
            if (from != to)
                connect(from, &FeatureMapView::channelSelected, to, &FeatureMapView::selectChannel);
    refresh();
}

void PairPanel::setActive(bool active) {
    m_insight->setWanted(active);
}

void PairPanel::refresh() {
    m_unpin->setEnabled(m_insight->pinned());
    if (m_insight->pinned()) {
        const QImage a = m_insight->pinnedImage();
        m_pinned->setPixmap(QPixmap::fromImage(
            a.isNull() ? a : a.scaled(96, 64, Qt::KeepAspectRatio, Qt::SmoothTransformation)));
        m_pinned->setToolTip(tr("A: %1").arg(m_insight->pinnedLabel()));
    } else {
        m_pinned->setText(tr("No image pinned as A."));
        m_pinned->setToolTip(QString());
    }
    const PairPtr pair = m_insight->pair();
    const QString node = m_session->selectedNode();
    if (!pair) {
        const bool live = m_session->isLive() && !m_session->isFrozen();
        const SourcePtr shown = m_session->shownSource();
        m_predictions->clear();
        m_summary->setText(
            !m_insight->pinned()
                ? tr("Pin the image on screen as A (Shift+P), then open another image: B. The "
                     "panel shows where in the network the two stop looking alike.")
            : live ? tr("Freeze the frame (F) to compare it with A.")
            : shown && shown->sourceId == m_insight->pinnedSourceId() && !m_insight->busy()
                ? tr("A is on screen: open another image (or freeze a frame) as B.")
            : m_insight->busy() ? tr("Running A and B through every node…")
                                : QString());
        m_curve->clear();
        for (FeatureMapView* v : {m_a, m_b, m_difference}) v->clear(QString());
        return;
    }
    m_predictions->setText(topFivesTable(tr("A: %1").arg(shortName(pair->labelA)), pair->topA,
                                         tr("B: %1").arg(shortName(pair->labelB)), pair->topB));
    QStringList nodes;
    std::vector<double> cosines;
    const NodeComparison* selected = nullptr;
    QString parted;  // the first node from which A and B stay below kAlike
    for (const NodeComparison& c : pair->nodes) {
        nodes << QString::fromStdString(c.node);
        cosines.push_back(c.difference.cosine);
        if (c.node == node.toStdString()) selected = &c;
    }
    for (size_t i = cosines.size(); i-- > 0;) {
        if (cosines[i] >= kAlike) break;
        parted = nodes[static_cast<int>(i)];
    }
    m_curve->setValues(nodes, cosines);
    m_curve->setSelected(node);
    QString text = selected ? tr("<b>%1</b>: cosine %2, max |B − A| %3.")
                                  .arg(node.toHtmlEscaped())
                                  .arg(selected->difference.cosine, 0, 'f', 4)
                                  .arg(selected->difference.maxAbsDiff, 0, 'g', 3)
                            : tr("Select a node (click the curve or the diagram).");
    const auto least = std::min_element(cosines.begin(), cosines.end());
    text += tr(" Least alike at <b>%1</b> (cosine %2).")
                .arg(nodes[static_cast<int>(least - cosines.begin())].toHtmlEscaped())
                .arg(*least, 0, 'f', 3);
    if (!parted.isEmpty())
        text += tr(" From <b>%1</b> on, their cosine stays below %2: the network tells them apart.")
                    .arg(parted.toHtmlEscaped())
                    .arg(kAlike);
    m_summary->setText(text);
    const auto a = pair->tapsA.find(node.toStdString());
    const auto b = pair->tapsB.find(node.toStdString());
    if (a == pair->tapsA.end() || b == pair->tapsB.end()) {
        for (FeatureMapView* v : {m_a, m_b, m_difference})
            v->clear(tr("No feature maps for %1.").arg(node));
        return;
    }
    m_a->setActivations(node, a->second, computeTapStats(a->second));
    m_b->setActivations(node, b->second, computeTapStats(b->second));
    const Tensor d = absoluteDifference(a->second, b->second);
    m_difference->setActivations(node, d, computeTapStats(d));
    m_a->selectChannel(m_difference->selectedChannel());  // where they differ most, in all three
}

}  // namespace r18::ui
