// Threads for inference: how many the machine has, capping what is asked for, and how OpenMP's
// threads wait between parallel regions.
#pragma once

#include <string>

namespace r18 {

// Cores this process may run on (its CPU affinity), at least 1.
int machineCores();

// `requested` threads, or all cores for 0, never more than machineCores(): a larger request is
// capped (OpenMP crashes or takes gigabytes on absurd counts) and `note`, if given, says so:
// "this machine has 2 cores; using 2". Negative requests count as 0.
int capThreads(long long requested, std::string* note = nullptr);

// GNU OpenMP's threads spin after every parallel region, and it reads OMP_WAIT_POLICY when the
// library loads, before main() runs. Where inference shares the cores with a GUI thread and a
// capture thread, that spinning takes the cores they need (2 inference threads ran 5x slower
// than 1 in the window on a 2-core machine). This restarts the process once with
// OMP_WAIT_POLICY=PASSIVE, unless the user chose a policy (OMP_WAIT_POLICY or GOMP_SPINCOUNT);
// it returns only if no restart was needed or it failed. Call it first thing in main().
// The same restart also asks glibc's malloc for transparent huge pages
// (GLIBC_TUNABLES=glibc.malloc.hugetlb=1, read only at start too) unless GLIBC_TUNABLES is set:
// opening the weights and compiling the engine touch ~300 MB of fresh memory, and a page fault
// per 4 KiB made a quarter of a one-image `classify` (AMD Zen 5 VM: 2.41 s → 1.75 s whole
// process under load; results are the same bytes).
void restartWithPassiveOpenMpWaiting(char** argv);

}  // namespace r18
