#include "core/noise.h"

#include <cmath>

namespace r18 {

std::vector<float> gaussianNoise(uint64_t seed, size_t count) {
    constexpr double kTwoPi = 6.283185307179586476925286766559;
    SplitMix64 rng(seed);
    std::vector<float> out(count);
    for (size_t i = 0; i < count; i += 2) {
        const double u = rng.uniform();
        const double v = rng.uniform();
        const double r = std::sqrt(-2.0 * std::log(1.0 - u));
        out[i] = static_cast<float>(r * std::cos(kTwoPi * v));
        if (i + 1 < count) out[i + 1] = static_cast<float>(r * std::sin(kTwoPi * v));
    }
    return out;
}

}  // namespace r18
