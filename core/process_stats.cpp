#include "core/process_stats.h"

#include <fstream>
#include <string>

namespace r18 {

double residentMemoryMb() {
    std::ifstream f("/proc/self/status");
    std::string key;
    while (f >> key) {
        if (key == "VmRSS:") {
            double kb = 0;
            f >> kb;
            return kb / 1024.0;
        }
        f.ignore(1 << 16, '\n');
    }
    return 0.0;
}

}  // namespace r18
