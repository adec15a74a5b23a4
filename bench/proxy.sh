#!/bin/sh
# Service proxy sync benchmark (root): runs build/bench/proxy_perf inside a throw-away
# network namespace so that its nftables table never touches the host.
#   bench/proxy.sh [services=10000] [endpoints=10] [updates=50]
# PROXY_PERF=path/to/proxy_perf picks another build (default build/bench/proxy_perf).
set -eu
BIN=${PROXY_PERF:-$(dirname "$0")/../build/bench/proxy_perf}
NS=kpx-bench-$$
ip netns add "$NS"
trap 'ip netns del "$NS"' EXIT
ip netns exec "$NS" "$BIN" "$@"
