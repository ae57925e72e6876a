#include "ui/views/architecture_view.h"

#include <QGraphicsItem>
#include <QGraphicsScene>
#include <QKeyEvent>
#include <QLocale>
#include <QPainter>
#include <QPainterPath>
#include <QScrollBar>
#include <QWheelEvent>

#include <cmath>

#include "ui/views/colormap.h"

namespace r18::ui {
namespace {

constexpr double kBoxW = 180.0;
constexpr double kBoxH = 26.0;
constexpr double kGap = 11.0;
constexpr double kAddR = 8.0;
constexpr double kDownW = 168.0;
constexpr double kDownX = kBoxW / 2 + 30 + kDownW / 2;  // centre of projection boxes
constexpr double kArcX = kBoxW / 2 + 22;                // identity arcs run here
constexpr int kStages = 6;

bool isProjection(const Node& n) {
    return n.kind == NodeKind::Conv && n.kernel == 1;
}

QString grouped(int64_t v) {
    return QLocale(QLocale::English).toString(static_cast<qlonglong>(v));
}

QString shapeText(const std::vector<int64_t>& s) {
    QStringList parts;
    for (int64_t d : s) parts << QString::number(d);
    return parts.join(QStringLiteral(" × "));
}

QString macsText(int64_t macs) {
    if (macs >= 1'000'000) return QStringLiteral("%1 M").arg(macs / 1e6, 0, 'f', 1);
    if (macs >= 1'000) return QStringLiteral("%1 k").arg(macs / 1e3, 0, 'f', 1);
    return QString::number(macs);
}

QPolygonF arrowHead(QPointF tip, QPointF direction, double size = 6.0) {
    const double len = std::hypot(direction.x(), direction.y());
    const QPointF d = len > 0 ? direction / len : QPointF(0, 1);
    const QPointF n(-d.y(), d.x());
    return QPolygonF({tip, tip - d * size + n * size * 0.55, tip - d * size - n * size * 0.55});
}

}  // namespace

// One node: a rounded box (or the add's circle) with its caption and, when known, its time.
class NodeItem : public QGraphicsItem {
public:
    NodeItem(const Node& node, int index, QRectF rect)
        : m_node(node), m_index(index), m_rect(rect) {
        setAcceptHoverEvents(true);
        setCursor(Qt::PointingHandCursor);
        updateTooltip();
    }
    int index() const { return m_index; }
    const Node& node() const { return m_node; }
    QRectF boundingRect() const override {
        return m_rect.adjusted(-4, -4, 4 + (m_off > 0 ? kBadgeRoom : 0), 4);
    }
    QRectF box() const { return m_rect; }
    void setTime(double ms) {
        m_ms = ms;
        updateTooltip();
        update();
    }
    // A figure's colour and its line in the tooltip; an invalid colour restores the stage colour.
    void setFigure(const QColor& color, const QString& text) {
        m_figureColor = color;
        m_figureText = text;
        updateTooltip();
        update();
    }
    QColor fill() const {
        if (m_figureColor.isValid()) return m_figureColor;
        const QColor stage = ArchitectureView::stageColor(m_node.stage);
        return m_hover ? stage.lighter(150) : stage.lighter(175);
    }
    bool isAdd() const { return m_node.kind == NodeKind::Add; }
    // Channels switched off in this node's output (0: none): a red frame and an "n off" badge.
    void setSwitchedOff(int count) {
        if (count == m_off) return;
        prepareGeometryChange();  // the badge widens the item
        m_off = count;
        updateTooltip();
        update();
    }
    int switchedOff() const { return m_off; }
    void setPicture(const QImage& thumbnail, const std::vector<int64_t>& histogram) {
        if (thumbnail.isNull() && m_thumbnail.isNull() && m_histogram.empty()) return;
        m_thumbnail = thumbnail;
        m_histogram = histogram;
        update();
    }
    const QImage& picture() const { return m_thumbnail; }

    void paint(QPainter* p, const QStyleOptionGraphicsItem*, QWidget*) override {
        p->setRenderHint(QPainter::Antialiasing);
        const QColor stage = ArchitectureView::stageColor(m_node.stage);
        const QColor fillColor = fill();
        p->setPen(QPen(stage.darker(120), isProjection(m_node) ? 1.2 : 1.4,
                       isProjection(m_node) ? Qt::DashLine : Qt::SolidLine));
        p->setBrush(isAdd() ? QColor(Qt::white) : fillColor);
        if (isAdd()) {
            p->drawEllipse(m_rect);
            p->setPen(QPen(stage.darker(140), 1.6));
            const QPointF c = m_rect.center();
            const double r = m_rect.width() * 0.28;
            p->drawLine(c - QPointF(r, 0), c + QPointF(r, 0));
            p->drawLine(c - QPointF(0, r), c + QPointF(0, r));
            paintSwitchedOff(p);
            return;
        }
        p->drawRoundedRect(m_rect, 5, 5);
        paintSwitchedOff(p);
        QFont f = p->font();
        f.setPixelSize(12);
        f.setBold(m_node.kind != NodeKind::Conv || m_node.kernel != 1);
        p->setFont(f);
        p->setPen(m_figureColor.isValid() && m_figureColor.lightness() < 110 ? QColor(245, 245, 245)
                                                                             : QColor(25, 25, 25));
        const QRectF text = m_rect.adjusted(8, 0, -6, 0);
        p->drawText(text, Qt::AlignLeft | Qt::AlignVCenter,
                    QString::fromStdString(m_node.caption()));
        if (!m_thumbnail.isNull()) {
            paintPicture(p);
        } else if (m_ms >= 0.0) {
            f.setBold(false);
            f.setPixelSize(10);
            p->setFont(f);
            p->setPen(m_figureColor.isValid() && m_figureColor.lightness() < 110
                          ? QColor(225, 225, 225)
                          : QColor(70, 70, 70));
            p->drawText(text, Qt::AlignRight | Qt::AlignVCenter,
                        QStringLiteral("%1 ms").arg(m_ms, 0, 'f', m_ms < 10 ? 2 : 1));
        }
    }

    // The thumbnail in a square at the box's right end, the histogram as a sparkline along its
    // bottom edge.
    void paintPicture(QPainter* p) const {
        const double side = m_rect.height() - 2;
        const QRectF square(m_rect.right() - side - 1, m_rect.top() + 1, side, side);
        p->setRenderHint(QPainter::SmoothPixmapTransform, false);
        p->drawImage(square, m_thumbnail);
        if (m_histogram.empty()) return;
        const int64_t most = *std::max_element(m_histogram.begin(), m_histogram.end());
        if (most <= 0) return;
        const QRectF spark(m_rect.left() + 4, m_rect.bottom() - 5,
                           square.left() - m_rect.left() - 8, 4);
        const double w = spark.width() / m_histogram.size();
        p->setPen(Qt::NoPen);
        p->setBrush(QColor(30, 30, 30, 150));
        for (size_t i = 0; i < m_histogram.size(); ++i) {
            const double h = spark.height() * std::sqrt(static_cast<double>(m_histogram[i]) / most);
            if (h > 0) p->drawRect(QRectF(spark.left() + i * w, spark.bottom() - h, w, h));
        }
    }

    void paintSwitchedOff(QPainter* p) const {
        if (m_off == 0) return;
        const QColor red(215, 30, 30);
        p->setBrush(Qt::NoBrush);
        p->setPen(QPen(red, 2.2));
        if (isAdd())
            p->drawEllipse(m_rect.adjusted(-2, -2, 2, 2));
        else
            p->drawRoundedRect(m_rect.adjusted(-1, -1, 1, 1), 5, 5);
        QFont f = p->font();
        f.setPixelSize(9);
        f.setBold(true);
        p->setFont(f);
        const QString text = QObject::tr("%1 off").arg(m_off);
        const double w = QFontMetricsF(f).horizontalAdvance(text) + 8;
        const QRectF badge(m_rect.right() + 4, m_rect.center().y() - 6.5,
                           std::min(w, kBadgeRoom - 4.0), 13);
        p->setPen(Qt::NoPen);
        p->setBrush(red);
        p->drawRoundedRect(badge, 6, 6);
        p->setPen(Qt::white);
        p->drawText(badge, Qt::AlignCenter, text);
    }

protected:
    void hoverEnterEvent(QGraphicsSceneHoverEvent*) override {
        m_hover = true;
        update();
    }
    void hoverLeaveEvent(QGraphicsSceneHoverEvent*) override {
        m_hover = false;
        update();
    }

private:
    void updateTooltip() {
        QString tip = QStringLiteral("<b>%1</b> · %2")
                          .arg(QString::fromStdString(m_node.name),
                               QString::fromStdString(m_node.caption()).toHtmlEscaped());
        if (m_node.kind == NodeKind::Add)
            tip = QObject::tr("<b>%1</b> · block output: conv2 + skip, then ReLU")
                      .arg(QString::fromStdString(m_node.name));
        tip += QObject::tr("<br>output %1").arg(shapeText(m_node.outShape));
        if (m_node.params > 0 || m_node.macs > 0)
            tip += QObject::tr("<br>parameters %1 · MACs %2")
                       .arg(grouped(m_node.params), macsText(m_node.macs));
        if (!m_node.tappable())
            tip += QObject::tr(
                "<br><i>fused with the residual add: selecting it shows the block output</i>");
        if (m_ms >= 0.0) tip += QObject::tr("<br>time %1 ms").arg(m_ms, 0, 'f', 3);
        if (!m_figureText.isEmpty()) tip += "<br>" + m_figureText;
        if (m_off > 0)
            tip += QObject::tr("<br><font color='#d71e1e'>%1 of %2 channels switched off</font>")
                       .arg(m_off)
                       .arg(m_node.outShape.empty() ? 0 : m_node.outShape[0]);
        setToolTip(tip);
    }

    Node m_node;
    int m_index;
    QRectF m_rect;
    bool m_hover = false;
    double m_ms = -1.0;
    int m_off = 0;
    QImage m_thumbnail;
    std::vector<int64_t> m_histogram;
    static constexpr double kBadgeRoom = 56.0;  // right of the box, for the "n off" badge
    QColor m_figureColor;
    QString m_figureText;
};

ArchitectureView::ArchitectureView(QWidget* parent) : QGraphicsView(parent) {
    setScene(new QGraphicsScene(this));
    setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing);
    setDragMode(QGraphicsView::ScrollHandDrag);
    setTransformationAnchor(QGraphicsView::AnchorUnderMouse);
    setResizeAnchor(QGraphicsView::AnchorViewCenter);
    setFocusPolicy(Qt::StrongFocus);
    setBackgroundBrush(QColor(252, 252, 250));
    setMinimumWidth(180);
}

ArchitectureView::~ArchitectureView() = default;

QColor ArchitectureView::stageColor(int stage) {
    static const QColor colors[kStages] = {QColor(120, 128, 138), QColor(46, 158, 91),
                                           QColor(240, 140, 0),   QColor(47, 111, 219),
                                           QColor(214, 58, 58),   QColor(123, 92, 196)};
    return colors[std::clamp(stage, 0, kStages - 1)];
}

QString ArchitectureView::legendHtml() {
    const QString names[kStages] = {tr("stem"),    tr("stage 1"), tr("stage 2"),
                                    tr("stage 3"), tr("stage 4"), tr("head")};
    QString html;
    for (int s = 0; s < kStages; ++s)
        html += QStringLiteral("<span style='color:%1'>&#9632;</span>&nbsp;%2&nbsp;&nbsp; ")
                    .arg(stageColor(s).name(), names[s]);
    return html + tr("<br>&#9472;&#9472;&nbsp;identity&nbsp;skip&nbsp;&nbsp; "
                     "&#9476;&#9476;&nbsp;projection&nbsp;skip");
}

void ArchitectureView::setSpec(std::shared_ptr<const NetworkSpec> spec) {
    const QString previous = selected();
    m_spec = std::move(spec);
    m_selected = -1;
    build();
    m_autoFit = true;
    fitDiagram();
    if (!previous.isEmpty()) select(previous);
}

void ArchitectureView::build() {
    scene()->clear();
    m_selectionFrame = nullptr;
    m_items.assign(m_spec ? m_spec->nodes.size() : 0, nullptr);
    m_identityArcs = 0;
    m_projectionArcs = 0;
    if (!m_spec) return;
    const NetworkSpec& spec = *m_spec;

    // Main column first: every node but the projections, top to bottom.
    double y = 0.0;
    int previous = -1;
    QPen edgePen(QColor(90, 90, 90), 1.3);
    for (size_t i = 0; i < spec.nodes.size(); ++i) {
        const Node& n = spec.nodes[i];
        if (isProjection(n)) continue;
        const bool add = n.kind == NodeKind::Add;
        const QRectF rect =
            add ? QRectF(-kAddR, y, 2 * kAddR, 2 * kAddR) : QRectF(-kBoxW / 2, y, kBoxW, kBoxH);
        auto* item = new NodeItem(n, static_cast<int>(i), rect);
        item->setZValue(2);
        scene()->addItem(item);
        m_items[i] = item;
        if (previous >= 0) {
            const double top = m_items[static_cast<size_t>(previous)]->box().bottom();
            scene()->addLine(0, top, 0, rect.top() - 1, edgePen)->setZValue(1);
            scene()
                ->addPolygon(arrowHead(QPointF(0, rect.top()), QPointF(0, 1)), QPen(Qt::NoPen),
                             QColor(90, 90, 90))
                ->setZValue(1);
        }
        previous = static_cast<int>(i);
        y = rect.bottom() + kGap;
    }

    // Projection boxes beside their block, between conv1 and the add.
    for (size_t i = 0; i < spec.nodes.size(); ++i) {
        const Node& n = spec.nodes[i];
        if (!isProjection(n)) continue;
        const std::string block = n.name.substr(0, n.name.rfind('.'));
        const QRectF c1 = m_items[static_cast<size_t>(spec.find(block + ".conv1"))]->box();
        const QRectF add = m_items[static_cast<size_t>(spec.find(block))]->box();
        const double cy = (c1.top() + add.center().y()) / 2;
        auto* item = new NodeItem(n, static_cast<int>(i),
                                  QRectF(kDownX - kDownW / 2, cy - kBoxH / 2, kDownW, kBoxH));
        item->setZValue(2);
        scene()->addItem(item);
        m_items[i] = item;
    }

    // Skip connections: from just below the block input to the add's right side.
    for (const ResidualEdge& e : spec.residuals) {
        const QRectF from = m_items[static_cast<size_t>(e.from)]->box();
        const QRectF add = m_items[static_cast<size_t>(e.to)]->box();
        const QColor color = stageColor(spec.nodes[static_cast<size_t>(e.to)].stage).darker(115);
        const double startY = from.bottom() + kGap * 0.45;
        const double r = 6.0;
        QPainterPath path(QPointF(0, startY));
        QPen pen(color, 1.7);
        if (!e.projection()) {
            path.lineTo(kArcX - r, startY);
            path.quadTo(kArcX, startY, kArcX, startY + r);
            path.lineTo(kArcX, add.center().y() - r);
            path.quadTo(kArcX, add.center().y(), kArcX - r, add.center().y());
            path.lineTo(add.right() + 1, add.center().y());
            ++m_identityArcs;
        } else {
            const QRectF down = m_items[static_cast<size_t>(e.via)]->box();
            path.lineTo(kDownX - r, startY);
            path.quadTo(kDownX, startY, kDownX, startY + r);
            path.lineTo(kDownX, down.top() - 1);
            path.moveTo(kDownX, down.bottom());
            path.lineTo(kDownX, add.center().y() - r);
            path.quadTo(kDownX, add.center().y(), kDownX - r, add.center().y());
            path.lineTo(add.right() + 1, add.center().y());
            pen.setStyle(Qt::DashLine);
            scene()
                ->addPolygon(arrowHead(QPointF(kDownX, down.top()), QPointF(0, 1)), QPen(Qt::NoPen),
                             color)
                ->setZValue(1);
            ++m_projectionArcs;
        }
        scene()->addPath(path, pen)->setZValue(1);
        scene()
            ->addPolygon(arrowHead(QPointF(add.right(), add.center().y()), QPointF(-1, 0)),
                         QPen(Qt::NoPen), color)
            ->setZValue(1);
    }

    // Stage labels on the left: name, width and resolution of each stage.
    QFont labelFont;
    labelFont.setPixelSize(11);
    for (int s = 1; s <= 4; ++s) {
        double top = 1e9, bottom = -1e9;
        const Node* last = nullptr;
        for (size_t i = 0; i < spec.nodes.size(); ++i)
            if (spec.nodes[i].stage == s && m_items[i] && !isProjection(spec.nodes[i])) {
                top = std::min(top, m_items[i]->box().top());
                bottom = std::max(bottom, m_items[i]->box().bottom());
                last = &spec.nodes[i];
            }
        if (!last) continue;
        const QColor c = stageColor(s);
        const double x = -kBoxW / 2 - 14;
        scene()->addLine(x, top, x, bottom, QPen(c, 3))->setZValue(1);
        auto* text = scene()->addText(tr("stage %1\n%2 ch\n%3×%4")
                                          .arg(s)
                                          .arg(last->outShape[0])
                                          .arg(last->outShape[1])
                                          .arg(last->outShape[2]),
                                      labelFont);
        text->setDefaultTextColor(c.darker(130));
        const QRectF b = text->boundingRect();
        text->setPos(x - 6 - b.width(), (top + bottom) / 2 - b.height() / 2);
    }

    m_selectionFrame =
        scene()->addPath(QPainterPath(), QPen(QColor(255, 106, 0), 3.0), Qt::NoBrush);
    m_selectionFrame->setZValue(3);
    const QRectF bounds = scene()->itemsBoundingRect().adjusted(-16, -16, 16, 16);
    scene()->setSceneRect(bounds);
}

int ArchitectureView::boxCount() const {
    int count = 0;
    for (const NodeItem* item : m_items)
        if (item && !item->isAdd()) ++count;
    return count;
}

QString ArchitectureView::selected() const {
    if (!m_spec || m_selected < 0) return {};
    return QString::fromStdString(m_spec->nodes[static_cast<size_t>(m_selected)].name);
}

void ArchitectureView::select(const QString& name) {
    if (!m_spec) return;
    int index = m_spec->find(name.toStdString());
    if (index < 0) return;
    const int fused = m_spec->nodes[static_cast<size_t>(index)].fusedInto;
    if (fused >= 0) index = fused;  // conv2: its block's output
    if (index == m_selected) return;
    m_selected = index;
    // A block output is the whole block's work: frame conv1, conv2, the projection and the add.
    QRectF frame = m_items[static_cast<size_t>(index)]->box();
    const Node& n = m_spec->nodes[static_cast<size_t>(index)];
    if (n.kind == NodeKind::Add)
        for (size_t j = 0; j < m_spec->nodes.size(); ++j)
            if (m_spec->nodes[j].stage == n.stage && m_spec->nodes[j].block == n.block &&
                m_items[j])
                frame = frame.united(m_items[j]->box());
    QPainterPath path;
    path.addRoundedRect(frame.adjusted(-5, -5, 5, 5), 8, 8);
    m_selectionFrame->setPath(path);
    ensureVisible(frame, 20, 30);
    emit nodeSelected(selected());
}

void ArchitectureView::setNodeTimes(const std::vector<double>& ms) {
    for (size_t i = 0; i < m_items.size(); ++i)
        if (m_items[i]) m_items[i]->setTime(i < ms.size() && ms[i] > 0.0 ? ms[i] : -1.0);
}

void ArchitectureView::setPictures(const std::vector<QImage>& thumbnails,
                                   const std::vector<std::vector<int64_t>>& histograms) {
    for (size_t i = 0; i < m_items.size(); ++i)
        if (m_items[i])
            m_items[i]->setPicture(i < thumbnails.size() ? thumbnails[i] : QImage(),
                                   i < histograms.size() ? histograms[i] : std::vector<int64_t>());
}

QImage ArchitectureView::pictureOf(const QString& node) const {
    for (const NodeItem* item : m_items)
        if (item && item->node().name == node.toStdString()) return item->picture();
    return {};
}

void ArchitectureView::setSwitchedOff(const std::map<std::string, int>& counts) {
    for (NodeItem* item : m_items) {
        const auto it = counts.find(item->node().name);
        item->setSwitchedOff(it == counts.end() ? 0 : it->second);
    }
}

int ArchitectureView::switchedOffCount(const QString& node) const {
    for (const NodeItem* item : m_items)
        if (item->node().name == node.toStdString()) return item->switchedOff();
    return 0;
}

QString ArchitectureView::setFigures(Figure figure, const std::vector<double>& values) {
    m_figure = figure;
    double lo = INFINITY;
    double hi = -INFINITY;
    for (double v : values)
        if (std::isfinite(v)) {
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    // The error against fp32 is drawn on one fixed logarithmic scale, so that int8 and bf16,
    // two images or two frames can be compared by colour.
    constexpr double kErrorLo = 0.001;
    constexpr double kErrorHi = 0.3;
    const bool fixedLog = figure == Figure::Error;
    if (fixedLog) {
        lo = kErrorLo;
        hi = kErrorHi;
    }
    const auto position = [&](double v) {
        if (fixedLog)
            return std::clamp(
                std::log10(std::max(v, kErrorLo) / kErrorLo) / std::log10(kErrorHi / kErrorLo), 0.0,
                1.0);
        return hi > lo ? (v - lo) / (hi - lo) : 0.5;
    };
    const auto& table = colormapTable(Colormap::Viridis);
    auto format = [figure](double v) {
        switch (figure) {
            case Figure::Time: return QObject::tr("%1 ms").arg(v, 0, 'f', v < 10 ? 2 : 1);
            case Figure::Zeros: return QObject::tr("%1%").arg(100.0 * v, 0, 'f', 1);
            case Figure::Error: return QObject::tr("%1%").arg(100.0 * v, 0, 'g', 2);
            default: return QString::number(v, 'g', 3);
        }
    };
    const QString name = figure == Figure::Time    ? tr("time per inference")
                         : figure == Figure::Zeros ? tr("zero activations")
                         : figure == Figure::Error ? tr("error vs fp32")
                                                   : tr("mean activation");
    for (size_t i = 0; i < m_items.size(); ++i) {
        if (!m_items[i]) continue;
        const double v = i < values.size() ? values[i] : NAN;
        if (figure == Figure::Stage || !std::isfinite(v)) {
            m_items[i]->setFigure(QColor(), QString());
            continue;
        }
        const double t = position(v);
        m_items[i]->setFigure(QColor(table[static_cast<size_t>(std::lround(t * 255))]),
                              name + ": " + format(v));
    }
    if (figure == Figure::Stage || !std::isfinite(lo) || (fixedLog && values.empty()))
        return legendHtml();
    QString bar;
    for (int k = 0; k < 12; ++k)
        bar += QStringLiteral("<span style='color:%1'>&#9608;</span>")
                   .arg(QColor(table[static_cast<size_t>(k * 255 / 11)]).name());
    if (fixedLog)
        return tr("<b>%1</b> (max |q − f| / max |f|, log scale)<br>≤ %2&nbsp;%3&nbsp;≥ %4")
            .arg(name, format(lo), bar, format(hi));
    return QStringLiteral("<b>%1</b><br>%2&nbsp;%3&nbsp;%4").arg(name, format(lo), bar, format(hi));
}

QColor ArchitectureView::boxColor(const QString& node) const {
    const int i = m_spec ? m_spec->find(node.toStdString()) : -1;
    return i >= 0 && m_items[static_cast<size_t>(i)] ? m_items[static_cast<size_t>(i)]->fill()
                                                     : QColor();
}

int ArchitectureView::selectableNeighbour(int from, int step) const {
    const int n = static_cast<int>(m_spec->nodes.size());
    for (int i = from + step; i >= 0 && i < n; i += step)
        if (m_spec->nodes[static_cast<size_t>(i)].tappable()) return i;
    return from;
}

QPoint ArchitectureView::viewportPointOf(const QString& node) const {
    const int i = m_spec ? m_spec->find(node.toStdString()) : -1;
    if (i < 0 || !m_items[static_cast<size_t>(i)]) return {};
    return mapFromScene(m_items[static_cast<size_t>(i)]->box().center());
}

void ArchitectureView::fitDiagram() {
    if (!scene() || scene()->sceneRect().isEmpty()) return;
    fitInView(scene()->sceneRect(), Qt::KeepAspectRatio);
}

void ArchitectureView::zoomBy(double factor) {
    m_autoFit = false;
    const double current = transform().m11();
    const double next = std::clamp(current * factor, 0.2, 6.0);
    scale(next / current, next / current);
}

void ArchitectureView::wheelEvent(QWheelEvent* event) {
    if (event->modifiers() & Qt::ControlModifier) {
        zoomBy(std::pow(1.0015, event->angleDelta().y()));
        event->accept();
        return;
    }
    QGraphicsView::wheelEvent(event);
}

void ArchitectureView::keyPressEvent(QKeyEvent* event) {
    if (!m_spec) return QGraphicsView::keyPressEvent(event);
    switch (event->key()) {
        case Qt::Key_Up:
        case Qt::Key_Left:
            select(QString::fromStdString(
                m_spec->nodes[static_cast<size_t>(selectableNeighbour(std::max(m_selected, 0), -1))]
                    .name));
            return;
        case Qt::Key_Down:
        case Qt::Key_Right:
            select(QString::fromStdString(
                m_spec->nodes[static_cast<size_t>(selectableNeighbour(m_selected, 1))].name));
            return;
        case Qt::Key_Plus:
        case Qt::Key_Equal: zoomBy(1.2); return;
        case Qt::Key_Minus: zoomBy(1 / 1.2); return;
        case Qt::Key_0:
            m_autoFit = true;
            fitDiagram();
            return;
        default: QGraphicsView::keyPressEvent(event);
    }
}

void ArchitectureView::mousePressEvent(QMouseEvent* event) {
    if (event->button() == Qt::LeftButton) {
        for (QGraphicsItem* item : items(event->position().toPoint()))
            if (auto* node = dynamic_cast<NodeItem*>(item)) {
                select(QString::fromStdString(node->node().name));
                setFocus();
                event->accept();
                return;
            }
    }
    QGraphicsView::mousePressEvent(event);
}

void ArchitectureView::resizeEvent(QResizeEvent* event) {
    QGraphicsView::resizeEvent(event);
    if (m_autoFit) fitDiagram();
}

}  // namespace r18::ui
