// PredictionsView: the top-5 classes with probability bars and percentages.
#pragma once

#include <QWidget>

#include <vector>

#include "core/predictions.h"

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

    QSize sizeHint() const override;

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    std::vector<Prediction> m_top;
    bool m_trusted = true;
};

}  // namespace r18::ui
