"""A kubelet process for the end-to-end tests, next to the apiserver of e2e/harness.py.

The binary comes from $KUBEPP_KUBELET (ctest sets it), else build/bin/kubelet. Each kubelet
gets a fresh --root-dir, a free --kubelet-port (HTTPS, its self-signed certificate) and a
free --healthz-port (plain /healthz); stop() kills it by PID. The harness's apiserver has
no PKI and so no kubelet client certificate: unless told otherwise (anonymous=False), a
kubelet lets anonymous requests through (--anonymous-auth; without a kubeconfig its
authorization is AlwaysAllow), so that pods/log reaches it. For the runc
runtime, cleanup_node() removes everything the node may have left on the host: runc
containers, overlay mounts, network namespaces, its bridge, its cgroups.
"""
import glob
import json
import os
import random
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BUILD_BUSYBOX = os.path.join(REPO, "images", "busybox.sh")
sys.path.insert(0, os.path.join(REPO, "e2e"))
import harness  # noqa: E402

KUBELET = os.environ.get("KUBEPP_KUBELET", os.path.join(REPO, "build", "bin", "kubelet"))


def wait_for(cond, timeout=30, interval=0.1, what="condition"):
    """Polls cond() until it returns something truthy; returns it or fails. `what` (a
    string, or a function giving one) describes the wait in the failure."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = cond()
        if last:
            return last
        time.sleep(interval)
    if callable(what):  # built only on failure (e.g. with a log tail)
        what = what()
    raise AssertionError("timed out after %ss waiting for %s (last: %r)" % (timeout, what, last))


class Kubelet:
    def __init__(self, server_url, node_name, extra_args=(), root_dir=None, anonymous=True):
        self.server_url = server_url
        self.node_name = node_name
        self.extra_args = (["--anonymous-auth"] if anonymous else []) + list(extra_args)
        self.tmp = tempfile.mkdtemp(prefix="kubepp-kubelet-e2e-")
        self.root_dir = root_dir or os.path.join(self.tmp, "root")
        self.log_path = os.path.join(self.tmp, "kubelet.log")
        self.port = harness.free_port()
        self.healthz_port = harness.free_port()
        self.proc = None

    def start(self):
        if not os.access(KUBELET, os.X_OK):
            if "KUBEPP_KUBELET" in os.environ:
                raise RuntimeError("no kubelet binary at %s" % KUBELET)
            raise unittest.SkipTest("no kubelet binary at %s" % KUBELET)
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                [KUBELET, "--server", self.server_url, "--node-name", self.node_name,
                 "--root-dir", self.root_dir, "--kubelet-port", str(self.port),
                 "--healthz-port", str(self.healthz_port)] + self.extra_args,
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        finally:
            log.close()
        wait_for(self._healthy, timeout=20, what="kubelet /healthz\n" + self.log_tail())
        return self

    def _healthy(self):
        if self.proc.poll() is not None:
            raise RuntimeError("kubelet exited with %s:\n%s" % (self.proc.returncode, self.log_tail()))
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % self.healthz_port,
                                        timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    def get(self, path, cert=None):
        """GET on the kubelet API (HTTPS, its certificate not verified), with an optional
        client certificate (a (certfile, keyfile) pair). Raises HTTPError for non-2xx."""
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        if cert:
            ctx.load_cert_chain(*cert)
        with urllib.request.urlopen("https://127.0.0.1:%d%s" % (self.port, path), timeout=10,
                                    context=ctx) as r:
            return r.read().decode()

    def kill(self, sig=signal.SIGKILL):
        if self.proc is None:
            return
        harness.kill_process(self.proc, sig, grace=20)
        self.proc = None

    def stop(self):
        self.kill(signal.SIGTERM)

    def remove_files(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def log_tail(self, n=40):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""


def own_memory_cgroup():
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.strip().split(":", 2)
            if "memory" in controllers.split(","):
                return path
    return "/"


def cleanup_node(root_dir, node_name, bridge):
    """Removes whatever a runc-runtime kubelet left: containers, mounts, netns, bridge, cgroups.

    `kubelet teardown` does it properly (CNI DEL included); the rest is a fallback for a
    state it cannot read."""
    if os.path.isdir(root_dir) and os.access(KUBELET, os.X_OK):
        subprocess.run([KUBELET, "teardown", "--root-dir", root_dir, "--node-name", node_name,
                        "--cni-bridge", bridge, "--cni-conf-dir", "/nonexistent-kubepp-e2e"],
                       capture_output=True, timeout=120)
    own = own_memory_cgroup().rstrip("/")
    # Every process in the node's cgroups first (containers; their shims then exit), so
    # nothing depends on runc's state being readable after a kill -9 mid-operation.
    top = "/sys/fs/cgroup/memory" + own + "/kubepp-" + node_name
    for _ in range(50):
        pids = set()
        for procs in glob.glob(top + "/**/cgroup.procs", recursive=True):
            try:
                with open(procs) as f:
                    pids.update(int(p) for p in f.read().split())
            except (OSError, ValueError):
                pass
        if not pids:
            break
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)
    runc_root = os.path.join(root_dir, "runtime", "runc")
    if os.path.isdir(runc_root):
        for cid in os.listdir(runc_root):
            subprocess.run(["runc", "--root", runc_root, "delete", "--force", cid], capture_output=True)
    for sandbox in glob.glob(os.path.join(root_dir, "runtime", "sandboxes", "*.json")):
        try:
            with open(sandbox) as f:
                netns = json.load(f).get("netns", "")
        except (OSError, ValueError):
            continue
        if netns and os.path.exists(netns):
            subprocess.run(["ip", "netns", "delete", os.path.basename(netns)], capture_output=True)
    with open("/proc/self/mounts") as f:
        mounts = [line.split()[1] for line in f if root_dir in line.split()[1]]
    for m in sorted(mounts, key=len, reverse=True):
        subprocess.run(["umount", "-l", m], capture_output=True)
    subprocess.run(["ip", "link", "delete", bridge], capture_output=True)
    for hierarchy in glob.glob("/sys/fs/cgroup/*"):
        top = hierarchy + own + "/kubepp-" + node_name
        if not os.path.isdir(top):
            continue
        for dirpath, _, _ in sorted(os.walk(top), key=lambda w: len(w[0]), reverse=True):
            try:
                os.rmdir(dirpath)
            except OSError:
                pass


def missing_prerequisite():
    """Why a runc node cannot run here (None when it can): root, runc, the CNI plugins
    and busybox-static are needed."""
    if os.geteuid() != 0:
        return "needs root"
    if shutil.which("runc") is None:
        return "runc not installed"
    for p in ("bridge", "host-local", "loopback", "portmap"):
        if not os.path.exists("/usr/lib/cni/" + p):
            return "CNI plugin %s missing (containernetworking-plugins)" % p
    if not os.path.exists("/bin/busybox"):
        return "busybox-static not installed"
    return None


def start_runc_node(cls, node_prefix, bridge_prefix, import_busybox=True, pod_grace=0, extra_args=()):
    """Starts a runc kubelet for test class `cls` (an apiserver in cls.server), with
    `extra_args` as more flags: node
    <node_prefix><id> with its own bridge <bridge_prefix><id> and a random 10.244.x.0/24,
    the busybox image imported unless told otherwise, and a fresh namespace in cls.ns.
    Sets cls.node, cls.bridge, cls.cidr_prefix, cls.kubelet, cls.ns; registers every
    cleanup on the class (the pods, deleted with `pod_grace`, first)."""
    suffix = harness.unique("x")[2:]
    cls.node = node_prefix + suffix
    cls.bridge = bridge_prefix + suffix[:8]
    cls.cidr_prefix = "10.244.%d" % random.randint(100, 249)
    cls.kubelet = Kubelet(cls.server.url, cls.node, [
        "--runtime", "runc", "--pod-cidr", cls.cidr_prefix + ".0/24", "--cni-bridge", cls.bridge,
        "--cni-conf-dir", "/nonexistent-kubepp-e2e"] + list(extra_args))
    cls.addClassCleanup(cls.kubelet.remove_files)
    cls.addClassCleanup(cleanup_node, cls.kubelet.root_dir, cls.node, cls.bridge)
    cls.addClassCleanup(cls.kubelet.kill)
    if import_busybox:
        images = os.path.join(cls.kubelet.root_dir, "images-import")
        os.makedirs(images)
        subprocess.run([BUILD_BUSYBOX, os.path.join(images, "busybox.tar")], check=True,
                       capture_output=True)
    cls.kubelet.start()
    cls.ns = cls.server.create_namespace()
    cls.addClassCleanup(delete_all_pods, cls.server, cls.ns, cls.kubelet, pod_grace)


def delete_all_pods(server, ns, kubelet, grace=0):
    """Deletes every pod of `ns` and waits (up to 60 s) for them to go; nothing to do once
    the kubelet has been killed (cleanup_node removes what is left)."""
    if kubelet.proc is None:
        return
    for p in server.get("/api/v1/namespaces/%s/pods" % ns).json().get("items", []):
        server.delete("/api/v1/namespaces/%s/pods/%s?gracePeriodSeconds=%d"
                      % (ns, p["metadata"]["name"], grace))
    try:
        wait_for(lambda: not server.get("/api/v1/namespaces/%s/pods" % ns).json()["items"],
                 timeout=60, what="pods deleted")
    except AssertionError:
        pass  # cleanup_node removes whatever is left


# busybox:1.36, not busybox: an untagged image defaults to imagePullPolicy Always, which
# would pull from Docker Hub instead of using the imported test image.
def pod(name, command=None, image="busybox:1.36", restart_policy=None, node=None, **spec_extra):
    container = {"name": "c", "image": image}
    if command is not None:
        container["command"] = command
    spec = {"containers": [container], "terminationGracePeriodSeconds": 5}
    if restart_policy:
        spec["restartPolicy"] = restart_policy
    if node:
        spec["nodeName"] = node
    spec.update(spec_extra)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}
