#!/bin/sh
# Builds (installing what is missing) and starts the collector with its
# defaults: BMP on 0.0.0.0:1790, API on http://127.0.0.1:8080/, database
# ./pathwatch.db. Extra arguments go to pathwatch (e.g. --config FILE).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/setup.sh"
exec "$top/build/pathwatch" "$@"
