#include "core/engine/calibration.h"

#include <algorithm>
#include <cmath>

#include "core/engine/engine.h"
#include "core/error.h"

namespace r18 {

Calibration calibrate(const NetworkSpec& spec, const WeightSet& weights,
                      const std::vector<Tensor>& inputs, int threads) {
    if (inputs.empty()) throw EngineError("int8 calibration needs at least one image.");
    Engine engine(spec, weights, EngineOptions().withThreads(threads));
    const std::vector<std::string> taps = spec.tapNames();
    Calibration c;
    for (const Tensor& input : inputs) {
        const RunResult r = engine.run(input, taps);
        for (const auto& [name, t] : r.taps) {
            float& m = c.maxAbs[name];
            for (float v : t.data) m = std::max(m, std::fabs(v));
        }
        ++c.images;
    }
    return c;
}

}  // namespace r18
