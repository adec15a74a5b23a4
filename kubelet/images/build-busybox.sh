#!/bin/sh
# Builds a busybox image tarball in `docker save` format from Debian's busybox-static,
# without docker and without downloading anything: one layer holding /bin/busybox and
# a symlink per applet (sh, httpd, nc, wget, ...), tagged busybox:latest and
# busybox:1.36 (the tags tests and examples use).
#   kubelet/images/build-busybox.sh [OUT.tar]     (default: ./busybox.tar)
# Needs: /bin/busybox from busybox-static (apt-get install busybox-static), python3.
set -eu
out="${1:-busybox.tar}"
bb=/bin/busybox
if ! [ -x "$bb" ] || ! ldd "$bb" 2>&1 | grep -q "not a dynamic"; then
  echo "build-busybox.sh: $bb is not a static busybox (apt-get install busybox-static)" >&2
  exit 1
fi
exec /usr/bin/python3 - "$bb" "$out" <<'PY'
import hashlib, io, json, subprocess, sys, tarfile

busybox, out = sys.argv[1], sys.argv[2]
applets = subprocess.run([busybox, "--list"], capture_output=True, text=True, check=True).stdout.split()
MTIME = 1700000000  # fixed: the same input gives the same image id

def add(tar, name, kind, data=b"", mode=0o755, target=""):
    ti = tarfile.TarInfo(name)
    ti.mtime = MTIME
    ti.mode = mode
    ti.type = kind
    if kind == tarfile.SYMTYPE:
        ti.linkname = target
    if kind == tarfile.REGTYPE:
        ti.size = len(data)
        tar.addfile(ti, io.BytesIO(data))
    else:
        tar.addfile(ti)

layer = io.BytesIO()
with tarfile.open(fileobj=layer, mode="w", format=tarfile.USTAR_FORMAT) as t:
    for d in ["bin", "etc", "tmp", "root", "var", "var/www", "home", "dev", "proc", "sys"]:
        add(t, d, tarfile.DIRTYPE, mode=0o1777 if d == "tmp" else 0o755)
    add(t, "bin/busybox", tarfile.REGTYPE, open(busybox, "rb").read())
    for a in sorted(set(applets)):
        if a != "busybox":
            add(t, "bin/" + a, tarfile.SYMTYPE, target="busybox")
    add(t, "etc/passwd", tarfile.REGTYPE, b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n", 0o644)
    add(t, "etc/group", tarfile.REGTYPE, b"root:x:0:\nnogroup:x:65534:\n", 0o644)
    add(t, "var/www/index.html", tarfile.REGTYPE, b"hello from kubepp busybox\n", 0o644)
layer_bytes = layer.getvalue()
layer_digest = hashlib.sha256(layer_bytes).hexdigest()
config = {
    "architecture": "amd64", "os": "linux", "created": "2023-11-14T22:13:20Z",
    "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
               "Cmd": ["sh"]},
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + layer_digest]},
}
config_bytes = json.dumps(config, sort_keys=True).encode()
config_digest = hashlib.sha256(config_bytes).hexdigest()
manifest = [{"Config": config_digest + ".json", "RepoTags": ["busybox:latest", "busybox:1.36"],
             "Layers": [layer_digest + "/layer.tar"]}]
with tarfile.open(out, "w", format=tarfile.USTAR_FORMAT) as t:
    add(t, layer_digest, tarfile.DIRTYPE)
    add(t, layer_digest + "/layer.tar", tarfile.REGTYPE, layer_bytes, 0o644)
    add(t, config_digest + ".json", tarfile.REGTYPE, config_bytes, 0o644)
    add(t, "manifest.json", tarfile.REGTYPE, json.dumps(manifest).encode(), 0o644)
print("%s: sha256:%s busybox:latest busybox:1.36 (%d applets)" % (out, config_digest, len(applets)))
PY
