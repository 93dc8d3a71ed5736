#!/usr/bin/env bash
# Measures what scopegate adds to an MCP call over stdio. The same load client drives the
# same echo server along three paths:
#   direct     load_client -> echo_server
#   socat      load_client -> socat (a byte-copying relay) -> echo_server
#   scopegate  load_client -> scopegate serve (generated catalog, temp db) -> echo_server
# Each path runs BENCH_RUNS times, interleaved; the run with the median p50 is reported.
# Then: scopegate's added median latency over socat's (each relative to direct), and
# scopegate's throughput over direct's.
#
# Environment (all optional):
#   BENCH_BUILD_DIR    meson build directory (default: <repo>/build-bench; set up if absent)
#   BENCH_CALLS        measured calls per run (default 20000)
#   BENCH_WARMUP       warm-up calls per run (default 2000)
#   BENCH_RUNS         runs per path (default 3)
#   BENCH_CONCURRENCY  calls in flight (default 1: one after another)
#   BENCH_PATHS        which paths to run (default "direct socat scopegate")
# Exit status: 0 when every requested path ran without errors, 1 otherwise.
set -euo pipefail

if [[ ${1:-} == -h || ${1:-} == --help ]]; then
  sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'
  exit 0
fi

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(realpath -m "${BENCH_BUILD_DIR:-$repo/build-bench}")
calls=${BENCH_CALLS:-20000}
warmup=${BENCH_WARMUP:-2000}
runs=${BENCH_RUNS:-3}
concurrency=${BENCH_CONCURRENCY:-1}
read -r -a paths <<<"${BENCH_PATHS:-direct socat scopegate}"

# --- build -------------------------------------------------------------------------
if [[ ! -f $build/build.ninja ]]; then
  meson setup "$build" "$repo" >/dev/null
fi
# The bench programs do not depend on the gateway, so build them on their own: a broken
# gateway build then fails only the scopegate path.
ninja -C "$build" tools/bench/echo_server tools/bench/load_client >/dev/null
scopegate_build_error=
if ! out=$(ninja -C "$build" src/scopegate 2>&1); then
  scopegate_build_error=$( (printf '%s\n' "$out" | grep -m1 -E 'error:|undefined reference') ||
    (printf '%s\n' "$out" | grep -m1 'FAILED') || true)
  scopegate_build_error=${scopegate_build_error:-ninja failed}
fi

load_client=$build/tools/bench/load_client
echo_server=$build/tools/bench/echo_server
scopegate=$build/src/scopegate

tmp=$(mktemp -d "${TMPDIR:-/tmp}/scopegate-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# --- a catalog that routes `echo` to the echo server ----------------------------------
. "$repo/tools/bench/bench-catalog.sh"
write_bench_catalog "$tmp" "$echo_server"

# --- runs --------------------------------------------------------------------------
declare -A failed=()

command_for() { # path run
  case $1 in
    direct) printf '%s\0' "$echo_server" ;;
    socat) printf '%s\0' socat STDIO "EXEC:$echo_server" ;;
    scopegate)
      printf '%s\0' "$scopegate" serve --catalog "$tmp/catalog" --db "$tmp/bench.$2.db" \
        --role bench --tenant bench --env bench ;;
  esac
}

for p in "${paths[@]}"; do
  case $p in
    direct) ;;
    socat) command -v socat >/dev/null || failed[socat]="socat not installed (Debian package socat)" ;;
    scopegate)
      if [[ -n $scopegate_build_error ]]; then
        failed[scopegate]="build failed: $scopegate_build_error"
      elif [[ ! -x $scopegate ]]; then
        failed[scopegate]="no binary at $scopegate"
      fi ;;
    *) echo "bench.sh: unknown path '$p' in BENCH_PATHS" >&2; exit 2 ;;
  esac
done

echo "bench: $calls calls after $warmup warm-up, concurrency $concurrency, $runs runs per path" >&2
for ((r = 1; r <= runs; r++)); do
  for p in "${paths[@]}"; do
    [[ -z ${failed[$p]:-} ]] || continue
    mapfile -d '' cmd < <(command_for "$p" "$r")
    if "$load_client" --calls "$calls" --warmup "$warmup" --concurrency "$concurrency" \
        -- "${cmd[@]}" >"$tmp/$p.$r.out" 2>"$tmp/$p.$r.err"; then
      echo "  run $r $p: $(cat "$tmp/$p.$r.out")" >&2
    else
      rc=$?
      reason=$(grep -v '^$' "$tmp/$p.$r.err" | head -n 3 | paste -sd '|' -)
      failed[$p]="run $r exited $rc: ${reason:-no message}"
      echo "  run $r $p: FAILED ($rc)" >&2
      sed 's/^/    /' "$tmp/$p.$r.err" | head -n 20 >&2
    fi
  done
done

# --- report ------------------------------------------------------------------------
field() { sed -n "s/.*\\b$2=\\([^ ]*\\).*/\\1/p" <<<"$1"; }

declare -A p50=() p99=() cps=()
for p in "${paths[@]}"; do
  [[ -z ${failed[$p]:-} ]] || continue
  # The run with the median p50 (the lower middle one for an even count).
  line=$(for ((r = 1; r <= runs; r++)); do cat "$tmp/$p.$r.out"; done |
    awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^p50_us=/) { split($i, kv, "="); print kv[2], $0 } }' |
    sort -n | awk -v n="$runs" 'NR == int((n + 1) / 2) { $1 = ""; sub(/^ /, ""); print }')
  p50[$p]=$(field "$line" p50_us)
  p99[$p]=$(field "$line" p99_us)
  cps[$p]=$(field "$line" calls_per_s)
  echo "RESULT path=$p $line"
done

echo
printf '%-10s %10s %10s %10s\n' path 'p50 µs' 'p99 µs' 'calls/s'
for p in "${paths[@]}"; do
  if [[ -n ${failed[$p]:-} ]]; then
    printf '%-10s FAILED: %s\n' "$p" "${failed[$p]}"
  else
    printf '%-10s %10s %10s %10s\n' "$p" "${p50[$p]}" "${p99[$p]}" "${cps[$p]}"
  fi
done

echo
have() { [[ -n ${p50[$1]:-} ]]; }
if have direct && have socat; then
  awk -v d="${p50[direct]}" -v s="${p50[socat]}" \
    'BEGIN { printf "socat adds      %8.1f µs median latency\n", s - d }'
fi
if have direct && have scopegate; then
  awk -v d="${p50[direct]}" -v g="${p50[scopegate]}" \
    'BEGIN { printf "scopegate adds  %8.1f µs median latency\n", g - d }'
fi
if have direct && have socat && have scopegate; then
  awk -v d="${p50[direct]}" -v s="${p50[socat]}" -v g="${p50[scopegate]}" 'BEGIN {
    if (s - d > 0) printf "added median latency, scopegate / socat: %.2f\n", (g - d) / (s - d)
    else print "added median latency, scopegate / socat: n/a (socat added nothing measurable)" }'
else
  echo "added median latency, scopegate / socat: n/a"
fi
if have direct && have scopegate; then
  awk -v d="${cps[direct]}" -v g="${cps[scopegate]}" \
    'BEGIN { printf "throughput, scopegate / direct:          %.2f\n", g / d }'
else
  echo "throughput, scopegate / direct:          n/a"
fi

((${#failed[@]} == 0))
