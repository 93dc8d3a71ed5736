#!/usr/bin/env bash
# Runs every test suite on a fresh machine (setting it up first): unit tests in a normal
# and a sanitizer build (address + undefined), the JSON Schema test-suite runner when it
# is built, the integration tests with real MCP peers and the MCP conformance suite
# against the sanitizer build, where any sanitizer report counts as a failure. Ends with
# "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

tools/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
BUILD_DIR=build-asan MESON_ARGS="-Db_sanitize=address,undefined -Db_lundef=false" tools/setup.sh \
  || { echo "sanitizer build failed"; echo "0 passed, 1 failed"; exit 1; }

total_pass=0
total_fail=0
summary=()

# record NAME PASSED FAILED
record() {
  total_pass=$((total_pass + $2))
  total_fail=$((total_fail + $3))
  summary+=("$(printf '%-22s %5d passed, %d failed' "$1" "$2" "$3")")
}

# Reads the last "N passed, N failed" from a suite's output file.
counts() {
  grep -Eo '[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1 | sed -E 's/([0-9]+) passed, ([0-9]+) failed/\1 \2/'
}

run_counted() {
  local name=$1; shift
  local out; out=$(mktemp)
  echo "== $name"
  "$@" 2>&1 | tee "$out"
  local rc=${PIPESTATUS[0]}
  local c; c=$(counts "$out")
  if [ -z "$c" ]; then
    record "$name" 0 1
  else
    set -- $c
    local fails=$2
    [ "$rc" -ne 0 ] && [ "$fails" -eq 0 ] && fails=1
    record "$name" "$1" "$fails"
  fi
  rm -f "$out"
}

san_dir=$(mktemp -d)
export ASAN_OPTIONS="log_path=$san_dir/asan:detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="log_path=$san_dir/ubsan:print_stacktrace=1:halt_on_error=1"

run_counted "unit" build/tests/unit/sg-unit
run_counted "unit (sanitizers)" build-asan/tests/unit/sg-unit

# The official JSON Schema test data is not part of this repository: point
# SG_SCHEMA_SUITE at a checkout of json-schema-org/JSON-Schema-Test-Suite (a sibling
# directory named json-schema-test-suite is found by itself).
suite=${SG_SCHEMA_SUITE:-}
for d in ../shared/json-schema-test-suite ../json-schema-test-suite; do
  [ -z "$suite" ] && [ -d "$d/tests/draft2020-12" ] && suite=$d
done
if [ -n "$suite" ]; then
  run_counted "schema test suite" build/tests/schema-suite/schema-suite "$suite"
  # The optional format tests, asserted, for the formats the gateway relies on.
  run_counted "schema formats" build/tests/schema-suite/schema-suite --formats "$suite"
else
  echo "== schema test suite: skipped (no JSON-Schema-Test-Suite checkout; set SG_SCHEMA_SUITE)"
fi

integration() {
  SCOPEGATE_BIN="$root/build-asan/src/scopegate" node --test --test-concurrency=2 \
    --test-timeout=120000 --test-reporter=tap tests/integration/ > "$san_dir/tap" 2>&1
  local rc=$?
  cat "$san_dir/tap"
  local pass fail
  pass=$(grep -E '^# pass ' "$san_dir/tap" | awk '{print $3}')
  fail=$(grep -E '^# fail ' "$san_dir/tap" | awk '{print $3}')
  echo "integration: ${pass:-0} passed, ${fail:-1} failed"
  return $rc
}
run_counted "integration (SDK)" integration

# The official MCP conformance suite against server-everything, directly and through the
# sanitizer build: scopegate must pass what the downstream passes (tools/conformance.mjs).
run_counted "conformance (MCP suite)" env SCOPEGATE_BIN="$root/build-asan/src/scopegate" tools/conformance.sh

# Fuzzing needs clang; a short run per target catches regressions in the parsers.
run_counted "fuzz (${FUZZ_SECONDS:-20}s per target)" env FUZZ_SECONDS="${FUZZ_SECONDS:-20}" tools/fuzz.sh

reports=$(ls "$san_dir" | grep -E '^(asan|ubsan)\.' || true)
if [ -n "$reports" ]; then
  echo "== sanitizer reports"
  for f in $reports; do echo "--- $f"; cat "$san_dir/$f"; done
  record "sanitizer reports" 0 "$(echo "$reports" | wc -l)"
else
  record "sanitizer reports" 1 0
fi
rm -rf "$san_dir"

echo
echo "== summary"
printf '%s\n' "${summary[@]}"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
