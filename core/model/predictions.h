// From logits to what people read: softmax probabilities and the top-k classes with labels.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/model/labels.h"

namespace r18 {

struct Prediction {
    int64_t index = 0;
    float probability = 0.0F;
    std::string label;
    std::string wordnetId;  // "n01440764" when the labels file gave one, else ""
};

// Numerically stable softmax of one row of logits.
std::vector<float> softmax(const float* logits, int64_t count);

// The k most probable classes, best first (ties keep the lower index first).
std::vector<Prediction> topK(const float* logits, int64_t count, int k, const Labels& labels);

}  // namespace r18
