"""The real kubectl (1.33, and 1.20 when installed) against the apiserver."""
import json
import os
import queue
import re
import shutil
import tempfile
import threading
import time
import unittest

from harness import (KUBECTL_120, KUBECTL_133, Kubectl, ServerTestCase, configmap, deployment,
                     kill_process, pod, unique)

DEPLOYMENT_YAML = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: 1
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: c
        image: %s
        command: ["sleep", "3600"]
"""


class KubectlCases:
    """The cases every kubectl version runs; subclasses pick the binary."""

    KUBECTL = None

    @classmethod
    def setUpClass(cls):
        if not os.access(cls.KUBECTL, os.X_OK):
            raise unittest.SkipTest("kubectl not installed at %s" % cls.KUBECTL)
        super().setUpClass()
        cls.kubectl = Kubectl(cls.KUBECTL, cls.server.url)
        cls.addClassCleanup(cls.kubectl.cleanup)

    def setUp(self):
        self.ns = self.server.create_namespace()
        self.tmp = tempfile.mkdtemp(prefix="kubepp-manifests-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    # --- helpers ---

    def k(self, *args, ok=True, input=None):
        """Runs kubectl in the test's namespace; asserts success unless ok=False."""
        r = self.kubectl.run("-n", self.ns, *args, input=input)
        if ok:
            self.assertEqual(r.returncode, 0, "kubectl %s\nstdout: %s\nstderr: %s"
                             % (" ".join(args), r.stdout, r.stderr))
        return r

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def rest(self, path):
        return self.server.get(path.replace("NS", self.ns))

    def create(self, path, body):
        r = self.server.post(path.replace("NS", self.ns), body)
        self.assertEqual(r.status, 201, r)
        return r.json()

    def rows(self, out):
        """Table output as lists of whitespace-separated cells (header first)."""
        return [line.split() for line in out.strip().splitlines()]

    # --- cases ---

    def test_version(self):
        r = self.kubectl.run("version")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Server Version", r.stdout)

    def test_api_resources(self):
        r = self.kubectl.run("api-resources")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout
        for pattern in (r"^pods\s+po\s+v1\s+true\s+Pod$",
                        r"^namespaces\s+ns\s+v1\s+false\s+Namespace$",
                        r"^configmaps\s+cm\s+v1\s+true\s+ConfigMap$",
                        r"^services\s+svc\s+v1\s+true\s+Service$",
                        r"^deployments\s+deploy\s+apps(/v1)?\s+true\s+Deployment$",
                        r"^replicasets\s+rs\s+apps(/v1)?\s+true\s+ReplicaSet$",
                        r"^ingresses\s+ing\s+networking.k8s.io(/v1)?\s+true\s+Ingress$",
                        r"^leases\s+coordination.k8s.io(/v1)?\s+true\s+Lease$"):
            self.assertRegex(out, re.compile(pattern, re.M))

    def test_create_from_yaml(self):
        path = self.write("both.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm1\n"
                          "data:\n  a: b\n---\n" + DEPLOYMENT_YAML % "nginx:1.25")
        r = self.k("create", "-f", path)
        self.assertIn("configmap/cm1 created", r.stdout)
        self.assertIn("deployment.apps/web created", r.stdout)
        self.assertEqual(self.rest("/api/v1/namespaces/NS/configmaps/cm1").json()["data"],
                         {"a": "b"})
        r = self.k("create", "-f", path, ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn('Error from server (AlreadyExists): error when creating "%s": '
                      'configmaps "cm1" already exists' % path, r.stderr)

    def test_apply(self):
        path = self.write("web.yaml", DEPLOYMENT_YAML % "nginx:1.25")
        self.assertIn("deployment.apps/web created", self.k("apply", "-f", path).stdout)
        got = self.rest("/apis/apps/v1/namespaces/NS/deployments/web").json()
        self.assertIn("kubectl.kubernetes.io/last-applied-configuration",
                      got["metadata"]["annotations"])
        self.assertIn("deployment.apps/web unchanged", self.k("apply", "-f", path).stdout)
        path = self.write("web.yaml", DEPLOYMENT_YAML % "nginx:1.26")
        self.assertIn("deployment.apps/web configured", self.k("apply", "-f", path).stdout)
        got = self.rest("/apis/apps/v1/namespaces/NS/deployments/web").json()
        containers = got["spec"]["template"]["spec"]["containers"]
        self.assertEqual([(c["name"], c["image"]) for c in containers], [("c", "nginx:1.26")])
        self.assertEqual(containers[0]["command"], ["sleep", "3600"])
        self.assertEqual(got["metadata"]["generation"], 2)

    def test_apply_server_side(self):
        cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n%s"
        mine = self.write("mine.yaml", cm % '  a: "1"\n  b: "2"\n')
        self.assertIn("configmap/ssa serverside-applied",
                      self.k("apply", "--server-side", "-f", mine).stdout)
        # Another manager changing a field kubectl owns: a conflict naming both, no change.
        theirs = self.write("theirs.yaml", cm % '  a: "9"\n')
        r = self.k("apply", "--server-side", "--field-manager", "other", "-f", theirs, ok=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('conflict with "kubectl"', r.stderr)
        self.assertIn(".data.a", r.stderr)
        path = "/api/v1/namespaces/NS/configmaps/ssa"
        self.assertEqual(self.rest(path).json()["data"], {"a": "1", "b": "2"})
        # Forced, the field changes hands.
        self.k("apply", "--server-side", "--field-manager", "other", "--force-conflicts", "-f", theirs)
        got = self.rest(path).json()
        self.assertEqual(got["data"], {"a": "9", "b": "2"})
        owners = {e["manager"]: e["fieldsV1"] for e in got["metadata"]["managedFields"]}
        self.assertEqual(owners, {"kubectl": {"f:data": {"f:b": {}}},
                                  "other": {"f:data": {"f:a": {}}}})
        # What kubectl no longer applies (b) goes; what another manager owns (a) stays.
        mine = self.write("mine.yaml", cm % '  c: "3"\n')
        self.k("apply", "--server-side", "-f", mine)
        self.assertEqual(self.rest(path).json()["data"], {"a": "9", "c": "3"})

    def test_get_wide(self):
        self.create("/apis/apps/v1/namespaces/NS/deployments", deployment("web"))
        self.create("/api/v1/namespaces/NS/pods", pod("p1"))
        rows = self.rows(self.k("get", "pods", "-o", "wide").stdout)
        self.assertEqual(rows[0], ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE",
                                   "NOMINATED", "NODE", "READINESS", "GATES"])
        self.assertEqual(rows[1][:2], ["p1", "0/1"])
        rows = self.rows(self.k("get", "deployments", "-o", "wide").stdout)
        self.assertEqual(rows[0], ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE",
                                   "CONTAINERS", "IMAGES", "SELECTOR"])
        self.assertEqual(rows[1][0], "web")
        self.assertEqual(rows[1][-3:], ["c", "nginx:1.25", "app=web"])

    def test_get_json_and_yaml(self):
        self.create("/api/v1/namespaces/NS/configmaps", configmap("x", {"k": "v"}))
        obj = json.loads(self.k("get", "configmap", "x", "-o", "json").stdout)
        self.assertEqual((obj["kind"], obj["metadata"]["name"], obj["data"]),
                         ("ConfigMap", "x", {"k": "v"}))
        lst = json.loads(self.k("get", "cm", "-o", "json").stdout)
        self.assertEqual(lst["kind"], "List")
        self.assertEqual([i["metadata"]["name"] for i in lst["items"]], ["x"])
        out = self.k("get", "cm", "x", "-o", "yaml").stdout
        self.assertIn("kind: ConfigMap", out)
        self.assertIn("  name: x", out)
        self.assertIn("  k: v", out)
        self.assertEqual(self.k("get", "cm", "x", "-o", "jsonpath={.data.k}").stdout, "v")
        self.assertEqual(self.k("get", "cm", "-o", "name").stdout.split(), ["configmap/x"])

    def test_get_all_namespaces(self):
        other = self.server.create_namespace()
        self.create("/api/v1/namespaces/NS/configmaps", configmap("here"))
        self.server.post("/api/v1/namespaces/%s/configmaps" % other, configmap("there"))
        rows = self.rows(self.kubectl.run("get", "cm", "-A").stdout)
        self.assertEqual(rows[0][:2], ["NAMESPACE", "NAME"])
        pairs = {(r[0], r[1]) for r in rows[1:]}
        self.assertIn((self.ns, "here"), pairs)
        self.assertIn((other, "there"), pairs)

    def test_get_show_labels(self):
        self.create("/api/v1/namespaces/NS/configmaps", configmap("l", labels={"app": "x"}))
        rows = self.rows(self.k("get", "cm", "--show-labels").stdout)
        self.assertEqual(rows[0][-1], "LABELS")
        self.assertEqual((rows[1][0], rows[1][-1]), ("l", "app=x"))

    def test_get_sort_by(self):
        for name, key in (("c", "1"), ("a", "3"), ("b", "2")):
            self.create("/api/v1/namespaces/NS/configmaps", configmap(name, {"k": key}))
        rows = self.rows(self.k("get", "cm", "--sort-by=.metadata.name").stdout)
        self.assertEqual([r[0] for r in rows[1:]], ["a", "b", "c"])
        rows = self.rows(self.k("get", "cm", "--sort-by=.data.k").stdout)
        self.assertEqual([r[0] for r in rows[1:]], ["c", "b", "a"])

    def test_get_namespaces(self):
        rows = self.rows(self.kubectl.run("get", "namespaces").stdout)
        self.assertEqual(rows[0], ["NAME", "STATUS", "AGE"])
        status = {r[0]: r[1] for r in rows[1:]}
        for ns in ("default", "kube-system", self.ns):
            self.assertEqual(status.get(ns), "Active")

    def test_get_watch(self):
        self.create("/api/v1/namespaces/NS/configmaps", configmap("before"))
        proc = self.kubectl.popen("-n", self.ns, "get", "cm", "-w")
        lines = queue.Queue()
        reader = threading.Thread(target=lambda: [lines.put(l) for l in proc.stdout])
        reader.start()

        def stop():
            kill_process(proc)
            reader.join()
            proc.stdout.close()
            proc.stderr.close()
        self.addCleanup(stop)

        def wait_for(name, timeout=20):
            deadline = time.monotonic() + timeout
            seen = []
            while time.monotonic() < deadline:
                try:
                    line = lines.get(timeout=0.5)
                except queue.Empty:
                    if proc.poll() is not None:
                        break
                    continue
                seen.append(line)
                if line.split() and line.split()[0] == name:
                    return
            kill_process(proc)
            self.fail("kubectl get -w never showed %s; output %r; stderr %r"
                      % (name, seen, proc.stderr.read()))

        wait_for("before")
        self.create("/api/v1/namespaces/NS/configmaps", configmap("after"))
        wait_for("after")

    def test_describe(self):
        self.create("/apis/apps/v1/namespaces/NS/deployments", deployment("web"))
        out = self.k("describe", "deployment", "web").stdout
        self.assertRegex(out, r"(?m)^Name:\s+web$")
        self.assertRegex(out, r"(?m)^Namespace:\s+%s$" % self.ns)
        self.assertRegex(out, r"(?m)^Selector:\s+app=web$")
        self.assertIn("Pod Template:", out)
        self.assertRegex(out, r"Image:\s+nginx:1.25")
        self.create("/api/v1/namespaces/NS/pods", pod("p"))
        out = self.k("describe", "pod", "p").stdout
        self.assertRegex(out, r"(?m)^Name:\s+p$")
        self.assertRegex(out, r"(?m)^Status:\s+Pending$")
        self.assertIn("Containers:", out)
        self.assertRegex(out, r"Image:\s+busybox:1.36")

    def test_label(self):
        self.create("/api/v1/namespaces/NS/configmaps", configmap("x"))
        self.assertIn("configmap/x labeled", self.k("label", "cm", "x", "env=prod").stdout)
        labels = self.rest("/api/v1/namespaces/NS/configmaps/x").json()["metadata"]["labels"]
        self.assertEqual(labels, {"env": "prod"})
        self.assertEqual(self.k("get", "cm", "-l", "env=prod", "-o", "name").stdout.split(),
                         ["configmap/x"])
        # kubectl 1.20 says "labeled" for a removal too.
        self.assertRegex(self.k("label", "cm", "x", "env-").stdout, r"configmap/x (un)?labeled")
        meta = self.rest("/api/v1/namespaces/NS/configmaps/x").json()["metadata"]
        self.assertFalse(meta.get("labels"))

    def test_scale(self):
        self.create("/apis/apps/v1/namespaces/NS/deployments", deployment("web"))
        self.assertIn("deployment.apps/web scaled",
                      self.k("scale", "deployment", "web", "--replicas=3").stdout)
        self.assertEqual(self.k("get", "deploy", "web", "-o", "jsonpath={.spec.replicas}").stdout,
                         "3")

    def test_delete(self):
        self.create("/api/v1/namespaces/NS/configmaps", configmap("x"))
        self.create("/api/v1/namespaces/NS/pods", pod("p"))
        self.create("/apis/apps/v1/namespaces/NS/deployments", deployment("web"))
        self.assertRegex(self.k("delete", "cm", "x", "--timeout=20s").stdout,
                         r'configmap "x" deleted')
        self.assertRegex(self.k("delete", "pod", "p", "--timeout=20s").stdout, r'pod "p" deleted')
        self.assertRegex(self.k("delete", "deployment", "web", "--timeout=20s").stdout,
                         r'deployment.apps "web" deleted')
        for path in ("/api/v1/namespaces/NS/configmaps/x", "/api/v1/namespaces/NS/pods/p",
                     "/apis/apps/v1/namespaces/NS/deployments/web"):
            self.assertEqual(self.rest(path).status, 404, path)

    def test_get_all(self):
        self.create("/apis/apps/v1/namespaces/NS/deployments", deployment("web"))
        self.create("/api/v1/namespaces/NS/pods", pod("p"))
        self.create("/api/v1/namespaces/NS/services", {
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
        self.create("/api/v1/namespaces/NS/configmaps", configmap("not-in-all"))
        r = self.k("get", "all")
        names = {row[0] for row in self.rows(r.stdout) if row and row[0] != "NAME"}
        self.assertTrue({"pod/p", "service/s", "deployment.apps/web"} <= names, r.stdout)
        self.assertNotIn("configmap/not-in-all", names)

    def test_run(self):
        self.assertIn("pod/runner created", self.k("run", "runner", "--image=nginx:1.25").stdout)
        got = self.rest("/api/v1/namespaces/NS/pods/runner").json()
        self.assertEqual(got["spec"]["containers"][0]["image"], "nginx:1.25")
        self.assertEqual(got["metadata"]["labels"], {"run": "runner"})

    def test_create_configmap_from_literal(self):
        self.assertIn("configmap/lit created",
                      self.k("create", "configmap", "lit", "--from-literal=a=b").stdout)
        self.assertEqual(self.rest("/api/v1/namespaces/NS/configmaps/lit").json()["data"],
                         {"a": "b"})

    def test_create_generators(self):
        # kubectl 1.33 sends these bodies as application/vnd.kubernetes.protobuf.
        ns = unique("gen")
        self.addCleanup(self.server.delete, "/api/v1/namespaces/" + ns)
        r = self.kubectl.run("create", "namespace", ns)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("namespace/%s created" % ns, r.stdout)
        self.assertIn("secret/s created",
                      self.k("create", "secret", "generic", "s", "--from-literal=a=b").stdout)
        self.assertEqual(self.rest("/api/v1/namespaces/NS/secrets/s").json()["data"], {"a": "Yg=="})
        self.assertIn("deployment.apps/d created",
                      self.k("create", "deployment", "d", "--image=nginx:1.25").stdout)
        got = self.rest("/apis/apps/v1/namespaces/NS/deployments/d").json()
        self.assertEqual(got["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.25")

    def test_modify_commands(self):
        self.create("/apis/apps/v1/namespaces/NS/deployments",
                    deployment("web", command=["sleep", "1"]))
        path = "/apis/apps/v1/namespaces/NS/deployments/web"
        self.assertIn("deployment.apps/web annotated",
                      self.k("annotate", "deploy", "web", "note=x").stdout)
        self.assertEqual(self.rest(path).json()["metadata"]["annotations"]["note"], "x")
        self.assertIn("deployment.apps/web image updated",
                      self.k("set", "image", "deploy/web", "c=nginx:1.26").stdout)
        container = self.rest(path).json()["spec"]["template"]["spec"]["containers"][0]
        self.assertEqual((container["image"], container["command"]), ("nginx:1.26", ["sleep", "1"]))
        self.assertIn("deployment.apps/web patched", self.k(
            "patch", "deploy", "web", "--type=json",
            "-p", '[{"op":"replace","path":"/spec/replicas","value":2}]').stdout)
        self.assertEqual(self.rest(path).json()["spec"]["replicas"], 2)
        self.assertIn("deployment.apps/web patched",
                      self.k("patch", "deploy", "web", "-p", '{"spec":{"replicas":3}}').stdout)
        self.assertEqual(self.rest(path).json()["spec"]["replicas"], 3)
        self.assertIn("service/web exposed",
                      self.k("expose", "deployment", "web", "--port=80").stdout)
        svc = self.rest("/api/v1/namespaces/NS/services/web").json()["spec"]
        self.assertEqual(svc["selector"], {"app": "web"})
        self.assertTrue(svc["clusterIP"].startswith("10."), svc)

    def test_errors(self):
        r = self.k("get", "pod", "nope", ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn('Error from server (NotFound): pods "nope" not found', r.stderr)
        r = self.k("get", "deployment", "nope", ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn('Error from server (NotFound): deployments.apps "nope" not found', r.stderr)
        r = self.k("get", "nosuchthings", ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn('the server doesn\'t have a resource type "nosuchthings"', r.stderr)


class Kubectl133Test(KubectlCases, ServerTestCase):
    KUBECTL = KUBECTL_133


class Kubectl120Test(KubectlCases, ServerTestCase):
    KUBECTL = KUBECTL_120


if __name__ == "__main__":
    unittest.main()
