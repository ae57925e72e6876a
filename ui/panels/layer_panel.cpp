#include "ui/panels/layer_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSettings>
#include <QSlider>
#include <QVBoxLayout>

#include <algorithm>
#include <iterator>

#include "ui/panels/panel.h"
#include "ui/session/session.h"
#include "ui/views/channel_view.h"
#include "ui/views/feature_map_view.h"
#include "ui/views/histogram_view.h"

namespace r18::ui {
namespace {

constexpr int kTopChannels = 6;

QString shapeText(const Tensor& t) {
    QStringList dims;
    for (size_t i = 1; i < t.dims.size(); ++i) dims << QString::number(t.dims[i]);
    return dims.join(QStringLiteral(" × "));
}

}  // namespace

LayerPanel::LayerPanel(Session* session, QObject* parent) : QObject(parent), m_session(session) {
    m_features = new FeatureMapView;
    m_channel = new ChannelView;

    m_normalization = new QComboBox;
    m_normalization->addItems({tr("Per channel"), tr("Per layer")});
    m_normalization->setToolTip(
        tr("Colour scale: each channel from its own min to max, or one scale for the whole layer "
           "(N)"));
    m_colormap = new QComboBox;
    m_colormap->addItems(colormapNames());
    m_colormap->setToolTip(tr("Colour map"));
    m_sort = new QCheckBox(tr("Sort"));
    m_sort->setToolTip(tr("Order channels by mean activation, strongest first (S)"));
    m_blend = new QCheckBox(tr("Blend"));
    m_blend->setToolTip(
        tr("Show the enlarged channel over the part of the image the network sees (B)"));
    m_opacity = opacitySlider(60, 70, tr("Overlay opacity"));

    m_topChannels = new QLabel;
    m_topChannels->setTextFormat(Qt::RichText);
    m_topChannels->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_topChannels->setToolTip(
        tr("The channels with the highest mean activation for this image; click to enlarge"));

    m_figures = new QLabel;
    m_figures->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_figures->setToolTip(
        tr("The layer's figures for this image; dead channels are zero everywhere (on a live "
           "source: on each of the last %1 frames)")
            .arg(kDeadFrames));
    m_histogram = new HistogramView;

    auto* features = new QWidget;
    auto* layout = new QVBoxLayout(features);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    auto* figures = new QHBoxLayout;
    figures->setSpacing(8);
    figures->addWidget(m_histogram);
    auto* lines = new QVBoxLayout;
    lines->setSpacing(0);
    lines->addWidget(m_topChannels);
    lines->addWidget(m_figures);
    figures->addLayout(lines, 1);
    layout->addLayout(figures);
    layout->addWidget(m_features, 1);
    m_featuresPanel = titledPanel(tr("Feature maps"), features, &m_title,
                                  controlRow({m_normalization, m_colormap, m_sort}));
    m_channelPanel =
        titledPanel(tr("Channel"), m_channel, nullptr, controlRow({m_blend, m_opacity}));

    connect(m_normalization, &QComboBox::currentIndexChanged, this, [this](int i) {
        m_features->setNormalization(i == 1 ? FeatureMapView::Normalization::PerLayer
                                            : FeatureMapView::Normalization::PerChannel);
        showChannel(m_features->selectedChannel());
        emit optionsChanged();
    });
    connect(m_colormap, &QComboBox::currentIndexChanged, this, [this](int i) {
        m_features->setColormap(static_cast<Colormap>(i));
        showChannel(m_features->selectedChannel());
    });
    connect(m_sort, &QCheckBox::toggled, this, [this](bool on) {
        m_features->setSortByMean(on);
        emit optionsChanged();
    });
    m_opacity->setVisible(false);
    connect(m_blend, &QCheckBox::toggled, this, [this](bool on) {
        m_opacity->setVisible(on);  // only while the channel is blended
        showChannel(m_features->selectedChannel());
        emit optionsChanged();
    });
    connect(m_opacity, &QSlider::valueChanged, this,
            [this] { showChannel(m_features->selectedChannel()); });
    connect(m_features, &FeatureMapView::channelSelected, this, &LayerPanel::showChannel);
    connect(m_topChannels, &QLabel::linkActivated, this,
            [this](const QString& link) { m_features->selectChannel(link.toInt()); });
    connect(m_session, &Session::tapShown, this, &LayerPanel::refresh);
    refresh();
}

void LayerPanel::refresh() {
    const QString node = m_session->selectedNode();
    const ResultPtr r = m_session->tapResult();
    if (!r) {
        m_shown.reset();
        m_title->setText(tr("Feature maps — %1").arg(node));
        if (!m_session->shownSource() || m_features->channelCount() == 0) {
            m_features->clear(m_session->shownSource() || m_session->openingSource() ||
                                      m_session->isLive()
                                  ? tr("Computing %1…").arg(node)
                                  : tr("Open an image to see the feature maps of %1.").arg(node));
            m_topChannels->clear();
            m_figures->clear();
            m_histogram->clear();
            showChannel(-1);
        } else {
            m_features->setPending(tr("Computing %1…").arg(node));
        }
        return;
    }
    if (r == m_shown && node == m_features->node()) {
        showFigures();  // a later result of this image may have compared it with fp32
        return;
    }
    m_shown = r;
    const std::string name = node.toStdString();
    const Tensor& tap = r->taps.at(name);
    const TapStats& stats = r->tapStats.at(name);
    QStringList names;
    if (name == "fc" && m_session->hasModel()) {
        const Labels& labels = m_session->engine().model->labels();
        for (int64_t c = 0; c < tap.dims[1]; ++c) names << QString::fromStdString(labels.name(c));
    }
    m_features->setChannelNames(names);
    m_features->setActivations(node, tap, stats);
    const std::vector<int> off = m_session->switchedOff(node);
    m_features->setSwitchedOff(off);
    m_title->setText(off.empty() ? tr("Feature maps — %1 · %2").arg(node, shapeText(tap))
                                 : tr("Feature maps — %1 · %2 · %3 of %4 switched off")
                                       .arg(node, shapeText(tap))
                                       .arg(off.size())
                                       .arg(tap.dims[1]));
    QStringList links;
    for (size_t i = 0; i < std::min<size_t>(kTopChannels, stats.byMean.size()); ++i) {
        const int c = stats.byMean[i];
        const QString label = c < names.size() ? names[c] : QStringLiteral("#%1").arg(c);
        links << QStringLiteral("<a href='%1'>%2</a> %3")
                     .arg(c)
                     .arg(label.toHtmlEscaped())
                     .arg(stats.channels[static_cast<size_t>(c)].mean, 0, 'g', 3);
    }
    m_topChannels->setText(tr("Most active: %1").arg(links.join(QStringLiteral(" · "))));
    m_histogram->setHistogram(stats.histogram);
    // Dead channels: zero everywhere in this image; live, in every one of the last frames.
    std::vector<char> active(stats.channels.size());
    for (size_t c = 0; c < active.size(); ++c)
        active[c] = stats.channels[c].max != 0.0F || stats.channels[c].min != 0.0F;
    const bool live = r->source->live;
    if (!live || node != m_deadNode ||
        (!m_active.empty() && m_active.back().size() != active.size()))
        m_active.clear();
    m_deadNode = node;
    m_active.push_back(std::move(active));
    while (m_active.size() > (live ? kDeadFrames : 1)) m_active.pop_front();
    int dead = 0;
    for (size_t c = 0; c < m_active.back().size(); ++c)
        dead += std::none_of(m_active.begin(), m_active.end(),
                             [c](const std::vector<char>& frame) { return frame[c] != 0; });
    const QString deadText =
        live ? tr("dead %1 (zero on all of the last %2 frames)").arg(dead).arg(m_active.size())
             : tr("dead %1 (zero everywhere)").arg(dead);
    QString text = tr("min %1 · mean %2 · std %3 · max %4 · zeros %5% · %6")
                       .arg(stats.min, 0, 'g', 3)
                       .arg(stats.mean, 0, 'g', 3)
                       .arg(stats.std, 0, 'g', 3)
                       .arg(stats.max, 0, 'g', 3)
                       .arg(100.0 * stats.zeroFraction, 0, 'f', 1)
                       .arg(deadText);
    m_figuresText = text;
    showFigures();
    showChannel(m_features->selectedChannel());
}

void LayerPanel::showFigures() {
    QString text = m_figuresText;
    // At int8 or bf16, how far this node is from fp32 for the same input: from the tap's own
    // result, or a later one of the same image, engine and channels (a frozen frame is compared
    // after it was shown).
    const std::string name = m_features->node().toStdString();
    for (const ResultPtr& x : {m_session->result(), m_shown}) {
        if (!x || !m_shown || x->source->sourceId != m_shown->source->sourceId ||
            x->engineId != m_shown->engineId || x->needs.ablations != m_shown->needs.ablations)
            continue;
        if (const auto it = x->vsFp32.find(name); it != x->vsFp32.end()) {
            text += tr("\nvs fp32: error %1% (max |q − f| / max |f|) · cosine %2")
                        .arg(100.0 * it->second.relativeError, 0, 'g', 3)
                        .arg(it->second.cosine, 0, 'f', 5);
            break;
        }
    }
    m_figures->setText(text);
}

QString LayerPanel::figuresText() const {
    return m_figures->text();
}

bool LayerPanel::canSwitchChannels() const {
    return m_session->hasModel() && m_features->channelCount() > 0;
}

bool LayerPanel::nodeHasChannelsOff() const {
    return !m_session->switchedOff(m_features->node()).empty();
}

namespace {

QString channelsText(const std::vector<int>& channels) {
    QStringList parts;
    for (size_t i = 0; i < std::min<size_t>(channels.size(), 8); ++i)
        parts << QString::number(channels[i]);
    if (channels.size() > 8) parts << QStringLiteral("…");
    return parts.join(QStringLiteral(", "));
}

}  // namespace

QString LayerPanel::whyNotSwitchable(const std::vector<int>& picked) const {
    if (!canSwitchChannels() || !m_features->pendingMessage().isEmpty())
        return tr("Select a layer and wait for its feature maps first.");
    if (picked.empty()) return tr("Click a channel first (Ctrl+click or Shift+click for several).");
    return {};
}

QString LayerPanel::togglePicked() {
    const std::vector<int> picked = m_features->pickedChannels();
    if (const QString why = whyNotSwitchable(picked); !why.isEmpty()) return why;
    const QString node = m_features->node();
    std::vector<int> off = m_session->switchedOff(node);
    const bool allOff = std::all_of(picked.begin(), picked.end(), [&off](int c) {
        return std::binary_search(off.begin(), off.end(), c);
    });
    if (allOff) {
        std::vector<int> rest;
        std::set_difference(off.begin(), off.end(), picked.begin(), picked.end(),
                            std::back_inserter(rest));
        off = std::move(rest);
    } else {
        off.insert(off.end(), picked.begin(), picked.end());
    }
    QString error;
    if (!m_session->setSwitchedOff(node, off, &error)) return error;
    const QString which = picked.size() == 1 ? tr("channel %1").arg(picked[0])
                                             : tr("channels %1").arg(channelsText(picked));
    return (allOff ? tr("%1: %2 back on.") : tr("%1: %2 switched off.")).arg(node, which);
}

QString LayerPanel::keepOnlyPicked() {
    const std::vector<int> picked = m_features->pickedChannels();
    if (const QString why = whyNotSwitchable(picked); !why.isEmpty()) return why;
    const QString node = m_features->node();
    std::vector<int> off;
    for (int c = 0; c < m_features->channelCount(); ++c)
        if (!std::binary_search(picked.begin(), picked.end(), c)) off.push_back(c);
    QString error;
    if (!m_session->setSwitchedOff(node, off, &error)) return error;
    return tr("%1: every channel but %2 switched off (%3 of %4).")
        .arg(node, channelsText(picked))
        .arg(off.size())
        .arg(m_features->channelCount());
}

QString LayerPanel::switchNodeBackOn() {
    const QString node = m_features->node();
    if (node.isEmpty() || !nodeHasChannelsOff()) return tr("No channel of this layer is off.");
    m_session->setSwitchedOff(node, {});
    return tr("%1: every channel back on.").arg(node);
}

void LayerPanel::showChannel(int channel) {
    if (channel < 0 || channel >= m_features->channelCount()) {
        m_channel->clear();
        emit overlayChanged({}, 0);
        return;
    }
    const QImage image = m_features->channelImage(channel);
    const ChannelStats& s = m_features->stats(channel);
    const bool perLayer = m_features->normalization() == FeatureMapView::Normalization::PerLayer ||
                          m_features->isBarChart();
    const TapStats& all = m_features->tapStats();
    m_channel->setChannel(image,
                          tr("%1 · channel %2 of %3 · %4×%5\nmin %6 · mean %7 · max %8")
                              .arg(m_features->node())
                              .arg(channel)
                              .arg(m_features->channelCount())
                              .arg(image.width())
                              .arg(image.height())
                              .arg(s.min, 0, 'g', 3)
                              .arg(s.mean, 0, 'g', 3)
                              .arg(s.max, 0, 'g', 3),
                          perLayer ? all.min : s.min, perLayer ? all.max : s.max,
                          m_features->colormap());
    if (m_blend->isChecked() && image.width() > 1)
        emit overlayChanged(image.scaled(224, 224, Qt::IgnoreAspectRatio, Qt::SmoothTransformation),
                            m_opacity->value() / 100.0);
    else
        emit overlayChanged({}, 0);
}

QImage LayerPanel::channelImage() const {
    return m_features->channelImage(m_features->selectedChannel());
}

QString LayerPanel::channelName() const {
    return QStringLiteral("%1-channel%2")
        .arg(m_features->node())
        .arg(m_features->selectedChannel());
}

void LayerPanel::setPerLayerScale(bool perLayer) {
    m_normalization->setCurrentIndex(perLayer ? 1 : 0);
}

void LayerPanel::setSortByMean(bool sort) {
    m_sort->setChecked(sort);
}

void LayerPanel::setBlend(bool blend) {
    m_blend->setChecked(blend);
}

bool LayerPanel::perLayerScale() const {
    return m_normalization->currentIndex() == 1;
}

bool LayerPanel::sortByMean() const {
    return m_sort->isChecked();
}

bool LayerPanel::blend() const {
    return m_blend->isChecked();
}

void LayerPanel::readSettings(const QSettings& s) {
    m_normalization->setCurrentIndex(s.value("view/normalization", 0).toInt() == 1 ? 1 : 0);
    m_sort->setChecked(s.value("view/sortByMean", false).toBool());
    m_colormap->setCurrentIndex(
        std::clamp(s.value("view/colormap", 0).toInt(), 0, m_colormap->count() - 1));
    m_blend->setChecked(s.value("view/blend", false).toBool());
    m_opacity->setValue(s.value("view/opacity", 60).toInt());
}

void LayerPanel::writeSettings(QSettings& s) const {
    s.setValue("view/normalization", m_normalization->currentIndex());
    s.setValue("view/sortByMean", m_sort->isChecked());
    s.setValue("view/colormap", m_colormap->currentIndex());
    s.setValue("view/blend", m_blend->isChecked());
    s.setValue("view/opacity", m_opacity->value());
}

}  // namespace r18::ui
