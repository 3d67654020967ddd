#!/bin/sh
# Runs one libFuzzer target for a given time under ASan+UBSan.
#   tests/fuzz/run.sh [TARGET] [SECONDS]     (default: bmp_stream 60)
# New corpus entries go to tests/fuzz/corpus/TARGET; a crash is written to
# tests/fuzz/crashes/TARGET/ -- commit it: the ordinary test run replays it.
set -eu
target=${1:-bmp_stream}
seconds=${2:-60}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
if [ ! -d build-fuzz ]; then
	CC=clang meson setup build-fuzz -Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
ninja -C build-fuzz "tests/fuzz/fuzz-$target" >/dev/null
mkdir -p "tests/fuzz/corpus/$target" "tests/fuzz/crashes/$target"
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
exec "build-fuzz/tests/fuzz/fuzz-$target" -max_total_time="$seconds" -max_len=65536 \
	-artifact_prefix="tests/fuzz/crashes/$target/" "tests/fuzz/corpus/$target" tests/vectors
