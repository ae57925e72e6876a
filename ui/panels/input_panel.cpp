#include "ui/panels/input_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QSettings>
#include <QSlider>

#include "ui/panels/panel.h"
#include "ui/session/session.h"
#include "ui/views/colormap.h"
#include "ui/views/input_view.h"

namespace r18::ui {

InputPanel::InputPanel(Session* session, QObject* parent) : QObject(parent), m_session(session) {
    m_view = new InputView;
    m_heatmap = new QCheckBox(tr("Where it looked"));
    m_heatmap->setToolTip(
        tr("Grad-CAM heat map for the top class, or the class you click in the predictions (H)"));
    m_target = new QComboBox;
    m_target->addItem(tr("layer4 (CAM)"), QStringLiteral("layer4"));
    for (const char* stage : {"layer3", "layer2", "layer1"})
        m_target->addItem(tr("%1 (Grad-CAM)").arg(stage), QString::fromLatin1(stage));
    m_target->setToolTip(
        tr("Where the class's gradient is read: the last stage is the classic CAM; earlier stages "
           "are finer"));
    m_opacity = opacitySlider(75, 60, tr("Heat map opacity"));
    m_panel =
        titledPanel(tr("Input"), m_view, nullptr, controlRow({m_heatmap, m_target, m_opacity}));

    m_opacity->setVisible(false);
    connect(m_heatmap, &QCheckBox::toggled, this, [this](bool on) {
        m_opacity->setVisible(on);  // only while there is a heat map to fade
        pushSettings();
        emit heatmapToggled(on);
    });
    connect(m_target, &QComboBox::currentIndexChanged, this, &InputPanel::pushSettings);
    connect(m_opacity, &QSlider::valueChanged, this, &InputPanel::refresh);
    connect(m_session, &Session::resultShown, this, &InputPanel::refresh);
}

void InputPanel::pushSettings() {
    HeatmapSettings h = m_session->heatmap();
    h.enabled = m_heatmap->isChecked();
    h.target = m_target->currentData().toString().toStdString();
    if (!h.enabled) h.classIndex = kTopClass;
    m_session->setHeatmap(h);
    refresh();
}

void InputPanel::setHeatmapEnabled(bool on) {
    m_heatmap->setChecked(on);
}

bool InputPanel::heatmapEnabled() const {
    return m_heatmap->isChecked();
}

void InputPanel::toggleHeatmapClass(int64_t classIndex) {
    HeatmapSettings h = m_session->heatmap();
    h.classIndex = classIndex == h.classIndex ? kTopClass : classIndex;
    h.enabled = true;
    m_session->setHeatmap(h);
    m_heatmap->setChecked(true);  // no-op if it already was
    refresh();
}

void InputPanel::setOverlay(const QImage& overlay, qreal opacity) {
    m_view->setOverlay(overlay, opacity);
}

void InputPanel::refresh() {
    const ResultPtr r = m_session->result();
    if (!r) {
        m_view->clear();
        m_shownSourceId = 0;
        emit heatmapClassShown(-1);
        return;
    }
    if (m_session->hasModel()) m_view->setPreprocess(m_session->engine().model->preprocess());
    if (r->source->sourceId != m_shownSourceId) {
        m_view->setImage(r->display, r->originalSize, r->source->label);
        m_shownSourceId = r->source->sourceId;
    }
    if (const Heatmap* h = m_session->shownHeatmap()) {
        m_view->setHeatmap(heatImage(h->values.data(), static_cast<int>(h->height),
                                     static_cast<int>(h->width), h->maxValue(), Colormap::Magma),
                           m_opacity->value() / 100.0);
        emit heatmapClassShown(h->classIndex);
    } else {
        m_view->setHeatmap({}, 0);  // off, or the one asked for is on its way
        emit heatmapClassShown(-1);
    }
}

void InputPanel::readSettings(const QSettings& s) {
    m_target->setCurrentIndex(
        std::clamp(s.value("view/heatTarget", 0).toInt(), 0, m_target->count() - 1));
    m_opacity->setValue(s.value("view/heatOpacity", 75).toInt());
    m_heatmap->setChecked(s.value("view/heatmap", false).toBool());
}

void InputPanel::writeSettings(QSettings& s) const {
    s.setValue("view/heatmap", m_heatmap->isChecked());
    s.setValue("view/heatTarget", m_target->currentIndex());
    s.setValue("view/heatOpacity", m_opacity->value());
}

}  // namespace r18::ui
