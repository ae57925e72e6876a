// ImportanceView: a node's channels ranked by how much the class's logit falls when each alone is
// switched off (ChannelImportanceResult): one row per channel, most important first, a bar as
// long as |Δ logit| (red where switching it off lowers the logit, blue where it raises it) and
// the value. As many rows as fit; clicking a row emits channelClicked.
#pragma once

#include <QWidget>

#include <vector>

namespace r18::ui {

class ImportanceView : public QWidget {
    Q_OBJECT

public:
    explicit ImportanceView(QWidget* parent = nullptr);

    // Channels in rank order with their deltas (indexed by channel).
    void setRanking(const std::vector<int>& ranked, const std::vector<float>& deltas);
    void clear(const QString& message);

    int rowCount() const;                    // rows drawn at the current size
    int channelAt(const QPoint& pos) const;  // the channel of the row under `pos`, or -1
    QRect rowRect(int row) const;

signals:
    void channelClicked(int channel);

protected:
    void paintEvent(QPaintEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void leaveEvent(QEvent* event) override;

private:
    std::vector<int> m_ranked;
    std::vector<float> m_deltas;
    QString m_message;
    int m_hovered = -1;  // row
};

}  // namespace r18::ui
