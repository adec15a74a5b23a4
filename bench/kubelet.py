#!/usr/bin/python3
"""Kubelet benchmarks (issue 5). Prints Markdown tables for BENCHMARKS.md.

  bench/kubelet.py runc [PODS]     pod create -> Running (seen by a watch) p50/p99 for PODS
                                   (default 50) busybox pods on one runc node, image
                                   present; kubelet RSS with them running; idle CPU. Root.
  bench/kubelet.py hollow [NODES]  NODES (default 1000) hollow nodes in one kubelet process:
                                   registration time, RSS, lease freshness over 60 s.

Needs build/bin/{apiserver,kubelet} (or $KUBEPP_APISERVER / $KUBEPP_KUBELET). Everything
runs on this machine and is removed afterwards.
"""
import json
import os
import random
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "kubelet", "e2e"))
import kubelet_harness as kh  # noqa: E402
from kubelet_harness import harness, wait_for  # noqa: E402


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu_seconds():
    """CPU time of every process on the machine (user, nice, system, irq, softirq)."""
    with open("/proc/stat") as f:
        fields = f.readline().split()[1:8]
    user, nice, system, _idle, _iowait, irq, softirq = (int(x) for x in fields)
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def machine():
    rev = subprocess.run(["git", "-C", kh.REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    return "machine: %d cores, %s; kubepp %s" % (os.cpu_count(), os.uname().release, rev)


def bench_runc(pods):
    server = harness.ApiServer(["--max-requests-inflight", "2000"]).start()
    suffix = harness.unique("b")[2:]
    node, bridge = "kpbench-" + suffix, "kpb" + suffix[:8]
    kubelet = kh.Kubelet(server.url, node, ["--runtime", "runc", "--pod-cidr", "10.244.%d.0/24" % random.randint(100, 249),
                                            "--cni-bridge", bridge, "--cni-conf-dir", "/nonexistent-kubepp-bench"])
    try:
        images = os.path.join(kubelet.root_dir, "images-import")
        os.makedirs(images)
        subprocess.run([os.path.join(kh.REPO, "images", "busybox.sh"),
                        os.path.join(images, "busybox.tar")], check=True, capture_output=True)
        kubelet.start()
        ns = server.create_namespace()
        running = {}
        done = threading.Event()

        def watch():
            with server.watch("/api/v1/namespaces/%s/pods?watch=1" % ns, timeout=300) as w:
                for ev in w:
                    st = ev["object"].get("status", {})
                    name = ev["object"]["metadata"]["name"]
                    if st.get("phase") == "Running" and name not in running:
                        running[name] = time.monotonic()
                        if len(running) == pods + 10:
                            done.set()
                            return
        t = threading.Thread(target=watch, daemon=True)
        t.start()
        time.sleep(0.3)
        created = {}
        # First one pod at a time (the latency of an idle node), then a burst of `pods`.
        for i in range(10):
            name = "s%03d" % i
            created[name] = time.monotonic()
            r = server.post("/api/v1/namespaces/%s/pods" % ns, kh.pod(name, command=["sleep", "3600"], node=node))
            assert r.status == 201, r
            wait_for(lambda: name in running, timeout=60, interval=0.005, what=name)
        sequential = [(running[n] - created[n]) * 1000 for n in created]
        cpu0, kubelet0, api0 = machine_cpu_seconds(), cpu_seconds(kubelet.proc.pid), cpu_seconds(server.proc.pid)
        for i in range(pods):
            name = "p%03d" % i
            created[name] = time.monotonic()
            r = server.post("/api/v1/namespaces/%s/pods" % ns, kh.pod(name, command=["sleep", "3600"], node=node))
            assert r.status == 201, r
        if not done.wait(300):
            raise AssertionError("only %d/%d pods Running:\n%s" % (len(running), pods, kubelet.log_tail()))
        # What the burst cost the whole machine: no schedule of this work on the machine's
        # cores can make the last pod Running sooner than this CPU time / cores.
        cpu = machine_cpu_seconds() - cpu0
        kubelet_cpu, api_cpu = cpu_seconds(kubelet.proc.pid) - kubelet0, cpu_seconds(server.proc.pid) - api0
        burst = [n for n in created if n.startswith("p")]
        lat = [(running[n] - created[n]) * 1000 for n in burst]
        total = max(running[n] for n in burst) - min(created[n] for n in burst)
        time.sleep(5)
        rss = rss_mb(kubelet.proc.pid)
        c0 = cpu_seconds(kubelet.proc.pid)
        time.sleep(10)
        idle = (cpu_seconds(kubelet.proc.pid) - c0) / 10 * 100
        print(machine())
        print()
        print("| runc node | create -> Running p50 | p99 | max | all Running after | kubelet RSS (%d pods) | kubelet idle CPU |" % (pods + 10))
        print("|---|---|---|---|---|---|---|")
        print("| 10 pods, one at a time | %.0f ms | %.0f ms | %.0f ms | - | | |" % (
            pct(sequential, 50), pct(sequential, 99), max(sequential)))
        print("| %d pods created at once | %.0f ms | %.0f ms | %.0f ms | %.1f s | %.1f MB | %.1f %% |" % (
            pods, pct(lat, 50), pct(lat, 99), max(lat), total, rss, idle))
        print()
        print("| burst of %d pods | CPU, whole machine | per pod | kubelet | apiserver | the rest (runc, shims, CNI plugins, ip) | that CPU / %d cores |" % (
            pods, os.cpu_count()))
        print("|---|---|---|---|---|---|---|")
        print("| | %.2f s | %.0f ms | %.2f s | %.2f s | %.2f s | %.0f ms |" % (
            cpu, cpu / pods * 1000, kubelet_cpu, api_cpu, cpu - kubelet_cpu - api_cpu, cpu / os.cpu_count() * 1000))
        for p in created:
            server.delete("/api/v1/namespaces/%s/pods/%s?gracePeriodSeconds=0" % (ns, p))
        wait_for(lambda: not server.get("/api/v1/namespaces/%s/pods" % ns).json()["items"], timeout=120,
                 what="pods deleted")
        containers = os.path.join(kubelet.root_dir, "runtime", "containers")
        wait_for(lambda: not os.listdir(containers), timeout=120, what="containers removed")
    finally:
        kubelet.kill()
        kh.cleanup_node(kubelet.root_dir, node, bridge)
        kubelet.remove_files()
        server.stop()


def bench_hollow(nodes):
    server = harness.ApiServer(["--max-requests-inflight", "4000"]).start()
    prefix = harness.unique("hb")
    kubelet = kh.Kubelet(server.url, prefix, ["--runtime", "fake", "--hollow-nodes", str(nodes)])
    try:
        t0 = time.monotonic()
        kubelet.start()
        names = {"%s-%d" % (prefix, i) for i in range(nodes)}

        def registered():
            items = server.get("/api/v1/nodes").json()["items"]
            return len(names & {n["metadata"]["name"] for n in items}) == nodes
        wait_for(registered, timeout=600, interval=1, what="hollow nodes registered")
        reg = time.monotonic() - t0
        worst = 0.0
        lease_path = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"
        for _ in range(6):  # 60 s: every lease must stay fresh (renewed every 10 s)
            time.sleep(10)
            now = time.time()
            leases = [l for l in server.get(lease_path).json()["items"] if l["metadata"]["name"] in names]
            assert len(leases) == nodes, len(leases)
            for l in leases:
                rt = l["spec"]["renewTime"]
                ts = time.mktime(time.strptime(rt[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
                worst = max(worst, now - ts - float("0." + rt[20:26] if len(rt) > 20 else 0))
        rss = rss_mb(kubelet.proc.pid)
        c0 = cpu_seconds(kubelet.proc.pid)
        time.sleep(10)
        cpu = (cpu_seconds(kubelet.proc.pid) - c0) / 10 * 100
        threads = len(os.listdir("/proc/%d/task" % kubelet.proc.pid))
        print(machine())
        print()
        print("| hollow nodes | all registered after | kubelet RSS | kubelet CPU (steady) | threads | oldest lease renewTime over 60 s |")
        print("|---|---|---|---|---|---|")
        print("| %d | %.1f s | %.0f MB | %.0f %% | %d | %.1f s |" % (nodes, reg, rss, cpu, threads, worst))
    finally:
        kubelet.kill()
        kubelet.remove_files()
        server.stop()


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "hollow"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else (50 if mode == "runc" else 1000)
    {"runc": bench_runc, "hollow": bench_hollow}[mode](n)
