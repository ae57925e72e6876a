#include "core/tensor.h"

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

std::string shapeToString(const std::vector<int64_t>& dims) {
    std::string s = "[";
    for (size_t i = 0; i < dims.size(); ++i) {
        if (i) s += ",";
        s += std::to_string(dims[i]);
    }
    return s + "]";
}

}  // namespace r18
