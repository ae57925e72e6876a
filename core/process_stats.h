// Figures about this process, for the benchmark and the soak test.
#pragma once

namespace r18 {

// Resident set size in MB (VmRSS from /proc/self/status); 0 where unavailable.
double residentMemoryMb();

}  // namespace r18
