"""The docker-compose cluster on the real Docker engine: the kubepp image (Dockerfile, on
debian:bookworm made by docker/base-images.sh), the control plane and two nodes as
containers over TLS; kubectl on the host deploys an app that serves across both nodes, a
Service, cluster DNS and an Ingress; each service restarted in turn, kubelets included,
restarts no pod; `down -v` leaves no container, volume or cgroup behind."""
import json
import os
import shutil
import subprocess
import sys
import time
import unittest
import urllib.request

from harness import Kubectl, KUBECTL_133, free_port, unique

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGE = "kubepp/kubepp:dev"

APP = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 4
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule,
         labelSelector: {matchLabels: {app: web}}}
      containers:
      - name: web
        image: kubepp/testserver:1.0
        args: [serve-hostname, --port, "80"]
        ports: [{name: http, containerPort: 80}]
        readinessProbe: {httpGet: {path: /healthz, port: http}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  rules:
  - host: web.example
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
"""

# A pod that finds the Service by its short name through cluster DNS, from node-2.
CLIENT = """
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  nodeName: node-2
  restartPolicy: Never
  containers:
  - name: client
    image: busybox:1.36
    command: [sh, -c, "for i in 1 2 3 4 5 6 7 8; do wget -qO- http://web/ && echo; done"]
"""


def docker_engine():
    """None when the compose test can run here, else why not."""
    for tool in ("docker", "docker-compose"):
        if not shutil.which(tool):
            return "no %s command" % tool
    info = subprocess.run(["docker", "info"], capture_output=True, text=True)
    if info.returncode != 0:
        return "no Docker engine answers: " + (info.stderr.strip().splitlines() or ["?"])[-1]
    if os.geteuid() != 0:
        return "not root (the node containers are privileged)"
    return None


def http_get(url, host=None, timeout=5):
    req = urllib.request.Request(url, headers={"Host": host} if host else {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read().decode()


def build_image():
    """The base images (debootstrap) and the kubepp image, unless `kubepp test` just did."""
    if os.environ.get("KUBEPP_COMPOSE_IMAGE_BUILT") == "1":
        return
    for argv in ([os.path.join(ROOT, "docker", "base-images.sh")],
                 ["docker", "build", "--network", "host", "-q", "-t", IMAGE, ROOT]):
        r = subprocess.run(argv, capture_output=True, text=True, timeout=1800)
        if r.returncode != 0:
            raise RuntimeError("%s failed:\n%s%s" % (" ".join(argv), r.stdout, r.stderr[-4000:]))


SKIP = docker_engine()


@unittest.skipIf(SKIP, "compose e2e skipped: %s" % SKIP)
class ComposeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        build_image()
        cls.project = unique("kppcompose").replace("-", "")
        cls.port, cls.ingress_port = free_port(), free_port()
        cls.env = dict(os.environ, KUBEPP_PORT=str(cls.port), KUBEPP_INGRESS_PORT=str(cls.ingress_port))
        cls.containers = []
        up = cls.compose("up", "-d", timeout=300)
        if up.returncode != 0:
            cls.tearDownClass()
            raise RuntimeError("docker-compose up failed:\n" + up.stdout + up.stderr)
        cls.containers = cls.compose("ps", "-q").stdout.split()
        kc = cls.compose("exec", "-T", "apiserver", "/usr/local/lib/kubepp/entrypoint.sh", "kubeconfig",
                         timeout=330)
        if kc.returncode != 0:
            cls.tearDownClass()
            raise RuntimeError("no admin kubeconfig:\n" + kc.stderr + cls.logs())
        cls.kubectl = Kubectl(KUBECTL_133, "https://127.0.0.1:%d" % cls.port)
        with open(cls.kubectl.kubeconfig, "w") as f:
            f.write(kc.stdout)

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "kubectl", None):
            cls.kubectl.cleanup()
        down = cls.compose("down", "-v", "--remove-orphans", "-t", "20", timeout=300)
        if down.returncode != 0:
            print("docker-compose down failed:\n" + down.stdout + down.stderr, file=sys.stderr)
        left = subprocess.run(["docker", "ps", "-aq", "--filter", "label=com.docker.compose.project=" + cls.project],
                              capture_output=True, text=True).stdout.split()
        vols = subprocess.run(["docker", "volume", "ls", "-q", "--filter",
                               "label=com.docker.compose.project=" + cls.project],
                              capture_output=True, text=True).stdout.split()
        # Nor cgroups: the kubelets remove their pods' runc containers when stopped.
        import glob
        for cid in cls.containers:
            vols += glob.glob("/sys/fs/cgroup/*/docker/%s*" % cid)
        # `down -v` leaves nothing of the project behind (an error of the class if it does).
        if left or vols:
            raise AssertionError("left after docker-compose down -v: %s" % (left + vols))

    @classmethod
    def compose(cls, *args, timeout=180):
        return subprocess.run(["docker-compose", "-p", cls.project, "-f", os.path.join(ROOT, "docker-compose.yml"),
                               *args], env=cls.env, capture_output=True, text=True, timeout=timeout)

    @classmethod
    def logs(cls):
        out = cls.compose("logs", "--no-color", "--tail", "15").stdout
        return "\n" + out[-6000:]

    def k(self, *args, input=None, ok=True):
        r = self.kubectl.run(*args, input=input, timeout=120)
        if ok:
            self.assertEqual(r.returncode, 0, "kubectl %s:\n%s%s" % (" ".join(args), r.stdout, r.stderr))
        return r

    def kj(self, *args):
        return json.loads(self.k(*args, "-o", "json").stdout)

    def wait(self, what, predicate, timeout=120):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = predicate()
                if last:
                    return last
            except (OSError, KeyError, ValueError, AssertionError) as e:
                last = e
            time.sleep(0.5)
        self.fail("timed out waiting for %s (last: %r)%s" % (what, last, self.logs()))

    def ready_nodes(self):
        nodes = self.kj("get", "nodes")["items"]
        return sorted(n["metadata"]["name"] for n in nodes
                      if any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"]["conditions"]))

    def web_pods(self):
        pods = self.kj("get", "pods", "-l", "app=web")["items"]
        return [p for p in pods if "deletionTimestamp" not in p["metadata"] and
                any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))]

    def node_ip(self, name):
        node = self.kj("get", "node", name)
        return [a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP"][0]

    def answers(self, url, n=40, host=None):
        """The distinct bodies of n requests (each a new connection)."""
        seen = set()
        for _ in range(n):
            status, body = http_get(url, host)
            self.assertEqual(status, 200)
            seen.add(body.strip())
        return seen

    def test_cluster_in_containers(self):
        # 1. Both nodes join over TLS with their own identities; kubectl on the host.
        self.wait("two Ready nodes", lambda: self.ready_nodes() == ["node-1", "node-2"], timeout=180)

        # 2. The app spreads over both nodes, each pod on its own IP.
        self.k("apply", "-f", "-", input=APP)
        pods = self.wait("4 ready web pods", lambda: len(self.web_pods()) == 4 and self.web_pods(), timeout=180)
        self.assertEqual({p["spec"]["nodeName"] for p in pods}, {"node-1", "node-2"})
        self.assertEqual(len({p["status"]["podIP"] for p in pods}), 4)
        names = {p["metadata"]["name"] for p in pods}

        # 3. The NodePort of either node reaches every replica, those of the other node too
        #    (pod routes between the node containers).
        node_port = self.kj("get", "service", "web")["spec"]["ports"][0]["nodePort"]
        for node in ("node-1", "node-2"):
            url = "http://%s:%d/" % (self.node_ip(node), node_port)
            self.wait("every replica through %s's NodePort" % node,
                      lambda: self.answers(url) == names, timeout=60)

        # 4. Cluster DNS and the ClusterIP from a pod on node-2.
        self.k("apply", "-f", "-", input=CLIENT)
        self.wait("the client pod to finish",
                  lambda: self.kj("get", "pod", "client")["status"].get("phase") in ("Succeeded", "Failed"))
        out = self.k("logs", "client").stdout.split()
        self.assertEqual(self.kj("get", "pod", "client")["status"]["phase"], "Succeeded", out)
        self.assertTrue(set(out) <= names and len(out) == 8, out)

        # 5. The Ingress on node-1, published on the host's loopback.
        ingress = "http://127.0.0.1:%d/" % self.ingress_port
        self.wait("the Ingress", lambda: http_get(ingress, "web.example")[1].strip() in names)

        # 6. Each service restarted in turn, the kubelets and proxies too: no pod restarted
        #    or replaced (they live in node-N's namespaces), the app answers after each,
        #    API writes work after each.
        before = {p["metadata"]["uid"]: p["status"]["containerStatuses"][0]["restartCount"] for p in pods}
        url = "http://%s:%d/" % (self.node_ip("node-1"), node_port)
        services = ["apiserver", "scheduler", "controller-manager", "kubelet-1", "kubelet-2", "proxy-1", "proxy-2"]
        for i, service in enumerate(services):
            r = self.compose("restart", "-t", "10", service)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.wait("the API after restarting " + service,
                      lambda: self.k("create", "configmap", "after-%d" % i, ok=False).returncode == 0)
            self.wait("every replica answering after restarting " + service,
                      lambda: self.answers(url, n=30) == names, timeout=60)
        self.wait("both nodes Ready", lambda: self.ready_nodes() == ["node-1", "node-2"])
        self.assertEqual(len(self.k("get", "configmap", "-o", "name").stdout.split("after-")) - 1,
                         len(services))
        after = {p["metadata"]["uid"]: p["status"]["containerStatuses"][0]["restartCount"]
                 for p in self.web_pods()}
        self.assertEqual(after, before, "pods restarted or replaced by the restarts")


if __name__ == "__main__":
    unittest.main()
