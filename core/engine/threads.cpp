#include "core/engine/threads.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

namespace r18 {

int machineCores() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
    return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

int capThreads(long long requested, std::string* note) {
    const int cores = machineCores();
    if (requested <= 0) return cores;
    if (requested <= cores) return static_cast<int>(requested);
    if (note)
        *note = "this machine has " + std::to_string(cores) + (cores == 1 ? " core" : " cores") +
                "; using " + std::to_string(cores);
    return cores;
}

void restartWithPassiveOpenMpWaiting(char** argv) {
    if (std::getenv("OMP_WAIT_POLICY") || std::getenv("GOMP_SPINCOUNT")) return;
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1", 0);  // a user's own tunables win
    execv("/proc/self/exe", argv);  // returns only on failure: go on with OpenMP's default
}

}  // namespace r18
