#!/bin/sh
# The dashboard's browser tests: installs what is missing (Debian's
# chromium, node/npm, the locked playwright-core from npm; never a browser
# download), then runs TEST.test.mjs against BINARY.
#
#   tests/browser/run.sh [BINARY [TEST]]   (default: build/pathwatch dashboard)
#   TEST: dashboard (the views on replayed captures), demo_live (the demo's
#   real FRR routers; needs root)
#
# The last line is "N passed, N failed"; the exit status is 0 only when
# every check passed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=${1:-$top/build/pathwatch}
test=${2:-dashboard}
[ -f "$here/$test.test.mjs" ] || { echo "run.sh: no test $here/$test.test.mjs" >&2; echo "0 passed, 1 failed"; exit 1; }
fail() { echo "run.sh: $*" >&2; echo "0 passed, 1 failed"; exit 1; }

[ -x "$bin" ] || fail "no pathwatch binary at $bin (build it: ninja -C build)"

missing=""
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || missing="$missing chromium"
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -n "$missing" ]; then
	[ "$(id -u)" = 0 ] || fail "missing:$missing (run as root, or apt-get install$missing)"
	echo "run.sh: installing$missing" >&2
	{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing; } >&2 ||
		fail "apt-get install$missing failed"
fi
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || fail "playwright-core needs Node.js 20 or later (found $(node --version))"

# playwright-core as locked in package-lock.json (it downloads no browser)
if ! (cd "$here" && node -e 'require.resolve("playwright-core")' 2>/dev/null) ||
	[ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
	(cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) >&2 ||
		fail "npm ci failed in $here"
fi

exec node "$here/$test.test.mjs" "$bin"
