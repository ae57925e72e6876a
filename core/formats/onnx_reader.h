// Reader for ONNX ResNets: torchvision exports (batch-norm folded into Conv, generated tensor
// names) and the ONNX model zoo's ResNet18/34-v1 (explicit BatchNormalization). The graph is
// mapped onto torchvision's module names by its structure, not by its names; a node that a
// basic-block ResNet does not have is rejected by name.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/model/weights.h"

namespace r18 {

// `label` names the file in messages. Throws WeightsError.
WeightSet readOnnx(const std::vector<uint8_t>& bytes, const std::string& label);

}  // namespace r18
