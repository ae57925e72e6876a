#include "core/precision_compare.h"

#include <algorithm>
#include <cmath>

#include "core/engine/calibration.h"

namespace r18 {

Tensor absoluteDifference(const Tensor& a, const Tensor& b) {
    Tensor d(a.dims);
    for (size_t i = 0; i < d.data.size(); ++i) d.data[i] = std::abs(b.data[i] - a.data[i]);
    return d;
}

CompareRunner::CompareRunner() = default;
CompareRunner::~CompareRunner() = default;

Comparison CompareRunner::run(const std::shared_ptr<const Model>& model, int threads,
                              const std::vector<std::shared_ptr<const Tensor>>& calibration,
                              const Tensor& input, const std::string& node,
                              const std::vector<ChannelAblation>& ablations) {
    std::vector<const Tensor*> set;
    for (const auto& t : calibration) set.push_back(t.get());
    if (model != m_model || threads != m_threads) {
        m_fp32.reset();
        m_int8.reset();
        m_fp32 = std::make_unique<Pipeline>(model, EngineOptions().withThreads(threads));
        m_model = model;
        m_threads = threads;
    }
    if (!m_int8 || set != m_calibratedOn) {
        m_int8.reset();
        std::vector<Tensor> inputs;
        for (const auto& t : calibration) inputs.push_back(*t);
        auto ranges = std::make_shared<const Calibration>(
            calibrate(model->spec(), model->weights(), inputs, threads));
        m_int8 = std::make_unique<Pipeline>(model, EngineOptions()
                                                       .with(Precision::Int8)
                                                       .withThreads(threads)
                                                       .withCalibration(std::move(ranges)));
        m_calibratedOn = set;
    }
    RunRequest request;
    request.taps = {node};
    request.ablations = ablations;
    Classification a = m_fp32->run(input, request);
    Classification b = m_int8->run(input, request);
    Comparison c;
    c.node = node;
    c.calibrationImages = static_cast<int>(calibration.size());
    c.topFp32 = std::move(a.top);
    c.topInt8 = std::move(b.top);
    c.fp32 = std::move(a.taps.at(node));
    c.difference = absoluteDifference(c.fp32, b.taps.at(node));
    c.differenceStats = computeTapStats(c.difference);
    double sum = 0.0;
    for (size_t i = 0; i < c.difference.data.size(); ++i) {
        c.maxAbsDifference = std::max(c.maxAbsDifference, double(c.difference.data[i]));
        c.maxAbsFp32 = std::max(c.maxAbsFp32, double(std::abs(c.fp32.data[i])));
        sum += c.difference.data[i];
    }
    c.meanAbsDifference = c.difference.data.empty() ? 0.0 : sum / double(c.difference.data.size());
    return c;
}

}  // namespace r18
