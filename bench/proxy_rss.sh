#!/bin/sh
# The real proxy process with N Services (root): an apiserver and the proxy run inside a
# throw-away network namespace (so the proxy's rules, routes and listeners exist only
# there), N NodePort Services x M endpoints are created through the API, the proxy is
# started and, once its rules are programmed (/healthz), its RSS and peak RSS are read.
#   bench/proxy_rss.sh [services=10000] [endpoints=10] [proxy flags...]
# e.g. bench/proxy_rss.sh 10000 10 --proxy-mode iptables
# KUBEPP_BUILD_DIR picks another build directory (default build/); PROXY_WRAPPER runs the
# proxy under a tool (e.g. "valgrind --tool=massif --massif-out-file=/tmp/massif.out").
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${KUBEPP_BUILD_DIR:-$ROOT/build}
N=${1:-10000}
M=${2:-10}
shift 2 2>/dev/null || shift $#
NS=kpx-rss-$$
TMP=$(mktemp -d /tmp/kubepp-proxy-rss.XXXXXX)
API_PID=""
PROXY_PID=""
cleanup() {
  [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null || true
  [ -n "$API_PID" ] && kill "$API_PID" 2>/dev/null || true
  sleep 0.5
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" "$BUILD/bin/apiserver" --port 16641 --data-dir "$TMP/api" \
  --service-node-port-range 30000-60000 >"$TMP/api.log" 2>&1 &
API_PID=$!
i=0
until ip netns exec "$NS" curl -fs http://127.0.0.1:16641/healthz >/dev/null; do
  i=$((i + 1)); [ $i -gt 100 ] && { echo "apiserver did not start"; exit 1; }; sleep 0.1
done
t0=$(date +%s.%N)
ip netns exec "$NS" /usr/bin/python3 "$ROOT/bench/fill_services.py" 16641 "$N" "$M"
t1=$(date +%s.%N)
ip netns exec "$NS" ${PROXY_WRAPPER:-} "$BUILD/bin/proxy" --server http://127.0.0.1:16641 --hostname-override node1 \
  --node-ip 10.0.0.1 --resolv-conf /dev/null --healthz-port 16642 "$@" >"$TMP/proxy.log" 2>&1 &
PROXY_PID=$!
i=0
until ip netns exec "$NS" curl -fs http://127.0.0.1:16642/healthz >/dev/null 2>&1; do
  i=$((i + 1)); [ $i -gt 6000 ] && { echo "proxy not healthy after 600 s"; tail "$TMP/proxy.log"; exit 1; }
  sleep 0.1
done
t2=$(date +%s.%N)
sleep 5  # settle: informers' lists and the first sync's scratch memory returned
rss=$(awk '/VmRSS/{print $2}' /proc/$PROXY_PID/status)
hwm=$(awk '/VmHWM/{print $2}' /proc/$PROXY_PID/status)
awk -v n="$N" -v m="$M" -v t0="$t0" -v t1="$t1" -v t2="$t2" \
  -v rss="$rss" -v hwm="$hwm" -v flags="$*" 'BEGIN { f = t1 - t0; h = t2 - t1
  printf "proxy %s: %d Services x %d endpoints (created in %.1f s); start to rules programmed %.1f s; RSS %.1f MB, peak %.1f MB\n",
    flags, n, m, f, h, rss / 1024, hwm / 1024 }'
