#!/usr/bin/env bash
# How GNU OpenMP's wait policy treats inference when other threads want the cores too (the
# window's GUI and capture threads). For each OMP_WAIT_POLICY / GOMP_SPINCOUNT setting (read
# once, when the OpenMP runtime starts: one fresh process per setting), times fp32 batch-1
# inference at 1 and 2 threads, alone and against a background thread that works 4 ms of every
# 16 ("gui") or never rests ("spin"), and how much work that thread got done meanwhile.
#   bench/wait_policy.sh [--iterations N]       (builds first; needs a quiet machine)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
iterations=30
[ "${1:-}" = "--iterations" ] && iterations=$2
if [ ! -x build/app/resnet18-explorer ]; then
    source scripts/deps.sh
    r18_install_deps build
    r18_build --target resnet18-explorer
fi
cli=build/app/resnet18-explorer
settings=("default" "OMP_WAIT_POLICY=PASSIVE" "OMP_WAIT_POLICY=ACTIVE" "GOMP_SPINCOUNT=0"
          "GOMP_SPINCOUNT=1000" "GOMP_SPINCOUNT=10000" "GOMP_SPINCOUNT=100000")
echo "fp32 batch 1, median ms per inference (background work units per ms); $(nproc) cores," \
     "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -I)"
printf '| %-23s | %-7s | %-16s | %-16s | %-16s |\n' setting threads alone "gui thread" "spinning thread"
printf '|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..25})" "--------:" "-----------------:" "-----------------:" "-----------------:"
for setting in "${settings[@]}"; do
    envs=(env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT)
    [ "$setting" != default ] && envs+=("$setting")
    for threads in 1 2; do
        cells=()
        for background in none gui spin; do
            json=$("${envs[@]}" "$cli" bench --precision fp32 --threads "$threads" \
                --iterations "$iterations" --background "$background" --json)
            cells+=("$(/usr/bin/python3 -c '
import json, sys
r = json.loads(sys.argv[1])["results"][0]
work = r["background_work_per_ms"]
ms = r["median_ms"]
print(f"{ms:.2f}" + (f" ({work:.0f})" if sys.argv[2] != "none" else ""))' "$json" "$background")")
        done
        printf '| %-23s | %7s | %16s | %16s | %16s |\n' "$setting" "$threads" "${cells[@]}"
    done
done
