#include "core/tap_stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"

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
    const int64_t count = channels * plane;
    const auto n = static_cast<double>(count);
    const double mean = total / n;
    s.mean = static_cast<float>(mean);
    s.zeroFraction = static_cast<float>(static_cast<double>(zeros) / n);

    // Second pass: the spread around the mean (no cancellation, unlike E[x²] − E[x]²) and the
    // histogram over [min, max].
    s.histogram.lo = s.min;
    s.histogram.hi = s.max;
    s.histogram.counts.assign(kHistogramBins, 0);
    const double width = static_cast<double>(s.max) - s.min;
    const double perBin = width > 0.0 ? kHistogramBins / width : 0.0;
    double squares = 0.0;
    for (int64_t i = 0; i < count; ++i) {
        const double v = tap.data[static_cast<size_t>(i)];
        squares += (v - mean) * (v - mean);
        const double at = (v - s.min) * perBin;  // NaN and ±inf (never in a tap) go to the ends
        const int64_t bin =
            at >= 0.0 ? static_cast<int64_t>(std::min<double>(at, kHistogramBins - 1)) : 0;
        ++s.histogram.counts[static_cast<size_t>(bin)];
    }
    s.std = static_cast<float>(std::sqrt(squares / n));

    s.byMean.resize(static_cast<size_t>(channels));
    std::iota(s.byMean.begin(), s.byMean.end(), 0);
    std::stable_sort(s.byMean.begin(), s.byMean.end(), [&s](int a, int b) {
        return s.channels[static_cast<size_t>(a)].mean > s.channels[static_cast<size_t>(b)].mean;
    });
    return s;
}

TapDifference compareTaps(const Tensor& reference, const Tensor& other) {
    if (reference.dims != other.dims || reference.data.size() != other.data.size())
        throw EngineError("Cannot compare a tensor of shape " + shapeToString(other.dims) +
                          " with one of shape " + shapeToString(reference.dims) + ".");
    TapDifference d;
    double dot = 0.0, refSquares = 0.0, otherSquares = 0.0;
    for (size_t i = 0; i < reference.data.size(); ++i) {
        const double r = reference.data[i];
        const double o = other.data[i];
        d.maxAbsDiff = std::max(d.maxAbsDiff, std::fabs(o - r));
        d.maxAbsRef = std::max(d.maxAbsRef, std::fabs(r));
        dot += r * o;
        refSquares += r * r;
        otherSquares += o * o;
    }
    if (d.maxAbsRef > 0.0)
        d.relativeError = d.maxAbsDiff / d.maxAbsRef;
    else
        d.relativeError = d.maxAbsDiff > 0.0 ? 1.0 : 0.0;
    if (refSquares > 0.0 && otherSquares > 0.0)
        d.cosine = dot / (std::sqrt(refSquares) * std::sqrt(otherSquares));
    else
        d.cosine = refSquares == otherSquares ? 1.0 : 0.0;
    return d;
}

std::vector<NodeStats> statsOfEveryNode(const NetworkSpec& spec,
                                        const std::map<std::string, Tensor>& taps,
                                        const std::map<std::string, Tensor>* reference) {
    std::vector<NodeStats> out;
    for (const std::string& name : spec.tapNames()) {
        const auto it = taps.find(name);
        if (it == taps.end()) continue;
        NodeStats n;
        n.node = name;
        n.shape = spec.node(name).outShape;
        n.stats = computeTapStats(it->second);
        if (reference) {
            const auto ref = reference->find(name);
            if (ref != reference->end()) {
                n.hasReference = true;
                n.vsReference = compareTaps(ref->second, it->second);
            }
        }
        out.push_back(std::move(n));
    }
    return out;
}

std::vector<NodeComparison> compareEveryNode(const NetworkSpec& spec,
                                             const std::map<std::string, Tensor>& a,
                                             const std::map<std::string, Tensor>& b) {
    std::vector<NodeComparison> out;
    for (const std::string& name : spec.tapNames()) {
        const auto ia = a.find(name);
        const auto ib = b.find(name);
        if (ia == a.end() || ib == b.end()) continue;
        out.push_back({name, compareTaps(ia->second, ib->second)});
    }
    return out;
}

}  // namespace r18
