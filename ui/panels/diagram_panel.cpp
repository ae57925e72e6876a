#include "ui/panels/diagram_panel.h"

#include <QComboBox>
#include <QFontMetrics>
#include <QLabel>
#include <QSettings>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

#include "ui/panels/panel.h"
#include "ui/session/session.h"
#include "ui/views/architecture_view.h"
#include "ui/views/colormap.h"

namespace r18::ui {
namespace {

constexpr const char* kDefaultNode = "layer2.1";

}  // namespace

DiagramPanel::DiagramPanel(Session* session, const QString& preferredNode, QObject* parent)
    : QObject(parent), m_session(session), m_preferredNode(preferredNode) {
    m_view = new ArchitectureView;
    m_view->setAcceptDrops(false);
    m_legend = new QLabel(ArchitectureView::legendHtml());
    m_legend->setWordWrap(true);
    QFont small = m_legend->font();
    small.setPointSizeF(small.pointSizeF() * 0.9);
    m_legend->setFont(small);
    // Three lines whatever it says, so that the diagram above keeps its size (and a click aimed
    // at a box right after a change of colouring lands on it).
    m_legend->setMinimumHeight(3 * QFontMetrics(small).lineSpacing() + 4);
    m_legend->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    m_figure = new QComboBox;
    m_figure->addItems({tr("Stages"), tr("Time"), tr("Zero activations"), tr("Mean activation"),
                        tr("Pictures"), tr("Error vs fp32")});
    m_figure->setToolTip(
        tr("Colour the diagram by stage or by a figure of this image, or show in every box its "
           "most active channel and its value histogram (Pictures), or colour it by how far "
           "int8 or bf16 is from fp32 at each node (Error vs fp32)"));

    auto* box = new QWidget;
    auto* layout = new QVBoxLayout(box);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    layout->addWidget(m_view, 1);
    layout->addWidget(m_legend);
    m_panel = titledPanel(tr("ResNet18"), box, &m_title, m_figure);

    connect(m_figure, &QComboBox::currentIndexChanged, this, [this] {
        using F = ArchitectureView::Figure;
        const auto figure = static_cast<F>(m_figure->currentIndex());
        m_session->setNodeFiguresWanted(figure == F::Zeros || figure == F::Mean ||
                                        figure == F::Pictures);
        m_session->setErrorFiguresWanted(figure == F::Error);
        refresh();
    });
    connect(m_view, &ArchitectureView::nodeSelected, m_session, &Session::selectNode);
    // A node selected elsewhere (the A / B curve, a test) is selected in the diagram too.
    connect(m_session, &Session::nodeSelected, m_view, &ArchitectureView::select);
    connect(m_session, &Session::engineChanged, this, &DiagramPanel::onEngine);
    connect(m_session, &Session::resultShown, this, &DiagramPanel::refresh);
    connect(m_session, &Session::ablationsChanged, this, [this] {
        std::map<std::string, int> counts;
        for (const ChannelAblation& a : m_session->ablations())
            counts[a.node] = static_cast<int>(a.channels.size());
        m_view->setSwitchedOff(counts);
    });
}

void DiagramPanel::onEngine(const EngineInfo& engine) {
    const NetworkSpec* spec = engine.model ? &engine.model->spec() : nullptr;
    if (spec == m_spec) return;
    m_spec = spec;
    const QString keep = m_view->selected().isEmpty() ? m_preferredNode : m_view->selected();
    m_view->setSpec(engine.model ? engine.model->specPtr() : nullptr);
    m_view->select(keep);
    if (m_view->selected().isEmpty()) m_view->select(QString::fromLatin1(kDefaultNode));
    m_session->selectNode(m_view->selected());
    m_title->setText(spec ? QString::fromStdString(spec->archName()) : QString());
    refresh();
}

bool DiagramPanel::calibratedOnThisImage(const InferenceResult& r) const {
    const EngineInfo& engine = m_session->engine();
    if (engine.precision != Precision::Int8 || !r.input) return true;
    return std::any_of(engine.calibration.begin(), engine.calibration.end(),
                       [&r](const std::shared_ptr<const Tensor>& t) {
                           return t == r.input || t->data == r.input->data;
                       });
}

void DiagramPanel::refresh() {
    const ResultPtr r = m_session->result();
    const auto figure = static_cast<ArchitectureView::Figure>(m_figure->currentIndex());
    std::vector<double> values;
    std::vector<QImage> thumbnails;
    std::vector<std::vector<int64_t>> histograms;
    if (figure == ArchitectureView::Figure::Pictures && r && m_spec &&
        r->nodeFigures.size() == m_spec->nodes.size()) {
        for (size_t i = 0; i < m_spec->nodes.size(); ++i) {
            const int fused = m_spec->nodes[i].fusedInto;
            const NodeFigures& f = r->nodeFigures[fused >= 0 ? static_cast<size_t>(fused) : i];
            const Tensor& t = f.thumbnail;
            thumbnails.push_back(t.dims.size() == 2
                                     ? planeImage(t.ptr(), static_cast<int>(t.dims[0]),
                                                  static_cast<int>(t.dims[1]), f.thumbnailLo,
                                                  f.thumbnailHi, Colormap::Viridis)
                                     : QImage());
            histograms.push_back(f.histogram);
        }
    }
    m_view->setPictures(thumbnails, histograms);
    if (r && m_spec && r->nodeMs.size() == m_spec->nodes.size()) {
        m_view->setNodeTimes(r->nodeMs);
        values.assign(m_spec->nodes.size(), NAN);
        for (size_t i = 0; i < m_spec->nodes.size(); ++i) {
            if (figure == ArchitectureView::Figure::Time && r->nodeMs[i] > 0)
                values[i] = r->nodeMs[i];
            if (i >= r->nodeFigures.size()) continue;
            // A conv fused into its block's add shows the block output's figures.
            const int fused = m_spec->nodes[i].fusedInto;
            const NodeFigures& f = r->nodeFigures[fused >= 0 ? static_cast<size_t>(fused) : i];
            if (figure == ArchitectureView::Figure::Zeros) values[i] = f.zeroFraction;
            if (figure == ArchitectureView::Figure::Mean) values[i] = f.mean;
        }
    } else {
        m_view->setNodeTimes({});
    }
    if (figure == ArchitectureView::Figure::Error && r && m_spec) {
        values.assign(m_spec->nodes.size(), NAN);
        for (size_t i = 0; i < m_spec->nodes.size(); ++i) {
            const int fused = m_spec->nodes[i].fusedInto;
            const std::string& name =
                m_spec->nodes[fused >= 0 ? static_cast<size_t>(fused) : i].name;
            if (const auto it = r->vsFp32.find(name); it != r->vsFp32.end())
                values[i] = it->second.relativeError;
        }
    }
    const QString legend = m_view->setFigures(figure, values);
    if (figure == ArchitectureView::Figure::Error && (!r || r->vsFp32.empty()))
        m_legend->setText(
            m_session->engine().precision == Precision::Fp32
                ? tr("<b>error vs fp32</b><br>The network runs fp32: choose int8 (Ctrl+3) "
                     "or bf16 (Ctrl+2) in the Engine menu to see where they differ.")
                : tr("<b>error vs fp32</b><br>Computing…"));
    else if (figure == ArchitectureView::Figure::Error && !r->source->live &&
             !calibratedOnThisImage(*r))
        m_legend->setText(legend + tr("<br>int8 was calibrated on other images than this one: "
                                      "Ctrl+1, then Ctrl+3 calibrates it on the images opened "
                                      "since."));
    else
        m_legend->setText(legend);
}

QString DiagramPanel::legendText() const {
    return m_legend->text();
}

void DiagramPanel::readSettings(const QSettings& s) {
    m_figure->setCurrentIndex(
        std::clamp(s.value("view/figure", 0).toInt(), 0, m_figure->count() - 1));
}

void DiagramPanel::writeSettings(QSettings& s) const {
    s.setValue("view/figure", m_figure->currentIndex());
    if (!m_view->selected().isEmpty()) s.setValue("view/node", m_view->selected());
}

}  // namespace r18::ui
