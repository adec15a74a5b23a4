#!/usr/bin/env bash
# Builds kubepp/kubepp:dev, a docker-save tarball holding the control-plane binaries and
# exactly the shared libraries they load (no base image: nothing is pulled).
#   images/kubepp-image.sh BUILD_DIR OUT.tar
set -euo pipefail
BUILD="$1"; OUT="$2"
ROOTFS="$BUILD/images/rootfs-kubepp"
rm -rf "$ROOTFS"; mkdir -p "$ROOTFS/bin" "$ROOTFS/data" "$ROOTFS/tmp"
chmod 1777 "$ROOTFS/tmp"
for b in apiserver scheduler controller-manager; do
  cp "$BUILD/bin/$b" "$ROOTFS/bin/"
  # The dynamic loader and every library the binary needs, at the same paths.
  for lib in $(ldd "$BUILD/bin/$b" | awk '/=>/ {print $3} !/=>/ && $1 ~ /^\// {print $1}'); do
    mkdir -p "$ROOTFS$(dirname "$lib")"
    cp -L "$lib" "$ROOTFS$lib"
  done
done
python3 "$(dirname "$0")/mkimage.py" --rootfs "$ROOTFS" --tag kubepp/kubepp:dev \
  --entrypoint /bin/apiserver --env PATH=/bin --out "$OUT"
