#!/usr/bin/env bash
# Scheduler benchmarks in upstream scheduler_perf's shapes: SchedulingBasic (5,000 nodes,
# 1,000 initial pods, 10,000 measured pods), then required pod anti-affinity and zone
# topology spread (5,000 nodes, 1,000 measured pods each). apiserver, scheduler and the
# driver share this machine. Prints a Markdown table for BENCHMARKS.md.
#   bench/scheduler.sh [basic|anti-affinity|spread ...]   (default: all three)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${KUBEPP_BUILD_DIR:-$ROOT/build}"
MODES=("${@:-basic anti-affinity spread}")
read -r -a MODES <<<"${MODES[*]}"
cmake --build "$BUILD" --target apiserver scheduler scheduler_perf >/dev/null
TMP=$(mktemp -d /tmp/kubepp-bench-sched.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
echo "machine: $(nproc) cores, $(uname -r); kubepp $(git -C "$ROOT" rev-parse --short HEAD)"
echo
echo "| workload | nodes | pods | throughput (first create -> last binding) | create -> bound p50 / p99 | scheduler RSS |"
echo "|---|---|---|---|---|---|"
port=16801
for mode in "${MODES[@]}"; do
  pods=10000; init=1000
  [ "$mode" != basic ] && pods=1000
  API_PORT=$port; SCHED_PORT=$((port + 1)); port=$((port + 2))
  "$BUILD/bin/apiserver" --port $API_PORT --data-dir "$TMP/api-$mode" --max-requests-inflight 4000 \
    >"$TMP/api-$mode.log" 2>&1 & PIDS+=($!)
  for _ in $(seq 1 100); do curl -fs http://127.0.0.1:$API_PORT/healthz >/dev/null && break; sleep 0.1; done
  "$BUILD/bin/scheduler" --server http://127.0.0.1:$API_PORT --port $SCHED_PORT --leader-elect=false \
    >"$TMP/sched-$mode.log" 2>&1 & PIDS+=($!); SCHED_PID=$!
  out=$("$BUILD/bench/scheduler_perf" --server http://127.0.0.1:$API_PORT --mode "$mode" \
        --nodes 5000 --init-pods $init --pods $pods)
  rss=$(awk '/VmRSS/ {printf "%.0f MB", $2/1024}' /proc/$SCHED_PID/status)
  tp=$(echo "$out" | sed -E 's/.*throughput=([0-9]+)\/s.*/\1/')
  secs=$(echo "$out" | sed -E 's/.*seconds=([0-9.]+).*/\1/')
  p50=$(echo "$out" | sed -E 's/.*p50=([0-9]+)ms.*/\1/')
  p99=$(echo "$out" | sed -E 's/.*p99=([0-9]+)ms.*/\1/')
  echo "| $mode | 5000 | $pods (+$init before) | $tp pods/s ($secs s) | $p50 ms / $p99 ms | $rss |"
  echo "$out" >&2
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; PIDS=()
done
