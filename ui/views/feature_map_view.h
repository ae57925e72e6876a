// FeatureMapView: every channel of one node's output as a grid of colour-mapped tiles, sized to
// fill the widget — or, for 1×1 outputs (avgpool, fc), as a bar chart with one bar per channel
// (fc: per class, named on hover). Normalisation per channel or per layer; optional sort by
// mean activation. Hover shows a channel's index and min/mean/max (channelHovered); a click
// selects it (channelSelected), Ctrl+click adds or removes a channel from the picked set and
// Shift+click picks the run from the selected one (pickedChannels(): what the channel actions
// switch off). Switched-off channels are crossed out. The figures come with the data (TapStats,
// computed once per result).
#pragma once

#include <QPixmap>
#include <QString>
#include <QStringList>
#include <QWidget>

#include <vector>

#include "core/tap_stats.h"
#include "core/tensor.h"
#include "ui/views/colormap.h"

namespace r18::ui {

class FeatureMapView : public QWidget {
    Q_OBJECT

public:
    enum class Normalization { PerChannel, PerLayer };

    explicit FeatureMapView(QWidget* parent = nullptr);

    // `activations` is [1,C,H,W] or [1,C] (a bar per channel), `stats` its figures.
    void setActivations(const QString& node, const Tensor& activations, const TapStats& stats);
    // Names for the channels of a 1×1 output (fc: the class labels); empty for none.
    void setChannelNames(const QStringList& names);
    // No data: shows `message` instead of a grid.
    void clear(const QString& message);
    // The data shown is not the selected node's (yet): dims it and shows `message` over it;
    // an empty message undoes it.
    void setPending(const QString& message);
    const QString& pendingMessage() const { return m_pending; }
    bool isBarChart() const { return m_channels > 0 && m_h == 1 && m_w == 1; }

    void setNormalization(Normalization n);
    void setSortByMean(bool sort);
    void setColormap(Colormap map);
    Normalization normalization() const { return m_normalization; }
    bool sortByMean() const { return m_sortByMean; }
    Colormap colormap() const { return m_colormap; }

    const QString& node() const { return m_node; }
    const Tensor& activations() const { return m_data; }  // as shown
    int channelCount() const { return m_channels; }
    QSize channelSize() const { return {m_w, m_h}; }       // pixels of one channel (W×H)
    QSize tileSize() const { return {m_tileW, m_tileH}; }  // on screen
    int selectedChannel() const { return m_selected; }
    void selectChannel(int channel);  // -1 clears; emits channelSelected
    // The channels picked with Ctrl/Shift+click, sorted; the selected channel if none is.
    std::vector<int> pickedChannels() const;
    // Picks exactly `channels` (and selects the first); emits pickedChanged.
    void pickChannels(const std::vector<int>& channels);
    // The channels shown crossed out (switched off in this node).
    void setSwitchedOff(const std::vector<int>& channels);
    const std::vector<int>& switchedOff() const { return m_off; }
    const ChannelStats& stats(int channel) const {
        return m_stats.channels[static_cast<size_t>(channel)];
    }
    const TapStats& tapStats() const { return m_stats; }
    // The channel as a colour-mapped image at its own resolution, normalised as the grid is.
    QImage channelImage(int channel) const;
    // The whole grid with a title line, for saving as PNG.
    QImage renderGrid(int width) const;
    // Which channel is under a widget position, or -1.
    int channelAt(const QPoint& pos) const;

    int hoveredChannel() const { return m_hovered; }

signals:
    void channelSelected(int channel);
    void channelHovered(int channel);  // the mouse is over another tile (-1: none)
    void pickedChanged();              // pickedChannels() changed

protected:
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void leaveEvent(QEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;

private:
    struct Layout {
        int cols = 0;
        int tileW = 0;
        int tileH = 0;
        int gap = 0;
        QPoint origin;
    };
    Layout layoutFor(QSize area) const;
    QRect tileRect(const Layout& layout, int position) const;
    void rebuild();  // the cached grid pixmap
    void paintGrid(QPainter& p, const Layout& layout) const;
    void paintBars(QPainter& p, const QRect& area) const;
    void paintMarks(QPainter& p, const Layout& layout) const;  // picked and switched off
    int positionOf(int channel) const;
    QRect barArea() const;
    std::pair<float, float> range(int channel) const;

    QString m_node;
    QString m_message;
    Tensor m_data;
    int m_channels = 0;
    int m_h = 0;
    int m_w = 0;
    TapStats m_stats;
    QStringList m_names;
    QString m_pending;
    std::vector<int> m_order;  // display position -> channel
    Normalization m_normalization = Normalization::PerChannel;
    bool m_sortByMean = false;
    Colormap m_colormap = Colormap::Viridis;
    int m_selected = -1;
    int m_anchor = -1;           // where Shift+click's run starts
    std::vector<char> m_picked;  // per channel: picked with Ctrl/Shift+click
    std::vector<int> m_off;      // switched off, sorted
    int m_hovered = -1;
    int m_tileW = 0;
    int m_tileH = 0;
    QPixmap m_grid;
};

}  // namespace r18::ui
