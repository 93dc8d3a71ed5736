#!/usr/bin/env bash
# Measures MCP calls over Streamable HTTP through scopegate and through the Node proxies
# people put in front of stdio servers. The same C load client (http_load: keep-alive
# connections, one session each) drives the same C echo server over stdio along:
#   scopegate     http_load -> scopegate serve --listen (generated catalog, temp db,
#                 full checks, audit on) -> echo_server
#   supergateway  http_load -> supergateway --stdio --outputTransport streamableHttp
#                 --stateful (npm, tools/package.json) -> echo_server
#   mcp-proxy     http_load -> mcp-proxy --server stream (npm) -> echo_server
# Each path is started afresh for each run and measured with 1 client, then with 16
# concurrent clients; paths are interleaved, BENCH_RUNS runs, and for each path and client
# count the run with the median calls/s is reported, with the proxy's RSS (its own
# process, sampled by ps halfway through the measurement; downstream processes apart).
# Then: scopegate's throughput over each Node proxy's at the highest client count.
#
# Environment (all optional):
#   BENCH_BUILD_DIR  meson build directory (default: <repo>/build-bench; set up as a
#                    release build if absent)
#   BENCH_DURATION   measured seconds per measurement (default 3)
#   BENCH_WARMUP     warm-up seconds before each measurement (default 1)
#   BENCH_RUNS       runs per path (default 3)
#   BENCH_CLIENTS    client counts to measure (default "1 16")
#   BENCH_PATHS      which paths to run (default "scopegate supergateway mcp-proxy")
#   NODE             the node binary for the Node proxies (default: node on PATH)
# Exit status: 0 when every requested path ran without errors, 1 otherwise.
set -euo pipefail

if [[ ${1:-} == -h || ${1:-} == --help ]]; then
  sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'
  exit 0
fi

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BENCH_BUILD_DIR:-$repo/build-bench}
duration=${BENCH_DURATION:-3}
warmup=${BENCH_WARMUP:-1}
runs=${BENCH_RUNS:-3}
read -r -a client_counts <<<"${BENCH_CLIENTS:-1 16}"
read -r -a paths <<<"${BENCH_PATHS:-scopegate supergateway mcp-proxy}"
node=${NODE:-node}
modules=$repo/tools/node_modules

# --- build -------------------------------------------------------------------------
if [[ ! -f $build/build.ninja ]]; then
  meson setup "$build" "$repo" --buildtype=release >/dev/null
fi
build=$(cd "$build" && pwd) # the catalog names the echo server by absolute path
ninja -C "$build" tools/bench/echo_server tools/bench/http_load >/dev/null
scopegate_build_error=
if ! out=$(ninja -C "$build" src/scopegate 2>&1); then
  scopegate_build_error=$( (printf '%s\n' "$out" | grep -m1 -E 'error:|undefined reference') ||
    (printf '%s\n' "$out" | grep -m1 'FAILED') || true)
  scopegate_build_error=${scopegate_build_error:-ninja failed}
fi

http_load=$build/tools/bench/http_load
echo_server=$build/tools/bench/echo_server
scopegate=$build/src/scopegate

tmp=$(mktemp -d "${TMPDIR:-/tmp}/scopegate-http-bench.XXXXXX")
proxy_pid=
stop_proxy() {
  [[ -n $proxy_pid ]] || return 0
  local kids
  kids=$(ps -o pid= --ppid "$proxy_pid" 2>/dev/null || true)
  kill "$proxy_pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$proxy_pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$proxy_pid" 2>/dev/null || true
  wait "$proxy_pid" 2>/dev/null || true
  # Downstream processes a proxy leaves behind are ours too.
  for k in $kids; do kill "$k" 2>/dev/null || true; done
  proxy_pid=
}
trap 'stop_proxy; rm -rf "$tmp"' EXIT

# --- a catalog that routes `echo` to the echo server (as in bench.sh) -------------------
. "$repo/tools/bench/bench-catalog.sh"
write_bench_catalog "$tmp" "$echo_server"

# --- starting the proxies ----------------------------------------------------------
port_is_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 40000))
    port_is_open "$p" || { echo "$p"; return 0; }
  done
  return 1
}

# Starts path $1 for run $2; sets proxy_pid and url, or returns 1 with the reason in $tmp.
start_proxy() {
  local log=$tmp/$1.$2.log port
  case $1 in
    scopegate)
      "$scopegate" serve --catalog "$tmp/catalog" --db "$tmp/bench.$2.db" --role bench \
        --tenant bench --env bench --listen 127.0.0.1:0 2>"$log" &
      proxy_pid=$!
      for _ in $(seq 100); do
        url=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$log" | head -n 1)
        [[ -z $url ]] || break
        kill -0 "$proxy_pid" 2>/dev/null || break
        sleep 0.1
      done
      port=${url##*:}
      port=${port%%/*} ;;
    supergateway)
      port=$(free_port)
      "$node" "$modules/supergateway/dist/index.js" --stdio "$echo_server" \
        --outputTransport streamableHttp --stateful --port "$port" --logLevel none \
        >"$log" 2>&1 &
      proxy_pid=$!
      url=http://127.0.0.1:$port/mcp ;;
    mcp-proxy)
      port=$(free_port)
      "$node" "$modules/mcp-proxy/dist/bin/mcp-proxy.mjs" --host 127.0.0.1 --port "$port" \
        --server stream -- "$echo_server" >"$log" 2>&1 &
      proxy_pid=$!
      url=http://127.0.0.1:$port/mcp ;;
  esac
  for _ in $(seq 150); do
    [[ -n ${port:-} ]] && port_is_open "$port" && return 0
    kill -0 "$proxy_pid" 2>/dev/null || break
    sleep 0.1
  done
  stop_proxy
  return 1
}

rss_mb() { # pid
  ps -o rss= -p "$1" 2>/dev/null | awk '{ printf "%.1f", $1 / 1024 }'
}

# --- runs --------------------------------------------------------------------------
declare -A failed=()
for p in "${paths[@]}"; do
  case $p in
    scopegate)
      if [[ -n $scopegate_build_error ]]; then
        failed[$p]="build failed: $scopegate_build_error"
      elif [[ ! -x $scopegate ]]; then
        failed[$p]="no binary at $scopegate"
      fi ;;
    supergateway | mcp-proxy)
      if ! command -v "$node" >/dev/null; then
        failed[$p]="no node ($node)"
      elif [[ ! -d $modules/$p ]]; then
        failed[$p]="not installed (cd tools && npm install)"
      fi ;;
    *) echo "http-bench.sh: unknown path '$p' in BENCH_PATHS" >&2; exit 2 ;;
  esac
done

echo "http-bench: ${warmup}s warm-up + ${duration}s measured per point," \
  "clients ${client_counts[*]}, $runs runs per path" >&2
for ((r = 1; r <= runs; r++)); do
  for p in "${paths[@]}"; do
    [[ -z ${failed[$p]:-} ]] || continue
    if ! start_proxy "$p" "$r"; then
      failed[$p]="run $r: did not start: $(grep -v '^$' "$tmp/$p.$r.log" | tail -n 3 | paste -sd '|' -)"
      echo "  run $r $p: FAILED to start" >&2
      continue
    fi
    for c in "${client_counts[@]}"; do
      out=$tmp/$p.$c.$r.out
      # The RSS sample is taken halfway through the measured window.
      (sleep "$(awk -v w="$warmup" -v d="$duration" 'BEGIN { print w + d / 2 }')"
        rss_mb "$proxy_pid" >"$out.rss") &
      sampler=$!
      if "$http_load" --clients "$c" --warmup "$warmup" --duration "$duration" "$url" \
          >"$out" 2>"$out.err"; then
        wait "$sampler" || true
        echo "  run $r $p: $(cat "$out") rss_mb=$(cat "$out.rss")" >&2
      else
        rc=$?
        wait "$sampler" || true
        reason=$(grep -v '^$' "$out.err" | head -n 3 | paste -sd '|' -)
        failed[$p]="run $r, $c clients: exited $rc: ${reason:-no message}"
        echo "  run $r $p $c clients: FAILED ($rc)" >&2
        sed 's/^/    /' "$out.err" | head -n 20 >&2
        echo "    the end of $p's log:" >&2
        tail -n 10 "$tmp/$p.$r.log" | sed 's/^/      /' >&2
        break
      fi
    done
    stop_proxy
  done
done

# --- report ------------------------------------------------------------------------
field() { sed -n "s/.*\\b$2=\\([^ ]*\\).*/\\1/p" <<<"$1"; }

declare -A cps=() p50=() p99=() rss=()
for p in "${paths[@]}"; do
  [[ -z ${failed[$p]:-} ]] || continue
  for c in "${client_counts[@]}"; do
    # The run with the median calls/s (the lower middle one for an even count).
    r=$(for ((k = 1; k <= runs; k++)); do
      echo "$(field "$(cat "$tmp/$p.$c.$k.out")" calls_per_s) $k"
    done | sort -n | awk -v n="$runs" 'NR == int((n + 1) / 2) { print $2 }')
    line=$(cat "$tmp/$p.$c.$r.out")
    cps[$p.$c]=$(field "$line" calls_per_s)
    p50[$p.$c]=$(field "$line" p50_us)
    p99[$p.$c]=$(field "$line" p99_us)
    rss[$p.$c]=$(cat "$tmp/$p.$c.$r.out.rss")
    echo "RESULT path=$p $line rss_mb=${rss[$p.$c]}"
  done
done

echo
printf '%-13s %8s %10s %10s %10s %9s\n' path clients 'calls/s' 'p50 µs' 'p99 µs' 'RSS MB'
for p in "${paths[@]}"; do
  if [[ -n ${failed[$p]:-} ]]; then
    printf '%-13s FAILED: %s\n' "$p" "${failed[$p]}"
    continue
  fi
  for c in "${client_counts[@]}"; do
    printf '%-13s %8s %10s %10s %10s %9s\n' "$p" "$c" "${cps[$p.$c]}" "${p50[$p.$c]}" \
      "${p99[$p.$c]}" "${rss[$p.$c]}"
  done
done

echo
top=${client_counts[-1]}
for other in supergateway mcp-proxy; do
  if [[ -n ${cps[scopegate.$top]:-} && -n ${cps[$other.$top]:-} ]]; then
    awk -v g="${cps[scopegate.$top]}" -v o="${cps[$other.$top]}" -v n="$other" -v c="$top" \
      'BEGIN { printf "throughput at %d clients, scopegate / %s: %.2f\n", c, n, g / o }'
  else
    echo "throughput at $top clients, scopegate / $other: n/a"
  fi
done

((${#failed[@]} == 0))
