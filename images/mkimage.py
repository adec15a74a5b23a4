#!/usr/bin/env python3
"""Builds a `docker save`-format image tarball from a root filesystem directory.

    mkimage.py --rootfs DIR --tag kubepp/testserver:1.0 [--tag ...] --out image.tar \
               [--entrypoint /testserver] [--cmd serve-hostname] [--env PATH=/bin] [--workdir /]

Nothing is downloaded: the one layer is the rootfs as given. The result loads with
`docker load` and with kubepp's own image store (`./kubepp load-image`).
"""
import argparse
import hashlib
import io
import json
import os
import sys
import tarfile


def layer_tar(rootfs):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for dirpath, dirnames, filenames in os.walk(rootfs):
            dirnames.sort()
            for name in sorted(dirnames) + sorted(filenames):
                path = os.path.join(dirpath, name)
                arc = os.path.relpath(path, rootfs)
                info = tar.gettarinfo(path, arcname=arc)
                info.uid = info.gid = 0
                info.uname = info.gname = "root"
                info.mtime = 0  # reproducible
                if info.isreg():
                    with open(path, "rb") as f:
                        tar.addfile(info, f)
                else:
                    tar.addfile(info)
    return buf.getvalue()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rootfs", required=True)
    p.add_argument("--tag", action="append", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--entrypoint", action="append", default=[])
    p.add_argument("--cmd", action="append", default=[])
    p.add_argument("--env", action="append", default=[])
    p.add_argument("--workdir", default="/")
    a = p.parse_args()
    if not os.path.isdir(a.rootfs):
        sys.exit("mkimage: no rootfs directory at %s" % a.rootfs)
    layer = layer_tar(a.rootfs)
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = {
        "architecture": "amd64", "os": "linux",
        "config": {"Entrypoint": a.entrypoint or None, "Cmd": a.cmd or None,
                   "Env": a.env or ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                   "WorkingDir": a.workdir},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created_by": "kubepp images/mkimage.py"}],
    }
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    layer_dir = diff_id.split(":")[1]
    repositories = {}
    for t in a.tag:
        repo, _, tag = t.rpartition(":")
        repositories.setdefault(repo, {})[tag] = layer_dir
    manifest = [{"Config": config_name, "RepoTags": a.tag, "Layers": [layer_dir + "/layer.tar"]}]
    tmp = a.out + ".tmp"
    with tarfile.open(tmp, "w") as out:
        def add(name, data):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            out.addfile(info, io.BytesIO(data))
        add(config_name, config_bytes)
        add(layer_dir + "/layer.tar", layer)
        add("manifest.json", json.dumps(manifest).encode())
        add("repositories", json.dumps(repositories).encode())
    os.replace(tmp, a.out)


if __name__ == "__main__":
    main()
