#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (address + undefined sanitizers) in
# build-fuzz/ and runs each for FUZZ_SECONDS (default 30) on a copy of its corpus
# (tests/fuzz/corpus/<name without fuzz_>). Prints one line per target and
# "fuzz: N passed, N failed"; a target passes when the fuzzer finds nothing.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-30}
if [ ! -f build-fuzz/build.ninja ]; then
  # Coverage instrumentation for the whole library, not only the targets' own files.
  CC=clang meson setup build-fuzz -Db_sanitize=address,undefined -Db_lundef=false \
    -Dc_args=-fsanitize=fuzzer-no-link >/dev/null || exit 1
fi
# Only the fuzz targets: the rest of the tree is built and tested elsewhere.
targets=$(ninja -C build-fuzz -t targets all 2>/dev/null | grep -oE '^tests/fuzz/fuzz_[a-z_]+' | sort -u)
if ! ninja -C build-fuzz $targets >"${TMPDIR:-/tmp}/sg-fuzz-build.log" 2>&1; then
  grep -E 'error|FAILED' "${TMPDIR:-/tmp}/sg-fuzz-build.log" | head -20
  echo "fuzz: 0 passed, 1 failed"
  exit 1
fi
pass=0
fail=0
for bin in build-fuzz/tests/fuzz/fuzz_*; do
  [ -f "$bin" ] && [ -x "$bin" ] || continue
  name=$(basename "$bin")
  corpus=$(mktemp -d)
  seed="tests/fuzz/corpus/${name#fuzz_}"
  [ -d "$seed" ] && cp -r "$seed"/. "$corpus"/
  log=$(mktemp)
  if "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$corpus/" \
      "$corpus" >"$log" 2>&1; then
    pass=$((pass + 1))
    echo "ok - $name ($(grep -Eo 'Done [0-9]+ runs' "$log" | tail -n1))"
  else
    fail=$((fail + 1))
    echo "not ok - $name"
    tail -n 40 "$log"
    ls "$corpus"/crash-* "$corpus"/leak-* "$corpus"/timeout-* 2>/dev/null
  fi
  rm -rf "$corpus" "$log"
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
