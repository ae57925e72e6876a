#!/usr/bin/env bash
# Builds everything with warnings as errors, makes the test fixtures with Debian's PyTorch
# and runs every test. Installs missing Debian packages first. Exits non-zero on any failure.
#   ./test.sh            the suite (what CI runs)
#   ./test.sh --asan     the same suite under AddressSanitizer + UndefinedBehaviorSanitizer,
#                        in build-asan/ (the RSS soak is skipped there; see tests/lsan.supp)
#   ./test.sh -R Engine  extra arguments go to ctest
set -euo pipefail
cd "$(dirname "$0")"
source scripts/deps.sh
r18_install_deps test
export QT_QPA_PLATFORM=offscreen
jobs=$(nproc 2>/dev/null || echo 2)
if [ "${1:-}" = "--asan" ]; then
    shift
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1:detect_stack_use_after_return=0
    export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$PWD/tests/ubsan.supp
    cmake --preset asan >/dev/null
    cmake --build build-asan --parallel "$jobs"
    exec ctest --test-dir build-asan --output-on-failure --parallel "$jobs" --timeout 900 "$@"
fi
r18_build
ctest --test-dir build --output-on-failure --parallel "$jobs" "$@"
