"""End-to-end: a StatefulSet with a volumeClaimTemplate on real processes (apiserver,
controller-manager with the local-path provisioner and the PV binder, a runc kubelet) and
kubectl 1.33: claims Bound to provisioned hostPath volumes, data that outlives its pod,
a template change rolled out (`kubectl rollout status`), `rollout history` with two
revisions, `rollout undo`, claims kept on scale-down, a Delete-policy volume removed
with its claim, a claim in use kept (Terminating) until its pod is gone; DaemonSet rollout history/undo on the same revisions machinery.

No scheduler runs: the pod template names the node. Needs root, runc, the CNI plugins
and busybox-static (skips otherwise, as kubelet/e2e/test_kubelet_runc.py).

Run: ctest --test-dir build -R e2e_statefulset_storage -V
"""
import json
import os
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "e2e"))
sys.path.insert(0, os.path.join(REPO, "kubelet", "e2e"))
sys.path.insert(0, HERE)

import harness  # noqa: E402
import kubelet_harness as kh  # noqa: E402
from kubelet_harness import wait_for  # noqa: E402
from test_controller_manager import ControllerManager  # noqa: E402
from kubelet_harness import missing_prerequisite  # noqa: E402

# Each start appends a line to the volume, then prints how many there are.
WRITER = "echo boot >> /data/boots; echo count=$(wc -l < /data/boots); exec sleep 3600"


class StatefulSetStorageTest(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        reason = missing_prerequisite()
        if reason:
            raise unittest.SkipTest(reason)
        if not os.access(harness.KUBECTL_133, os.X_OK):
            raise unittest.SkipTest("no kubectl 1.33 at %s" % harness.KUBECTL_133)
        super().setUpClass()
        kh.start_runc_node(cls, "kpst-", "kpst")
        cls.local_path = tempfile.mkdtemp(prefix="kubepp-local-path-e2e-")
        cls.addClassCleanup(shutil.rmtree, cls.local_path, True)
        cls.cm = ControllerManager(cls.server, ["--local-path-dir", cls.local_path,
                                                "--leader-elect=false"])
        cls.addClassCleanup(cls.cm.stop)
        cls.cm.start()
        cls.kubectl = harness.Kubectl(harness.KUBECTL_133, cls.server.url)
        cls.addClassCleanup(cls.kubectl.cleanup)

    def run(self, result=None):
        failures = len(result.failures) + len(result.errors) if result else 0
        out = super().run(result)
        if result and len(result.failures) + len(result.errors) > failures and self.cm:
            print("\n--- controller-manager log tail ---\n%s" % self.cm.log_tail())
            print("\n--- kubelet log tail ---\n%s" % self.kubelet.log_tail(20))
        return out

    def k(self, *args, timeout=120):
        r = self.kubectl.run("-n", self.ns, *args, timeout=timeout)
        self.assertEqual(r.returncode, 0, "kubectl %s:\n%s%s" % (" ".join(args), r.stdout, r.stderr))
        return r.stdout

    def get(self, path):
        r = self.server.get(path)
        return r.json() if r.status == 200 else None

    def pvc(self, name):
        return self.get("/api/v1/namespaces/%s/persistentvolumeclaims/%s" % (self.ns, name))

    def pod(self, name):
        return self.get("/api/v1/namespaces/%s/pods/%s" % (self.ns, name))

    def log(self, name):
        r = self.server.get("/api/v1/namespaces/%s/pods/%s/log" % (self.ns, name))
        return r.body.decode(errors="replace") if r.status == 200 else ""

    def sts_yaml(self, replicas, greeting):
        return json.dumps({
            "apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "web"},
            "spec": {
                "replicas": replicas, "serviceName": "web",
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "nodeName": self.node, "terminationGracePeriodSeconds": 1,
                        "containers": [{
                            "name": "c", "image": "busybox:1.36",
                            "command": ["sh", "-c", WRITER],
                            "env": [{"name": "GREETING", "value": greeting}],
                            "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]}},
                "volumeClaimTemplates": [{
                    "metadata": {"name": "data"},
                    "spec": {"accessModes": ["ReadWriteOnce"],
                             "resources": {"requests": {"storage": "64Mi"}}}}]}})

    def test_statefulset_with_claims_and_revisions(self):
        # The default class the controller-manager makes.
        wait_for(lambda: "local-path (default)" in self.k("get", "storageclass"), timeout=30,
                 what="the local-path StorageClass")
        r = self.kubectl.run("-n", self.ns, "apply", "-f", "-", input=self.sts_yaml(2, "v1"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.k("rollout", "status", "statefulset/web", "--timeout=120s", timeout=150)

        # Claims: Bound, each to its own provisioned hostPath volume under --local-path-dir.
        paths = {}
        for ordinal in (0, 1):
            claim = wait_for(lambda: (self.pvc("data-web-%d" % ordinal) or {}).get(
                "status", {}).get("phase") == "Bound" and self.pvc("data-web-%d" % ordinal),
                timeout=30, what="claim data-web-%d Bound" % ordinal)
            self.assertEqual(claim["spec"]["storageClassName"], "local-path")  # admission
            self.assertEqual(claim["metadata"]["annotations"]["pv.kubernetes.io/bind-completed"], "yes")
            pv = self.get("/api/v1/persistentvolumes/" + claim["spec"]["volumeName"])
            self.assertEqual(pv["metadata"]["name"], "pvc-" + claim["metadata"]["uid"])
            self.assertEqual(pv["status"]["phase"], "Bound")
            self.assertEqual(pv["spec"]["claimRef"]["name"], "data-web-%d" % ordinal)
            paths[ordinal] = pv["spec"]["hostPath"]["path"]
            self.assertEqual(os.path.dirname(paths[ordinal]), self.local_path)
        out = self.k("get", "pvc")
        self.assertRegex(out, r"data-web-0\s+Bound\s+pvc-\S+\s+64Mi\s+RWO\s+local-path")
        pod = self.pod("web-0")
        self.assertEqual(pod["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"], "data-web-0")

        # The data outlives the pod.
        wait_for(lambda: "count=1" in self.log("web-0"), timeout=30, what="web-0 wrote its volume")
        with open(os.path.join(paths[0], "boots")) as f:
            self.assertEqual(f.read(), "boot\n")
        uid = pod["metadata"]["uid"]
        self.k("delete", "pod", "web-0", "--wait=false")
        wait_for(lambda: (self.pod("web-0") or {}).get("metadata", {}).get("uid", uid) != uid,
                 timeout=60, what="web-0 recreated")
        wait_for(lambda: "count=2" in self.log("web-0"), timeout=60,
                 what=lambda: "the new web-0 saw the old data: %r" % self.log("web-0"))

        # A template change rolls out; two revisions.
        self.k("rollout", "status", "statefulset/web", "--timeout=120s", timeout=150)
        r = self.kubectl.run("-n", self.ns, "apply", "-f", "-", input=self.sts_yaml(2, "v2"))
        self.assertEqual(r.returncode, 0, r.stderr)
        out = self.k("rollout", "status", "statefulset/web", "--timeout=180s", timeout=200)
        self.assertIn("2 new pods have been updated", out)
        sts = self.get("/apis/apps/v1/namespaces/%s/statefulsets/web" % self.ns)
        self.assertEqual(sts["status"]["updatedReplicas"], 2)
        for ordinal in (0, 1):
            p = self.pod("web-%d" % ordinal)
            self.assertEqual(p["metadata"]["labels"]["controller-revision-hash"],
                             sts["status"]["updateRevision"])
            self.assertEqual(p["spec"]["containers"][0]["env"][0]["value"], "v2")
        history = self.k("rollout", "history", "statefulset/web")
        self.assertRegex(history, r"(?m)^1\s+<none>")
        self.assertRegex(history, r"(?m)^2\s+<none>")
        out = self.k("get", "controllerrevisions")
        self.assertIn("statefulset.apps/web", out)

        # Undo: back to the first template, as revision 3.
        self.k("rollout", "undo", "statefulset/web")
        self.k("rollout", "status", "statefulset/web", "--timeout=180s", timeout=200)
        wait_for(lambda: all((self.pod("web-%d" % o) or {}).get("spec", {}).get("containers", [{}])[0]
                             .get("env", [{}])[0].get("value") == "v1" for o in (0, 1)),
                 timeout=120, what="pods back at the first template")
        history = self.k("rollout", "history", "statefulset/web")
        self.assertRegex(history, r"(?m)^2\s+<none>")
        self.assertRegex(history, r"(?m)^3\s+<none>")
        self.assertNotRegex(history, r"(?m)^1\s+<none>")
        # The volume survived the two rollouts too.
        with open(os.path.join(paths[0], "boots")) as f:
            self.assertGreaterEqual(f.read().count("boot"), 4)

        # Scale-down keeps the claim (whenScaled: Retain); deleting it frees the volume,
        # which (reclaimPolicy Delete) goes with its directory.
        self.k("scale", "statefulset/web", "--replicas=1")
        wait_for(lambda: self.pod("web-1") is None, timeout=60, what="web-1 gone")
        self.assertIsNotNone(self.pvc("data-web-1"))
        pv1 = self.pvc("data-web-1")["spec"]["volumeName"]
        self.k("delete", "pvc", "data-web-1")
        wait_for(lambda: self.get("/api/v1/persistentvolumes/" + pv1) is None, timeout=30,
                 what="volume %s deleted" % pv1)
        self.assertFalse(os.path.exists(paths[1]))
        self.assertTrue(os.path.exists(paths[0]))

        # A claim in use is only marked for deletion (pvc-protection) until its pod goes;
        # the set's deletion leaves its claims alone (whenDeleted: Retain).
        self.k("delete", "pvc", "data-web-0", "--wait=false")
        claim = self.pvc("data-web-0")
        self.assertIn("deletionTimestamp", claim["metadata"])
        self.assertIn("kubernetes.io/pvc-protection", claim["metadata"]["finalizers"])
        self.assertIn("Terminating", self.k("get", "pvc", "data-web-0"))
        pv0 = claim["spec"]["volumeName"]
        self.k("delete", "statefulset", "web")
        wait_for(lambda: self.pod("web-0") is None, timeout=60, what="web-0 gone")
        wait_for(lambda: self.pvc("data-web-0") is None, timeout=30, what="data-web-0 gone")
        wait_for(lambda: self.get("/api/v1/persistentvolumes/" + pv0) is None, timeout=30,
                 what="volume %s deleted" % pv0)
        self.assertFalse(os.path.exists(paths[0]))

    def test_daemonset_revisions(self):
        def ds(greeting):
            return json.dumps({
                "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
                "spec": {"selector": {"matchLabels": {"app": "agent"}},
                         "template": {"metadata": {"labels": {"app": "agent"}},
                                      "spec": {"terminationGracePeriodSeconds": 1,
                                               "containers": [{
                                                   "name": "c", "image": "busybox:1.36",
                                                   "command": ["sleep", "3600"],
                                                   "env": [{"name": "GREETING", "value": greeting}]}]}}}})
        for greeting in ("v1", "v2"):
            r = self.kubectl.run("-n", self.ns, "apply", "-f", "-", input=ds(greeting))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.k("rollout", "status", "daemonset/agent", "--timeout=120s", timeout=150)
        history = self.k("rollout", "history", "daemonset/agent")
        self.assertRegex(history, r"(?m)^1\s+<none>")
        self.assertRegex(history, r"(?m)^2\s+<none>")
        self.k("rollout", "undo", "daemonset/agent")
        self.k("rollout", "status", "daemonset/agent", "--timeout=120s", timeout=150)
        d = self.get("/apis/apps/v1/namespaces/%s/daemonsets/agent" % self.ns)
        self.assertEqual(d["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"], "v1")
        self.assertRegex(self.k("rollout", "history", "daemonset/agent"), r"(?m)^3\s+<none>")
        self.k("delete", "daemonset", "agent")


if __name__ == "__main__":
    unittest.main()
