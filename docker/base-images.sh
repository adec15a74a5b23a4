#!/usr/bin/env bash
# Makes the debian:bookworm and debian:bookworm-slim images the Dockerfile builds on when the
# Docker engine lacks them: no registry can be reached here, so they come from the Debian
# mirror through debootstrap and `docker import`. Idempotent; quiet when both exist.
#   docker/base-images.sh [MIRROR]
set -euo pipefail
MIRROR="${1:-http://deb.debian.org/debian}"
have() { docker image inspect "$1" >/dev/null 2>&1; }
have debian:bookworm && have debian:bookworm-slim && exit 0
command -v debootstrap >/dev/null || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
}
work=$(mktemp -d /var/tmp/kubepp-rootfs.XXXXXX)
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
echo "base-images: debootstrap bookworm from $MIRROR"
debootstrap --variant=minbase bookworm "$root" "$MIRROR" >"$work/debootstrap.log" 2>&1 ||
  { tail -20 "$work/debootstrap.log" >&2; echo "base-images: debootstrap failed" >&2; exit 1; }
# The official images' apt sources and their small image-friendly apt settings.
cat >"$root/etc/apt/sources.list" <<SRC
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb ${MIRROR%/debian}/debian-security bookworm-security main
SRC
echo 'APT::Install-Recommends "false";' >"$root/etc/apt/apt.conf.d/99kubepp-no-recommends"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log
import() {  # TAG
  tar -C "$root" --numeric-owner -c . |
    docker import --change 'CMD ["bash"]' \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$1" >/dev/null
  echo "base-images: made $1"
}
have debian:bookworm || import debian:bookworm
# -slim, as upstream's: no documentation, man pages or translations, now or from later installs.
rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/*
cat >"$root/etc/dpkg/dpkg.cfg.d/docker-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
CFG
have debian:bookworm-slim || import debian:bookworm-slim
