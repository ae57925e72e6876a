// Seeded random numbers that another program can reproduce exactly: SmoothGrad's noise (the
// PyTorch reference regenerates it in tests/fixtures/make_insight.py) and feature
// visualisation's initial image and random transforms.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace r18 {

// splitmix64 (Steele, Lea, Flood 2014): state += 0x9E3779B97F4A7C15; z = state;
// z = (z ^ z>>30)·0xBF58476D1CE4E5B9; z = (z ^ z>>27)·0x94D049BB133111EB; out = z ^ z>>31,
// all mod 2^64.
class SplitMix64 {
public:
    explicit SplitMix64(uint64_t seed) : m_state(seed) {}
    uint64_t next() {
        m_state += 0x9E3779B97F4A7C15ULL;
        uint64_t z = m_state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    // Uniform in [0, 1): the top 53 bits.
    double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }

private:
    uint64_t m_state;
};

// `count` standard normal numbers from SplitMix64(seed): consecutive uniforms u, v, then
// Box–Muller in double precision, r = √(−2·ln(1 − u)); numbers 2j and 2j+1 are r·cos(2πv) and
// r·sin(2πv), rounded to float.
std::vector<float> gaussianNoise(uint64_t seed, size_t count);

}  // namespace r18
