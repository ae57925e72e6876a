// LayerPanel: what the selected node computed for the image on screen — its feature maps (grid,
// or bars for 1×1 outputs), the most active channels, and one channel enlarged, optionally
// blended over the input. It renders the Session's tapResult() and nothing else: while the
// node's output is being computed it says so over the previous maps instead of passing them
// off as the new node's.
//
// Two widgets for the window to place: the feature-map panel and the channel panel.
#pragma once

#include <QImage>
#include <QObject>
#include <QString>

#include <deque>
#include <vector>

#include "ui/session/inference_types.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QSettings;
class QSlider;
class QWidget;

namespace r18::ui {

class ChannelView;
class HistogramView;
class FeatureMapView;
class Session;

class LayerPanel : public QObject {
    Q_OBJECT

public:
    LayerPanel(Session* session, QObject* parent = nullptr);

    QWidget* featuresPanel() const { return m_featuresPanel; }
    QWidget* channelPanel() const { return m_channelPanel; }
    FeatureMapView* features() const { return m_features; }
    ChannelView* channel() const { return m_channel; }

    // View options, also driven by the View menu (the actions call these).
    void setPerLayerScale(bool perLayer);
    void setSortByMean(bool sort);
    void setBlend(bool blend);
    bool perLayerScale() const;
    bool sortByMean() const;
    bool blend() const;

    static constexpr size_t kDeadFrames = 30;
    QString figuresText() const;  // the figures line, as shown
    HistogramView* histogram() const { return m_histogram; }

    // The selected channel enlarged, as shown (null if none).
    QImage channelImage() const;
    QString channelName() const;  // "layer3.1-channel12"

    // Switching channels off, on the node in the grid (the Channels menu and the grid's context
    // menu). Each returns what it did, for the status bar, or why it could not.
    bool canSwitchChannels() const;  // a node's maps are in the grid
    bool nodeHasChannelsOff() const;
    // Switches the picked channels off; if all of them are off already, back on.
    QString togglePicked();
    QString keepOnlyPicked();    // every other channel of the node off
    QString switchNodeBackOn();  // every channel of the node on again

    void readSettings(const QSettings& settings);
    void writeSettings(QSettings& settings) const;

signals:
    // The enlarged channel to blend over the input's crop (null: none), at `opacity`.
    void overlayChanged(const QImage& overlay, qreal opacity);
    void optionsChanged();  // scale, sort or blend changed (the menu's check marks follow)

private:
    void refresh();
    // Why the picked channels cannot be switched now ("" if they can).
    QString whyNotSwitchable(const std::vector<int>& picked) const;
    void showFigures();  // m_figuresText, and the node's error against fp32 where computed
    void showChannel(int channel);

    Session* m_session;
    FeatureMapView* m_features = nullptr;
    ChannelView* m_channel = nullptr;
    QWidget* m_featuresPanel = nullptr;
    QWidget* m_channelPanel = nullptr;
    QLabel* m_title = nullptr;
    QLabel* m_topChannels = nullptr;
    QLabel* m_figures = nullptr;  // min, mean, std, max, zeros, dead channels
    QString m_figuresText;        // the figures of m_shown's tap, without the error vs fp32
    HistogramView* m_histogram = nullptr;
    // Dead channels on a live source: per shown frame of the selected node, which channels were
    // non-zero anywhere; a channel zero in all of the last kDeadFrames is dead.
    QString m_deadNode;
    std::deque<std::vector<char>> m_active;
    QComboBox* m_normalization = nullptr;
    QComboBox* m_colormap = nullptr;
    QCheckBox* m_sort = nullptr;
    QCheckBox* m_blend = nullptr;
    QSlider* m_opacity = nullptr;
    ResultPtr m_shown;  // the result whose tap is in the grid
};

}  // namespace r18::ui
