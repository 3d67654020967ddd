#!/bin/sh
# pathwatch benchmark: bench/run.sh [--size small|full] [--runs N] [--scenarios a,b,c,d,e,f] [--no-pmbmpd]
# Builds pathwatch (ninja -C build), the stream generator and the sender
# (cc -O2), then runs bench/bench.py: a table on stdout, the details in
# bench/results/<timestamp>-<size>.json. See bench/README.md.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
CC=${CC:-cc}
if [ ! -f "$top/build/build.ninja" ]; then
	echo "bench: $top/build is not configured: run scripts/run.sh or scripts/test.sh once (meson setup build)" >&2
	exit 1
fi
ninja -C "$top/build" >/dev/null
mkdir -p "$here/.bin"
# a private copy: a rebuild of build/ during a run must not mix two binaries
cp "$top/build/pathwatch" "$here/.bin/pathwatch.tmp" && mv "$here/.bin/pathwatch.tmp" "$here/.bin/pathwatch"
$CC -O2 -Wall -Wextra -o "$here/.bin/bmpgen" "$here/bmpgen.c"
$CC -O2 -Wall -Wextra -o "$here/.bin/bmpsend" "$here/bmpsend.c"
command -v pmbmpd >/dev/null 2>&1 || [ -x /usr/sbin/pmbmpd ] ||
	echo "bench: pmbmpd not found (apt-get install pmacct): pathwatch alone will be measured" >&2
exec python3 "$here/bench.py" "$@"
