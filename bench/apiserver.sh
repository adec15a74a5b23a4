#!/usr/bin/env bash
# Apiserver benchmarks, side by side with etcd (Debian etcd-server, its v3 JSON gateway)
# at the same concurrency and ~1 KiB values. Prints a Markdown table for BENCHMARKS.md.
#   bench/apiserver.sh [SECONDS_PER_RUN]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${KUBEPP_BUILD_DIR:-$ROOT/build}"
SECS="${1:-5}"
command -v etcd >/dev/null || { apt-get update -qq && apt-get install -y -qq etcd-server >/dev/null; }
cmake --build "$BUILD" --target apiserver loadgen >/dev/null
LG="$BUILD/bench/loadgen"
TMP=$(mktemp -d /tmp/kubepp-bench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
API_PORT=16601; ETCD_PORT=16602
"$BUILD/bin/apiserver" --port $API_PORT --data-dir "$TMP/api" --max-requests-inflight 4000 \
  >"$TMP/api.log" 2>&1 & PIDS+=($!); API_PID=$!
etcd --data-dir "$TMP/etcd" --listen-client-urls http://127.0.0.1:$ETCD_PORT \
  --advertise-client-urls http://127.0.0.1:$ETCD_PORT --listen-peer-urls http://127.0.0.1:16603 \
  >"$TMP/etcd.log" 2>&1 & PIDS+=($!)
for _ in $(seq 1 100); do
  curl -fs http://127.0.0.1:$API_PORT/healthz >/dev/null && curl -fs http://127.0.0.1:$ETCD_PORT/health >/dev/null && break
  sleep 0.1
done
API=http://127.0.0.1:$API_PORT
CM=$API/api/v1/namespaces/default/configmaps
echo "machine: $(nproc) cores, $(uname -r); kubepp $(git -C "$ROOT" rev-parse --short HEAD); $(etcd --version | head -1)"
echo
echo "| benchmark | kubepp | etcd 3.4 (JSON gateway) |"
echo "|---|---|---|"
for c in 1 16 64; do
  k=$("$LG" create --url $CM --concurrency $c --seconds "$SECS")
  e=$("$LG" create --url http://127.0.0.1:$ETCD_PORT/v3/kv/put --etcd --concurrency $c --seconds "$SECS")
  fmt() { echo "$1" | sed -E 's/.*rate=([0-9]+)\/s p50=([0-9.]+)ms p99=([0-9.]+)ms.*/\1\/s, p50 \2 ms, p99 \3 ms/'; }
  echo "| durable creates, $c clients | $(fmt "$k") | $(fmt "$e") |"
done
"$LG" create --url $CM --concurrency 1 --seconds 0.2 >/dev/null
NAME=$(curl -fs "$CM?limit=1" | sed -E 's/.*"items":\[\{.*"name":"([^"]+)".*/\1/')
g=$("$LG" get --url "$CM/$NAME" --concurrency 16 --seconds "$SECS")
e=$("$LG" get --url "http://127.0.0.1:$ETCD_PORT/version" --concurrency 16 --seconds "$SECS")
echo "| GET one object from the cache, 16 clients | $(echo "$g" | sed -E 's/.*rate=([0-9]+)\/s p50=([0-9.]+)ms p99=([0-9.]+)ms.*/\1\/s, p50 \2 ms, p99 \3 ms/') | (GET /version: $(echo "$e" | sed -E 's/.*rate=([0-9]+)\/s.*/\1\/s/')) |"
PODS=$API/api/v1/namespaces/default/pods
"$LG" fill --url $PODS --kind pod --count 10000 --concurrency 32 --body-bytes 600 >/dev/null
j=$("$LG" latency --url "$PODS" --count 10)
t=$("$LG" latency --url "$PODS" --accept 'application/json;as=Table;v=v1;g=meta.k8s.io' --count 10)
echo "| LIST 10,000 pods, JSON | $(echo "$j" | sed -E 's/.*bytes=([0-9]+) p50=([0-9.]+)ms p99=([0-9.]+)ms/p50 \2 ms, p99 \3 ms (\1 bytes)/') | |"
echo "| LIST 10,000 pods, Table | $(echo "$t" | sed -E 's/.*bytes=([0-9]+) p50=([0-9.]+)ms p99=([0-9.]+)ms/p50 \2 ms, p99 \3 ms (\1 bytes)/') | |"
w=$("$LG" watch --url $CM --watchers 1000 --events 100 --body-bytes 1024)
ew=$("$LG" watch --url http://127.0.0.1:$ETCD_PORT/v3 --etcd --watchers 1000 --events 100 --body-bytes 1024)
wfmt() { echo "$1" | sed -E 's/.*delivered=([0-9/]+) closed_early=[0-9]+ create_p50=([0-9.]+)ms send->event p50=([0-9.]+)ms p99=([0-9.]+)ms.*/p50 \3 ms, p99 \4 ms (write p50 \2 ms; \1 delivered)/'; }
echo "| watch, 1000 watchers: write sent -> event at every watcher | $(wfmt "$w") | $(wfmt "$ew") |"
rss() { awk '/VmRSS/ {printf "%.0f MB", $2/1024}' /proc/$1/status; }
echo "| apiserver RSS after all of the above (~100k objects of 1-2 KiB) | $(rss $API_PID) | |"
# A fresh apiserver holding exactly 100,000 pods: memory and idle CPU.
kill $API_PID; wait $API_PID 2>/dev/null || true
"$BUILD/bin/apiserver" --port $API_PORT --data-dir "$TMP/api100k" >"$TMP/api100k.log" 2>&1 & PIDS+=($!); API_PID=$!
for _ in $(seq 1 100); do curl -fs $API/healthz >/dev/null && break; sleep 0.1; done
"$LG" fill --url $PODS --kind pod --count 100000 --concurrency 64 --body-bytes 600 >/dev/null
echo "| apiserver RSS with 100,000 pods stored (fresh process) | $(rss $API_PID) | |"
sleep 2
t0=$(awk '{print $14+$15}' /proc/$API_PID/stat); sleep 10; t1=$(awk '{print $14+$15}' /proc/$API_PID/stat)
echo "| apiserver idle CPU (100,000 pods, 10 s) | $(awk -v a=$t0 -v b=$t1 -v hz=$(getconf CLK_TCK) 'BEGIN{printf "%.2f%%", (b-a)/hz/10*100}') | |"
kill $API_PID; wait $API_PID 2>/dev/null || true
t0=$(date +%s%N)
"$BUILD/bin/apiserver" --port $API_PORT --data-dir "$TMP/api100k" >>"$TMP/api100k.log" 2>&1 & PIDS+=($!); API_PID=$!
until curl -fs $API/healthz >/dev/null; do sleep 0.02; done
echo "| apiserver restart to healthy with 100,000 pods | $(( ($(date +%s%N) - t0) / 1000000 )) ms | |"
