#!/usr/bin/env bash
# Compares this project's JSON Schema validator with ajv (the usual JavaScript one, draft
# 2020-12 build) on the same schemas and the same instances (tools/bench/schema-cases.json):
#   tool-input    a typical tool input: bounded strings with patterns, bounded numbers, an
#                 enum, additionalProperties false
#   nested-refs   $ref into $defs, nested objects, an array of objects
#   anyof-oneof   oneOf alternatives told apart by const, anyOf
#   unevaluated   allOf and if/then/else closed by unevaluatedProperties false
# Each case has a valid and an invalid instance. Schemas are compiled and instances parsed
# beforehand: only validation is timed (one error wanted, as the gateway wants it). Each
# figure is the mean time per validation in the fastest of SCHEMA_BENCH_ROUNDS rounds of
# about 20 ms; "ajv/C" above 1 means the C validator is faster.
#
# Environment (all optional):
#   BENCH_BUILD_DIR       meson build directory (default: <repo>/build-bench; set up if absent)
#   SCHEMA_BENCH_CASES    the cases file (default: tools/bench/schema-cases.json)
#   SCHEMA_BENCH_ROUNDS   rounds per figure (default 15)
# Needs tools/node_modules (tools/setup.sh installs it). Exit status: 0 when both
# validators ran and agreed on every instance, 1 otherwise.
set -euo pipefail

if [[ ${1:-} == -h || ${1:-} == --help ]]; then
  sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'
  exit 0
fi

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BENCH_BUILD_DIR:-$repo/build-bench}
cases=${SCHEMA_BENCH_CASES:-$repo/tools/bench/schema-cases.json}
rounds=${SCHEMA_BENCH_ROUNDS:-15}

if [[ ! -d $repo/tools/node_modules/ajv ]]; then
  echo "schema-bench: ajv is not installed; run tools/setup.sh first" >&2
  exit 1
fi
if [[ ! -f $build/build.ninja ]]; then
  meson setup "$build" "$repo" >/dev/null
fi
ninja -C "$build" tools/bench/schema_bench >/dev/null

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
"$build/tools/bench/schema_bench" "$cases" "$rounds" >"$tmp/c" || status=1
node "$repo/tools/bench/schema_bench.mjs" "$cases" "$rounds" >"$tmp/ajv" || status=1

printf '%-14s %-8s %12s %12s %8s\n' case instance 'C ns' 'ajv ns' 'ajv/C'
# Join the two outputs on (case, instance), in the C program's order.
awk 'NR == FNR { ajv[$1 " " $2] = $3; next }
     { a = ajv[$1 " " $2]
       if (a == "") { printf "%-14s %-8s %12.0f %12s %8s\n", $1, $2, $3, "-", "-"; next }
       printf "%-14s %-8s %12.0f %12.0f %7.2fx\n", $1, $2, $3, a, a / $3 }' \
  "$tmp/ajv" "$tmp/c"
echo "(node $(node --version), ajv $(node -p "require('$repo/tools/node_modules/ajv/package.json').version"), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))"
exit $status
