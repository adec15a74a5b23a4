#!/usr/bin/env bash
# Time from `./kubepp up` on a built tree to the cluster Ready and a first pod Running
# (issue 7's goal: <= 2 s). Runs cluster id 4 (its own state dir, ports and ranges) RUNS
# times and prints each run and the median.
#   bench/up.sh [RUNS=5]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
RUNS=${1:-5}
STATE=$(mktemp -d /tmp/kubepp-bench-up.XXXXXX)
kp() { "$ROOT/kubepp" "$@" --cluster-id 4 --state-dir "$STATE"; }
trap 'kp down --purge >/dev/null 2>&1 || true; rm -rf "$STATE"' EXIT
now() { date +%s%N; }
results=()
for run in $(seq 1 "$RUNS"); do
  kp down --purge >/dev/null 2>&1 || true
  t0=$(now)
  kp up >/dev/null
  t_up=$(now)
  api="http://127.0.0.1:$(cat "$STATE/run/apiserver.port")"
  curl -fsS -o /dev/null -H 'Content-Type: application/json' "$api/api/v1/namespaces/default/pods" -d \
    '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"first"},"spec":{"containers":[{"name":"c","image":"busybox:1.36","command":["sleep","3600"]}]}}'
  until curl -fsS "$api/api/v1/namespaces/default/pods/first" | grep -q '"phase":"Running"'; do sleep 0.01; done
  t_pod=$(now)
  ms_up=$(( (t_up - t0) / 1000000 )); ms_all=$(( (t_pod - t0) / 1000000 ))
  echo "run $run: up (nodes Ready) ${ms_up} ms, first pod Running ${ms_all} ms"
  results+=("$ms_all")
done
median=$(printf '%s\n' "${results[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")
echo "median up + first pod Running: ${median} ms over $RUNS runs"
