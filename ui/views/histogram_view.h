// HistogramView: a tap's value histogram (TapStats::histogram, 64 bins over [min, max]) as bars on
// a square-root scale, so the few large values after a ReLU stay visible beside the zeros' bin;
// the range is written under it.
#pragma once

#include <QWidget>

#include "core/tap_stats.h"

namespace r18::ui {

class HistogramView : public QWidget {
    Q_OBJECT

public:
    explicit HistogramView(QWidget* parent = nullptr);

    void setHistogram(const Histogram& histogram);
    void clear();
    const Histogram& histogram() const { return m_histogram; }

    QSize sizeHint() const override { return {180, 40}; }

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    Histogram m_histogram;
};

}  // namespace r18::ui
