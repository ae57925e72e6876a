// Reader for ONNX ResNets: torchvision exports (batch-norm folded into Conv, generated tensor
// names) and the ONNX model zoo's ResNet18/34-v1 (explicit BatchNormalization). The graph is
// mapped onto torchvision's module names by its structure, not by its names; a node that a
// basic-block ResNet does not have is rejected by name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/formats/tensor_file.h"

namespace r18 {

// `label` names the file in messages. Throws WeightsError. Before parsing, the protobuf wire
// format is scanned for what parsing would allocate, and a file that needs more than a
// ResNet18/34 can (formats/limits.h) is refused. Every attribute that changes what a node
// computes is either honoured or refused with a message naming the node and the attribute
// (MaxPool ceil_mode, dilations, auto_pad, BatchNormalization in training mode, ...).
TensorFile readOnnx(const uint8_t* data, size_t size, const std::string& label);
inline TensorFile readOnnx(const std::vector<uint8_t>& bytes, const std::string& label) {
    return readOnnx(bytes.data(), bytes.size(), label);
}

}  // namespace r18
