"""End-to-end tests of the controller-manager: a real apiserver and controller-manager
process, kubectl 1.33, and a fake kubelet (fake_kubelet.py) that marks pods Running and
Ready through the API, since these tests run without nodes.

Run: ctest --test-dir build -R e2e_controller_manager -V
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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "e2e"))
sys.path.insert(0, HERE)

import harness  # noqa: E402
from fake_kubelet import FakeKubelet  # noqa: E402

CONTROLLER_MANAGER = os.environ.get(
    "KUBEPP_CONTROLLER_MANAGER",
    os.path.join(harness.REPO, "build", "bin", "controller-manager"))


class ControllerManager:
    """One controller-manager process against `server`; kill() is by PID."""

    def __init__(self, server, extra_args=()):
        self.server = server
        self.extra_args = list(extra_args)
        self.tmp = tempfile.mkdtemp(prefix="kubepp-cm-")
        self.log_path = os.path.join(self.tmp, "controller-manager.log")
        self.proc = None
        self.port = None

    def start(self):
        if not os.access(CONTROLLER_MANAGER, os.X_OK):
            raise unittest.SkipTest("no controller-manager binary at %s" % CONTROLLER_MANAGER)
        self.port = harness.free_port()
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                [CONTROLLER_MANAGER, "--server", self.server.url, "--port", str(self.port)]
                + self.extra_args,
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        finally:
            log.close()
        return self

    def kill(self, sig=signal.SIGKILL):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def stop(self):
        self.kill(signal.SIGTERM)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_tail(self, n=30):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""


def wait_for(predicate, timeout=60, interval=0.1, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


class PodCounter:
    """Polls a label selector's pods and remembers the most seen at once, and the fewest
    ready ones."""

    def __init__(self, server, ns, selector):
        self.server, self.ns, self.selector = server, ns, selector
        self.max_seen = 0
        self.min_ready = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            try:
                r = self.server.get("/api/v1/namespaces/%s/pods?labelSelector=%s"
                                    % (self.ns, self.selector), timeout=10)
                if r.status == 200:
                    live = [p for p in r.json()["items"]
                            if not p["metadata"].get("deletionTimestamp")]
                    self.max_seen = max(self.max_seen, len(live))
                    ready = sum(1 for p in live
                                if any(c["type"] == "Ready" and c["status"] == "True"
                                       for c in p.get("status", {}).get("conditions", [])))
                    self.min_ready = ready if self.min_ready is None else min(self.min_ready,
                                                                              ready)
            except OSError:
                pass
            self._stop.wait(0.02)

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=10)


class ControllerManagerTest(harness.ServerTestCase):
    # Short leases and node grace periods keep restarts and node failures quick here.
    cm_args = ("--leader-elect-lease-duration", "4", "--leader-elect-renew-deadline", "3",
               "--leader-elect-retry-period", "1", "--node-monitor-grace-period", "3",
               "--node-monitor-period", "1")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cm = ControllerManager(cls.server, cls.cm_args)
        cls.addClassCleanup(cls.cm.stop)
        cls.cm.start()
        cls.kubelet = FakeKubelet(cls.server, delay=0.2).start()
        cls.addClassCleanup(cls.kubelet.stop)
        cls.kubectl = harness.Kubectl(harness.KUBECTL_133, cls.server.url)
        cls.addClassCleanup(cls.kubectl.cleanup)

    def run(self, result=None):
        failures = len(result.failures) + len(result.errors) if result else 0
        out = super().run(result)
        if result and len(result.failures) + len(result.errors) > failures:
            print("\n--- controller-manager log tail (%s) ---\n%s" % (self.id(), self.cm.log_tail()))
        return out

    def kubectl_ok(self, *args, timeout=120):
        r = self.kubectl.run(*args, timeout=timeout)
        self.assertEqual(r.returncode, 0, "kubectl %s:\n%s%s" % (" ".join(args), r.stdout, r.stderr))
        return r.stdout

    def get(self, path):
        r = self.server.get(path)
        return r.json() if r.status == 200 else None

    def pods(self, ns, selector=""):
        r = self.server.get("/api/v1/namespaces/%s/pods?labelSelector=%s" % (ns, selector))
        self.assertEqual(r.status, 200, r)
        return r.json()["items"]

    def create(self, path, body):
        r = self.server.post(path, body)
        self.assertEqual(r.status, 201, r)
        return r.json()

    def create_node(self, name, labels=None, ready=True):
        """A Node (deleted after the test: silent nodes left behind would look like a
        cluster-wide outage to the node lifecycle controller of later tests)."""
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        node = {"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": name, "labels": labels or {}}}
        if ready:
            node["status"] = {"conditions": [{"type": "Ready", "status": "True",
                                              "lastHeartbeatTime": now,
                                              "lastTransitionTime": now}]}
        self.create("/api/v1/nodes", node)
        self.addCleanup(self.server.delete, "/api/v1/nodes/" + name)

    # --- Deployments and ReplicaSets ---

    def test_deployment_rollout_with_kubectl(self):
        ns = self.server.create_namespace()
        d = harness.deployment("web", image="nginx:1.25", replicas=5)
        d["spec"]["strategy"] = {"type": "RollingUpdate",
                                 "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
        created = self.create("/apis/apps/v1/namespaces/%s/deployments" % ns, d)
        # Five pods, each controlled by the Deployment's ReplicaSet.
        pods = wait_for(lambda: (lambda p: p if len(p) == 5 else None)(self.pods(ns, "app=web")),
                        what="5 pods")
        rs_list = self.get("/apis/apps/v1/namespaces/%s/replicasets" % ns)["items"]
        self.assertEqual(len(rs_list), 1)
        rs = rs_list[0]
        self.assertEqual(rs["metadata"]["ownerReferences"][0]["uid"], created["metadata"]["uid"])
        self.assertEqual(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "1")
        hash_label = rs["metadata"]["labels"]["pod-template-hash"]
        self.assertEqual(rs["metadata"]["name"], "web-" + hash_label)
        for p in pods:
            ref = p["metadata"]["ownerReferences"][0]
            self.assertEqual((ref["kind"], ref["uid"], ref["controller"]),
                             ("ReplicaSet", rs["metadata"]["uid"], True))
            self.assertEqual(p["metadata"]["labels"]["pod-template-hash"], hash_label)
        # The fake kubelet marks them ready: the Deployment becomes available.
        path = "/apis/apps/v1/namespaces/%s/deployments/web" % ns
        wait_for(lambda: self.get(path).get("status", {}).get("availableReplicas") == 5,
                 what="5 available")
        out = self.kubectl_ok("-n", ns, "rollout", "status", "deployment/web", "--timeout=60s")
        self.assertIn("successfully rolled out", out)
        status = self.get(path)["status"]
        conds = {c["type"]: c for c in status["conditions"]}
        self.assertEqual(conds["Available"]["status"], "True")
        self.assertEqual(conds["Progressing"]["reason"], "NewReplicaSetAvailable")

        # A new image rolls out, never above replicas + maxSurge pods.
        counter = PodCounter(self.server, ns, "app=web").start()
        try:
            self.kubectl_ok("-n", ns, "set", "image", "deployment/web", "c=nginx:1.26")
            out = self.kubectl_ok("-n", ns, "rollout", "status", "deployment/web",
                                  "--timeout=90s")
            self.assertIn("successfully rolled out", out)
        finally:
            counter.stop()
        self.assertLessEqual(counter.max_seen, 6)
        pods = wait_for(lambda: (lambda p: p if len(p) == 5 else None)(self.pods(ns, "app=web")),
                        what="5 pods after the rollout")
        self.assertEqual({p["spec"]["containers"][0]["image"] for p in pods}, {"nginx:1.26"})
        self.assertEqual(self.get(path)["metadata"]["annotations"]
                         ["deployment.kubernetes.io/revision"], "2")
        history = self.kubectl_ok("-n", ns, "rollout", "history", "deployment/web")
        self.assertIn("1 ", history)
        self.assertIn("2 ", history)

        # Undo goes back to the first template (which becomes revision 3).
        self.kubectl_ok("-n", ns, "rollout", "undo", "deployment/web")
        self.kubectl_ok("-n", ns, "rollout", "status", "deployment/web", "--timeout=90s")
        wait_for(lambda: {p["spec"]["containers"][0]["image"] for p in self.pods(ns, "app=web")
                          if not p["metadata"].get("deletionTimestamp")} == {"nginx:1.25"},
                 what="pods back on nginx:1.25")
        rs_by_rev = {r["metadata"]["annotations"]["deployment.kubernetes.io/revision"]:
                     r["metadata"]["name"]
                     for r in self.get("/apis/apps/v1/namespaces/%s/replicasets" % ns)["items"]}
        self.assertEqual(rs_by_rev["3"], rs["metadata"]["name"])  # the first RS came back

        # Pause: template changes wait; resume rolls them out.
        self.kubectl_ok("-n", ns, "rollout", "pause", "deployment/web")
        self.kubectl_ok("-n", ns, "set", "image", "deployment/web", "c=nginx:1.27")
        wait_for(lambda: any(c["reason"] == "DeploymentPaused"
                             for c in self.get(path)["status"]["conditions"]),
                 what="DeploymentPaused")
        self.assertEqual(len(self.get("/apis/apps/v1/namespaces/%s/replicasets" % ns)["items"]), 2)
        self.kubectl_ok("-n", ns, "rollout", "resume", "deployment/web")
        self.kubectl_ok("-n", ns, "rollout", "status", "deployment/web", "--timeout=90s")
        # Restart: a template annotation makes a new ReplicaSet.
        self.kubectl_ok("-n", ns, "rollout", "restart", "deployment/web")
        self.kubectl_ok("-n", ns, "rollout", "status", "deployment/web", "--timeout=90s")
        self.assertEqual(self.get(path)["metadata"]["annotations"]
                         ["deployment.kubernetes.io/revision"], "5")

    def test_scale_and_recreate(self):
        ns = self.server.create_namespace()
        d = harness.deployment("rec", replicas=3)
        d["spec"]["strategy"] = {"type": "Recreate"}
        self.create("/apis/apps/v1/namespaces/%s/deployments" % ns, d)
        path = "/apis/apps/v1/namespaces/%s/deployments/rec" % ns
        wait_for(lambda: self.get(path).get("status", {}).get("availableReplicas") == 3, what="3 available")
        self.kubectl_ok("-n", ns, "scale", "deployment/rec", "--replicas=6")
        wait_for(lambda: self.get(path).get("status", {}).get("availableReplicas") == 6, what="6 available")
        self.kubectl_ok("-n", ns, "scale", "deployment/rec", "--replicas=2")
        wait_for(lambda: len(self.pods(ns, "app=rec")) == 2, what="2 pods")
        self.kubectl_ok("-n", ns, "set", "image", "deployment/rec", "c=nginx:2")
        self.kubectl_ok("-n", ns, "rollout", "status", "deployment/rec", "--timeout=90s")
        pods = self.pods(ns, "app=rec")
        self.assertEqual([p["spec"]["containers"][0]["image"] for p in pods], ["nginx:2"] * 2)

    def test_replicaset_adopts_and_releases(self):
        ns = self.server.create_namespace()
        orphan = harness.pod("orphan", labels={"app": "adopt"})
        self.create("/api/v1/namespaces/%s/pods" % ns, orphan)
        rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "adopt"},
              "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "adopt"}},
                       "template": {"metadata": {"labels": {"app": "adopt"}},
                                    "spec": {"containers": [{"name": "c", "image": "x"}]}}}}
        rs = self.create("/apis/apps/v1/namespaces/%s/replicasets" % ns, rs)
        wait_for(lambda: len(self.pods(ns, "app=adopt")) == 2, what="2 pods")
        p = self.get("/api/v1/namespaces/%s/pods/orphan" % ns)
        wait_for(lambda: self.get("/api/v1/namespaces/%s/pods/orphan" % ns)["metadata"]
                 .get("ownerReferences"), what="adoption")
        p = self.get("/api/v1/namespaces/%s/pods/orphan" % ns)
        self.assertEqual(p["metadata"]["ownerReferences"][0]["uid"], rs["metadata"]["uid"])
        # Relabel it: released, and replaced.
        r = self.server.patch("/api/v1/namespaces/%s/pods/orphan" % ns,
                              {"metadata": {"labels": {"app": "gone"}}})
        self.assertEqual(r.status, 200, r)
        wait_for(lambda: not self.get("/api/v1/namespaces/%s/pods/orphan" % ns)["metadata"]
                 .get("ownerReferences"), what="release")
        wait_for(lambda: len(self.pods(ns, "app=adopt")) == 2, what="a replacement")
        wait_for(lambda: self.get("/apis/apps/v1/namespaces/%s/replicasets/adopt" % ns)
                 ["status"].get("readyReplicas") == 2, what="2 ready")

    def test_kill_mid_rollout_then_restart(self):
        ns = self.server.create_namespace()
        d = harness.deployment("big", image="v1", replicas=50)
        self.create("/apis/apps/v1/namespaces/%s/deployments" % ns, d)
        path = "/apis/apps/v1/namespaces/%s/deployments/big" % ns
        wait_for(lambda: self.get(path).get("status", {}).get("availableReplicas") == 50,
                 what="50 available")
        self.kubectl_ok("-n", ns, "rollout", "status", "deployment/big", "--timeout=60s")
        counter = PodCounter(self.server, ns, "app=big").start()
        # Slow the fake kubelet down so that the rollout takes several seconds.
        self.kubelet.delay = 1.0
        try:
            self.kubectl_ok("-n", ns, "set", "image", "deployment/big", "c=v2")

            def under_way():
                d = self.get(path)
                st = d.get("status", {})
                return (st.get("observedGeneration", 0) >= d["metadata"]["generation"]
                        and st.get("updatedReplicas", 0) >= 10)

            wait_for(under_way, interval=0.02, what="the rollout to be under way")
            self.cm.kill()  # SIGKILL, mid-rollout
            self.cm.start()
            out = self.kubectl_ok("-n", ns, "rollout", "status", "deployment/big",
                                  "--timeout=120s")
            self.assertIn("successfully rolled out", out)
            wait_for(lambda: len(self.pods(ns, "app=big")) == 50, what="no pod left over")
        finally:
            self.kubelet.delay = 0.2
            counter.stop()
        # 25% of 50: maxSurge rounds up to 13, maxUnavailable down to 12.
        self.assertLessEqual(counter.max_seen, 63)
        self.assertGreaterEqual(counter.min_ready, 38)
        pods = self.pods(ns, "app=big")
        self.assertEqual({p["spec"]["containers"][0]["image"] for p in pods}, {"v2"})
        rs = self.get("/apis/apps/v1/namespaces/%s/replicasets" % ns)["items"]
        self.assertEqual(sorted(r["spec"]["replicas"] for r in rs), [0, 50])

    # --- nodes ---

    def test_leader_election_two_replicas(self):
        # The class's controller-manager leads; a second one waits.
        standby = ControllerManager(self.server, self.cm_args)
        self.addCleanup(standby.stop)
        standby.start()
        lease_path = ("/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/"
                      "kube-controller-manager")
        holder = wait_for(lambda: self.get(lease_path)["spec"].get("holderIdentity"),
                          what="a lease holder")
        time.sleep(2)  # the standby has tried (retry period 1 s) and must not have taken it
        self.assertEqual(self.get(lease_path)["spec"]["holderIdentity"], holder)
        self.assertNotIn("became leader", standby.log())
        # The leader dies: the standby takes over and acts.
        self.cm.kill()
        wait_for(lambda: self.get(lease_path)["spec"].get("holderIdentity") not in (holder, None),
                 timeout=30, what="the standby to take over")
        ns = self.server.create_namespace()
        self.create("/apis/apps/v1/namespaces/%s/deployments" % ns,
                    harness.deployment("le", replicas=2))
        wait_for(lambda: len(self.pods(ns, "app=le")) == 2, what="the new leader's pods")
        # The old one comes back as the standby; the class goes on with it as leader.
        standby.kill()
        self.cm.start()
        wait_for(lambda: "became leader" in self.cm.log(), timeout=30,
                 what="leadership back")

    def test_node_cidrs_and_silent_node_eviction(self):
        def make_node(name):
            self.create_node(name)
            lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                     "metadata": {"name": name, "namespace": "kube-node-lease"},
                     "spec": {"holderIdentity": name, "leaseDurationSeconds": 40,
                              "renewTime": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z",
                                                         time.gmtime())}}
            if self.get("/api/v1/namespaces/kube-node-lease") is None:
                self.server.create_namespace("kube-node-lease")
            self.create("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", lease)

        names = [harness.unique("node") for _ in range(3)]
        for n in names:
            make_node(n)

        def cidrs():
            got = {n: (self.get("/api/v1/nodes/" + n) or {}).get("spec", {}).get("podCIDR")
                   for n in names}
            return got if all(got.values()) else None

        first = wait_for(cidrs, what="pod CIDRs")
        self.assertEqual(len(set(first.values())), 3)
        for c in first.values():
            self.assertRegex(c, r"^10\.244\.\d+\.0/24$")

        # The healthy nodes renew their leases; names[0] goes silent.
        stop = threading.Event()

        def renew():
            while not stop.is_set():
                for n in names[1:]:
                    path = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/" + n
                    lease = self.get(path)
                    if lease:
                        lease["spec"]["renewTime"] = time.strftime(
                            "%Y-%m-%dT%H:%M:%S.", time.gmtime()) + "%06dZ" % (
                            int(time.time() * 1e6) % 1000000)
                        self.server.put(path, lease)
                stop.wait(0.5)

        renewer = threading.Thread(target=renew, daemon=True)
        renewer.start()
        try:
            ns = self.server.create_namespace()
            pod = harness.pod("on-silent-node")
            pod["spec"]["nodeName"] = names[0]
            pod["spec"]["tolerations"] = [{"key": "node.kubernetes.io/unreachable",
                                           "operator": "Exists", "effect": "NoExecute",
                                           "tolerationSeconds": 2}]
            self.create("/api/v1/namespaces/%s/pods" % ns, pod)
            safe = harness.pod("on-healthy-node")
            safe["spec"]["nodeName"] = names[1]
            self.create("/api/v1/namespaces/%s/pods" % ns, safe)

            def ready_of(n):
                node = self.get("/api/v1/nodes/" + n)
                return {c["type"]: c["status"] for c in node["status"]["conditions"]}["Ready"]

            wait_for(lambda: ready_of(names[0]) == "Unknown", what="silent node Unknown")

            # The taints are a second write after the status one (as upstream): wait.
            def unreachable_taints():
                node = self.get("/api/v1/nodes/" + names[0])
                taints = {(t["key"], t["effect"]) for t in node["spec"].get("taints", [])}
                want = {("node.kubernetes.io/unreachable", "NoExecute"),
                        ("node.kubernetes.io/unreachable", "NoSchedule")}
                return want <= taints

            wait_for(unreachable_taints, what="unreachable taints on the silent node")
            # The toleration runs out: the pod is deleted.
            wait_for(lambda: self.get("/api/v1/namespaces/%s/pods/on-silent-node" % ns) is None,
                     what="eviction")
            self.assertEqual(ready_of(names[1]), "True")
            self.assertIsNone(self.get("/api/v1/namespaces/%s/pods/on-healthy-node" % ns)
                              ["metadata"].get("deletionTimestamp"))
        finally:
            stop.set()
            renewer.join(timeout=10)

        # A restart keeps every CIDR and never hands one out twice.
        self.cm.kill()
        self.cm.start()
        extra = harness.unique("node")
        make_node(extra)
        names.append(extra)
        after = wait_for(cidrs, what="pod CIDR of a node added after the restart")
        for n, c in first.items():
            self.assertEqual(after[n], c)
        self.assertEqual(len(set(after.values())), 4)

    # --- Jobs and DaemonSets ---

    def job(self, name, exit_code, **spec):
        body = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
                "spec": dict(template={"metadata": {"labels": {"fake-kubelet/exit-code": exit_code}},
                                       "spec": {"restartPolicy": "Never",
                                                "containers": [{"name": "c", "image": "x"}]}},
                             **spec)}
        return body

    def test_jobs_complete_or_fail(self):
        ns = self.server.create_namespace()
        self.create("/apis/batch/v1/namespaces/%s/jobs" % ns,
                    self.job("ok", "0", completions=3, parallelism=2))
        self.kubectl_ok("-n", ns, "wait", "--for=condition=complete", "job/ok", "--timeout=60s")
        job = self.get("/apis/batch/v1/namespaces/%s/jobs/ok" % ns)
        self.assertEqual(job["status"]["succeeded"], 3)
        self.assertIn("completionTime", job["status"])
        self.create("/apis/batch/v1/namespaces/%s/jobs" % ns,
                    self.job("bad", "1", completions=2, backoffLimit=1))
        self.kubectl_ok("-n", ns, "wait", "--for=condition=failed", "job/bad", "--timeout=60s")
        job = self.get("/apis/batch/v1/namespaces/%s/jobs/bad" % ns)
        conds = {c["type"]: c for c in job["status"]["conditions"]}
        self.assertEqual(conds["Failed"]["reason"], "BackoffLimitExceeded")
        self.assertEqual(job["status"]["failed"], 2)

    def test_daemonset_runs_one_pod_per_node(self):
        ns = self.server.create_namespace()
        role = harness.unique("role")
        nodes = [harness.unique("dsnode") for _ in range(2)]
        for n in nodes:
            self.create_node(n, {"role": role}, ready=False)
        ds = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
              "spec": {"selector": {"matchLabels": {"app": "agent"}},
                       "template": {"metadata": {"labels": {"app": "agent"}},
                                    "spec": {"nodeSelector": {"role": role},
                                             "containers": [{"name": "c", "image": "v1"}]}}}}
        self.create("/apis/apps/v1/namespaces/%s/daemonsets" % ns, ds)

        def placement():
            return sorted(p["spec"].get("nodeName", "") for p in self.pods(ns, "app=agent")
                          if not p["metadata"].get("deletionTimestamp"))

        wait_for(lambda: placement() == sorted(nodes), what="a daemon pod per node")
        self.kubectl_ok("-n", ns, "rollout", "status", "daemonset/agent", "--timeout=60s")
        status = self.get("/apis/apps/v1/namespaces/%s/daemonsets/agent" % ns)["status"]
        self.assertEqual((status["desiredNumberScheduled"], status["numberReady"]), (2, 2))
        # A third node with the label gets one too.
        extra = harness.unique("dsnode")
        self.create_node(extra, {"role": role}, ready=False)
        wait_for(lambda: placement() == sorted(nodes + [extra]), what="a pod on the new node")
        # A new template rolls out node by node.
        self.kubectl_ok("-n", ns, "set", "image", "daemonset/agent", "c=v2")
        self.kubectl_ok("-n", ns, "rollout", "status", "daemonset/agent", "--timeout=60s")
        wait_for(lambda: {p["spec"]["containers"][0]["image"] for p in self.pods(ns, "app=agent")}
                 == {"v2"}, what="all daemons on v2")
        self.assertEqual(placement(), sorted(nodes + [extra]))

    def test_statefulset_ordered_pods_and_rollout(self):
        ns = self.server.create_namespace()
        sts = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
               "spec": {"replicas": 3, "serviceName": "db",
                        "selector": {"matchLabels": {"app": "db"}},
                        "template": {"metadata": {"labels": {"app": "db"}},
                                     "spec": {"containers": [{"name": "c", "image": "v1"}]}}}}
        self.create("/apis/apps/v1/namespaces/%s/statefulsets" % ns, sts)
        self.kubectl_ok("-n", ns, "rollout", "status", "statefulset/db", "--timeout=60s")
        pods = self.pods(ns, "app=db")
        self.assertEqual(sorted(p["metadata"]["name"] for p in pods), ["db-0", "db-1", "db-2"])
        self.assertEqual({p["spec"]["hostname"] for p in pods}, {"db-0", "db-1", "db-2"})
        # Ordered: each pod was created after the previous one was ready.
        created = {p["metadata"]["name"]: p["metadata"]["creationTimestamp"] for p in pods}
        self.assertLessEqual(created["db-0"], created["db-1"])
        self.assertLessEqual(created["db-1"], created["db-2"])
        self.kubectl_ok("-n", ns, "set", "image", "statefulset/db", "c=v2")
        self.kubectl_ok("-n", ns, "rollout", "status", "statefulset/db", "--timeout=60s")
        wait_for(lambda: sorted((p["metadata"]["name"], p["spec"]["containers"][0]["image"])
                                for p in self.pods(ns, "app=db")) ==
                 [("db-0", "v2"), ("db-1", "v2"), ("db-2", "v2")], what="all on v2")

    # --- garbage collection and namespaces ---

    def test_deleting_deployment_collects_replicasets_and_pods(self):
        ns = self.server.create_namespace()
        self.create("/apis/apps/v1/namespaces/%s/deployments" % ns,
                    harness.deployment("gc", replicas=3))
        wait_for(lambda: len(self.pods(ns, "app=gc")) == 3, what="3 pods")
        self.kubectl_ok("-n", ns, "delete", "deployment", "gc", "--wait=true", "--timeout=60s")
        wait_for(lambda: not self.get("/apis/apps/v1/namespaces/%s/replicasets" % ns)["items"],
                 what="ReplicaSets collected")
        wait_for(lambda: not self.pods(ns, "app=gc"), what="pods collected")

    def test_foreground_and_orphan_deletion(self):
        ns = self.server.create_namespace()
        self.create("/apis/apps/v1/namespaces/%s/deployments" % ns,
                    harness.deployment("fg", replicas=2))
        self.create("/apis/apps/v1/namespaces/%s/deployments" % ns,
                    harness.deployment("orph", replicas=2))
        wait_for(lambda: len(self.pods(ns, "app=fg")) == 2 and len(self.pods(ns, "app=orph")) == 2,
                 what="pods")
        # Foreground: the Deployment stays (with the finalizer) until its dependents go.
        r = self.server.delete("/apis/apps/v1/namespaces/%s/deployments/fg" % ns,
                               {"propagationPolicy": "Foreground"})
        self.assertEqual(r.status, 200, r)
        wait_for(lambda: self.get("/apis/apps/v1/namespaces/%s/deployments/fg" % ns) is None,
                 what="foreground deletion to finish")
        self.assertEqual(self.pods(ns, "app=fg"), [])
        # Orphan: the ReplicaSet and pods stay, without the reference to the Deployment.
        r = self.server.delete("/apis/apps/v1/namespaces/%s/deployments/orph" % ns,
                               {"propagationPolicy": "Orphan"})
        self.assertEqual(r.status, 200, r)
        wait_for(lambda: self.get("/apis/apps/v1/namespaces/%s/deployments/orph" % ns) is None,
                 what="orphan deletion to finish")
        rs = [r for r in self.get("/apis/apps/v1/namespaces/%s/replicasets" % ns)["items"]
              if r["metadata"]["name"].startswith("orph-")]
        self.assertEqual(len(rs), 1)
        self.assertFalse(rs[0]["metadata"].get("ownerReferences"))
        self.assertEqual(len(self.pods(ns, "app=orph")), 2)

    def test_namespace_deletion_empties_and_removes_it(self):
        ns = self.server.create_namespace()
        # The ServiceAccount controller gives every namespace a "default" account.
        wait_for(lambda: self.get("/api/v1/namespaces/%s/serviceaccounts/default" % ns),
                 what="default ServiceAccount")
        self.create("/apis/apps/v1/namespaces/%s/deployments" % ns,
                    harness.deployment("nsd", replicas=2))
        self.create("/api/v1/namespaces/%s/configmaps" % ns, harness.configmap("cm"))
        self.create("/apis/rbac.authorization.k8s.io/v1/namespaces/%s/rolebindings" % ns, {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "rb"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "User", "name": "jane"}]})
        wait_for(lambda: len(self.pods(ns, "app=nsd")) == 2, what="pods")
        self.kubectl_ok("delete", "namespace", ns, "--wait=true", "--timeout=60s")
        self.assertIsNone(self.get("/api/v1/namespaces/%s" % ns))
        self.assertEqual(self.get("/api/v1/namespaces/%s/configmaps" % ns)["items"], [])
        self.assertEqual(self.get("/apis/rbac.authorization.k8s.io/v1/namespaces/%s/rolebindings"
                                  % ns)["items"], [])
        self.assertEqual(self.pods(ns), [])

    # --- Endpoints and EndpointSlices ---

    def test_endpoints_follow_pod_readiness(self):
        ns = self.server.create_namespace()
        d = harness.deployment("ep", replicas=3)
        d["spec"]["template"]["spec"]["containers"][0]["ports"] = [
            {"name": "http", "containerPort": 8080}]
        self.create("/apis/apps/v1/namespaces/%s/deployments" % ns, d)
        svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ep"},
               "spec": {"selector": {"app": "ep"},
                        "ports": [{"name": "web", "port": 80, "targetPort": "http"}]}}
        self.create("/api/v1/namespaces/%s/services" % ns, svc)
        ep_path = "/api/v1/namespaces/%s/endpoints/ep" % ns

        def ready_ips():
            ep = self.get(ep_path)
            if not ep:
                return None
            return sorted(a["ip"] for s in ep.get("subsets", []) for a in s.get("addresses", []))

        wait_for(lambda: len(ready_ips() or []) == 3, what="3 ready addresses")
        ep = self.get(ep_path)
        self.assertEqual(ep["subsets"][0]["ports"], [{"name": "web", "port": 8080, "protocol": "TCP"}])
        pod_ips = sorted(p["status"]["podIP"] for p in self.pods(ns, "app=ep"))
        self.assertEqual(ready_ips(), pod_ips)
        self.assertEqual(ep["subsets"][0]["addresses"][0]["targetRef"]["kind"], "Pod")
        slices = self.get("/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices"
                          "?labelSelector=kubernetes.io/service-name=ep" % ns)["items"]
        self.assertEqual(len(slices), 1)
        self.assertEqual(sorted(e["addresses"][0] for e in slices[0]["endpoints"]), pod_ips)
        self.assertTrue(all(e["conditions"]["ready"] for e in slices[0]["endpoints"]))
        self.assertEqual(slices[0]["ports"][0]["port"], 8080)

        # A pod that stops being ready moves to notReadyAddresses.
        with self.kubelet.lock:
            self.kubelet.unready["app"] = "ep"
        try:
            wait_for(lambda: ready_ips() == [], what="no ready addresses")
            ep = self.get(ep_path)
            self.assertEqual(sorted(a["ip"] for a in ep["subsets"][0]["notReadyAddresses"]),
                             pod_ips)
        finally:
            with self.kubelet.lock:
                del self.kubelet.unready["app"]
        wait_for(lambda: len(ready_ips() or []) == 3, what="ready again")

        # publishNotReadyAddresses and headless Services.
        headless = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "hl"},
                    "spec": {"clusterIP": "None", "selector": {"app": "ep"},
                             "publishNotReadyAddresses": True}}
        self.create("/api/v1/namespaces/%s/services" % ns, headless)
        wait_for(lambda: self.get("/api/v1/namespaces/%s/endpoints/hl" % ns), what="hl endpoints")
        hl = self.get("/api/v1/namespaces/%s/endpoints/hl" % ns)
        self.assertIn("service.kubernetes.io/headless", hl["metadata"]["labels"])
        self.assertEqual(len(hl["subsets"][0]["addresses"]), 3)

        # Selector-less Services keep user-managed Endpoints.
        manual = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "manual"},
                  "spec": {"ports": [{"port": 80}]}}
        self.create("/api/v1/namespaces/%s/services" % ns, manual)
        user_ep = {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "manual"},
                   "subsets": [{"addresses": [{"ip": "192.0.2.1"}], "ports": [{"port": 80}]}]}
        self.create("/api/v1/namespaces/%s/endpoints" % ns, user_ep)
        time.sleep(1)
        got = self.get("/api/v1/namespaces/%s/endpoints/manual" % ns)
        self.assertEqual(got["subsets"][0]["addresses"][0]["ip"], "192.0.2.1")

        # Deleting the Service deletes its Endpoints.
        self.server.delete("/api/v1/namespaces/%s/services/ep" % ns)
        wait_for(lambda: self.get(ep_path) is None, what="endpoints deleted")


if __name__ == "__main__":
    unittest.main()
