"""apiserver + kubelet --runtime=fake: node registration, leases, the pod lifecycle as the
control plane sees it (binding -> Running/Ready -> graceful deletion), crash loops and
hollow nodes. Runs anywhere (no root, no containers)."""
import unittest

import kubelet_harness as kh
from kubelet_harness import harness, wait_for


class FakeKubeletTest(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.node = harness.unique("fake-node")
        cls.kubelet = kh.Kubelet(cls.server.url, cls.node, [
            "--runtime", "fake", "--lease-renew-seconds", "1",
            "--node-labels", "tier=e2e,zone=a", "--register-with-taints", "dedicated=e2e:NoSchedule",
            "--pod-cidr", "10.244.250.0/24"])
        cls.addClassCleanup(cls.kubelet.remove_files)
        cls.addClassCleanup(cls.kubelet.kill)
        cls.kubelet.start()

    def pod_status(self, ns, name):
        r = self.server.get("/api/v1/namespaces/%s/pods/%s" % (ns, name))
        return r.json().get("status", {}) if r.status == 200 else None

    def test_node_registered_with_lease(self):
        node = wait_for(lambda: self.server.get("/api/v1/nodes/" + self.node).json()
                        if self.server.get("/api/v1/nodes/" + self.node).status == 200 else None,
                        what="node")
        labels = node["metadata"]["labels"]
        self.assertEqual(labels["kubernetes.io/hostname"], self.node)
        self.assertEqual(labels["kubernetes.io/os"], "linux")
        self.assertEqual(labels["tier"], "e2e")
        self.assertEqual(node["spec"]["taints"], [{"key": "dedicated", "value": "e2e", "effect": "NoSchedule"}])
        st = node["status"]
        self.assertEqual(st["capacity"]["pods"], "110")
        for k in ("cpu", "memory", "ephemeral-storage"):
            self.assertIn(k, st["allocatable"])
        self.assertEqual(st["daemonEndpoints"]["kubeletEndpoint"]["Port"], self.kubelet.port)
        self.assertEqual(st["nodeInfo"]["containerRuntimeVersion"], "fake://0.1.0")
        ready = [c for c in st["conditions"] if c["type"] == "Ready"][0]
        self.assertEqual(ready["status"], "True")
        path = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/" + self.node
        first = wait_for(lambda: self.server.get(path).json() if self.server.get(path).status == 200 else None,
                         what="lease")
        self.assertEqual(first["spec"]["holderIdentity"], self.node)
        wait_for(lambda: self.server.get(path).json()["spec"]["renewTime"] != first["spec"]["renewTime"],
                 what="lease renewal")

    def test_pod_bound_runs_becomes_ready_and_deletes(self):
        ns = self.server.create_namespace()
        body = kh.pod("web", command=["sleep", "3600"])
        body["spec"]["containers"][0]["readinessProbe"] = {"exec": {"command": ["true"]}, "periodSeconds": 1}
        self.assertStatus(self.server.post("/api/v1/namespaces/%s/pods" % ns, body), 201)
        binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "web"},
                   "target": {"apiVersion": "v1", "kind": "Node", "name": self.node}}
        self.assertStatus(self.server.post("/api/v1/namespaces/%s/pods/web/binding" % ns, binding), 201)

        def ready():
            st = self.pod_status(ns, "web")
            conds = {c["type"]: c["status"] for c in st.get("conditions", [])}
            return st if st.get("phase") == "Running" and conds.get("Ready") == "True" else None
        st = wait_for(ready, what="pod Running and Ready")
        self.assertTrue(st["podIP"].startswith("10.244.250."), st)
        self.assertEqual(st["hostIP"], "127.0.0.1")
        cs = st["containerStatuses"][0]
        self.assertIn("running", cs["state"])
        self.assertTrue(cs["ready"])
        self.assertEqual(cs["restartCount"], 0)
        self.assertTrue(cs["containerID"].startswith("fake://"))
        self.assertIn("startTime", st)
        pods = kh.json.loads(self.kubelet.get("/pods"))
        self.assertIn("web", [p["metadata"]["name"] for p in pods["items"]])

        self.assertStatus(self.server.delete("/api/v1/namespaces/%s/pods/web" % ns), 200)
        wait_for(lambda: self.server.get("/api/v1/namespaces/%s/pods/web" % ns).status == 404,
                 what="the kubelet to finish the deletion")

        def reasons():
            items = self.server.get("/api/v1/namespaces/%s/events" % ns).json()["items"]
            got = {e["reason"] for e in items if e["involvedObject"]["name"] == "web"}
            return got if {"Created", "Started", "Killing"} <= got else None
        wait_for(reasons, what="kubelet events")

    def test_crash_loop(self):
        ns = self.server.create_namespace()
        body = kh.pod("crash", command=["sh", "-c", "exit 7"], node=self.node)
        self.assertStatus(self.server.post("/api/v1/namespaces/%s/pods" % ns, body), 201)

        def backing_off():
            st = self.pod_status(ns, "crash") or {}
            for cs in st.get("containerStatuses", []):
                if cs["state"].get("waiting", {}).get("reason") == "CrashLoopBackOff":
                    return cs
            return None
        cs = wait_for(backing_off, what="CrashLoopBackOff")
        self.assertGreaterEqual(cs["restartCount"], 1)
        self.assertEqual(cs["lastState"]["terminated"]["exitCode"], 7)
        self.server.delete("/api/v1/namespaces/%s/pods/crash" % ns)
        wait_for(lambda: self.server.get("/api/v1/namespaces/%s/pods/crash" % ns).status == 404, what="deletion")

    def test_completed_pod_succeeds(self):
        ns = self.server.create_namespace()
        body = kh.pod("job", command=["true"], restart_policy="Never", node=self.node)
        self.assertStatus(self.server.post("/api/v1/namespaces/%s/pods" % ns, body), 201)
        st = wait_for(lambda: (self.pod_status(ns, "job") or {}).get("phase") == "Succeeded"
                      and self.pod_status(ns, "job"), what="Succeeded")
        self.assertEqual(st["containerStatuses"][0]["state"]["terminated"]["reason"], "Completed")
        # A terminated pod is deleted at once (no grace needed).
        self.server.delete("/api/v1/namespaces/%s/pods/job" % ns)
        wait_for(lambda: self.server.get("/api/v1/namespaces/%s/pods/job" % ns).status == 404, what="deletion")


class HollowNodesTest(harness.ServerTestCase):
    def test_hollow_nodes_register_renew_and_run_pods(self):
        prefix = harness.unique("hollow")
        kubelet = kh.Kubelet(self.server.url, prefix, ["--runtime", "fake", "--hollow-nodes", "20",
                                                       "--lease-renew-seconds", "2"])
        self.addCleanup(kubelet.remove_files)
        self.addCleanup(kubelet.kill)
        kubelet.start()
        names = ["%s-%d" % (prefix, i) for i in range(20)]

        def registered():
            items = self.server.get("/api/v1/nodes").json()["items"]
            have = {n["metadata"]["name"] for n in items}
            return all(n in have for n in names)
        wait_for(registered, what="20 hollow nodes")
        lease_path = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/"
        before = {n: self.server.get(lease_path + n).json()["spec"]["renewTime"] for n in names}
        wait_for(lambda: all(self.server.get(lease_path + n).json()["spec"]["renewTime"] != before[n]
                             for n in names), what="every lease renewed")
        ns = self.server.create_namespace()
        for i in (0, 7, 19):
            body = kh.pod("p%d" % i, command=["sleep", "1d"], node=names[i])
            self.assertStatus(self.server.post("/api/v1/namespaces/%s/pods" % ns, body), 201)
        for i in (0, 7, 19):
            wait_for(lambda: (self.server.get("/api/v1/namespaces/%s/pods/p%d" % (ns, i)).json()
                              .get("status", {}).get("phase") == "Running"), what="pod on hollow node %d" % i)


if __name__ == "__main__":
    unittest.main()
