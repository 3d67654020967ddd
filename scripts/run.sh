#!/bin/sh
# Builds (installing what is missing), then:
#   ./scripts/run.sh                      the demo (demo/pathwatch-demo start): the reference
#                                         site, live FRR routers in namespaces when run as root
#                                         with FRR, else the real captures replayed; dashboard
#                                         at http://127.0.0.1:8080/ (see demo/README.md)
#   ./scripts/run.sh --demo [OPTIONS]     the same, OPTIONS go to `pathwatch-demo start`
#   ./scripts/run.sh --no-demo [ARGS]     the plain collector with its defaults: BMP on
#                                         0.0.0.0:1790, API on http://127.0.0.1:8080/,
#                                         database ./pathwatch.db; ARGS go to pathwatch
#   ./scripts/run.sh ARGS                 (any other arguments) the plain collector with ARGS,
#                                         e.g. --config FILE, as before
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/setup.sh"
if [ $# -eq 0 ]; then
	exec "$top/demo/pathwatch-demo" start
fi
case "$1" in
--demo)
	shift
	exec "$top/demo/pathwatch-demo" start "$@"
	;;
--no-demo)
	shift
	;;
esac
exec "$top/build/pathwatch" "$@"
