"""The kubelet API's TLS, authentication and authorization, with an apiserver that has
its generated PKI (--secure-port) and a fake-runtime kubelet as a cluster runs them:

- the kubelet serves HTTPS only, with a certificate from the cluster CA
  (--tls-cert-file), which the apiserver verifies (--kubelet-certificate-authority);
  a kubelet without one makes a self-signed certificate once and keeps it;
- the apiserver calls it with its generated kubelet client certificate
  (kube-apiserver-kubelet-client, system:masters): `kubectl logs` works;
- plain HTTP and anonymous requests are refused; client certificates (--client-ca-file)
  and bearer tokens (--authentication-token-webhook, TokenReview) authenticate; every
  request is authorized by a SubjectAccessReview (Webhook, the default with a
  kubeconfig): 403 with upstream's text for a user without nodes/proxy;
- /healthz answers on the plain --healthz-port without credentials.
"""
import http.client
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import unittest
import urllib.error
import urllib.request

import kubelet_harness as kh
from kubelet_harness import harness, wait_for

TOKENS = {"reader": "reader-token-0123456789", "nobody": "nobody-token-0123456789"}
RBAC = "/apis/rbac.authorization.k8s.io/v1"


def openssl_issue(ca, ca_key, out_dir, name, subject, ext):
    """A certificate signed by the cluster CA; returns (crt, key)."""
    crt, key = os.path.join(out_dir, name + ".crt"), os.path.join(out_dir, name + ".key")
    subprocess.run(["openssl", "req", "-new", "-x509", "-CA", ca, "-CAkey", ca_key, "-days", "1",
                    "-subj", subject, "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", crt] + sum([["-addext", e] for e in ext], []),
                   check=True, capture_output=True)
    return crt, key


class KubeletAuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="kubepp-kubelet-auth-")
        cls.addClassCleanup(shutil.rmtree, cls.work, True)
        tokens = os.path.join(cls.work, "tokens.csv")
        with open(tokens, "w") as f:
            f.write("%s,node-reader,uid-reader\n" % TOKENS["reader"])
            f.write("%s,nobody,uid-nobody\n" % TOKENS["nobody"])
        cls.secure_port = harness.free_port()
        data_dir = os.path.join(cls.work, "data")
        cls.pki = os.path.join(data_dir, "pki")
        cls.ca = os.path.join(cls.pki, "ca.crt")
        # The generated CA exists by the time the option is read.
        cls.server = harness.ApiServer(["--secure-port", str(cls.secure_port),
                                        "--token-auth-file", tokens,
                                        "--kubelet-certificate-authority", cls.ca],
                                       data_dir=data_dir)
        cls.addClassCleanup(cls.server.stop)
        cls.server.start()
        ca_key = os.path.join(cls.pki, "ca.key")
        cls.jane = openssl_issue(cls.ca, ca_key, cls.work, "jane", "/O=devs/CN=jane",
                                 ["extendedKeyUsage=clientAuth"])
        cls.admin = (os.path.join(cls.pki, "admin.crt"), os.path.join(cls.pki, "admin.key"))
        cls.apiserver_client = (os.path.join(cls.pki, "apiserver-kubelet-client.crt"),
                                os.path.join(cls.pki, "apiserver-kubelet-client.key"))
        serving = openssl_issue(cls.ca, ca_key, cls.work, "kubelet-serving", "/CN=auth-node",
                                ["extendedKeyUsage=serverAuth",
                                 "subjectAltName=DNS:auth-node,IP:127.0.0.1"])
        # node-reader may use nodes/proxy (RBAC); nobody may not.
        role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                "metadata": {"name": "kubelet-proxy-reader"},
                "rules": [{"apiGroups": [""], "resources": ["nodes/proxy"], "verbs": ["get"]}]}
        binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                   "metadata": {"name": "kubelet-proxy-reader"},
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                               "name": "kubelet-proxy-reader"},
                   "subjects": [{"kind": "User", "name": "node-reader",
                                 "apiGroup": "rbac.authorization.k8s.io"}]}
        assert cls.server.post(RBAC + "/clusterroles", role).status == 201
        assert cls.server.post(RBAC + "/clusterrolebindings", binding).status == 201

        cls.node = harness.unique("auth-node")
        cls.kubelet = kh.Kubelet(
            "https://127.0.0.1:%d" % cls.secure_port, cls.node,
            ["--kubeconfig", os.path.join(cls.pki, "admin.kubeconfig"), "--runtime", "fake",
             "--tls-cert-file", serving[0], "--tls-private-key-file", serving[1],
             "--client-ca-file", cls.ca, "--authentication-token-webhook",
             "--pod-cidr", "10.244.251.0/24"],
            anonymous=False)
        cls.addClassCleanup(cls.kubelet.remove_files)
        cls.addClassCleanup(cls.kubelet.kill)
        cls.kubelet.start()
        cls.ns = cls.server.create_namespace()

    # --- helpers ---

    def kubelet_get(self, path, cert=None, token=None, port=None):
        """GET on the kubelet API; returns (status, body). The kubelet's certificate is
        verified against the cluster CA."""
        ctx = ssl.create_default_context(cafile=self.ca)
        if cert:
            ctx.load_cert_chain(*cert)
        headers = {"Authorization": "Bearer " + token} if token else {}
        req = urllib.request.Request("https://127.0.0.1:%d%s" % (port or self.kubelet.port, path),
                                     headers=headers)
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=20) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def run_pod(self, name, node):
        # No controller-manager here makes the `default` service account: no token.
        body = kh.pod(name, command=["sleep", "3600"], node=node,
                      automountServiceAccountToken=False)
        r = self.server.post("/api/v1/namespaces/%s/pods" % self.ns, body)
        self.assertEqual(r.status, 201, r)

        def running():
            p = self.server.get("/api/v1/namespaces/%s/pods/%s" % (self.ns, name)).json()
            return p if p.get("status", {}).get("phase") == "Running" else None
        return wait_for(running, what="pod %s Running" % name)

    # --- tests ---

    def test_plain_http_and_anonymous_requests_are_refused(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.kubelet.port, timeout=10)
        with self.assertRaises((OSError, http.client.HTTPException)):
            conn.request("GET", "/pods")
            conn.getresponse().read()
        conn.close()
        self.assertEqual(self.kubelet_get("/pods"), (401, "Unauthorized"))
        self.assertEqual(self.kubelet_get("/containerLogs/a/b/c"), (401, "Unauthorized"))
        self.assertEqual(self.kubelet_get("/pods", token="not-a-token"), (401, "Unauthorized"))
        # The health port needs nothing, and says nothing more.
        with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % self.kubelet.healthz_port,
                                    timeout=10) as r:
            self.assertEqual((r.status, r.read()), (200, b"ok"))
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.kubelet.healthz_port,
                                   timeout=10)
        self.assertEqual(e.exception.code, 404)

    def test_client_certificates_are_authorized_by_subject_access_review(self):
        status, body = self.kubelet_get("/pods", cert=self.jane)
        self.assertEqual((status, body), (403, "Forbidden (user=jane, verb=get, resource=nodes, "
                                               "subresource=proxy)"))
        status, body = self.kubelet_get("/stats/summary", cert=self.jane)
        self.assertEqual((status, body), (403, "Forbidden (user=jane, verb=get, resource=nodes, "
                                               "subresource=stats)"))
        status, body = self.kubelet_get("/metrics", cert=self.jane)
        self.assertEqual(status, 403, body)
        for cert in (self.admin, self.apiserver_client):  # system:masters
            status, body = self.kubelet_get("/pods", cert=cert)
            self.assertEqual(status, 200, body)
            self.assertEqual(json.loads(body)["kind"], "PodList")
            self.assertEqual(self.kubelet_get("/healthz", cert=cert), (200, "ok"))

    def test_bearer_tokens_are_reviewed_by_the_apiserver(self):
        status, body = self.kubelet_get("/pods", token=TOKENS["reader"])
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["kind"], "PodList")
        self.assertEqual(self.kubelet_get("/pods", token=TOKENS["nobody"]),
                         (403, "Forbidden (user=nobody, verb=get, resource=nodes, "
                               "subresource=proxy)"))

    def test_kubectl_logs_through_the_apiserver(self):
        pod = self.run_pod("logger", self.node)
        log = os.path.join(self.kubelet.root_dir, "pods", pod["metadata"]["uid"], "logs", "c",
                           "0.log")
        os.makedirs(os.path.dirname(log), exist_ok=True)
        with open(log, "w") as f:
            f.write("one\ntwo\nthree\n")
        r = self.server.get("/api/v1/namespaces/%s/pods/logger/log?tailLines=2" % self.ns)
        self.assertEqual((r.status, r.body), (200, b"two\nthree\n"))
        if not os.access(harness.KUBECTL_133, os.X_OK):
            self.skipTest("no kubectl 1.33 at %s" % harness.KUBECTL_133)
        k = harness.Kubectl(harness.KUBECTL_133, "unused")
        self.addCleanup(k.cleanup)
        shutil.copy(os.path.join(self.pki, "admin.kubeconfig"), k.kubeconfig)
        out = k.run("logs", "-n", self.ns, "logger")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout, "one\ntwo\nthree\n")

    def test_self_signed_certificate_is_kept_and_checked_by_the_apiserver(self):
        node = harness.unique("self-signed")
        other = kh.Kubelet("https://127.0.0.1:%d" % self.secure_port, node,
                           ["--kubeconfig", os.path.join(self.pki, "admin.kubeconfig"),
                            "--runtime", "fake", "--client-ca-file", self.ca,
                            "--pod-cidr", "10.244.252.0/24"], anonymous=False)
        self.addCleanup(other.remove_files)
        self.addCleanup(other.kill)
        other.start()
        crt = os.path.join(other.root_dir, "pki", "kubelet.crt")
        with open(crt) as f:
            pem = f.read()
        self.assertEqual(pem.count("BEGIN CERTIFICATE"), 2)  # the certificate and its CA
        self.assertTrue(os.path.exists(os.path.join(other.root_dir, "pki", "kubelet.key")))
        # Trusting the file itself verifies the kubelet, by IP and by node name.
        ctx = ssl.create_default_context(cafile=crt)
        ctx.load_cert_chain(*self.admin)
        with urllib.request.urlopen("https://127.0.0.1:%d/pods" % other.port, context=ctx,
                                    timeout=10) as r:
            self.assertEqual(r.status, 200)
        san = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName", "-in", crt],
                             capture_output=True, text=True).stdout
        for name in ("DNS:" + node, "DNS:localhost", "IP Address:127.0.0.1"):
            self.assertIn(name, san)
        # A restart keeps it.
        other.kill()
        other.start()
        with open(crt) as f:
            self.assertEqual(f.read(), pem)
        # This apiserver verifies kubelets against the cluster CA: it refuses to fetch logs
        # from a kubelet whose certificate is not from it.
        self.run_pod("unverified", node)
        r = self.server.get("/api/v1/namespaces/%s/pods/unverified/log" % self.ns)
        self.assertEqual(r.status, 503, r)
        self.assertIn("certificate", r.json()["message"])


if __name__ == "__main__":
    unittest.main()
