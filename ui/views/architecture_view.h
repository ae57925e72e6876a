// ArchitectureView: the classic ResNet diagram drawn from a NetworkSpec — one box per node,
// stage colours (stem gray, stage 1 green, 2 orange, 3 blue, 4 red, head purple), solid arcs
// for identity skips, dashed arcs through the 1×1 projection for projection skips.
// legendHtml() is the matching legend, shown under the view.
// Hover shows shape, parameters, MACs and time; click or Up/Down selects a node; Ctrl+wheel
// or +/- zooms, dragging pans, 0 fits the diagram again.
#pragma once

#include <QGraphicsView>
#include <QImage>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/model/network_spec.h"

class QGraphicsPathItem;

namespace r18::ui {

class NodeItem;

class ArchitectureView : public QGraphicsView {
    Q_OBJECT

public:
    explicit ArchitectureView(QWidget* parent = nullptr);
    ~ArchitectureView() override;

    void setSpec(std::shared_ptr<const NetworkSpec> spec);
    const NetworkSpec* spec() const { return m_spec.get(); }

    // Selects a node by name; a conv fused into its block's add selects that block instead.
    // Unknown names are ignored. Emits nodeSelected when the selection changes.
    void select(const QString& node);
    QString selected() const;
    // Per-node milliseconds (indexed like spec()->nodes) shown in the boxes; empty clears.
    void setNodeTimes(const std::vector<double>& ms);
    // How many channels are switched off per node name (absent: none): a red frame and badge.
    void setSwitchedOff(const std::map<std::string, int>& counts);
    int switchedOffCount(const QString& node) const;

    // Colouring of the boxes: by stage, or by a per-node figure on a viridis scale.
    // Error: max |q − f| / max |f| of the node's output at int8 or bf16 against fp32.
    enum class Figure { Stage, Time, Zeros, Mean, Pictures, Error };
    // `values` per spec node; NaN leaves a box uncoloured. Returns the legend as rich text.
    QString setFigures(Figure figure, const std::vector<double>& values);
    Figure figure() const { return m_figure; }
    QColor boxColor(const QString& node) const;  // the fill a node is drawn with
    // Figure::Pictures: per spec node, a thumbnail (its most active channel, colour-mapped) and
    // its value histogram, drawn in the box; empty vectors clear them.
    void setPictures(const std::vector<QImage>& thumbnails,
                     const std::vector<std::vector<int64_t>>& histograms);
    QImage pictureOf(const QString& node) const;  // null if none

    void fitDiagram();
    static QColor stageColor(int stage);
    static QString legendHtml();

    // For tests and tools: what the diagram holds.
    int boxCount() const;  // conv, pool, fc and input boxes
    int identityArcCount() const { return m_identityArcs; }
    int projectionArcCount() const { return m_projectionArcs; }
    QPoint viewportPointOf(const QString& node) const;  // centre of a node's box

signals:
    void nodeSelected(const QString& node);

protected:
    void wheelEvent(QWheelEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

private:
    void build();
    void zoomBy(double factor);
    int selectableNeighbour(int from, int step) const;

    std::shared_ptr<const NetworkSpec> m_spec;
    std::vector<NodeItem*> m_items;  // per spec node, owned by the scene
    QGraphicsPathItem* m_selectionFrame = nullptr;
    int m_selected = -1;
    Figure m_figure = Figure::Stage;
    bool m_autoFit = true;
    int m_identityArcs = 0;
    int m_projectionArcs = 0;
};

}  // namespace r18::ui
