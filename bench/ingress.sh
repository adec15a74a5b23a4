#!/usr/bin/env bash
# Ingress data path vs nginx (root). In a throw-away network namespace (kib-<pid>): two
# nginx instances on 127.0.0.2/127.0.0.3:18081 answer a static 6-byte body (the backends;
# kept-alive, so both proxies pool their upstream connections); in front of them, same
# run, same load generator:
#   - kubepp: apiserver + proxy (Ingress only on 127.0.0.1, 2 I/O threads), routed by a
#     Service + EndpointSlice + Ingress made with curl;
#   - nginx: worker_processes 2, an upstream with `keepalive 32`, HTTP/1.1 upstream, and
#     the same request headers ingress-nginx sets (Host, X-Request-ID, X-Real-IP,
#     X-Forwarded-For/-Host/-Port/-Proto); no access log on either side.
# Load: wrk with keep-alive (`wrk -t2 -cCONNS -dSECS --latency`), after a 2 s warm-up of
# each, in the order nginx, kubepp, kubepp, nginx (linear drift cancels); the table shows
# the means. Also wrk straight to one backend, for scale. Prints a Markdown table and a
# RESULT line. CPU is the proxy processes' user+system time over the measured run.
#   bench/ingress.sh [SECONDS] [CONNECTIONS]
# Builds apiserver and proxy in $KUBEPP_BUILD_DIR (default build/); installs Debian's
# nginx and wrk when missing.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${KUBEPP_BUILD_DIR:-$ROOT/build}"
SECS="${1:-10}"
CONNS="${2:-64}"
[ "$(id -u)" = 0 ] || { echo "bench/ingress.sh: needs root (network namespace)" >&2; exit 1; }
for pkg in nginx wrk; do
  command -v $pkg >/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkg >/dev/null
  }
done
cmake --build "$BUILD" --target apiserver proxy >/dev/null

NS=kib-$$
TMP=$(mktemp -d /tmp/kubepp-bench-ingress.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
IN=(ip netns exec "$NS")
ip netns add "$NS"
"${IN[@]}" ip link set lo up
# The proxy wants a node address: a port-less bridge inside the namespace only.
"${IN[@]}" ip link add kib-up0 type bridge
"${IN[@]}" ip addr add 198.18.0.1/24 dev kib-up0
"${IN[@]}" ip link set kib-up0 up

API_PORT=16701; KUBEPP_PORT=16702; NGINX_PORT=16703; HEALTHZ_PORT=16704; BACKEND_PORT=18081
BACKENDS=(127.0.0.2 127.0.0.3)
HOST=bench.example.com

nginx_common() {  # $1: name
  cat <<EOF
pid $TMP/$1.pid;
error_log $TMP/$1.err warn;
user root;
events { worker_connections 4096; }
EOF
}
nginx_temp_paths() {  # $1: name
  for t in client_body proxy fastcgi uwsgi scgi; do echo "  ${t}_temp_path $TMP/$1-$t;"; done
}
for i in "${!BACKENDS[@]}"; do
  { nginx_common backend$i
    cat <<EOF
worker_processes 1;
http {
  access_log off;
$(nginx_temp_paths backend$i)
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  server {
    listen ${BACKENDS[$i]}:$BACKEND_PORT;
    location / { default_type text/plain; return 200 "hello\n"; }
  }
}
EOF
  } >"$TMP/backend$i.conf"
done
{ nginx_common front
  cat <<EOF
worker_processes 2;
http {
  access_log off;
$(nginx_temp_paths front)
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  upstream bench {
    server ${BACKENDS[0]}:$BACKEND_PORT;
    server ${BACKENDS[1]}:$BACKEND_PORT;
    keepalive 32;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      proxy_pass http://bench;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Request-ID \$request_id;
      proxy_set_header X-Real-IP \$remote_addr;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Host \$host;
      proxy_set_header X-Forwarded-Port \$server_port;
      proxy_set_header X-Forwarded-Proto \$scheme;
    }
  }
}
EOF
} >"$TMP/front.conf"

start_nginx() {  # $1: name; prints the master's pid
  "${IN[@]}" nginx -e "$TMP/$1.err" -p "$TMP/" -c "$TMP/$1.conf" -g 'daemon off;' \
    >"$TMP/$1.log" 2>&1 &
  echo $!
}
for i in "${!BACKENDS[@]}"; do PIDS+=("$(start_nginx backend$i)"); done
NGINX_PID=$(start_nginx front); PIDS+=("$NGINX_PID")
"${IN[@]}" "$BUILD/bin/apiserver" --port $API_PORT --data-dir "$TMP/api" >"$TMP/api.log" 2>&1 &
PIDS+=($!)
API=http://127.0.0.1:$API_PORT
in_curl() { "${IN[@]}" curl -s "$@"; }
for _ in $(seq 1 100); do in_curl -f $API/healthz >/dev/null && break; sleep 0.1; done
"${IN[@]}" "$BUILD/bin/proxy" --server $API --hostname-override bench --node-ip 198.18.0.1 \
  --healthz-port $HEALTHZ_PORT --min-sync-period 100ms --resolv-conf /dev/null --dns=false \
  --nftables-table kib --service-bridge kib-svc0 \
  --ingress-http-port $KUBEPP_PORT --ingress-https-port 0 --ingress-bind-address 127.0.0.1 \
  >"$TMP/proxy.log" 2>&1 &
KUBEPP_PID=$!; PIDS+=("$KUBEPP_PID")

post() {  # $1: path, $2: JSON body
  local code
  code=$(in_curl -o "$TMP/post.out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data "$2" "$API$1")
  [ "$code" = 201 ] || { echo "POST $1: $code $(cat "$TMP/post.out")" >&2; exit 1; }
}
post /api/v1/namespaces '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"bench"}}'
post /api/v1/namespaces/bench/services '{"apiVersion":"v1","kind":"Service",
  "metadata":{"name":"hello"},
  "spec":{"ports":[{"name":"http","port":80,"targetPort":'$BACKEND_PORT'}]}}'
post /apis/discovery.k8s.io/v1/namespaces/bench/endpointslices '{"apiVersion":"discovery.k8s.io/v1",
  "kind":"EndpointSlice","metadata":{"name":"hello-1","labels":{"kubernetes.io/service-name":"hello"}},
  "addressType":"IPv4","ports":[{"name":"http","port":'$BACKEND_PORT',"protocol":"TCP"}],
  "endpoints":[{"addresses":["'${BACKENDS[0]}'"],"conditions":{"ready":true}},
               {"addresses":["'${BACKENDS[1]}'"],"conditions":{"ready":true}}]}'
post /apis/networking.k8s.io/v1/namespaces/bench/ingresses '{"apiVersion":"networking.k8s.io/v1",
  "kind":"Ingress","metadata":{"name":"hello"},"spec":{"ingressClassName":"kubepp","rules":[
  {"host":"'$HOST'","http":{"paths":[{"path":"/","pathType":"Prefix",
   "backend":{"service":{"name":"hello","port":{"number":80}}}}]}}]}}'

ready() { [ "$(in_curl -H "Host: $HOST" "http://127.0.0.1:$1/")" = hello ]; }
for _ in $(seq 1 200); do ready $KUBEPP_PORT && ready $NGINX_PORT && break; sleep 0.1; done
ready $KUBEPP_PORT || { echo "kubepp ingress not serving; proxy log:" >&2; tail -20 "$TMP/proxy.log" >&2; exit 1; }
ready $NGINX_PORT || { echo "nginx not serving" >&2; cat "$TMP/front.err" >&2; exit 1; }

# user+system CPU ticks of a process and its children (nginx's workers).
cpu_ticks() {
  local total=0 p
  for p in $1 $(cat /proc/$1/task/*/children 2>/dev/null); do
    total=$(( total + $(awk '{print $14+$15}' /proc/$p/stat 2>/dev/null || echo 0) ))
  done
  echo $total
}
WRK=(wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -H "Host: $HOST")
run_wrk() {  # $1: URL; $2: pid to account CPU to (or 0); prints "rps p50 p99 errors cpu_us_per_req"
  local out c0 c1
  c0=$([ "$2" = 0 ] && echo 0 || cpu_ticks "$2")
  out=$("${IN[@]}" "${WRK[@]}" "$1")
  c1=$([ "$2" = 0 ] && echo 0 || cpu_ticks "$2")
  echo "$out" >>"$TMP/wrk.log"
  echo "$out" | awk -v dc=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0;
                     if (v ~ /s$/) return v * 1000; return v }
    $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) }
    /^Requests\/sec/ { rps = $2 } /requests in/ { n = $1 }
    /Non-2xx/ { err += $NF } /Socket errors/ { for (i = 4; i <= NF; i += 2) err += $i }
    END { printf "%.0f %.2f %.2f %d %.1f\n", rps, p50, p99, err, n ? dc / hz * 1e6 / n : 0 }'
}
"${IN[@]}" wrk -t2 -c"$CONNS" -d2s -H "Host: $HOST" "http://127.0.0.1:$NGINX_PORT/" >/dev/null
"${IN[@]}" wrk -t2 -c"$CONNS" -d2s -H "Host: $HOST" "http://127.0.0.1:$KUBEPP_PORT/" >/dev/null
# nginx, kubepp, kubepp, nginx (linear drift cancels); the means of each pair.
{
  run_wrk "http://127.0.0.1:$NGINX_PORT/" "$NGINX_PID"
  run_wrk "http://127.0.0.1:$KUBEPP_PORT/" "$KUBEPP_PID"
  run_wrk "http://127.0.0.1:$KUBEPP_PORT/" "$KUBEPP_PID"
  run_wrk "http://127.0.0.1:$NGINX_PORT/" "$NGINX_PID"
} >"$TMP/runs"
pair_mean() {  # $1, $2: line numbers in $TMP/runs
  awk -v a="$1" -v b="$2" 'NR == a || NR == b {
      for (i = 1; i <= NF; i++) v[i] += (i == 4 ? $i : $i / 2) }
    END { printf "%.0f %.2f %.2f %d %.1f\n", v[1], v[2], v[3], v[4], v[5] }' "$TMP/runs"
}
read -r n_rps n_p50 n_p99 n_err n_cpu < <(pair_mean 1 4)
read -r k_rps k_p50 k_p99 k_err k_cpu < <(pair_mean 2 3)
read -r d_rps d_p50 d_p99 d_err _ < <(run_wrk "http://${BACKENDS[0]}:$BACKEND_PORT/" 0)

echo "machine: $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg);" \
  "kubepp $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'); $(nginx -v 2>&1 | sed 's/.*: //')"
echo "load: ${WRK[*]} http://127.0.0.1:PORT/"
echo
echo "| path | req/s | p50 | p99 | errors | proxy CPU per request |"
echo "|---|---|---|---|---|---|"
echo "| kubepp Ingress | $k_rps | $k_p50 ms | $k_p99 ms | $k_err | $k_cpu µs |"
echo "| nginx reverse proxy | $n_rps | $n_p50 ms | $n_p99 ms | $n_err | $n_cpu µs |"
echo "| (one backend, no proxy) | $d_rps | $d_p50 ms | $d_p99 ms | $d_err | |"
echo
awk -v kr="$k_rps" -v nr="$n_rps" -v kp="$k_p99" -v np="$n_p99" -v k50="$k_p50" -v n50="$n_p50" \
  -v ke="$k_err" -v ne="$n_err" 'BEGIN {
  printf "RESULT ingress: kubepp %d req/s p50 %.2f ms p99 %.2f ms; nginx %d req/s p50 %.2f ms p99 %.2f ms;" \
         " req/s kubepp/nginx %.2fx; p99 nginx/kubepp %.2fx (>= 1: kubepp no slower); errors %d/%d\n",
         kr, k50, kp, nr, n50, np, kr / nr, np / kp, ke, ne }'
