#!/usr/bin/env bash
# Installs every Debian package kubepp's build and tests need. Idempotent: quiet and
# fast when everything is present (no apt-get update then).
set -euo pipefail
PKGS=(cmake build-essential ninja-build pkg-config ccache curl
      libboost-dev libboost-system-dev rapidjson-dev libyaml-cpp-dev
      libsqlite3-dev sqlite3 catch2 libssl-dev libarchive-dev libnftables-dev
      python3-kubernetes python3-yaml
      # the fuzz targets (fuzz/run.sh): clang with libFuzzer and the sanitizer runtimes
      clang libclang-rt-14-dev
      # the node: OCI runtime, CNI plugins, test image contents, kernel networking tools,
      # a registry to pull test images from
      runc containernetworking-plugins busybox-static iproute2 nftables iptables conntrack
      docker-registry)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# kubectl 1.20 is not installable (file conflict with the gcloud dispatcher): unpack it
# beside the state instead, used by the e2e tests when present.
K120_DIR="${KUBEPP_TOOLS_DIR:-/var/cache/kubepp-tools}/kubectl-1.20"
if [ ${#missing[@]} -eq 0 ] && [ -x "$K120_DIR/usr/bin/kubectl" ]; then exit 0; fi
export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
echo "setup: apt-get update" >&2
$SUDO apt-get update -qq >/dev/null
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ ! -x "$K120_DIR/usr/bin/kubectl" ]; then
  tmp=$(mktemp -d)
  if (cd "$tmp" && apt-get download -qq kubernetes-client >/dev/null 2>&1); then
    $SUDO mkdir -p "$K120_DIR"
    $SUDO dpkg-deb -x "$tmp"/kubernetes-client_*.deb "$K120_DIR"
  else
    echo "setup: kubernetes-client (kubectl 1.20) not available; its e2e cases will skip" >&2
  fi
  rm -rf "$tmp"
fi
