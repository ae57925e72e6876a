#!/usr/bin/env bash
# The window's cold start under Xvfb + openbox: when the window is first exposed and when the first
# result (top-5, feature maps) is on screen, median of N runs, each with a fresh HOME (no
# remembered settings, so fp32). The window reports both through its r18.startup log category;
# --screenshot makes each run quit by itself once the result is shown.
#   bench/startup.sh [RUNS] [WEIGHTS] [IMAGE]       (defaults: 5, the test fixtures' weights, dog.jpg)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
runs=${1:-5}
weights=${2:-build/fixtures/weights/resnet18_seeded.pth}
image=${3:-/usr/share/darknet/data/dog.jpg}
cli=build/app/resnet18-explorer
for tool in Xvfb openbox; do
    command -v $tool >/dev/null || { echo "error: $tool not found (apt-get install xvfb openbox)" >&2; exit 1; }
done
[ -x "$cli" ] || { echo "error: $cli not built (./run.sh or cmake --build build)" >&2; exit 1; }
display=:$((90 + RANDOM % 100))
Xvfb "$display" -screen 0 1600x1000x24 >/dev/null 2>&1 &
xvfb=$!
sleep 1
DISPLAY=$display openbox >/dev/null 2>&1 &
wm=$!
work=$(mktemp -d)
trap 'kill $wm $xvfb 2>/dev/null || true; rm -rf "$work"' EXIT
sleep 1
echo "window cold start, fp32 (a fresh HOME starts there), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), median of $runs runs"
exposed=() result=() after=()
for _ in $(seq "$runs"); do
    home=$(mktemp -d -p "$work")
    log=$(HOME=$home DISPLAY=$display QT_LOGGING_RULES="r18.startup.info=true" timeout 120 \
          "$cli" --weights "$weights" --window-size 1440x900 --screenshot "$home/shot.png" "$image" 2>&1 || true)
    e=$(grep -o 'window exposed at [0-9]*' <<<"$log" | grep -o '[0-9]*$' || true)
    r=$(grep -o 'first result on screen at [0-9]*' <<<"$log" | grep -o '[0-9]*$' || true)
    [ -n "$e" ] && [ -n "$r" ] || { echo "error: a run reported nothing:"; echo "$log" | tail -5; exit 1; }
    exposed+=("$e") result+=("$r") after+=($((r - e)))
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
echo "window exposed:          $(median "${exposed[@]}") ms after QApplication was created"
echo "first result on screen:  $(median "${result[@]}") ms, $(median "${after[@]}") ms after the window appeared"
echo "(each run: ${after[*]} ms after the window appeared)"
