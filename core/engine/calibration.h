// Calibration for int8: the largest |activation| of every tappable node, measured by running the
// fp32 engine on images the user provides. Activations are quantized symmetrically from these:
// u8 (255/max) after a ReLU, s8 (127/max) where values can be negative.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/model/network_spec.h"
#include "core/model/weights.h"
#include "core/tensor.h"

namespace r18 {

struct Calibration {
    std::map<std::string, float> maxAbs;  // node name -> max |value| seen
    int images = 0;
};

// Runs `inputs` (each [1,3,S,S], preprocessed) through an fp32 engine and records every tap's
// range. Throws EngineError if `inputs` is empty.
Calibration calibrate(const NetworkSpec& spec, const WeightSet& weights,
                      const std::vector<Tensor>& inputs, int threads = 0);

}  // namespace r18
