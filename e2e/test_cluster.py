"""The whole story on a real local cluster: `./kubepp up` (cluster id 3, its own ports,
bridges and address ranges, so it runs beside a user's cluster and the other tests), then
kubectl 1.33 drives an app the way a user would, through every component at once:

  a Deployment of the test server spread over two nodes, a Service reached by ClusterIP,
  NodePort and cluster DNS from a pod, an Ingress routing by host and path, scaling, a rolling update to an image loaded with
  `./kubepp load-image` with zero failed requests through the Service, rollout undo, a
  failing liveness probe restarting its container, a deleted pod replaced, kubectl logs,
  the same app through kubectl 1.20 (when unpacked) and the Python client; then kill -9 and restart of every component in turn while the app serves (no pod
  restarted, no acknowledged write lost, no failed request); then node loss.

Runs as root with runc (the nodes run real containers); skips, saying why, otherwise.
The tests of this file run in order (their names are numbered) on one cluster.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

BUILD = os.environ.get("KUBEPP_BUILD_DIR", os.path.join(harness.REPO, "build"))
KUBEPP = os.path.join(harness.REPO, "kubepp")
CLUSTER_ID = "3"
DNS_IP = "10.144.0.10"  # what ./kubepp gives cluster 3
INGRESS_PORT = 13080   # node 0's proxy's Ingress HTTP port in cluster 3
# Short node-failure timeouts, so that node loss is seen in seconds.
FLAGS = {
    "KUBEPP_KUBELET_FLAGS": "--lease-renew-seconds 1",
    "KUBEPP_CONTROLLER_MANAGER_FLAGS": "--node-monitor-grace-period 6 --node-monitor-period 1",
}

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  strategy: {rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 10
      tolerations:
      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 2}
      - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 2}
      containers:
      - name: web
        image: kubepp/testserver:1.0
        args: [serve-hostname, --port, "80", --shutdown-delay, "2"]
        ports: [{name: http, containerPort: 80}]
        readinessProbe: {httpGet: {path: /healthz, port: http}, periodSeconds: 1}
        livenessProbe: {httpGet: {path: /healthz, port: http}, periodSeconds: 1, failureThreshold: 2}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
"""


def http_get(url, timeout=3):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


class Traffic:
    """A client requesting `url` back to back (a new connection each time) until stop();
    counts answers and failures (with the first few errors, for the report)."""

    def __init__(self, url):
        self.url = url
        self.ok = 0
        self.failures = []
        self.seen = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                status, body = http_get(self.url, timeout=3)
                if status == 200:
                    self.ok += 1
                    self.seen.add(body)
                else:
                    self.failures.append("HTTP %d" % status)
            except Exception as e:  # every kind of failure counts
                self.failures.append("%s: %s" % (time.strftime("%H:%M:%S"), e))
            time.sleep(0.01)

    def stop(self):
        self._stop.set()
        self._thread.join()
        return self


class ClusterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0 or subprocess.run(["which", "runc"], capture_output=True).returncode:
            raise unittest.SkipTest("needs root and runc: the nodes run real containers")
        for tool in ("apiserver", "scheduler", "controller-manager", "kubelet", "proxy"):
            if not os.access(os.path.join(BUILD, "bin", tool), os.X_OK):
                raise RuntimeError("no %s in %s/bin (build first)" % (tool, BUILD))
        cls.tmp = tempfile.mkdtemp(prefix="kubepp-e2e-cluster-")
        cls.state = os.path.join(cls.tmp, "state")
        cls.port = harness.free_port()
        cls.env = dict(os.environ, KUBEPP_BUILD_DIR=BUILD, **FLAGS)
        up = cls.kubepp("up", "--cluster-id", CLUSTER_ID, "--nodes", "2", "--port", str(cls.port), timeout=120)
        if up.returncode != 0:
            cls.tearDownClass()
            raise RuntimeError("./kubepp up failed:\n" + up.stdout + up.stderr)
        # kubectl as a user runs it: HTTPS with the admin kubeconfig `up` wrote; the
        # test's own API calls use the apiserver's plain loopback port.
        with open(os.path.join(cls.state, "run", "apiserver.port")) as f:
            cls.api = "http://127.0.0.1:%d" % int(f.read())
        cls.kubectl = harness.Kubectl(harness.KUBECTL_133, "https://127.0.0.1:%d" % cls.port)
        cls.kubectl.kubeconfig = os.path.join(cls.state, "kubeconfig")

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "kubectl", None):
            cls.kubectl.cleanup()
        # The components' logs outlive the cluster, for a look after a failure.
        kept = os.path.join(BUILD, "Testing", "e2e_cluster-logs")
        shutil.rmtree(kept, ignore_errors=True)
        if os.path.isdir(os.path.join(cls.state, "logs")):
            shutil.copytree(os.path.join(cls.state, "logs"), kept)
        down = cls.kubepp("down", "--purge", timeout=120)
        if down.returncode != 0:
            print("./kubepp down failed:\n" + down.stdout + down.stderr, file=sys.stderr)
        subprocess.run(["rm", "-rf", cls.tmp])

    @classmethod
    def kubepp(cls, *args, timeout=60):
        return subprocess.run([KUBEPP, *args, "--state-dir", cls.state], env=cls.env,
                              capture_output=True, text=True, timeout=timeout)

    # --- helpers ---

    def k(self, *args, input=None, ok=True):
        r = self.kubectl.run(*args, input=input, timeout=120)
        if ok:
            self.assertEqual(r.returncode, 0, "kubectl %s:\n%s%s" % (" ".join(args), r.stdout, r.stderr))
        return r

    def get(self, path):
        with urllib.request.urlopen(self.api + path, timeout=10) as r:
            return json.load(r)

    def wait(self, what, predicate, timeout=60):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = predicate()
                if last:
                    return last
            except (OSError, KeyError, ValueError) as e:
                last = e
            time.sleep(0.2)
        self.fail("timed out waiting for %s (last: %r)\n%s" % (what, last, self.logs_tail()))

    def logs_tail(self):
        out = []
        for name in sorted(os.listdir(os.path.join(self.state, "logs"))):
            with open(os.path.join(self.state, "logs", name), errors="replace") as f:
                out.append("== %s\n%s" % (name, "".join(f.readlines()[-8:])))
        return "\n".join(out)

    def web_pods(self, ready_only=True):
        pods = self.get("/api/v1/namespaces/default/pods?labelSelector=app%3Dweb")["items"]
        pods = [p for p in pods if "deletionTimestamp" not in p["metadata"]]
        if ready_only:
            pods = [p for p in pods if any(c["type"] == "Ready" and c["status"] == "True"
                                           for c in p.get("status", {}).get("conditions", []))]
        return pods

    def wait_ready_replicas(self, n, timeout=90):
        def done():
            d = self.get("/apis/apps/v1/namespaces/default/deployments/web")
            s = d.get("status", {})
            return (s.get("observedGeneration") == d["metadata"]["generation"]
                    and s.get("updatedReplicas") == n and s.get("readyReplicas") == n
                    and s.get("replicas") == n and len(self.web_pods()) == n)
        self.wait("%d ready replicas of web" % n, done, timeout)
        return self.web_pods()

    def service(self):
        return self.get("/api/v1/namespaces/default/services/web")

    def cluster_url(self):
        return "http://%s/" % self.service()["spec"]["clusterIP"]

    def pid(self, component):
        with open(os.path.join(self.state, "run", component + ".pid")) as f:
            return int(f.read())

    # --- the story ---

    def test_01_deployment_spreads_over_both_nodes_and_serves(self):
        self.k("apply", "-f", "-", input=DEPLOYMENT)
        pods = self.wait_ready_replicas(3)
        nodes = {p["spec"]["nodeName"] for p in pods}
        self.assertEqual(nodes, {"kubepp-node-0", "kubepp-node-1"})
        ips = {p["status"]["podIP"] for p in pods}
        self.assertEqual(len(ips), 3, "each pod has its own IP")
        for p in pods:  # each answers on its own IP, port 80, with its own name
            self.assertEqual(http_get("http://%s/" % p["status"]["podIP"]),
                             (200, p["metadata"]["name"]))

    def test_02_service_reaches_every_replica(self):
        names = {p["metadata"]["name"] for p in self.web_pods()}
        url = self.cluster_url()
        seen = set()
        def all_seen():  # the proxy may still be programming the new Service's rules
            try:
                seen.add(http_get(url)[1])
            except OSError:
                pass
            return seen == names
        self.wait("ClusterIP to reach every replica", all_seen, 30)
        node_port = self.service()["spec"]["ports"][0]["nodePort"]
        self.assertIn(http_get("http://127.0.0.1:%d/" % node_port)[1], names, "NodePort")

    def test_03_cluster_dns_and_service_from_a_pod(self):
        # (Not wget -T: Debian's busybox 1.35 crashes on it.)
        self.k("run", "client", "--image=busybox:1.36", "--restart=Never", "--",
               "sh", "-c", "cat /etc/resolv.conf; nslookup web.default.svc.cluster.local; "
               "wget -qO- http://web/ && echo && echo WGET-OK")
        self.wait("client pod to finish", lambda: self.get(
            "/api/v1/namespaces/default/pods/client")["status"].get("phase") in ("Succeeded", "Failed"))
        logs = self.k("logs", "client").stdout
        self.assertIn("nameserver " + DNS_IP, logs)
        self.assertIn(self.service()["spec"]["clusterIP"], logs, "nslookup answers the ClusterIP")
        self.assertIn("WGET-OK", logs, "the Service by its short name from a pod:\n" + logs)
        self.k("delete", "pod", "client", "--grace-period=0", "--force")

    def test_037_service_account_token_from_a_pod(self):
        # A pod's own credentials (the kube-api-access volume) against the `kubernetes`
        # Service by its DNS name, over HTTPS checked with the mounted CA: curl from an
        # image made here of the host's curl, its libraries and busybox's sh.
        rootfs = os.path.join(self.tmp, "curl-rootfs")
        os.makedirs(os.path.join(rootfs, "bin"))
        shutil.copy("/bin/busybox", os.path.join(rootfs, "bin", "busybox"))
        os.symlink("busybox", os.path.join(rootfs, "bin", "sh"))
        curl = shutil.which("curl")
        libs = subprocess.run(["ldd", curl], capture_output=True, text=True, check=True).stdout
        for path in [curl] + re.findall(r"(/\S+\.so[.\d]*) ", libs + " "):
            dest = rootfs + path
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.copy(path, dest)
        tarball = os.path.join(self.tmp, "curl.tar")
        subprocess.run([sys.executable, os.path.join(harness.REPO, "images", "mkimage.py"),
                        "--rootfs", rootfs, "--tag", "kubepp-e2e/curl:1", "--entrypoint", "/bin/sh",
                        "--out", tarball], check=True)
        load = self.kubepp("load-image", tarball, timeout=120)
        self.assertEqual(load.returncode, 0, load.stdout + load.stderr)
        sa = "/var/run/secrets/kubernetes.io/serviceaccount"
        script = ('curl -sS --cacert %s/ca.crt -H "Authorization: Bearer $(cat %s/token)" '
                  '-H "Content-Type: application/json" -d "{}" '
                  'https://kubernetes.default.svc/apis/authentication.k8s.io/v1/selfsubjectreviews' % (sa, sa))
        self.k("run", "whoami", "--image=kubepp-e2e/curl:1", "--restart=Never", "--command", "--",
               "/bin/sh", "-c", script)
        self.wait("whoami pod to finish", lambda: self.get(
            "/api/v1/namespaces/default/pods/whoami")["status"].get("phase") in ("Succeeded", "Failed"))
        out = self.k("logs", "whoami").stdout
        review = json.loads(out)
        self.assertEqual(review["status"]["userInfo"]["username"], "system:serviceaccount:default:default", out)
        self.assertEqual(review["status"]["userInfo"]["extra"]["authentication.kubernetes.io/pod-name"], ["whoami"])
        self.k("delete", "pod", "whoami", "--grace-period=0", "--force")

    def test_035_ingress_routes_by_host_and_path(self):
        self.k("create", "deployment", "api", "--image=kubepp/testserver:1.0", "--replicas=2",
               "--port=80", "--", "/testserver", "serve-hostname", "--port", "80")
        self.k("expose", "deployment", "api", "--port=80")
        # Paths go to the backends unchanged, and the test server answers only a few.
        self.k("create", "ingress", "site", "--rule=shop.example/*=web:80",
               "--rule=shop.example/hostname=api:80", "--rule=*.example/=api:80")
        web = {p["metadata"]["name"] for p in self.web_pods()}
        def answered_by(host, path):
            req = urllib.request.Request("http://127.0.0.1:%d%s" % (INGRESS_PORT, path),
                                         headers={"Host": host})
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.read().decode()
        self.wait("the Ingress to route /hostname to api", lambda: answered_by(
            "shop.example", "/hostname").startswith("api-"), 30)
        self.assertIn(answered_by("shop.example", "/"), web)
        self.assertIn(answered_by("SHOP.example:80", "/?x=1"), web)
        self.assertTrue(answered_by("other.example", "/").startswith("api-"), "wildcard host")
        with self.assertRaises(urllib.error.HTTPError) as e:
            answered_by("unknown.test", "/")
        self.assertEqual(e.exception.code, 404)
        self.wait("the Ingress status", lambda: self.get(
            "/apis/networking.k8s.io/v1/namespaces/default/ingresses/site")
            ["status"]["loadBalancer"].get("ingress"))
        self.k("delete", "ingress", "site")
        self.k("delete", "deployment", "api")
        self.k("delete", "service", "api")

    def test_04_scale_up_and_down(self):
        self.k("scale", "deployment/web", "--replicas=5")
        self.wait_ready_replicas(5)
        self.k("scale", "deployment/web", "--replicas=2")
        self.wait_ready_replicas(2)
        self.wait("endpoints to shrink to 2", lambda: len(self.get(
            "/api/v1/namespaces/default/endpoints/web")["subsets"][0]["addresses"]) == 2)

    def test_05_rolling_update_drops_no_request_and_undo(self):
        self.k("scale", "deployment/web", "--replicas=3")
        self.wait_ready_replicas(3)
        # A second image tag, loaded into every node the way a user would.
        tarball = os.path.join(self.tmp, "testserver-1.1.tar")
        subprocess.run([sys.executable, os.path.join(harness.REPO, "images", "mkimage.py"),
                        "--rootfs", os.path.join(BUILD, "images", "rootfs-testserver"),
                        "--tag", "kubepp/testserver:1.1", "--entrypoint", "/testserver",
                        "--cmd", "serve-hostname", "--out", tarball], check=True)
        load = self.kubepp("load-image", tarball, timeout=120)
        self.assertEqual(load.returncode, 0, load.stdout + load.stderr)
        traffic = Traffic(self.cluster_url())
        try:
            self.k("set", "image", "deployment/web", "web=kubepp/testserver:1.1")
            self.k("rollout", "status", "deployment/web", "--timeout=120s")
            self.wait_ready_replicas(3)
            images = {p["spec"]["containers"][0]["image"] for p in self.web_pods()}
            self.assertEqual(images, {"kubepp/testserver:1.1"})
            self.k("rollout", "undo", "deployment/web")
            self.k("rollout", "status", "deployment/web", "--timeout=120s")
            self.wait_ready_replicas(3)
        finally:
            traffic.stop()
        images = {p["spec"]["containers"][0]["image"] for p in self.web_pods()}
        self.assertEqual(images, {"kubepp/testserver:1.0"})
        history = self.k("rollout", "history", "deployment/web").stdout
        self.assertIn("3", history)
        print("rolling update + undo: %d requests, %d failed" % (traffic.ok, len(traffic.failures)))
        self.assertGreater(traffic.ok, 50)
        self.assertEqual(traffic.failures, [], "requests failed during the rollout")

    def test_06_failing_liveness_restarts_the_container(self):
        pod = self.web_pods()[0]
        name = pod["metadata"]["name"]
        http_get("http://%s/fail" % pod["status"]["podIP"])
        def restarted():
            p = self.get("/api/v1/namespaces/default/pods/" + name)
            return p["status"]["containerStatuses"][0]["restartCount"] >= 1
        self.wait("liveness restart of " + name, restarted)
        self.wait_ready_replicas(3)
        self.assertIn(name, {p["metadata"]["name"] for p in self.web_pods()}, "same pod, restarted")

    def test_07_deleted_pod_is_replaced_and_logs(self):
        pods = self.web_pods()
        victim = pods[0]["metadata"]["name"]
        logs = self.k("logs", pods[1]["metadata"]["name"]).stdout
        self.assertIn("serving hostname " + pods[1]["metadata"]["name"], logs)
        self.k("delete", "pod", victim)
        pods = self.wait_ready_replicas(3)
        self.assertNotIn(victim, {p["metadata"]["name"] for p in pods})

    def test_076_older_kubectl_and_the_python_client(self):
        # The same cluster through other real clients over HTTPS with the admin kubeconfig:
        # kubectl 1.20 (when setup could unpack it) and the official Python client.
        if os.access(harness.KUBECTL_120, os.X_OK):
            old = harness.Kubectl(harness.KUBECTL_120, "https://127.0.0.1:%d" % self.port)
            old.kubeconfig = self.kubectl.kubeconfig
            self.addCleanup(old.cleanup)
            r = old.run("get", "nodes", "-o", "name")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(len(r.stdout.split()), 2, r.stdout)
            r = old.run("scale", "deployment/web", "--replicas=4")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.wait_ready_replicas(4)
            pod = self.web_pods()[0]["metadata"]["name"]
            r = old.run("logs", pod)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("serving hostname " + pod, r.stdout)
        else:
            print("kubectl 1.20 not unpacked (scripts/setup.sh): its part skipped")
        try:
            import kubernetes
        except ImportError:
            self.skipTest("python3-kubernetes is not installed")
        api = kubernetes.config.new_client_from_config(config_file=self.kubectl.kubeconfig)
        self.addCleanup(api.close)
        apps = kubernetes.client.AppsV1Api(api)
        core = kubernetes.client.CoreV1Api(api)
        apps.patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": 3}})
        pods = self.wait_ready_replicas(3)
        listed = core.list_namespaced_pod("default", label_selector="app=web").items
        self.assertTrue({p["metadata"]["name"] for p in pods} <= {p.metadata.name for p in listed})
        log = core.read_namespaced_pod_log(pods[0]["metadata"]["name"], "default")
        self.assertIn("serving hostname", log)
        self.assertEqual(apps.read_namespaced_deployment("web", "default").status.ready_replicas, 3)

    def test_075_certificates_rotate_while_the_app_serves(self):
        def fingerprint(path):
            return subprocess.run(["openssl", "x509", "-in", path, "-noout", "-fingerprint"],
                                  capture_output=True, text=True).stdout
        files = [os.path.join(self.state, "pki", "scheduler.crt"),
                 os.path.join(self.state, "pki", "kubelet-1.crt"),
                 os.path.join(self.state, "data", "pki", "apiserver.crt")]
        before = [fingerprint(f) for f in files]
        uids = {p["metadata"]["uid"] for p in self.web_pods()}
        traffic = Traffic(self.cluster_url())
        try:
            r = self.kubepp("rotate-certs", timeout=120)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        finally:
            traffic.stop()
        after = [fingerprint(f) for f in files]
        for f, old, new in zip(files, before, after):
            self.assertTrue(new and new != old, "%s was not reissued" % f)
        self.assertEqual(traffic.failures, [], "requests failed during the rotation")
        status = self.kubepp("status").stdout
        self.assertEqual(status.count("healthy") - status.count("unhealthy"), 7, status)
        self.k("get", "nodes")  # the user's kubeconfig, with the new admin certificate
        self.assertEqual({p["metadata"]["uid"] for p in self.wait_ready_replicas(3)}, uids)

    def test_08_every_component_restarts_under_traffic(self):
        before = {p["metadata"]["uid"]: p["status"]["containerStatuses"][0]["restartCount"]
                  for p in self.web_pods()}
        self.assertEqual(len(before), 3)
        acked, stop = [], threading.Event()

        def writer():  # API writes; only the acknowledged ones must survive
            i = 0
            while not stop.is_set():
                body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                                   "metadata": {"name": "w-%d" % i}}).encode()
                req = urllib.request.Request(self.api + "/api/v1/namespaces/default/configmaps",
                                             body, {"Content-Type": "application/json"})
                try:
                    with urllib.request.urlopen(req, timeout=5) as r:
                        if r.status == 201:
                            acked.append("w-%d" % i)
                except (OSError, urllib.error.HTTPError):
                    pass
                i += 1
                time.sleep(0.02)

        w = threading.Thread(target=writer, daemon=True)
        w.start()
        traffic = Traffic(self.cluster_url())
        try:
            for component in ("apiserver", "scheduler", "controller-manager", "kubelet-0",
                              "kubelet-1", "proxy-0", "proxy-1"):
                try:
                    os.kill(self.pid(component), signal.SIGKILL)
                except ProcessLookupError:
                    self.fail("%s was not running:\n%s" % (component, self.logs_tail()))
                r = self.kubepp("restart", component, timeout=60)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                time.sleep(2)
        finally:
            traffic.stop()
            stop.set()
            w.join()
        print("restarts: %d requests to the Service, %d failed; %d API writes acknowledged"
              % (traffic.ok, len(traffic.failures), len(acked)))
        self.assertEqual(traffic.failures, [], "requests failed while components restarted")
        names = {i["metadata"]["name"] for i in
                 self.get("/api/v1/namespaces/default/configmaps")["items"]}
        self.assertEqual([a for a in acked if a not in names], [], "acknowledged writes lost")
        self.assertGreater(len(acked), 50)
        pods = self.wait_ready_replicas(3)
        after = {p["metadata"]["uid"]: p["status"]["containerStatuses"][0]["restartCount"]
                 for p in pods}
        self.assertEqual(after, before, "pods were replaced or restarted")
        status = self.kubepp("status").stdout
        self.assertEqual(status.count("healthy") - status.count("unhealthy"), 7, status)

    def test_09_node_loss_moves_the_pods(self):
        traffic = Traffic(self.cluster_url())
        try:
            os.kill(self.pid("kubelet-1"), signal.SIGKILL)  # for good
            def not_ready():
                node = self.get("/api/v1/nodes/kubepp-node-1")
                return any(c["type"] == "Ready" and c["status"] != "True"
                           for c in node["status"]["conditions"])
            self.wait("kubepp-node-1 NotReady", not_ready, 60)

            def moved():
                pods = self.web_pods()
                return len(pods) == 3 and all(p["spec"]["nodeName"] == "kubepp-node-0" for p in pods)
            self.wait("every web pod on kubepp-node-0", moved, 120)
            time.sleep(2)
        finally:
            traffic.stop()
        print("node loss: %d requests, %d failed" % (traffic.ok, len(traffic.failures)))
        self.assertEqual(traffic.failures, [], "the Service stopped answering")


if __name__ == "__main__":
    unittest.main()
