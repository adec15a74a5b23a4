"""The docker-compose cluster on the real Docker engine: the control plane in containers."""
import os
import shutil
import subprocess
import time
import unittest

from harness import Kubectl, KUBECTL_133, free_port, unique

IMAGE_TAR = os.environ.get("KUBEPP_IMAGE_TAR", "")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def docker_ok():
    if not shutil.which("docker") or not shutil.which("docker-compose"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True).returncode == 0


@unittest.skipUnless(docker_ok(), "no Docker engine or docker-compose here")
class ComposeTest(unittest.TestCase):
    def setUp(self):
        self.assertTrue(os.path.exists(IMAGE_TAR), "no image tarball at %r" % IMAGE_TAR)
        had_image = subprocess.run(["docker", "image", "inspect", "kubepp/kubepp:dev"],
                                   capture_output=True).returncode == 0
        load = subprocess.run(["docker", "load", "-i", IMAGE_TAR], capture_output=True, text=True)
        self.assertEqual(load.returncode, 0, load.stderr)
        if not had_image:
            self.addCleanup(subprocess.run, ["docker", "rmi", "-f", "kubepp/kubepp:dev"],
                            capture_output=True)
        self.project = unique("kubepp-e2e").replace("-", "")
        self.port = free_port()
        self.env = dict(os.environ, KUBEPP_PORT=str(self.port))
        self.addCleanup(self.compose, "down", "-v", "--remove-orphans")
        self.kubectl = Kubectl(KUBECTL_133, "http://127.0.0.1:%d" % self.port)
        self.addCleanup(self.kubectl.cleanup)

    def compose(self, *args):
        return subprocess.run(["docker-compose", "-p", self.project, "-f",
                               os.path.join(ROOT, "docker-compose.yml"), *args],
                              env=self.env, capture_output=True, text=True, timeout=120)

    def wait(self, what, fn, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            out = fn()
            if out:
                return out
            if time.monotonic() > deadline:
                self.fail("timed out waiting for " + what)
            time.sleep(0.3)

    def test_control_plane_in_containers(self):
        up = self.compose("up", "-d")
        self.assertEqual(up.returncode, 0, up.stderr)
        self.wait("the apiserver", lambda: self.kubectl.run("get", "ns").returncode == 0)
        leases = lambda: self.kubectl.run("get", "lease", "-n", "kube-system", "-o", "name").stdout
        self.wait("both leaders", lambda: "kube-scheduler" in leases() and
                  "kube-controller-manager" in leases())
        r = self.kubectl.run("create", "deployment", "web", "--image=busybox", "--replicas=2")
        self.assertEqual(r.returncode, 0, r.stderr)
        pods = lambda: self.kubectl.run("get", "pods", "-l", "app=web", "-o", "name").stdout.split()
        self.wait("the deployment's pods", lambda: len(pods()) == 2)
        # The data outlives the apiserver's container.
        self.assertEqual(self.compose("restart", "apiserver").returncode, 0)
        self.wait("the restarted apiserver",
                  lambda: self.kubectl.run("get", "deployment", "web").returncode == 0)


if __name__ == "__main__":
    unittest.main()
