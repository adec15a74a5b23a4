#!/usr/bin/python3
"""Controller-manager benchmarks: a real apiserver and controller-manager, with a fast
fake kubelet (a pod watch and a pool of status writers) playing the nodes.

  bench/controller_manager.py [--replicas 3000] [--endpoint-pods 1000] [--flips 100]
  bench/controller_manager.py --hollow-nodes 100 [--replicas 3000]

Measures (printed as a Markdown table for BENCHMARKS.md):
  - a Deployment of --replicas: create -> all pods created, -> all available;
  - a full rolling update of it (new image) -> complete;
  - controller-manager CPU seconds and peak RSS over those;
  - Endpoints latency: for a Service over --endpoint-pods pods, a pod turning Ready (its
    status PUT sent) -> the arrival of the watch event of the Endpoints object listing
    it among ready addresses (p50/p99 over --flips).
Pods are never bound to nodes (there is no scheduler here), so each pod status write is
the only kubelet work; that part is the fake kubelet's, not the controller-manager's.

With --hollow-nodes N the whole pipeline runs instead (issue 4's setting): the scheduler
binds the pods to N hollow nodes of one `kubelet --runtime fake --hollow-nodes N`, which
runs them (no processes) and reports them Running and Ready; the Endpoints part is left
out (the hollow kubelet owns pod status there).
"""
import argparse
import http.client
import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("KUBEPP_BUILD_DIR", os.path.join(ROOT, "build"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def utc():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Client:
    """One keep-alive connection (not thread-safe: one per thread)."""

    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method, path, body=None, content_type="application/json"):
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = content_type
        for attempt in range(3):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                r = self.conn.getresponse()
                payload = r.read()
                is_json = r.getheader("Content-Type", "").startswith("application/json")
                return r.status, (json.loads(payload) if payload and is_json else None)
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    raise


class FastKubelet:
    """Marks every new pod Running + Ready (with an IP) through a watch and 8 writers."""

    def __init__(self, port, writers=8):
        self.port = port
        self.todo = queue.Queue()
        self.stop = threading.Event()
        self.seen = set()
        self.next_ip = 0
        self.threads = [threading.Thread(target=self._watch, daemon=True)]
        self.threads += [threading.Thread(target=self._write, daemon=True) for _ in range(writers)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def _watch(self):
        while not self.stop.is_set():
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            try:
                conn.request("GET", "/api/v1/pods?watch=true&timeoutSeconds=60")
                resp = conn.getresponse()
                while not self.stop.is_set():
                    line = resp.readline()
                    if not line:
                        break
                    ev = json.loads(line)
                    pod = ev["object"]
                    uid = pod["metadata"].get("uid")
                    if ev["type"] != "ADDED" or uid in self.seen:
                        continue
                    self.seen.add(uid)
                    if pod.get("status", {}).get("phase") != "Running":
                        self.next_ip += 1
                        ip = "10.244.%d.%d" % (self.next_ip // 250, self.next_ip % 250 + 2)
                        self.todo.put((pod, ip))
            except (OSError, http.client.HTTPException, ValueError):
                time.sleep(0.1)
            finally:
                conn.close()

    def _write(self):
        client = Client(self.port)
        while not self.stop.is_set():
            try:
                pod, ip = self.todo.get(timeout=0.2)
            except queue.Empty:
                continue
            meta = pod["metadata"]
            pod["status"] = {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                             "startTime": utc(),
                             "conditions": [{"type": "Ready", "status": "True",
                                             "lastTransitionTime": utc()}]}
            client.call("PUT", "/api/v1/namespaces/%s/pods/%s/status"
                        % (meta["namespace"], meta["name"]), pod)


def proc_cpu_rss(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    peak = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) // 1024
    return cpu, peak


def wait(predicate, timeout=300, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = predicate()
        if v:
            return v
        time.sleep(interval)
    raise SystemExit("timed out")


def deployment(name, replicas, image):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "c", "image": image}]}}}}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--replicas", type=int, default=3000)
    ap.add_argument("--endpoint-pods", type=int, default=1000)
    ap.add_argument("--flips", type=int, default=100)
    ap.add_argument("--hollow-nodes", type=int, default=0,
                    help="scheduler + this many hollow nodes instead of the fast fake kubelet")
    args = ap.parse_args()
    subprocess.run(["cmake", "--build", BUILD, "--target", "apiserver", "controller-manager",
                    "scheduler", "kubelet"], check=True, stdout=subprocess.DEVNULL)
    tmp = tempfile.mkdtemp(prefix="kubepp-bench-cm-")
    procs = []
    try:
        port = free_port()
        procs.append(subprocess.Popen(
            [os.path.join(BUILD, "bin", "apiserver"), "--port", str(port), "--data-dir",
             os.path.join(tmp, "data"), "--max-requests-inflight", "4000"],
            stdout=open(os.path.join(tmp, "api.log"), "w"), stderr=subprocess.STDOUT))
        c = Client(port)
        wait(lambda: _healthy(c))
        cm = subprocess.Popen(
            [os.path.join(BUILD, "bin", "controller-manager"), "--server",
             "http://127.0.0.1:%d" % port, "--port", "0", "--leader-elect=false"],
            stdout=open(os.path.join(tmp, "cm.log"), "w"), stderr=subprocess.STDOUT)
        procs.append(cm)
        if args.hollow_nodes:
            kubelet = None
            start_hollow_cluster(port, args.hollow_nodes, tmp, procs, c)
        else:
            kubelet = FastKubelet(port).start()
            time.sleep(1)
        rows = []
        n = args.replicas
        dpath = "/apis/apps/v1/namespaces/default/deployments/big"
        cpu0, _ = proc_cpu_rss(cm.pid)
        t0 = time.monotonic()
        c.call("POST", "/apis/apps/v1/namespaces/default/deployments", deployment("big", n, "v1"))
        wait(lambda: c.call("GET", dpath)[1].get("status", {}).get("replicas", 0) >= n)
        t_created = time.monotonic() - t0
        wait(lambda: c.call("GET", dpath)[1].get("status", {}).get("availableReplicas", 0) == n)
        t_avail = time.monotonic() - t0
        rows.append(("Deployment of %d: create -> %d pods created" % (n, n), "%.2f s" % t_created))
        rows.append(("Deployment of %d: create -> %d available" % (n, n), "%.2f s" % t_avail))
        t1 = time.monotonic()
        c.call("PATCH", dpath, {"spec": {"template": {"spec": {"containers": [
            {"name": "c", "image": "v2"}]}}}}, "application/strategic-merge-patch+json")

        def rolled():
            d = c.call("GET", dpath)[1]
            st = d.get("status", {})
            return (st.get("observedGeneration", 0) >= d["metadata"]["generation"] and
                    st.get("updatedReplicas") == n and st.get("replicas") == n and
                    st.get("availableReplicas") == n)

        wait(rolled, timeout=600, interval=0.1)
        rows.append(("rolling update of %d (25%% surge/unavailable) -> complete" % n,
                     "%.2f s" % (time.monotonic() - t1)))
        cpu1, rss = proc_cpu_rss(cm.pid)
        rows.append(("controller-manager CPU for the above", "%.1f s" % (cpu1 - cpu0)))
        rows.append(("controller-manager peak RSS", "%d MB" % rss))
        c.call("DELETE", dpath)
        wait(lambda: not c.call("GET", "/api/v1/namespaces/default/pods?labelSelector=app=big&limit=1")[1]["items"],
             timeout=600, interval=0.2)

        if args.hollow_nodes:
            print_rows(rows, "%d hollow nodes, scheduler, controller-manager, apiserver" % args.hollow_nodes)
            return
        # Endpoints latency.
        m = args.endpoint_pods
        c.call("POST", "/apis/apps/v1/namespaces/default/deployments", deployment("ep", m, "v1"))
        c.call("POST", "/api/v1/namespaces/default/services",
               {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ep"},
                "spec": {"selector": {"app": "ep"}, "ports": [{"port": 80}]}})
        eppath = "/api/v1/namespaces/default/endpoints/ep"

        def ready_count():
            st, ep = c.call("GET", eppath)
            if st != 200:
                return 0
            return sum(len(s.get("addresses", [])) for s in ep.get("subsets", []))

        wait(lambda: ready_count() == m, timeout=300, interval=0.1)
        pods = c.call("GET", "/api/v1/namespaces/default/pods?labelSelector=app=ep")[1]["items"]
        lat = []
        for i in range(args.flips):
            pod = pods[i % len(pods)]
            meta = pod["metadata"]
            ppath = "/api/v1/namespaces/default/pods/%s/status" % meta["name"]
            ip = pod["status"]["podIP"]
            for ready in ("False", "True"):
                cur = c.call("GET", "/api/v1/namespaces/default/pods/" + meta["name"])[1]
                cur["status"]["conditions"] = [{"type": "Ready", "status": ready,
                                                "lastTransitionTime": utc()}]
                watch = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                rv = c.call("GET", eppath)[1]["metadata"]["resourceVersion"]
                watch.request("GET", "/api/v1/namespaces/default/endpoints?watch=true&"
                              "fieldSelector=metadata.name%3Dep&resourceVersion=" + rv)
                resp = watch.getresponse()
                start = time.monotonic()
                c.call("PUT", ppath, cur)
                while True:
                    line = resp.readline()
                    # Timed when the event arrives: parsing it is this client's cost.
                    arrived = time.monotonic()
                    ev = json.loads(line)
                    subsets = ev["object"].get("subsets", [])
                    key = "addresses" if ready == "True" else "notReadyAddresses"
                    if any(a["ip"] == ip for s in subsets for a in s.get(key, [])):
                        break
                if ready == "True":
                    lat.append((arrived - start) * 1000)
                watch.close()
        lat.sort()
        rows.append(("Endpoints of a %d-pod Service: pod Ready -> listed, p50" % m,
                     "%.1f ms" % lat[len(lat) // 2]))
        rows.append(("Endpoints of a %d-pod Service: pod Ready -> listed, p99" % m,
                     "%.1f ms" % lat[min(len(lat) - 1, int(len(lat) * 0.99))]))
        kubelet.stop.set()
        print_rows(rows, "apiserver, controller-manager, fast fake kubelet")
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def start_hollow_cluster(port, nodes, tmp, procs, c):
    """The scheduler and one hollow kubelet of `nodes` nodes; returns once all are Ready
    and schedulable (the node lifecycle controller lifted the not-ready taint)."""
    server = "http://127.0.0.1:%d" % port
    procs.append(subprocess.Popen(
        [os.path.join(BUILD, "bin", "scheduler"), "--server", server, "--port", "0",
         "--leader-elect=false"],
        stdout=open(os.path.join(tmp, "scheduler.log"), "w"), stderr=subprocess.STDOUT))
    procs.append(subprocess.Popen(
        [os.path.join(BUILD, "bin", "kubelet"), "--server", server, "--runtime", "fake",
         "--hollow-nodes", str(nodes), "--node-name", "hollow", "--root-dir", os.path.join(tmp, "kubelet"),
         "--kubelet-port", "0", "--healthz-port", "0"],
        stdout=open(os.path.join(tmp, "kubelet.log"), "w"), stderr=subprocess.STDOUT))

    def schedulable():
        items = c.call("GET", "/api/v1/nodes")[1]["items"]
        ok = [n for n in items
              if any(x["type"] == "Ready" and x["status"] == "True" for x in n.get("status", {}).get("conditions", []))
              and not any(t["key"].startswith("node.kubernetes.io/") for t in n.get("spec", {}).get("taints") or [])]
        return len(ok) == nodes
    wait(schedulable, timeout=300, interval=0.2)


def print_rows(rows, setup):
    print("machine: %d cores, %s; load average (1 min) at the end: %s" % (os.cpu_count(), os.uname().release,
                                                             open("/proc/loadavg").read().split()[0]))
    print("setup: " + setup)
    print()
    print("| benchmark | kubepp |")
    print("|---|---|")
    for name, value in rows:
        print("| %s | %s |" % (name, value))


def _healthy(c):
    try:
        return c.call("GET", "/healthz")[0] == 200
    except OSError:
        return False


if __name__ == "__main__":
    main()
