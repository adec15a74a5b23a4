"""apiserver + kubelet --runtime=runc, as root: real containers from a busybox image the
test builds itself (images/busybox.sh, from Debian's busybox-static), CNI
networking on a bridge of its own in 10.244.x, logs through the apiserver's pods/log (and
with kubectl 1.33 when installed), pod-to-pod traffic, OOM kills, graceful deletion and a
kill -9 of the kubelet that restarts no container.

Skips when not root or when runc, the CNI plugins or busybox-static are missing. Everything
it creates is named with a unique prefix and removed at the end (containers, mounts,
network namespaces, the bridge, cgroups, files)."""
import json
import os
import random
import subprocess
import unittest

import kubelet_harness as kh
from kubelet_harness import harness, wait_for



class RuncKubeletTest(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        reason = kh.missing_prerequisite()
        if reason:
            raise unittest.SkipTest(reason)
        super().setUpClass()
        kh.start_runc_node(cls, "kpe2e-", "kpe", pod_grace=1)


    def create(self, body):
        body["spec"]["nodeName"] = self.node
        self.assertStatus(self.server.post("/api/v1/namespaces/%s/pods" % self.ns, body), 201)

    def status(self, name):
        return self.server.get("/api/v1/namespaces/%s/pods/%s" % (self.ns, name)).json().get("status", {})

    def wait_phase(self, name, phase, timeout=60):
        return wait_for(lambda: self.status(name).get("phase") == phase and self.status(name),
                        timeout=timeout, what="%s %s\n%s" % (name, phase, self.kubelet.log_tail(10)))

    def delete(self, name, grace=None):
        q = "" if grace is None else "?gracePeriodSeconds=%d" % grace
        self.server.delete("/api/v1/namespaces/%s/pods/%s%s" % (self.ns, name, q))
        wait_for(lambda: self.server.get("/api/v1/namespaces/%s/pods/%s" % (self.ns, name)).status == 404,
                 timeout=60, what="%s deleted" % name)

    def test_1_node_ready_with_image(self):
        node = self.server.get("/api/v1/nodes/" + self.node).json()
        ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"][0]
        self.assertEqual(ready["status"], "True", ready)
        self.assertTrue(node["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("runc://"))
        wait_for(lambda: any("docker.io/library/busybox:latest" in i["names"]
                             for i in self.server.get("/api/v1/nodes/" + self.node).json()["status"]["images"]),
                 timeout=30, what="busybox in status.images")

    def test_2_logs_ip_and_pod_to_pod(self):
        self.create(kh.pod("server", command=["sh", "-c", "echo hello-from-runc $(hostname); exec httpd -f -p 80 -h /var/www"]))
        st = self.wait_phase("server", "Running")
        ip = st["podIP"]
        self.assertTrue(ip.startswith(self.cidr_prefix + "."), st)
        self.assertTrue(st["containerStatuses"][0]["containerID"].startswith("runc://"))
        self.assertTrue(st["containerStatuses"][0]["imageID"].startswith("sha256:"))
        # Logs through the apiserver's pods/log, which proxies to this kubelet.
        log = wait_for(lambda: "hello-from-runc" in self.server.get(
            "/api/v1/namespaces/%s/pods/server/log" % self.ns).body.decode() and self.server.get(
            "/api/v1/namespaces/%s/pods/server/log" % self.ns).body.decode(), what="log line")
        self.assertIn("hello-from-runc server", log)
        if os.access(harness.KUBECTL_133, os.X_OK):
            kubectl = harness.Kubectl(harness.KUBECTL_133, self.server.url)
            self.addCleanup(kubectl.cleanup)
            out = kubectl.run("logs", "-n", self.ns, "server")
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertIn("hello-from-runc server", out.stdout)
        # Another pod reaches it by pod IP.
        # (busybox-static's wget crashes without the libc NSS modules: speak HTTP with nc.)
        request = 'printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 5 %s 80' % ip
        self.create(kh.pod("client", command=["sh", "-c", request], restart_policy="Never"))
        self.wait_phase("client", "Succeeded")
        body = self.server.get("/api/v1/namespaces/%s/pods/client/log" % self.ns).body.decode()
        self.assertIn("hello from kubepp busybox", body)
        self.delete("client")

    def test_3_kill_9_and_restart_adopts_containers(self):
        before = self.wait_phase("server", "Running")["containerStatuses"][0]
        self.kubelet.kill()  # SIGKILL
        # What a kill -9 can cut short: a bundle created without its container.json yet,
        # a removal that moved the bundle aside. The restarted kubelet removes both.
        runtime = os.path.join(self.kubelet.root_dir, "runtime")
        unfinished = os.path.join(runtime, "containers", "0" * 32)
        half_removed = os.path.join(runtime, "removing", "1" * 32)
        for d in (unfinished, half_removed):
            os.makedirs(os.path.join(d, "rootfs"))
        self.kubelet.start()
        wait_for(lambda: not os.path.exists(unfinished) and not os.path.exists(half_removed),
                 what="the unfinished bundles removed\n" + self.kubelet.log_tail(10))
        # The kubelet relists, adopts and keeps reporting; nothing restarts.
        after = wait_for(lambda: self.status("server")["containerStatuses"][0], what="status")
        self.assertEqual(after["containerID"], before["containerID"])
        self.assertEqual(after["restartCount"], 0)
        self.assertIn("running", after["state"])

    def sandbox_netns(self, name):
        """The network namespace path of pod `name`'s newest ready sandbox."""
        d = os.path.join(self.kubelet.root_dir, "runtime", "sandboxes")
        found = []
        for f in os.listdir(d):
            if f.endswith(".json"):
                with open(os.path.join(d, f)) as fh:
                    s = json.load(fh)
                if s.get("name") == name and s.get("ready"):
                    found.append((s["createdAt"], s["netns"]))
        return max(found)[1]

    def test_3b_kubelet_losing_its_mounts_repins_the_pod_network(self):
        # What a restarted kubelet container sees (docker-compose): the sandbox's pinned
        # network namespace is an empty file, the pod still runs. It is pinned again from
        # the pod's process; the pod keeps running and serving on its address.
        st = self.wait_phase("server", "Running")
        before = st["containerStatuses"][0]
        netns = self.sandbox_netns("server")
        self.kubelet.kill()
        subprocess.run(["umount", netns], check=True)
        self.assertNotEqual(subprocess.run(["mountpoint", "-q", netns]).returncode, 0)
        self.kubelet.start()
        wait_for(lambda: subprocess.run(["mountpoint", "-q", netns]).returncode == 0,
                 what="the namespace pinned again\n" + self.kubelet.log_tail(10))
        after = wait_for(lambda: self.status("server")["containerStatuses"][0], what="status")
        self.assertEqual(after["containerID"], before["containerID"])
        self.assertEqual(after["restartCount"], 0)
        request = 'printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 5 %s 80' % st["podIP"]
        self.create(kh.pod("client-3b", command=["sh", "-c", request], restart_policy="Never"))
        self.wait_phase("client-3b", "Succeeded")
        self.delete("client-3b")

    def test_3c_pod_whose_network_namespace_is_gone_gets_a_new_sandbox(self):
        # As after a reboot: the pod's processes and its namespace are gone, the state files
        # say ready. The kubelet gives the pod a new sandbox and runs it again.
        self.create(kh.pod("phoenix", command=["sh", "-c", "exec httpd -f -p 80 -h /var/www"]))
        st = self.wait_phase("phoenix", "Running")
        netns = self.sandbox_netns("phoenix")
        self.kubelet.kill()
        cid = st["containerStatuses"][0]["containerID"].split("//")[1]
        runc_root = os.path.join(self.kubelet.root_dir, "runtime", "runc")
        subprocess.run(["runc", "--root", runc_root, "kill", cid, "KILL"], capture_output=True)
        subprocess.run(["umount", netns], check=True)
        self.kubelet.start()
        again = wait_for(lambda: (lambda s: s.get("phase") == "Running" and
                                  s["containerStatuses"][0].get("ready") and
                                  s["containerStatuses"][0]["restartCount"] >= 1 and s)(self.status("phoenix")),
                         timeout=60, what="phoenix running again\n" + self.kubelet.log_tail(10))
        self.assertNotEqual(self.sandbox_netns("phoenix"), netns)
        self.assertEqual(subprocess.run(["mountpoint", "-q", self.sandbox_netns("phoenix")]).returncode, 0)
        self.delete("phoenix")

    def test_4_memory_limit_oom_killed(self):
        body = kh.pod("hog", command=["sh", "-c", "x=a; while true; do x=$x$x; done"], restart_policy="Never")
        body["spec"]["containers"][0]["resources"] = {"limits": {"memory": "16Mi"}}
        self.create(body)
        st = self.wait_phase("hog", "Failed")
        term = st["containerStatuses"][0]["state"]["terminated"]
        self.assertEqual(term["reason"], "OOMKilled", term)
        self.assertEqual(term["exitCode"], 137)
        self.delete("hog")

    def test_4b_crash_loop_and_previous_logs(self):
        self.create(kh.pod("crasher", command=["sh", "-c", "echo attempt-output; exit 3"]))

        def backing_off():
            for cs in self.status("crasher").get("containerStatuses", []):
                if cs["state"].get("waiting", {}).get("reason") == "CrashLoopBackOff":
                    return cs
            return None
        cs = wait_for(backing_off, what="CrashLoopBackOff")
        self.assertGreaterEqual(cs["restartCount"], 1)
        self.assertEqual(cs["lastState"]["terminated"]["exitCode"], 3)
        self.assertEqual(cs["lastState"]["terminated"]["reason"], "Error")
        r = self.server.get("/api/v1/namespaces/%s/pods/crasher/log?previous=true" % self.ns)
        self.assertEqual(r.status, 200, r)
        self.assertIn("attempt-output", r.body.decode())
        self.delete("crasher")

    def test_5_graceful_delete_and_cleanup(self):
        self.create(kh.pod("graceful", command=["sh", "-c", "trap 'echo got TERM; exit 0' TERM; while true; do sleep 0.2; done"]))
        st = self.wait_phase("graceful", "Running")
        self.delete("graceful", grace=20)
        self.delete("server", grace=2)
        # Nothing of the two pods is left on the node.
        runtime = os.path.join(self.kubelet.root_dir, "runtime")
        for d in ("containers", "removing", "sandboxes"):
            wait_for(lambda: not os.listdir(os.path.join(runtime, d)),
                     what=lambda: "%s removed: %s\n%s" % (d, os.listdir(os.path.join(runtime, d)),
                                                           self.kubelet.log_tail(30)))
        out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        ips = os.listdir(os.path.join(self.kubelet.root_dir, "cni", "networks", "kubepp-" + self.bridge))
        self.assertFalse([f for f in ips if f.startswith(self.cidr_prefix)], ips)
        self.assertNotIn(st["podIP"], out)


class TwoRuncNodesTest(harness.ServerTestCase):
    """Two kubelets on one host, as the local cluster runs them: distinct names, root dirs,
    ports, bridges and pod CIDRs; a pod on one node reaches a pod on the other."""

    @classmethod
    def setUpClass(cls):
        reason = kh.missing_prerequisite()
        if reason:
            raise unittest.SkipTest(reason)
        super().setUpClass()
        third = random.randint(100, 248)
        cls.nodes = []
        for i in range(2):
            suffix = harness.unique("x")[2:]
            node, bridge = "kpe2e-%d-%s" % (i, suffix), "kpe%d%s" % (i, suffix[:7])
            kubelet = kh.Kubelet(cls.server.url, node, [
                "--runtime", "runc", "--pod-cidr", "10.244.%d.0/24" % (third + i), "--cni-bridge", bridge,
                "--cni-conf-dir", "/nonexistent-kubepp-e2e"])
            cls.addClassCleanup(kubelet.remove_files)
            cls.addClassCleanup(kh.cleanup_node, kubelet.root_dir, node, bridge)
            cls.addClassCleanup(kubelet.kill)
            images = os.path.join(kubelet.root_dir, "images-import")
            os.makedirs(images)
            subprocess.run([kh.BUILD_BUSYBOX, os.path.join(images, "busybox.tar")], check=True, capture_output=True)
            kubelet.start()
            cls.nodes.append((node, kubelet, "10.244.%d." % (third + i), bridge))
        cls.ns = cls.server.create_namespace()

    def status(self, name):
        return self.server.get("/api/v1/namespaces/%s/pods/%s" % (self.ns, name)).json().get("status", {})

    def test_pod_to_pod_across_nodes(self):
        (node_a, _, prefix_a, _), (node_b, _, prefix_b, _) = self.nodes
        srv = kh.pod("srv", command=["httpd", "-f", "-p", "80", "-h", "/var/www"], node=node_a)
        self.assertEqual(self.server.post("/api/v1/namespaces/%s/pods" % self.ns, srv).status, 201)
        st = wait_for(lambda: self.status("srv").get("phase") == "Running" and self.status("srv"), what="srv")
        self.assertTrue(st["podIP"].startswith(prefix_a), st)
        request = 'printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 5 %s 80' % st["podIP"]
        cli = kh.pod("cli", command=["sh", "-c", request], restart_policy="Never", node=node_b)
        self.assertEqual(self.server.post("/api/v1/namespaces/%s/pods" % self.ns, cli).status, 201)
        st = wait_for(lambda: self.status("cli").get("phase") in ("Succeeded", "Failed") and self.status("cli"),
                      what="cli done")
        self.assertTrue(st["podIP"].startswith(prefix_b), st)
        self.assertEqual(st["phase"], "Succeeded", st)
        log = self.server.get("/api/v1/namespaces/%s/pods/cli/log" % self.ns).body.decode()
        self.assertIn("hello from kubepp busybox", log)
        # The traffic crossed FORWARD (Docker's policy: DROP) through each node's rules for
        # its pod CIDR, put in place once per node instead of per pod.
        for _, _, prefix, bridge in self.nodes:
            cidr = prefix + "0/24"
            fwd = subprocess.run(["iptables", "-w", "5", "-S", "KUBEPP-FWD-" + bridge],
                                 capture_output=True, text=True)
            self.assertIn("-s %s -j ACCEPT" % cidr, fwd.stdout, fwd.stderr)
            masq = subprocess.run(["iptables", "-w", "5", "-t", "nat", "-S", "KUBEPP-MASQ-" + bridge],
                                  capture_output=True, text=True)
            self.assertIn("! -s %s -j RETURN" % cidr, masq.stdout, masq.stderr)
            self.assertIn("-j MASQUERADE", masq.stdout)
        for name in ("srv", "cli"):
            self.server.delete("/api/v1/namespaces/%s/pods/%s?gracePeriodSeconds=0" % (self.ns, name))
        wait_for(lambda: not self.server.get("/api/v1/namespaces/%s/pods" % self.ns).json()["items"],
                 what="pods deleted")


if __name__ == "__main__":
    unittest.main()
