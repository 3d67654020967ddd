#!/bin/sh
# Builds (installing what is missing, test tools included) and runs every
# test suite: unit, fuzz-replay, integration (real FRR routers in network
# namespaces: needs root). Ends with the line "N passed, N failed"; a
# skipped test counts as failed (nothing is skipped silently).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
PW_TEST_DEPS=1 "$top/scripts/setup.sh" || { echo "0 passed, 1 failed"; exit 1; }
cd "$top"
meson test -C build --print-errorlogs "$@"
python3 - "$top/build/meson-logs/testlog.json" <<'PY'
import json, sys
passed = failed = skipped = 0
try:
    lines = open(sys.argv[1]).read().splitlines()
except OSError:
    lines = []
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
