#!/bin/sh
# Builds (installing what is missing, test tools included) and runs every
# test suite: unit, fuzz-replay, daemon, integration (real FRR and GoBGP
# routers in network namespaces: needs root), browser, bench (small); then
# all of them but the benchmark again under ASan, UBSan and LeakSanitizer,
# with a 2-minute soak (tests/soak); then every libFuzzer target for a short
# time (suite fuzz-short in build-fuzz, clang; a crash is left in
# tests/fuzz/crashes/TARGET/). Ends with the line "N passed, N failed"; a
# skipped test counts as failed (nothing is skipped silently).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
PW_TEST_DEPS=1 "$top/scripts/setup.sh" || { echo "0 passed, 1 failed"; exit 1; }
cd "$top"
meson test -C build --no-suite soak --print-errorlogs "$@"
# again under AddressSanitizer, UndefinedBehaviorSanitizer and LeakSanitizer
# (the tests fail on a sanitizer report in the collector's log)
rm -f build-asan/meson-logs/testlog.json
if [ ! -f build-asan/build.ninja ]; then
	meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
ninja -C build-asan >/dev/null &&
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C build-asan --suite unit --suite fuzz-replay --suite daemon --suite integration --suite browser \
		--suite soak --print-errorlogs
# each fuzz target for fuzz_seconds (20 s) under ASan + UBSan: one test each
rm -f build-fuzz/meson-logs/testlog.json
if command -v clang >/dev/null 2>&1; then
	tests/fuzz/run.sh setup && meson test -C build-fuzz --suite fuzz-short --print-errorlogs
else
	echo "clang not found: the short fuzz runs did not run (counted as failed)"
fi
python3 - "$top/build/meson-logs/testlog.json" "$top/build-asan/meson-logs/testlog.json" \
	"$top/build-fuzz/meson-logs/testlog.json" <<'PY'
import json, sys
passed = failed = skipped = 0
lines = []
for path in sys.argv[1:]:
    try:
        lines += open(path).read().splitlines()
    except OSError:
        failed += 1  # a suite that did not run at all
for line in lines:
    r = json.loads(line).get("result")
    if r in ("OK", "EXPECTEDFAIL"):
        passed += 1
    elif r == "SKIP":
        skipped += 1
    else:
        failed += 1
if skipped:
    print(f"{skipped} skipped (counted as failed)")
print(f"{passed} passed, {failed + skipped} failed")
sys.exit(1 if failed + skipped or not passed else 0)
PY
