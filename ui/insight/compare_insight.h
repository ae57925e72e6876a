// CompareInsight: A/B of the image on screen at fp32 and at int8 (core's CompareRunner), the
// selected node compared, on a thread of its own. While wanted (the compare panel is open), it
// is computed for every still image or frozen frame and node shown; int8 calibrates on the
// Session's recent images (the same set the int8 engine calibrates on).
#pragma once

#include <memory>
#include <string>

#include "core/precision_compare.h"
#include "ui/insight/insight.h"

namespace r18::ui {

// A comparison of the image `sourceId`.
struct ShownComparison : Comparison {
    uint64_t sourceId = 0;
};
using ComparisonPtr = std::shared_ptr<const ShownComparison>;

class CompareInsight : public Insight {
    Q_OBJECT

public:
    explicit CompareInsight(Session* session, QObject* parent = nullptr);

    // Computed only while wanted; unwanted stops the running comparison.
    void setWanted(bool wanted);
    // The comparison of the image and node on screen, or null.
    ComparisonPtr comparison() const;

private:
    void update();

    bool m_wanted = false;
    std::shared_ptr<CompareRunner> m_runner;                     // used on the job thread only
    KeyedCache<std::string, ShownComparison> m_comparisons{32};  // by node
};

}  // namespace r18::ui
