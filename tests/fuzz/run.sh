#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in build-fuzz/ and runs each for
# SECONDS (default 60), on a copy of the committed seeds with the target's dictionary
# (tests/fuzz/dict/); crashers land in build-fuzz/crashes/.
#   tests/fuzz/run.sh 600            all six targets
#   tests/fuzz/run.sh 600 image      just fuzz_image
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
shift || true
targets=${*:-pth onnx image safetensors gif heif}
clang=${CXX_FUZZ:-clang++-14}
command -v "$clang" >/dev/null || { echo "error: $clang not found (apt-get install clang-14 libclang-rt-14-dev)" >&2; exit 1; }
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$clang" \
      -DR18_FUZZ=ON -DR18_SANITIZE=ON -DR18_BUILD_TESTS=OFF >/dev/null
cmake --build build-fuzz --target fuzz_pth fuzz_onnx fuzz_image fuzz_safetensors fuzz_gif fuzz_heif
mkdir -p build-fuzz/crashes
status=0
for target in $targets; do
    corpus=build-fuzz/corpus/$target
    mkdir -p "$corpus"
    cp -n tests/fuzz/seeds/$target/* "$corpus"/ 2>/dev/null || true
    echo "== fuzz_$target for ${seconds}s"
    log=build-fuzz/fuzz_$target.log
    dict=()
    [ -f tests/fuzz/dict/$target.dict ] && dict=(-dict=tests/fuzz/dict/$target.dict)
    if ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
        build-fuzz/tests/fuzz/fuzz_$target "$corpus" "${dict[@]}" -max_total_time="$seconds" -rss_limit_mb=2048 \
        -max_len=1048576 -artifact_prefix=build-fuzz/crashes/$target- -print_final_stats=1 >"$log" 2>&1; then
        grep -E "^(#[0-9]+ *DONE|stat::number_of_executed_units|stat::peak_rss_mb)" "$log" || true
    else
        status=1
        grep -E "^(==|SUMMARY|artifact_prefix|Test unit written)" "$log" || tail -20 "$log"
    fi
done
ls build-fuzz/crashes
exit $status
