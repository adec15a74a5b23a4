"""End-to-end tests of the scheduler: a real apiserver and scheduler process(es), Node
objects created through the API (no kubelet), pods placed by resources, selectors,
taints, affinity and spread; unschedulable reasons; leader hand-over; kill -9 mid-burst.

The scheduler binary comes from $KUBEPP_SCHEDULER (ctest sets it), else build/bin/scheduler.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "e2e"))
import harness  # noqa: E402

SCHEDULER = os.environ.get("KUBEPP_SCHEDULER",
                           os.path.join(harness.REPO, "build", "bin", "scheduler"))
LAST_ATTEMPT = "scheduler.kubepp.io/last-attempt"


class Scheduler:
    """One scheduler process; stop() kills it by PID and removes its log directory."""

    def __init__(self, server_url, leader_elect=False):
        self.server_url = server_url
        self.leader_elect = leader_elect
        self.tmp = tempfile.mkdtemp(prefix="kubepp-e2e-sched-")
        self.log_path = os.path.join(self.tmp, "scheduler.log")
        self.proc = None
        self.port = None

    def start(self):
        if not os.access(SCHEDULER, os.X_OK):
            raise unittest.SkipTest("no scheduler binary at %s" % SCHEDULER)
        self.port = harness.free_port()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [SCHEDULER, "--server", self.server_url, "--port", str(self.port),
                 "--leader-elect=%s" % ("true" if self.leader_elect else "false")],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        return self

    def kill(self, sig=signal.SIGKILL):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            self.proc.wait(timeout=20)
        self.proc = None

    def stop(self):
        self.kill(signal.SIGTERM)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def log_tail(self, n=30):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""


def node(name, cpu="4", memory="8Gi", pods="110", labels=None, taints=None, ready=True,
         unschedulable=False):
    spec = {}
    if taints:
        spec["taints"] = taints
    if unschedulable:
        spec["unschedulable"] = True
    lbl = {"kubernetes.io/hostname": name}
    lbl.update(labels or {})
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": lbl},
            "spec": spec,
            "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                       "capacity": {"cpu": cpu, "memory": memory, "pods": pods},
                       "allocatable": {"cpu": cpu, "memory": memory, "pods": pods}}}


def pod(name, cpu=None, memory=None, labels=None, **spec):
    container = {"name": "c", "image": "registry.k8s.io/pause:3.9"}
    requests = {}
    if cpu:
        requests["cpu"] = cpu
    if memory:
        requests["memory"] = memory
    if requests:
        container["resources"] = {"requests": requests}
    body = {"containers": [container]}
    body.update(spec)
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": labels or {"app": name}}, "spec": body}


class SchedulerTestCase(harness.ServerTestCase):
    """An apiserver per class; each test makes its own nodes (uniquely named) and
    namespace, and its own scheduler process(es)."""

    def setUp(self):
        self.ns = self.server.create_namespace()
        self.schedulers = []
        self.nodes = []

    def tearDown(self):
        for s in self.schedulers:
            s.stop()
        for n in self.nodes:
            self.server.delete("/api/v1/nodes/" + n)

    def run(self, result=None):
        failures = len(result.failures) + len(result.errors) if result else 0
        out = super().run(result)
        if result and len(result.failures) + len(result.errors) > failures:
            for s in getattr(self, "schedulers", []):
                print("\n--- scheduler log tail ---\n" + s.log_tail())
        return out

    def start_scheduler(self, leader_elect=False):
        s = Scheduler(self.server.url, leader_elect)
        self.schedulers.append(s)
        return s.start()

    def add_node(self, name, **kw):
        name = harness.unique(name)
        r = self.server.post("/api/v1/nodes", node(name, **kw))
        self.assertEqual(r.status, 201, r)
        self.nodes.append(name)
        return name

    def create_pod(self, body):
        r = self.server.post("/api/v1/namespaces/%s/pods" % self.ns, body)
        self.assertEqual(r.status, 201, r)

    def get_pod(self, name):
        r = self.server.get("/api/v1/namespaces/%s/pods/%s" % (self.ns, name))
        self.assertEqual(r.status, 200, r)
        return r.json()

    def wait_for(self, fn, timeout=30, what="condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = fn()
            if value:
                return value
            time.sleep(0.05)
        self.fail("timed out waiting for " + what)

    def wait_bound(self, name, timeout=30):
        return self.wait_for(lambda: self.get_pod(name)["spec"].get("nodeName"), timeout,
                             "pod %s to be bound" % name)

    def wait_unschedulable(self, name, timeout=30):
        def cond():
            p = self.get_pod(name)
            for c in p.get("status", {}).get("conditions", []):
                if c["type"] == "PodScheduled" and c["status"] == "False":
                    if LAST_ATTEMPT in p["metadata"].get("annotations", {}):
                        return p
            return None
        return self.wait_for(cond, timeout, "pod %s to be unschedulable" % name)


class PlacementTest(SchedulerTestCase):

    def test_resources_selectors_taints(self):
        small = self.add_node("small", cpu="1", labels={"disk": "hdd"})
        big = self.add_node("big", cpu="8", labels={"disk": "ssd"})
        tainted = self.add_node("tainted", cpu="16",
                                taints=[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}])
        self.start_scheduler()
        self.create_pod(pod("needs-cpu", cpu="2"))
        self.create_pod(pod("wants-hdd", nodeSelector={"disk": "hdd"}))
        self.create_pod(pod("tolerates", cpu="12", tolerations=[
            {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]))
        self.create_pod(pod("affine", affinity={"nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}]}}}))
        self.assertEqual(self.wait_bound("needs-cpu"), big)
        self.assertEqual(self.wait_bound("wants-hdd"), small)
        self.assertEqual(self.wait_bound("tolerates"), tainted)
        self.assertEqual(self.wait_bound("affine"), big)
        # The scheduler records events asynchronously, after the binding: wait for it.
        want = "Successfully assigned %s/needs-cpu to %s" % (self.ns, big)

        def scheduled():
            events = self.server.get("/api/v1/namespaces/%s/events" % self.ns).json()["items"]
            return [e for e in events if e["reason"] == "Scheduled" and
                    e["involvedObject"]["name"] == "needs-cpu"]

        events = self.wait_for(scheduled, what="the Scheduled event of needs-cpu")
        self.assertTrue(any(e["message"] == want for e in events), events)

    def test_assumed_pods_count_before_binding_is_seen(self):
        nodes = [self.add_node("n", cpu="1") for _ in range(3)]
        self.start_scheduler()
        for i in range(3):
            self.create_pod(pod("p%d" % i, cpu="800m"))
        placed = sorted(self.wait_bound("p%d" % i) for i in range(3))
        self.assertEqual(placed, sorted(nodes))

    def test_pod_anti_affinity_and_spread(self):
        zones = {}
        for i in range(4):
            n = self.add_node("z", labels={"topology.kubernetes.io/zone": "zone-%d" % (i % 2)})
            zones[n] = "zone-%d" % (i % 2)
        self.start_scheduler()
        anti = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": "single"}},
             "topologyKey": "kubernetes.io/hostname"}]}}
        for i in range(4):
            self.create_pod(pod("single-%d" % i, labels={"app": "single"}, affinity=anti))
        hosts = [self.wait_bound("single-%d" % i) for i in range(4)]
        self.assertEqual(len(set(hosts)), 4, hosts)
        self.create_pod(pod("single-4", labels={"app": "single"}, affinity=anti))
        p = self.wait_unschedulable("single-4")
        # Existing pods' anti-affinity is checked first, as upstream.
        self.assertEqual(p["status"]["conditions"][0]["message"],
                         "0/4 nodes are available: "
                         "4 node(s) didn't satisfy existing pods anti-affinity rules.")

        spread = [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                   "whenUnsatisfiable": "DoNotSchedule",
                   "labelSelector": {"matchLabels": {"app": "spread"}}}]
        for i in range(6):
            self.create_pod(pod("spread-%d" % i, labels={"app": "spread"},
                                topologySpreadConstraints=spread))
        per_zone = {}
        for i in range(6):
            z = zones[self.wait_bound("spread-%d" % i)]
            per_zone[z] = per_zone.get(z, 0) + 1
        self.assertEqual(per_zone, {"zone-0": 3, "zone-1": 3})

    def test_unschedulable_reason_then_scheduled_when_a_node_comes(self):
        self.add_node("a", cpu="1")
        self.add_node("b", cpu="1")
        self.add_node("t", cpu="8", taints=[{"key": "k", "value": "v", "effect": "NoSchedule"}])
        self.start_scheduler()
        self.create_pod(pod("big", cpu="4"))
        p = self.wait_unschedulable("big")
        cond = [c for c in p["status"]["conditions"] if c["type"] == "PodScheduled"][0]
        self.assertEqual(cond["reason"], "Unschedulable")
        # Only this test's nodes exist in the cluster besides other tests' (deleted) ones.
        self.assertRegex(cond["message"],
                         r"^0/3 nodes are available: 1 node\(s\) had untolerated taint \{k: v\}, "
                         r"2 Insufficient cpu\.$")
        detail = p["metadata"]["annotations"][LAST_ATTEMPT]
        self.assertIn('"reason":"Insufficient cpu","count":2', detail)
        events = self.wait_for(lambda: [
            e for e in self.server.get("/api/v1/namespaces/%s/events" % self.ns).json()["items"]
            if e["reason"] == "FailedScheduling"], what="FailedScheduling event")
        self.assertEqual(events[0]["type"], "Warning")
        self.assertEqual(events[0]["message"], cond["message"])
        roomy = self.add_node("roomy", cpu="8")
        self.assertEqual(self.wait_bound("big"), roomy)


class ResilienceTest(SchedulerTestCase):

    def test_leader_hand_over(self):
        self.add_node("n", cpu="64")
        a = self.start_scheduler(leader_elect=True)
        b = self.start_scheduler(leader_elect=True)
        lease_path = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler"

        def holder():
            r = self.server.get(lease_path)
            return r.json()["spec"].get("holderIdentity") if r.status == 200 else None
        first = self.wait_for(holder, what="a leader")
        self.create_pod(pod("before"))
        self.wait_bound("before")
        # Which process leads? Its log says so.
        leader, other = (a, b) if "leads" in a.log_tail(100) else (b, a)
        self.assertIn("leads", leader.log_tail(100))
        self.assertNotIn("leads", other.log_tail(100))
        leader.kill()
        self.create_pod(pod("after"))
        # The lease (15 s) must expire before the other replica takes over.
        self.wait_bound("after", timeout=45)
        self.assertNotEqual(holder(), first)
        self.assertIn("leads", other.log_tail(100))

    def test_kill_mid_burst_every_pod_bound_exactly_once(self):
        for _ in range(5):
            self.add_node("n", cpu="64", pods="500")
        observed = {}  # pod -> set of nodeNames ever seen
        stop = threading.Event()
        rv = self.server.get("/api/v1/namespaces/%s/pods" % self.ns).json()["metadata"]["resourceVersion"]

        def watch():
            # Short server-side timeouts, resumed from the last revision, so that the
            # thread ends soon after the test stops it.
            last = rv
            while not stop.is_set():
                with self.server.watch("/api/v1/namespaces/%s/pods?watch=1&timeoutSeconds=2"
                                       "&resourceVersion=%s" % (self.ns, last)) as stream:
                    for ev in stream:
                        obj = ev["object"]
                        last = obj["metadata"]["resourceVersion"]
                        n = obj.get("spec", {}).get("nodeName")
                        if n:
                            observed.setdefault(obj["metadata"]["name"], set()).add(n)
        t = threading.Thread(target=watch)
        t.start()
        self.addCleanup(t.join)
        self.addCleanup(stop.set)
        s = self.start_scheduler()
        total = 400
        for i in range(total):
            self.create_pod(pod("burst-%d" % i, cpu="10m"))
            if i == total // 2:
                s.kill()  # SIGKILL while bindings are in flight
                s.start()
        self.wait_for(lambda: len(observed) == total, timeout=60, what="every pod bound")
        stop.set()
        t.join()
        for name, nodes in observed.items():
            self.assertEqual(len(nodes), 1, "%s bound to %s" % (name, nodes))
        pods = self.server.get("/api/v1/namespaces/%s/pods" % self.ns).json()["items"]
        self.assertEqual(sum(1 for p in pods if p["spec"].get("nodeName")), total)


if __name__ == "__main__":
    unittest.main()
