#!/bin/sh
# Installs what pathwatch needs on Debian 12 (as root; only what is missing)
# and builds it into ./build. Sourced by run.sh and test.sh.
#   PW_TEST_DEPS=1 also installs what the tests need (FRR, GoBGP, pmacct for
#   the benchmark's comparison, iproute2, python3;
#   clang with its libFuzzer/sanitizer runtimes for the fuzz targets).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
need="meson ninja-build pkg-config gcc libc6-dev libuv1-dev libsqlite3-dev libmicrohttpd-dev libjansson-dev libyaml-dev libcurl4-openssl-dev libssl-dev python3"
if [ "${PW_TEST_DEPS:-0}" = 1 ]; then
	need="$need frr gobgpd pmacct iproute2 procps clang libclang-rt-14-dev"
fi
missing=""
for p in $need; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "pathwatch: missing Debian packages:$missing (run as root, or: apt-get install$missing)" >&2
		exit 1
	fi
	echo "pathwatch: installing$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2 || true
	apt-get install -y -qq --no-install-recommends $missing >&2
fi
cd "$top"
if [ ! -f build/build.ninja ]; then
	meson setup build >&2
fi
ninja -C build >&2
