#!/usr/bin/env bash
# The kubepp image's entrypoint: runs one component as docker-compose.yml wires them.
#   entrypoint.sh apiserver|scheduler|controller-manager|node|kubelet|proxy [EXTRA FLAGS...]
#   entrypoint.sh kubeconfig     print the admin kubeconfig for kubectl on the docker host
#   entrypoint.sh BINARY ARGS... run one of the binaries as it is (e.g. apiserver --help)
# The apiserver makes its CA in /data/pki at first start; this script then issues every
# other component's client certificate and kubeconfig into /pki (a volume the others
# mount), and they wait for theirs. Environment:
#   KUBEPP_NODES        node names the apiserver issues kubelet identities for ("node-1 node-2")
#   KUBEPP_NODE_NAME    this node's name (kubelet, proxy)
#   KUBEPP_HOST_SERVER  the apiserver's address as the docker host sees it (admin kubeconfig)
#   KUBEPP_INGRESS      "1": this node's proxy is the Ingress controller (80/443)
set -euo pipefail
source /usr/local/lib/kubepp/pki.sh
PKI=/pki
SERVER=https://apiserver:6443
CLUSTER_CIDR=10.244.0.0/16 SERVICE_CIDR=10.96.0.0/12 CLUSTER_DNS=10.96.0.10
log() { echo "entrypoint: $*" >&2; }

# Waits (up to 5 minutes) for a file another container writes.
wait_for() {
  local i
  for i in $(seq 1 3000); do [ -s "$1" ] && return; sleep 0.1; done
  log "gave up waiting for $1"; exit 1
}

issue_credentials() {
  local ca=/data/pki/ca.crt cakey=/data/pki/ca.key n
  wait_for "$cakey"; wait_for /data/pki/admin.kubeconfig
  mkdir -p "$PKI"
  cp /data/pki/ca.crt "$PKI/ca.crt.tmp" && mv "$PKI/ca.crt.tmp" "$PKI/ca.crt"
  issue() { pki_issue_client "$PKI/ca.crt" "$cakey" "$PKI" "$1" "$2" "$SERVER"; }
  issue scheduler "/CN=system:kube-scheduler"
  issue controller-manager "/CN=system:kube-controller-manager"
  issue proxy "/CN=system:kube-proxy"
  for n in ${KUBEPP_NODES:-node-1 node-2}; do issue "kubelet-$n" "/O=system:nodes/CN=system:node:$n"; done
  # The admin kubeconfig (certificates inline) pointed at the port published on the host.
  sed "s|server: .*|server: ${KUBEPP_HOST_SERVER:-https://127.0.0.1:16443}|" \
    /data/pki/admin.kubeconfig >"$PKI/admin.kubeconfig.tmp"
  chmod 600 "$PKI/admin.kubeconfig.tmp"; mv "$PKI/admin.kubeconfig.tmp" "$PKI/admin.kubeconfig"
  log "credentials written to $PKI"
}

# A node's kubelet and proxy write sysctls (forwarding, bridges) and sysfs: the engine
# mounts both read-only unless privileged, and privileged is what compose avoids.
writable_kernel_paths() {
  mount -o remount,rw,bind /proc/sys 2>/dev/null || log "cannot make /proc/sys writable"
  mount -o remount,rw /sys 2>/dev/null || log "cannot make /sys writable"
}

node_ip() { ip -4 -o addr show dev eth0 | awk '{split($4, a, "/"); print a[1]; exit}'; }

# node-N: holds the node's network and PID namespaces, which kubelet-N and proxy-N join,
# so pods outlive restarts of either. The pods die with this container; when it stops it
# first removes their runc containers and cgroups, so nothing of theirs stays on the host.
run_node() {
  local root=/var/lib/kubepp name="${KUBEPP_NODE_NAME:?KUBEPP_NODE_NAME is not set}"
  stop() {
    local id d
    for id in $(runc --root "$root/runtime/runc" list -q 2>/dev/null); do
      runc --root "$root/runtime/runc" delete --force "$id" 2>/dev/null || true
    done
    for d in /sys/fs/cgroup/*"$(own_cgroup)/kubepp-$name"; do
      [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
    done
    exit 0
  }
  trap stop TERM INT
  sleep infinity &
  wait $!
}

# The memory cgroup of this PID namespace's init (in kubelet-N: node-N's), the parent of
# the node's pod cgroups: outside kubelet-N's own, whose processes a restart kills.
own_cgroup() { awk -F: '$2 == "memory" {print $3}' /proc/1/cgroup; }

run_kubelet() {
  local name="${KUBEPP_NODE_NAME:?KUBEPP_NODE_NAME is not set}"
  wait_for "$PKI/kubelet-$name.kubeconfig"
  exec kubelet --kubeconfig "$PKI/kubelet-$name.kubeconfig" --node-name "$name" --node-ip "$(node_ip)" \
    --root-dir /var/lib/kubepp --images-dir /usr/share/kubepp/images --cluster-dns "$CLUSTER_DNS" \
    --cgroup-parent "$(own_cgroup)/kubepp-$name" \
    --client-ca-file "$PKI/ca.crt" --authentication-token-webhook "$@"
}

case "${1:-}" in
  apiserver)
    shift
    issue_credentials &
    exec apiserver --bind-address 0.0.0.0 --insecure-bind-address 127.0.0.1 --port 8080 \
      --secure-port 6443 --data-dir /data --service-cluster-ip-range "$SERVICE_CIDR" "$@" ;;
  scheduler|controller-manager)
    c="$1"; shift; wait_for "$PKI/$c.kubeconfig"
    extra=(); [ "$c" = controller-manager ] && extra=(--cluster-cidr "$CLUSTER_CIDR")
    exec "$c" --kubeconfig "$PKI/$c.kubeconfig" "${extra[@]}" "$@" ;;
  node) shift; writable_kernel_paths; run_node ;;
  kubelet) shift; writable_kernel_paths; run_kubelet "$@" ;;
  proxy)
    shift; writable_kernel_paths; wait_for "$PKI/proxy.kubeconfig"
    ports=(--ingress-http-port 0 --ingress-https-port 0)
    [ "${KUBEPP_INGRESS:-0}" = 1 ] && ports=()
    exec proxy --kubeconfig "$PKI/proxy.kubeconfig" --hostname-override "${KUBEPP_NODE_NAME:?}" \
      --cluster-cidr "$CLUSTER_CIDR" --service-cidr "$SERVICE_CIDR" \
      --cluster-dns-address "$CLUSTER_DNS" --pod-routes "${ports[@]}" "$@" ;;
  kubeconfig) wait_for "$PKI/admin.kubeconfig"; cat "$PKI/admin.kubeconfig" ;;
  "") echo "usage: entrypoint.sh apiserver|scheduler|controller-manager|node|kubelet|proxy|kubeconfig [FLAGS]" >&2; exit 2 ;;
  *) exec "$@" ;;
esac
