"""Service account tokens in real containers: an apiserver with --secure-port, a
controller-manager on its admin kubeconfig (it makes the `default` ServiceAccount and
publishes kube-root-ca.crt from the kubeconfig's CA), and kubelet --runtime=runc. A pod
reads /var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt,namespace}; the token
authenticates on the secure port as the pod's account, bound to the pod, and stops when
the pod is gone. A pod of a missing account waits in ContainerCreating with the reason
and starts once the account exists.

Skips like test_kubelet_runc.py when not root or when runc, the CNI plugins or
busybox-static are missing. Everything it creates is named with a unique prefix and
removed at the end."""
import json
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import unittest
import urllib.error
import urllib.request

import kubelet_harness as kh
from kubelet_harness import harness, wait_for
from kubelet_harness import missing_prerequisite

CONTROLLER_MANAGER = os.path.join(os.path.dirname(kh.KUBELET), "controller-manager")
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
READER = ("echo namespace=$(cat %s/namespace); echo token=$(cat %s/token); "
          "echo ca-begin; cat %s/ca.crt; echo ca-end; sleep 3600" % (SA_DIR, SA_DIR, SA_DIR))


class RuncServiceAccountTest(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        reason = missing_prerequisite()
        if reason:
            raise unittest.SkipTest(reason)
        if not os.access(CONTROLLER_MANAGER, os.X_OK):
            raise unittest.SkipTest("no controller-manager binary at %s" % CONTROLLER_MANAGER)
        cls.secure_port = harness.free_port()
        cls.server_args = ["--secure-port", str(cls.secure_port)]
        super().setUpClass()
        pki = os.path.join(cls.server.data_dir, "pki")
        cls.ca = os.path.join(pki, "ca.crt")
        # The controller-manager, over HTTPS with the admin kubeconfig.
        cls.cm_tmp = tempfile.mkdtemp(prefix="kubepp-sa-cm-")
        cls.addClassCleanup(shutil.rmtree, cls.cm_tmp, True)
        cls.cm_log = os.path.join(cls.cm_tmp, "controller-manager.log")
        with open(cls.cm_log, "ab") as log:
            cls.cm = subprocess.Popen(
                [CONTROLLER_MANAGER, "--kubeconfig", os.path.join(pki, "admin.kubeconfig"),
                 "--port", "0", "--leader-elect=false",
                 "--controllers", "serviceaccount,root-ca-cert-publisher"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        cls.addClassCleanup(harness.kill_process, cls.cm, signal.SIGTERM)
        kh.start_runc_node(cls, "kpsa-", "kps")


    def path(self, resource, name=""):
        return "/api/v1/namespaces/%s/%s%s" % (self.ns, resource, "/" + name if name else "")

    def create_pod(self, body):
        body["spec"]["nodeName"] = self.node
        r = self.server.post(self.path("pods"), body)
        self.assertStatus(r, 201)
        return r.json()

    def log(self, name):
        r = self.server.get(self.path("pods", name) + "/log")
        return r.body.decode(errors="replace") if r.status == 200 else ""

    def whoami(self, token):
        req = urllib.request.Request(
            "https://127.0.0.1:%d/apis/authentication.k8s.io/v1/selfsubjectreviews" % self.secure_port,
            data=b"{}", headers={"Content-Type": "application/json", "Authorization": "Bearer " + token})
        ctx = ssl.create_default_context(cafile=self.ca)
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=20) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def test_1_pod_reads_its_token_ca_and_namespace(self):
        # The controller-manager's work: the account and the CA ConfigMap.
        wait_for(lambda: self.server.get(self.path("serviceaccounts", "default")).status == 200,
                 what="the default ServiceAccount")
        cm = wait_for(lambda: self.server.get(self.path("configmaps", "kube-root-ca.crt")).status == 200
                      and self.server.get(self.path("configmaps", "kube-root-ca.crt")).json(),
                      what="kube-root-ca.crt")
        with open(self.ca) as f:
            ca_pem = f.read()
        self.assertEqual(cm["data"], {"ca.crt": ca_pem})

        pod = self.create_pod(kh.pod("reader", command=["sh", "-c", READER]))
        log = wait_for(lambda: "ca-end" in self.log("reader") and self.log("reader"), timeout=60,
                       what=lambda: "the reader's output\n" + self.log("reader") + self.kubelet.log_tail(15))
        self.assertIn("namespace=%s\n" % self.ns, log)
        self.assertEqual(log.split("ca-begin\n")[1].split("ca-end")[0], ca_pem)
        token = log.split("token=")[1].split("\n")[0]
        code, body = self.whoami(token)
        self.assertEqual(code, 201, body)
        info = body["status"]["userInfo"]
        self.assertEqual(info["username"], "system:serviceaccount:%s:default" % self.ns)
        self.assertEqual(info["extra"]["authentication.kubernetes.io/pod-name"], ["reader"])
        self.assertEqual(info["extra"]["authentication.kubernetes.io/pod-uid"], [pod["metadata"]["uid"]])
        # On the node: the projected volume, token file 0644 as upstream's defaultMode.
        vol = [v["name"] for v in pod["spec"]["volumes"] if v["name"].startswith("kube-api-access-")][0]
        d = os.path.join(self.kubelet.root_dir, "pods", pod["metadata"]["uid"], "volumes",
                         "kubernetes.io~projected", vol)
        self.assertEqual(sorted(os.listdir(os.path.join(d, "..data"))), ["ca.crt", "namespace", "token"])

        # The pod goes: its token with it.
        self.server.delete(self.path("pods", "reader") + "?gracePeriodSeconds=0")
        wait_for(lambda: self.server.get(self.path("pods", "reader")).status == 404, timeout=60,
                 what="reader deleted")
        code, body = self.whoami(token)
        self.assertEqual(code, 401, body)

    def test_2_missing_account_waits_then_starts(self):
        body = kh.pod("ghostly", command=["sh", "-c", "cat %s/namespace; sleep 3600" % SA_DIR],
                      serviceAccountName="ghost")
        pod = self.create_pod(body)
        vol = [v["name"] for v in pod["spec"]["volumes"] if v["name"].startswith("kube-api-access-")][0]

        def waiting():
            cs = self.server.get(self.path("pods", "ghostly")).json().get("status", {}).get("containerStatuses", [])
            return cs and cs[0]["state"].get("waiting", {}).get("message") and cs[0]["state"]["waiting"]
        w = wait_for(waiting, what="waiting with a message")
        self.assertEqual(w["reason"], "ContainerCreating", w)
        self.assertEqual(w["message"], 'MountVolume.SetUp failed for volume "%s" : failed to fetch '
                                       'token: serviceaccounts "ghost" not found' % vol)
        wait_for(lambda: any(e["reason"] == "FailedMount" and e["involvedObject"]["name"] == "ghostly"
                             for e in self.server.get(self.path("events")).json()["items"]),
                 what="a FailedMount event")
        r = self.server.post(self.path("serviceaccounts"), {
            "apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "ghost"}})
        self.assertStatus(r, 201)
        wait_for(lambda: self.server.get(self.path("pods", "ghostly")).json()["status"].get("phase") == "Running",
                 timeout=60, what="ghostly Running")
        wait_for(lambda: self.ns in self.log("ghostly"), what="the namespace file")


if __name__ == "__main__":
    unittest.main()
