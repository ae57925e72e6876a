#include "core/tap_stats.h"

#include <algorithm>
#include <numeric>

namespace r18 {

TapStats computeTapStats(const Tensor& tap) {
    TapStats s;
    if (tap.dims.size() < 2 || tap.empty()) return s;
    const int64_t channels = tap.dims[1];
    int64_t plane = 1;
    for (size_t i = 2; i < tap.dims.size(); ++i) plane *= tap.dims[i];
    s.channels.resize(static_cast<size_t>(channels));
    double total = 0.0;
    int64_t zeros = 0;
    s.min = tap.data.front();
    s.max = tap.data.front();
    for (int64_t c = 0; c < channels; ++c) {
        const float* v = tap.ptr() + c * plane;
        float lo = v[0], hi = v[0];
        double sum = 0.0;
        for (int64_t i = 0; i < plane; ++i) {
            lo = std::min(lo, v[i]);
            hi = std::max(hi, v[i]);
            sum += v[i];
            zeros += v[i] == 0.0F;
        }
        s.channels[static_cast<size_t>(c)] = {lo, static_cast<float>(sum / plane), hi};
        s.min = std::min(s.min, lo);
        s.max = std::max(s.max, hi);
        total += sum;
    }
    const auto n = static_cast<double>(channels * plane);
    s.mean = static_cast<float>(total / n);
    s.zeroFraction = static_cast<float>(static_cast<double>(zeros) / n);
    s.byMean.resize(static_cast<size_t>(channels));
    std::iota(s.byMean.begin(), s.byMean.end(), 0);
    std::stable_sort(s.byMean.begin(), s.byMean.end(), [&s](int a, int b) {
        return s.channels[static_cast<size_t>(a)].mean > s.channels[static_cast<size_t>(b)].mean;
    });
    return s;
}

}  // namespace r18
