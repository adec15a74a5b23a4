#!/usr/bin/env bash
# Service proxy data path (root): HTTP requests/s through a ClusterIP vs straight to the
# pod IPs, same run, same load generator. Everything lives in throw-away network
# namespaces kcb-<pid>-{node,pod1,pod2,client}: three "pods" with a veth on a bridge in
# the node namespace; pod1 and pod2 run nginx (one worker) answering a static 6-byte
# body; the client pod runs wrk (pod -> Service: routed through the node, no
# masquerade), and so does the node for row 0. The apiserver and the proxy (nftables only: no DNS, no Ingress;
# its own table, bridge and service CIDR 10.160.0.0/16) run in the node namespace.
# Services: "one" (endpoint pod1), "two" (pod1 + pod2).
# Rows (0 from the node namespace, i.e. host network; the others from the client pod);
# in each, the columns are measured in the order given, then in reverse (linear
# drift cancels), after a 2 s warm-up of each, and the table shows the means:
#   0. from the node, keep-alive, one endpoint, as row 1 (direct is routed here too; the
#      ClusterIP's connections are masqueraded, as kube-proxy does for non-pod sources).
#   1. keep-alive, one endpoint: `wrk -t2 -cCONNS` to pod1:8080 vs to Service one's
#      IP:80 vs to a VIP that a single hand-written nft DNAT rule sends to pod1 (the floor
#      of any nftables service proxy). Only the path differs: DNAT and routing through
#      the node instead of bridging straight to the pod.
#   2. keep-alive, two endpoints: two `wrk -t1 -cCONNS/2` at once, one per pod IP, vs
#      both at Service two's IP (each connection DNATed to a random pod) vs both at a VIP
#      a hand-written rule spreads the same way.
#   3. a new connection per request (`-H "Connection: close"`), one endpoint, as row 1:
#      every request goes through the nat chains.
# Prints a Markdown table and a RESULT line.
#   bench/clusterip.sh [SECONDS] [CONNECTIONS]
# Builds apiserver and proxy in $KUBEPP_BUILD_DIR (default build/); installs Debian's
# nginx and wrk when missing.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${KUBEPP_BUILD_DIR:-$ROOT/build}"
SECS="${1:-10}"
CONNS="${2:-64}"
[ "$(id -u)" = 0 ] || { echo "bench/clusterip.sh: needs root (network namespaces)" >&2; exit 1; }
for pkg in nginx wrk; do
  command -v $pkg >/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkg >/dev/null
  }
done
cmake --build "$BUILD" --target apiserver proxy >/dev/null

PREFIX=kcb-$$
NODE=$PREFIX-node
PODS=(pod1 pod2 client)
POD_IPS=(10.244.1.2 10.244.1.3 10.244.1.10)
TMP=$(mktemp -d /tmp/kubepp-bench-clusterip.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for n in "$NODE" "${PODS[@]/#/$PREFIX-}"; do ip netns del "$n" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
IN=(ip netns exec "$NODE")
CLIENT=(ip netns exec "$PREFIX-client")

ip netns add "$NODE"
"${IN[@]}" ip link set lo up
"${IN[@]}" ip link add kcb-up0 type bridge  # the node address, on a port-less bridge
"${IN[@]}" ip addr add 198.18.0.1/24 dev kcb-up0
"${IN[@]}" ip link set kcb-up0 up
"${IN[@]}" ip link add kcb-br0 type bridge  # the pods' bridge
"${IN[@]}" ip addr add 10.244.1.1/24 dev kcb-br0
"${IN[@]}" ip link set kcb-br0 up
"${IN[@]}" sysctl -qw net.ipv4.ip_forward=1
for i in "${!PODS[@]}"; do
  pod=$PREFIX-${PODS[$i]}
  ip netns add "$pod"
  "${IN[@]}" ip link add kcb-veth$i type veth peer name eth0 netns "$pod"
  "${IN[@]}" ip link set kcb-veth$i master kcb-br0
  "${IN[@]}" ip link set kcb-veth$i up
  ip netns exec "$pod" ip link set lo up
  ip netns exec "$pod" ip addr add "${POD_IPS[$i]}/24" dev eth0
  ip netns exec "$pod" ip link set eth0 up
  ip netns exec "$pod" ip route add default via 10.244.1.1
  [ "${PODS[$i]}" = client ] && continue
  cat >"$TMP/${PODS[$i]}.conf" <<EOF
pid $TMP/${PODS[$i]}.pid;
error_log $TMP/${PODS[$i]}.err warn;
user root;
worker_processes 1;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $TMP/${PODS[$i]}-body;
  proxy_temp_path $TMP/${PODS[$i]}-proxy;
  fastcgi_temp_path $TMP/${PODS[$i]}-fastcgi;
  uwsgi_temp_path $TMP/${PODS[$i]}-uwsgi;
  scgi_temp_path $TMP/${PODS[$i]}-scgi;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  server {
    listen ${POD_IPS[$i]}:8080;
    location / { default_type text/plain; return 200 "hello\n"; }
  }
}
EOF
  ip netns exec "$pod" nginx -e "$TMP/${PODS[$i]}.err" -p "$TMP/" -c "$TMP/${PODS[$i]}.conf" \
    -g 'daemon off;' >"$TMP/${PODS[$i]}.log" 2>&1 &
  PIDS+=($!)
done

API_PORT=16801; HEALTHZ_PORT=16802
API=http://127.0.0.1:$API_PORT
in_curl() { "${IN[@]}" curl -s "$@"; }
"${IN[@]}" "$BUILD/bin/apiserver" --port $API_PORT --data-dir "$TMP/api" \
  --service-cluster-ip-range 10.160.0.0/16 >"$TMP/api.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do in_curl -f $API/healthz >/dev/null && break; sleep 0.1; done
"${IN[@]}" "$BUILD/bin/proxy" --server $API --hostname-override bench --node-ip 198.18.0.1 \
  --healthz-port $HEALTHZ_PORT --min-sync-period 100ms --resolv-conf /dev/null --dns=false \
  --ingress-http-port 0 --ingress-https-port 0 --nftables-table kcb --service-bridge kcb-svc0 \
  --service-cidr 10.160.0.0/16 --cluster-cidr 10.244.0.0/16 >"$TMP/proxy.log" 2>&1 &
PIDS+=($!)

post() {  # $1: path, $2: JSON body; the answer goes to $TMP/post.out
  local code
  code=$(in_curl -o "$TMP/post.out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data "$2" "$API$1")
  [ "$code" = 201 ] || { echo "POST $1: $code $(cat "$TMP/post.out")" >&2; exit 1; }
}
post /api/v1/namespaces '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"bench"}}'
service() {  # $1: name, rest: endpoint IPs; prints the ClusterIP
  local name=$1 eps="" ip
  shift
  post /api/v1/namespaces/bench/services '{"apiVersion":"v1","kind":"Service",
    "metadata":{"name":"'$name'"},"spec":{"ports":[{"name":"http","port":80,"targetPort":8080}]}}'
  sed -E 's/.*"clusterIP":"([0-9.]+)".*/\1/' "$TMP/post.out" >"$TMP/$name.vip"
  for ip in "$@"; do
    eps="$eps${eps:+,}{\"addresses\":[\"$ip\"],\"conditions\":{\"ready\":true},\"nodeName\":\"bench\"}"
  done
  post /apis/discovery.k8s.io/v1/namespaces/bench/endpointslices '{"apiVersion":"discovery.k8s.io/v1",
    "kind":"EndpointSlice","metadata":{"name":"'$name'-1","labels":{"kubernetes.io/service-name":"'$name'"}},
    "addressType":"IPv4","ports":[{"name":"http","port":8080,"protocol":"TCP"}],"endpoints":['"$eps"']}'
}
service one "${POD_IPS[0]}"
service two "${POD_IPS[0]}" "${POD_IPS[1]}"
VIP1=$(cat "$TMP/one.vip"); VIP2=$(cat "$TMP/two.vip")
for v in "$VIP1" "$VIP2"; do
  case "$v" in 10.160.*) ;; *) echo "unexpected ClusterIP '$v'" >&2; exit 1 ;; esac
done

serving() { [ "$("${CLIENT[@]}" curl -s --max-time 2 "$1")" = hello ]; }
for _ in $(seq 1 200); do
  serving "http://$VIP1/" && serving "http://$VIP2/" && serving "http://${POD_IPS[0]}:8080/" &&
    serving "http://${POD_IPS[1]}:8080/" && break
  sleep 0.1
done
for u in "http://$VIP1/" "http://$VIP2/" "http://${POD_IPS[0]}:8080/" "http://${POD_IPS[1]}:8080/"; do
  serving "$u" || { echo "$u not serving; proxy log:" >&2; tail -20 "$TMP/proxy.log" >&2; exit 1; }
done
# Closed connections stay in conntrack's TIME_WAIT for 120 s by default: keep the
# new-connection runs from piling up entries (in this namespace only; without
# masquerading, the client's own port choice keeps tuples from being reused early).
"${IN[@]}" sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_time_wait=1

# Runs wrk in the namespace LOADGEN names, one process per URL, all at once, each with
# `-t THREADS -c CONNECTIONS`; prints "reqs/s p50_ms p99_ms errors" (req/s summed; the
# percentiles the mean of the processes').
run_wrk() {  # $1: seconds, $2: threads, $3: connections per process, $4: extra wrk
             # argument or "", rest: URLs
  local d=$1 t=$2 c=$3 extra=$4 i=0 u pids=() out
  shift 4
  out=$(mktemp -d "$TMP/wrk.XXXXXX")
  for u in "$@"; do
    "${LOADGEN[@]}" wrk -t"$t" -c"$c" -d"${d}s" --latency ${extra:+-H "$extra"} "$u" \
      >"$out/$i" &
    pids+=($!)
    i=$((i + 1))
  done
  wait "${pids[@]}"
  cat "$out"/* >>"$TMP/wrk.log"
  cat "$out"/* | awk -v n=$# '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0;
                     if (v ~ /s$/) return v * 1000; return v }
    $1 == "50%" { p50 += ms($2) / n } $1 == "99%" { p99 += ms($2) / n }
    /^Requests\/sec/ { rps += $2 }
    /Non-2xx/ { err += $NF } /Socket errors/ { for (i = 4; i <= NF; i += 2) err += $i }
    END { printf "%.0f %.3f %.3f %d\n", rps, p50, p99, err }'
}
# Measures each URL set (space-separated URLs, one wrk process each) twice, in the order
# 1..n, n..1 (linear drift cancels), after a 2 s warm-up of each; prints per set, in
# order, "reqs/s p50 p99 errors" (means of the two runs; errors summed).
measure() {  # $1: threads, $2: connections per process, $3: extra header or "", rest: URL sets
  local t=$1 c=$2 x=$3 set i
  shift 3
  local sets=("$@") n=$#
  for set in "${sets[@]}"; do run_wrk 2 "$t" "$c" "$x" $set >/dev/null; done
  for i in $(seq 0 $((n - 1))) $(seq $((n - 1)) -1 0); do
    echo "$i $(run_wrk "$SECS" "$t" "$c" "$x" ${sets[$i]})"
  done | awk -v n=$n '{ r[$1] += $2 / 2; p50[$1] += $3 / 2; p99[$1] += $4 / 2; e[$1] += $5 }
    END { for (i = 0; i < n; i++) printf "%.0f %.3f %.3f %d ", r[i], p50[i], p99[i], e[i]; print "" }'
}
HALF=$(( CONNS / 2 ))
P1="http://${POD_IPS[0]}:8080/"; P2="http://${POD_IPS[1]}:8080/"
# The floor of any nftables service proxy: one hand-written DNAT rule per VIP in a table
# of its own (before the proxy's), for VIPs outside the proxy's maps: MIN_VIP to pod1,
# MIN_VIP2 to a random one of pod1 and pod2 per connection, as Service two.
MIN_VIP=10.160.250.1
MIN_VIP2=10.160.250.2
"${IN[@]}" nft -f - <<EOF
table ip kcb-min {
  chain prerouting {
    type nat hook prerouting priority dstnat - 10; policy accept;
    ip daddr $MIN_VIP tcp dport 80 dnat to ${POD_IPS[0]}:8080
    ip daddr $MIN_VIP2 tcp dport 80 dnat to numgen random mod 2 map { 0 : ${POD_IPS[0]}, 1 : ${POD_IPS[1]} } : 8080
  }
  chain output {
    type nat hook output priority -110; policy accept;
    ip daddr $MIN_VIP tcp dport 80 dnat to ${POD_IPS[0]}:8080
  }
}
EOF
for where in "${IN[*]}" "${CLIENT[*]}"; do
  [ "$($where curl -s --max-time 2 "http://$MIN_VIP/")" = hello ] &&
    [ "$($where curl -s --max-time 2 "http://$VIP1/")" = hello ] &&
    { [ "$where" = "${IN[*]}" ] || [ "$($where curl -s --max-time 2 "http://$MIN_VIP2/")" = hello ]; } ||
    { echo "$where: the ClusterIP or the hand-written DNAT is not serving" >&2; exit 1; }
done
LOADGEN=("${IN[@]}")
read -r -a R0 < <(measure 2 "$CONNS" "" "$P1" "http://$VIP1/" "http://$MIN_VIP/")
LOADGEN=("${CLIENT[@]}")
read -r -a R1 < <(measure 2 "$CONNS" "" "$P1" "http://$VIP1/" "http://$MIN_VIP/")
read -r -a R2 < <(measure 1 "$HALF" "" "$P1 $P2" "http://$VIP2/ http://$VIP2/" \
  "http://$MIN_VIP2/ http://$MIN_VIP2/")
read -r -a R3 < <(measure 2 "$CONNS" "Connection: close" "$P1" "http://$VIP1/" "http://$MIN_VIP/")

echo "machine: $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg);" \
  "kubepp $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?');" \
  "Services one $VIP1 -> pod1, two $VIP2 -> pod1 pod2; ${SECS} s per run"
echo
echo "| load | direct to pod IPs | through the kubepp ClusterIP | one hand-written DNAT rule | kubepp / direct |"
echo "|---|---|---|---|---|"
cell() {  # rps p50 p99 errors
  awk -v r="$1" -v a="$2" -v b="$3" -v e="$4" 'BEGIN {
    printf "%.0f req/s, p50 %.2f ms, p99 %.2f ms%s", r, a, b, e ? sprintf(" (%d errors)", e) : "" }'
}
row() {  # label, then 4 numbers per column (direct, kubepp[, hand-written])
  local l=$1
  shift
  echo "| $l | $(cell "$1" "$2" "$3" "$4") | $(cell "$5" "$6" "$7" "$8") |" \
    "$([ $# -ge 12 ] && cell "$9" "${10}" "${11}" "${12}") |" \
    "$(awk -v a="$5" -v b="$1" 'BEGIN { printf "%.2fx", a / b }') |"
}
row "from the node, keep-alive, 1 endpoint: \`wrk -t2 -c$CONNS\`" "${R0[@]}"
row "from a pod, keep-alive, 1 endpoint: \`wrk -t2 -c$CONNS\`" "${R1[@]}"
row "from a pod, keep-alive, 2 endpoints: 2 x \`wrk -t1 -c$HALF\` at once" "${R2[@]}"
row "from a pod, new connection per request, 1 endpoint: \`wrk -t2 -c$CONNS -H 'Connection: close'\`" "${R3[@]}"
echo
awk -v h="${R0[4]}" -v hd="${R0[0]}" -v hm="${R0[8]}" -v a="${R1[4]}" -v ad="${R1[0]}" -v am="${R1[8]}" -v b="${R2[4]}" -v bd="${R2[0]}" -v bm="${R2[8]}" \
    -v c="${R3[4]}" -v cd="${R3[0]}" -v cm="${R3[8]}" 'BEGIN {
  printf "RESULT clusterip: from the node, keep-alive, 1 endpoint %.0f req/s vs %.0f direct = %.2fx" \
         " (one DNAT rule: %.2fx); from a pod: keep-alive 1 endpoint %.0f vs %.0f = %.2fx (one DNAT rule: %.2fx);" \
         " 2 endpoints %.0f vs %.0f = %.2fx (one DNAT rule: %.2fx); new connection per request %.0f vs %.0f = %.2fx" \
         " (one DNAT rule: %.2fx)\n",
         h, hd, h / hd, hm / hd, a, ad, a / ad, am / ad, b, bd, b / bd, bm / bd, c, cd, c / cd, cm / cd }'
