#include "core/tensor.h"

#include <cmath>

namespace r18 {

Tensor::Tensor(std::vector<int64_t> shape) : dims(std::move(shape)) {
    data.assign(static_cast<size_t>(numelOf(dims)), 0.0F);
}

int64_t Tensor::numel() const {
    return numelOf(dims);
}

int64_t numelOf(const std::vector<int64_t>& dims) {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    return n;
}

float halfToFloat(uint16_t bits) {
    const uint32_t exp = (bits >> 10) & 0x1fu;
    const uint32_t man = bits & 0x3ffu;
    const float v = exp == 0 ? std::ldexp(static_cast<float>(man), -24)
                    : exp == 31
                        ? (man ? NAN : INFINITY)
                        : std::ldexp(static_cast<float>(man | 0x400u), static_cast<int>(exp) - 25);
    return (bits & 0x8000u) ? -v : v;
}

std::string shapeToString(const std::vector<int64_t>& dims) {
    std::string s = "[";
    for (size_t i = 0; i < dims.size(); ++i) {
        if (i) s += ",";
        s += std::to_string(dims[i]);
    }
    return s + "]";
}

}  // namespace r18
