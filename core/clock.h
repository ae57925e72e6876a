// Timing for the figures the program reports (per-node times, decode and preprocessing times,
// latencies). Never used to decide what is computed.
#pragma once

#include <chrono>

namespace r18 {

using Clock = std::chrono::steady_clock;

// Milliseconds from `from` to `to` (default: now).
inline double msSince(Clock::time_point from, Clock::time_point to = Clock::now()) {
    return std::chrono::duration<double, std::milli>(to - from).count();
}

}  // namespace r18
