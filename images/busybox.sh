#!/bin/sh
# Builds busybox:latest / busybox:1.36 in `docker save` format from Debian's
# busybox-static, without docker and without downloading anything: one layer holding
# /bin/busybox and a symlink per applet (sh, httpd, nc, ...).
#   images/busybox.sh OUT.tar
# Needs /bin/busybox from busybox-static (scripts/setup.sh installs it) and python3.
set -eu
out="$1"
bb=/bin/busybox
if ! [ -x "$bb" ] || ! ldd "$bb" 2>&1 | grep -q "not a dynamic"; then
  echo "busybox.sh: $bb is not a static busybox (apt-get install busybox-static)" >&2
  exit 1
fi
rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
for d in bin etc tmp root var/www home dev proc sys; do mkdir -p "$rootfs/$d"; done
cp "$bb" "$rootfs/bin/busybox"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
echo "hello from kubepp busybox" >"$rootfs/var/www/index.html"  # what `httpd` serves
for applet in $("$bb" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"
done
chmod 1777 "$rootfs/tmp"
python3 "$(dirname "$0")/mkimage.py" --rootfs "$rootfs" --tag busybox:latest --tag busybox:1.36 \
  --cmd sh --out "$out"
