#include "core/model/predictions.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace r18 {

std::vector<float> softmax(const float* logits, int64_t count) {
    std::vector<float> p(static_cast<size_t>(count));
    if (count == 0) return p;
    const float top = *std::max_element(logits, logits + count);
    double sum = 0.0;
    for (int64_t i = 0; i < count; ++i) {
        p[static_cast<size_t>(i)] = std::exp(logits[i] - top);
        sum += p[static_cast<size_t>(i)];
    }
    for (float& v : p) v = static_cast<float>(v / sum);
    return p;
}

std::vector<Prediction> topK(const float* logits, int64_t count, int k, const Labels& labels) {
    const std::vector<float> p = softmax(logits, count);
    std::vector<int64_t> order(static_cast<size_t>(count));
    std::iota(order.begin(), order.end(), 0);
    const auto n = static_cast<size_t>(std::clamp<int64_t>(k, 0, count));
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n), order.end(),
                      [&](int64_t a, int64_t b) {
                          return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
                      });
    std::vector<Prediction> top;
    for (size_t i = 0; i < n; ++i)
        top.push_back({order[i], p[static_cast<size_t>(order[i])], labels.name(order[i]),
                       labels.id(order[i])});
    return top;
}

}  // namespace r18
