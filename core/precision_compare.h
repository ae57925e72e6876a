// One image through the same model at fp32 and at int8, one node compared: both top-5s and the
// node's output difference |int8 − fp32| with its largest and mean values. The window's compare
// panel and any headless verb compute it here; nothing of it knows Qt.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/model/model.h"
#include "core/model/predictions.h"
#include "core/pipeline.h"
#include "core/tap_stats.h"
#include "core/tensor.h"

namespace r18 {

struct Comparison {
    std::string node;
    int calibrationImages = 0;  // int8 calibrated on this many images
    std::vector<Prediction> topFp32;
    std::vector<Prediction> topInt8;
    Tensor fp32;        // the node's output at fp32 ([1,C,H,W] or [1,C])
    Tensor difference;  // |int8 − fp32|, same shape
    TapStats differenceStats;
    double maxAbsDifference = 0.0;
    double maxAbsFp32 = 0.0;
    double meanAbsDifference = 0.0;
};

// Keeps an fp32 pipeline per model and threads and an int8 one per calibration set, so asking
// again for another node or image compiles nothing. Use from one thread at a time.
class CompareRunner {
public:
    CompareRunner();
    ~CompareRunner();
    // `input` ([1,3,S,S], prepared by `model`) at fp32 and int8, `node` compared. `calibration`
    // are the prepared inputs int8 calibrates on; the int8 engine is rebuilt only when they
    // change (by identity). Both run with the channels `ablations` switches off. Throws Error
    // (an unknown node, an empty calibration set).
    Comparison run(const std::shared_ptr<const Model>& model, int threads,
                   const std::vector<std::shared_ptr<const Tensor>>& calibration,
                   const Tensor& input, const std::string& node,
                   const std::vector<ChannelAblation>& ablations = {});

private:
    std::shared_ptr<const Model> m_model;
    int m_threads = 0;
    std::unique_ptr<Pipeline> m_fp32;
    std::unique_ptr<Pipeline> m_int8;
    std::vector<const Tensor*> m_calibratedOn;
};

// |b − a| element by element (same shapes).
Tensor absoluteDifference(const Tensor& a, const Tensor& b);

}  // namespace r18
