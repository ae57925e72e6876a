// Receptive fields: which input pixels a position of a node's output can see, derived from the
// NetworkSpec's kernel, stride and padding of every node on the way (no second topology).
//
// Along one axis, output index i of a conv or pooling node with kernel k, stride s and padding p
// reads its input's indices i·s − p … i·s − p + k − 1, so each node's field is an affine pair
// lo(i) = jump·i + lo₀, hi(i) = jump·i + hi₀ in input pixels (jump = product of strides). A
// residual add takes the union of its two inputs' fields (they share the jump). The average
// pool and fc see the whole input. Boxes are clipped to the S×S input: the 224×224 crop.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/model/network_spec.h"

namespace r18 {

// A box in input pixels: columns x0 … x1−1, rows y0 … y1−1 (end-exclusive, as Python slices).
struct PixelBox {
    int64_t x0 = 0;
    int64_t y0 = 0;
    int64_t x1 = 0;
    int64_t y1 = 0;
    bool operator==(const PixelBox& o) const {
        return x0 == o.x0 && y0 == o.y0 && x1 == o.x1 && y1 == o.y1;
    }
};

class ReceptiveFields {
public:
    explicit ReceptiveFields(const NetworkSpec& spec);

    // The input box output position (y, x) of `node` sees, clipped to the input. Throws
    // EngineError for an unknown node.
    PixelBox box(const std::string& node, int64_t y, int64_t x) const;
    // Unclipped side of the field (7 for conv1, 11 for maxpool, …) and the jump between
    // neighbouring positions, in input pixels; the input size for avgpool and fc.
    int64_t size(const std::string& node) const;
    int64_t jump(const std::string& node) const;

private:
    struct Field {
        int64_t jump = 1;
        int64_t lo = 0;  // lo(i) = jump·i + lo, inclusive
        int64_t hi = 0;  // hi(i) = jump·i + hi, inclusive
        bool whole = false;
    };
    const Field& field(const std::string& node) const;

    NetworkSpec m_spec;
    std::vector<Field> m_fields;  // per node
};

}  // namespace r18
