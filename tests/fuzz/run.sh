#!/bin/sh
# Runs libFuzzer targets for a given time each, under ASan + UBSan.
#   tests/fuzz/run.sh [-n] [-b BUILDDIR] [TARGET|all] [SECONDS]   (default: all 60)
# TARGET is one of the fuzz_*.c names (bmp_stream, bmp_msg, bgp_update,
# bgp_open, config, http_query); "all" runs each in turn.
# New corpus entries go to tests/fuzz/corpus/TARGET (with -n to a temporary
# directory instead: the committed corpus is only read, as in CI). A crash,
# leak or broken invariant is written to tests/fuzz/crashes/TARGET/ -- fix
# it and commit the file as regress-*: the ordinary test run replays it.
# Without -b, builds the targets into ./build-fuzz (clang) first;
#   tests/fuzz/run.sh setup        only configures and builds ./build-fuzz.
# Prints one line per target; exits non-zero if any target failed.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
all="bmp_stream bmp_msg bgp_update bgp_open config http_query"
scratch="" build=""
while getopts nb: o; do
	case $o in
	n) scratch=1 ;;
	b) build=$OPTARG ;;
	*) echo "usage: $0 [-n] [-b BUILDDIR] [TARGET|all] [SECONDS]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
target=${1:-all}
seconds=${2:-60}
[ "$target" = all ] && targets=$all || targets=$target
cd "$top"
if [ -z "$build" ]; then
	build=build-fuzz
	if [ ! -f build-fuzz/build.ninja ]; then
		CC=clang meson setup build-fuzz -Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
	fi
	if [ "$target" = setup ]; then
		exec ninja -C build-fuzz >/dev/null
	fi
	for t in $targets; do
		ninja -C build-fuzz "tests/fuzz/fuzz-$t" >/dev/null
	done
fi
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
failed=0
for t in $targets; do
	corpus="tests/fuzz/corpus/$t"
	mkdir -p "$corpus" "tests/fuzz/crashes/$t"
	if [ -n "$scratch" ]; then # libFuzzer writes into its first directory
		new=$(mktemp -d)
		set -- "$corpus"
	else
		new=$corpus
		set --
	fi
	extra=""
	[ "$t" = bmp_stream ] && extra="-max_len=65536 tests/vectors"
	# shellcheck disable=SC2086
	if "$build/tests/fuzz/fuzz-$t" -max_total_time="$seconds" -print_final_stats=1 \
		-artifact_prefix="tests/fuzz/crashes/$t/" "$new" "$@" $extra; then
		echo "fuzz $t: ok (${seconds}s)"
	else
		echo "fuzz $t: FAILED -- input kept in tests/fuzz/crashes/$t/"
		failed=1
	fi
	if [ -n "$scratch" ]; then
		rm -rf "$new"
	fi
done
exit $failed
