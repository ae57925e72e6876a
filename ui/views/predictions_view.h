// PredictionsView: the top-5 classes with probability bars and percentages.
#pragma once

#include <QWidget>

#include <vector>

#include "core/model/predictions.h"

namespace r18::ui {

class PredictionsView : public QWidget {
    Q_OBJECT

public:
    explicit PredictionsView(QWidget* parent = nullptr);

    void setPredictions(const std::vector<Prediction>& top);
    void clear();
    // Gray bars when the weights are not the official ImageNet weights (the window's banner
    // says why).
    void setTrusted(bool trusted);
    const std::vector<Prediction>& predictions() const { return m_top; }
    QString asText() const;  // "1. Samoyed 83.1%\n..."
    // Marks the class whose heat map is shown (-1: none).
    void setHighlighted(int64_t classIndex);
    int64_t highlighted() const { return m_highlighted; }
    int rowAt(const QPoint& pos) const;  // -1 outside the rows

    QSize sizeHint() const override;

signals:
    void classClicked(int64_t classIndex);

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;

private:
    std::vector<Prediction> m_top;
    bool m_trusted = true;
    int64_t m_highlighted = -1;
};

}  // namespace r18::ui
