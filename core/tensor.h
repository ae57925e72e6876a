// Tensor: a dense float32 array with int64 dims, row-major (C order). The currency between
// core, the CLI and the UI: inputs, weights, taps and logits are all Tensors.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace r18 {

struct Tensor {
    std::vector<int64_t> dims;
    std::vector<float> data;

    Tensor() = default;
    explicit Tensor(std::vector<int64_t> shape);

    int64_t numel() const;
    bool empty() const { return data.empty(); }
    float* ptr() { return data.data(); }
    const float* ptr() const { return data.data(); }
};

// Number of elements of a shape; 1 for a scalar (empty shape).
int64_t numelOf(const std::vector<int64_t>& dims);

// An IEEE half-precision value (as its 16 bits) in float32, for weights stored as float16.
float halfToFloat(uint16_t bits);

// "[64,3,7,7]"
std::string shapeToString(const std::vector<int64_t>& dims);

}  // namespace r18
