// SimilarityCurve: one value per node along the network (the cosine similarity of two images'
// activations), as a line with a dot per node from input (left) to fc (right), the selected node
// marked. Hover names the node and its value; a click emits nodeClicked.
#pragma once

#include <QString>
#include <QStringList>
#include <QWidget>

#include <vector>

namespace r18::ui {

class SimilarityCurve : public QWidget {
    Q_OBJECT

public:
    explicit SimilarityCurve(QWidget* parent = nullptr);

    void setValues(const QStringList& nodes, const std::vector<double>& values);
    void setSelected(const QString& node);
    void clear();

    int count() const { return static_cast<int>(m_values.size()); }
    QPoint pointOf(int index) const;       // the dot of node `index`, in widget coordinates
    int indexAt(const QPoint& pos) const;  // the nearest node along x, or -1

signals:
    void nodeClicked(const QString& node);

protected:
    void paintEvent(QPaintEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;

private:
    QRect plotArea() const;

    QStringList m_nodes;
    std::vector<double> m_values;
    QString m_selected;
};

}  // namespace r18::ui
