"""apiserver + kubelet --runtime=runc, as root: configMap, secret, downwardAPI and projected
volumes in real containers (the busybox image the test builds itself), their updates
reaching running containers, a pod waiting for a missing ConfigMap, and the service
environment variables.

Skips like test_kubelet_runc.py when not root or when runc, the CNI plugins or
busybox-static are missing. Everything it creates is named with a unique prefix and
removed at the end (containers, mounts, network namespaces, the bridge, cgroups, files)."""
import base64
import os
import stat
import time
import unittest

import kubelet_harness as kh
from kubelet_harness import harness, wait_for
from kubelet_harness import missing_prerequisite

# Prints what the pod sees once, then the files that change every 0.3 s.
READER = r"""
echo "secret=$(cat /etc/sec/password)"
echo "subpath=$(cat /etc/one-greeting)"
echo "projected=$(cat /etc/proj/g.txt)/$(cat /etc/proj/creds/p.txt)/$(cat /etc/proj/name)"
env | grep -E '^(MY_WEB|KUBERNETES|OWN)_' | sort | sed 's/^/env /'
if touch /etc/cfg/x 2>/dev/null; then echo "cfg-writable"; else echo "cfg-read-only"; fi
while true; do
  echo "greeting=$(cat /etc/cfg/greeting) env=$GREETING_ENV labels=$(tr '\n' ',' </etc/info/labels)"
  sleep 0.3
done
"""


class RuncVolumesTest(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        reason = missing_prerequisite()
        if reason:
            raise unittest.SkipTest(reason)
        super().setUpClass()
        kh.start_runc_node(cls, "kpv2e-", "kpv")


    def path(self, resource, name=""):
        return "/api/v1/namespaces/%s/%s%s" % (self.ns, resource, "/" + name if name else "")

    def create(self, resource, body):
        if resource == "pods":
            body["spec"]["nodeName"] = self.node
        r = self.server.post(self.path(resource), body)
        self.assertStatus(r, 201)
        return r.json()

    def status(self, name):
        return self.server.get(self.path("pods", name)).json().get("status", {})

    def log(self, name):
        r = self.server.get(self.path("pods", name) + "/log")
        return r.body.decode(errors="replace") if r.status == 200 else ""

    def wait_log(self, name, text, timeout=30):
        return wait_for(lambda: text in self.log(name) and self.log(name), timeout=timeout,
                        what=lambda: "%r in the log of %s:\n%s\n%s" % (
                            text, name, self.log(name)[-2000:], self.kubelet.log_tail(10)))

    def test_1_volumes_env_and_updates(self):
        svc = self.create("services", {
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": "my-web"},
            "spec": {"selector": {"app": "none"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}})
        ip = svc["spec"]["clusterIP"]
        self.assertTrue(ip, svc)
        self.create("configmaps", harness.configmap("app-config", {"greeting": "hello-v1"}))
        self.create("secrets", {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "app-secret"},
                                "data": {"password": base64.b64encode(b"s3cret").decode()}})
        body = kh.pod("reader", command=["sh", "-c", READER])
        body["metadata"]["labels"] = {"app": "reader"}
        c = body["spec"]["containers"][0]
        c["env"] = [{"name": "GREETING_ENV", "valueFrom": {"configMapKeyRef": {"name": "app-config", "key": "greeting"}}},
                    {"name": "OWN_URL", "value": "http://$(MY_WEB_SERVICE_HOST):$(MY_WEB_SERVICE_PORT)"},
                    {"name": "MY_WEB_SERVICE_PORT_HTTP", "value": "explicit-wins"}]
        c["volumeMounts"] = [
            {"name": "cfg", "mountPath": "/etc/cfg"},
            {"name": "cfg", "mountPath": "/etc/one-greeting", "subPath": "greeting"},
            {"name": "sec", "mountPath": "/etc/sec"},
            {"name": "info", "mountPath": "/etc/info"},
            {"name": "proj", "mountPath": "/etc/proj"},
        ]
        body["spec"]["volumes"] = [
            {"name": "cfg", "configMap": {"name": "app-config"}},
            {"name": "sec", "secret": {"secretName": "app-secret", "defaultMode": 0o400}},
            {"name": "info", "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
            {"name": "proj", "projected": {"sources": [
                {"configMap": {"name": "app-config", "items": [{"key": "greeting", "path": "g.txt"}]}},
                {"secret": {"name": "app-secret", "items": [{"key": "password", "path": "creds/p.txt"}]}},
                {"downwardAPI": {"items": [{"path": "name", "fieldRef": {"fieldPath": "metadata.name"}}]}}]}},
        ]
        self.create("pods", body)
        log = self.wait_log("reader", "greeting=hello-v1")
        self.assertIn("secret=s3cret", log)
        self.assertIn("subpath=hello-v1", log)
        self.assertIn("projected=hello-v1/s3cret/reader", log)
        self.assertIn("cfg-read-only", log)
        self.assertIn('labels=app="reader"\n', log)
        self.assertIn("env=hello-v1", log)
        # Service variables, exactly as upstream's names and values; explicit env wins.
        for line in ("env MY_WEB_SERVICE_HOST=%s" % ip, "env MY_WEB_SERVICE_PORT=80",
                     "env MY_WEB_SERVICE_PORT_HTTP=explicit-wins", "env MY_WEB_PORT=tcp://%s:80" % ip,
                     "env MY_WEB_PORT_80_TCP=tcp://%s:80" % ip, "env MY_WEB_PORT_80_TCP_PROTO=tcp",
                     "env MY_WEB_PORT_80_TCP_PORT=80", "env MY_WEB_PORT_80_TCP_ADDR=%s" % ip,
                     "env OWN_URL=http://%s:80" % ip):
            self.assertIn(line + "\n", log)
        # On the node: upstream's layout, a secret file with its mode.
        uid = self.server.get(self.path("pods", "reader")).json()["metadata"]["uid"]
        vol = os.path.join(self.kubelet.root_dir, "pods", uid, "volumes", "kubernetes.io~secret", "sec")
        self.assertEqual(os.readlink(os.path.join(vol, "password")), "..data/password")
        self.assertTrue(os.readlink(os.path.join(vol, "..data")).startswith("..20"))
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(vol, "password")).st_mode), 0o400)

        # The ConfigMap changes: the running container's file follows within seconds
        # (the env var keeps its value, as upstream); the container is not restarted.
        cm = self.server.get(self.path("configmaps", "app-config")).json()
        cm["data"]["greeting"] = "hello-v2"
        self.assertStatus(self.server.put(self.path("configmaps", "app-config"), cm), 200)
        start = time.monotonic()
        log = self.wait_log("reader", "greeting=hello-v2", timeout=20)
        print("\nconfigMap update seen in the container after %.1f s" % (time.monotonic() - start))
        self.assertIn("greeting=hello-v2 env=hello-v1", log)
        # The pod's labels change: the downwardAPI file follows.
        r = self.server.patch(self.path("pods", "reader"), {"metadata": {"labels": {"phase": "two"}}})
        self.assertStatus(r, 200)
        self.wait_log("reader", 'phase="two"', timeout=20)
        self.assertEqual(self.status("reader")["containerStatuses"][0]["restartCount"], 0)

    def test_2_missing_configmap_waits_then_starts(self):
        body = kh.pod("waiter", command=["sh", "-c", "cat /etc/late/k; sleep 3600"])
        body["spec"]["containers"][0]["volumeMounts"] = [{"name": "late", "mountPath": "/etc/late"}]
        body["spec"]["volumes"] = [{"name": "late", "configMap": {"name": "late-config"}},
                                   {"name": "opt", "secret": {"secretName": "never", "optional": True}}]
        self.create("pods", body)

        def waiting():
            cs = self.status("waiter").get("containerStatuses", [])
            return cs and cs[0]["state"].get("waiting", {}).get("message") and cs[0]["state"]["waiting"]
        w = wait_for(waiting, what="waiting with a message")
        self.assertEqual(w["reason"], "ContainerCreating", w)
        self.assertEqual(w["message"], 'MountVolume.SetUp failed for volume "late" : configmap "late-config" not found')
        self.assertEqual(self.status("waiter")["phase"], "Pending")
        wait_for(lambda: any(e["reason"] == "FailedMount" and e["involvedObject"]["name"] == "waiter"
                             for e in self.server.get(self.path("events")).json()["items"]),
                 what="a FailedMount event")
        self.create("configmaps", harness.configmap("late-config", {"k": "arrived"}))
        wait_for(lambda: self.status("waiter").get("phase") == "Running", timeout=30, what="waiter Running")
        self.wait_log("waiter", "arrived")


if __name__ == "__main__":
    unittest.main()
