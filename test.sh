#!/usr/bin/env bash
# Builds everything with warnings as errors, makes the test fixtures with Debian's PyTorch
# and runs every test. Installs missing Debian packages first. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/deps.sh
r18_install_deps test
r18_build
export QT_QPA_PLATFORM=offscreen
ctest --test-dir build --output-on-failure --parallel "$(nproc 2>/dev/null || echo 2)" "$@"
