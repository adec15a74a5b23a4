"""The apiserver's secure port: HTTPS with the generated PKI, and who gets in.

One apiserver with --secure-port and a --token-auth-file serves every test; the plain
port next to it must keep working unauthenticated, as before.
"""
import http.client
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

TOKEN = "e2e-token-0123456789"


class TlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="kubepp-tls-")
        cls.tokens = os.path.join(cls.work, "tokens.csv")
        with open(cls.tokens, "w") as f:
            f.write('%s,tina,uid-tina,"viewers,devs"\n' % TOKEN)
        cls.secure_port = harness.free_port()
        cls.server = harness.ApiServer(["--secure-port", str(cls.secure_port),
                                        "--token-auth-file", cls.tokens])
        try:
            cls.server.start()
        except Exception:
            shutil.rmtree(cls.work, ignore_errors=True)
            raise
        cls.pki = os.path.join(cls.server.data_dir, "pki")
        # The secure port authorizes with RBAC (test_rbac.py): give the token user every
        # right, through the plain port, so that this file tests authentication alone.
        r = cls.server.post("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": "tina-admin"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": "cluster-admin"},
            "subjects": [{"kind": "User", "name": "tina"}]})
        if r.status != 201:
            cls.server.stop()
            shutil.rmtree(cls.work, ignore_errors=True)
            raise AssertionError("binding tina: %r" % r)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.work, ignore_errors=True)

    def context(self, cert=None, key=None):
        ctx = ssl.create_default_context(cafile=os.path.join(self.pki, "ca.crt"))
        if cert:
            ctx.load_cert_chain(cert, key)
        return ctx

    def admin_context(self):
        return self.context(os.path.join(self.pki, "admin.crt"), os.path.join(self.pki, "admin.key"))

    def https(self, path, ctx=None, headers=None, method="GET", body=None, host="127.0.0.1"):
        url = "https://%s:%d%s" % (host, self.secure_port, path)
        data = json.dumps(body).encode() if body is not None else None
        hdrs = {"Accept": "application/json"}
        if data is not None:
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, context=ctx or self.context(), timeout=20) as r:
                return harness.Response(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            return harness.Response(e.code, e.headers, e.read())

    def test_generated_pki_and_admin_kubeconfig(self):
        for name in ("ca.crt", "ca.key", "apiserver.crt", "apiserver.key", "admin.crt",
                     "admin.key", "admin.kubeconfig"):
            self.assertTrue(os.path.exists(os.path.join(self.pki, name)), name)
        for secret in ("ca.key", "apiserver.key", "admin.key", "admin.kubeconfig"):
            self.assertEqual(os.stat(os.path.join(self.pki, secret)).st_mode & 0o777, 0o600, secret)
        with open(os.path.join(self.pki, "admin.kubeconfig")) as f:
            text = f.read()
        self.assertIn("server: https://127.0.0.1:%d" % self.secure_port, text)
        for field in ("certificate-authority-data", "client-certificate-data", "client-key-data"):
            self.assertIn(field, text)
        # The serving certificate's names verify for both spellings of this host.
        self.assertEqual(self.https("/healthz", host="localhost").status, 200)

    def test_kubectl_with_the_admin_kubeconfig(self):
        if not os.access(harness.KUBECTL_133, os.X_OK):
            self.skipTest("no kubectl 1.33 at %s" % harness.KUBECTL_133)
        kubectl = harness.Kubectl(harness.KUBECTL_133, "unused")
        kubectl.kubeconfig = os.path.join(self.pki, "admin.kubeconfig")
        try:
            r = kubectl.run("get", "ns")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("kube-system", r.stdout)
            name = harness.unique("cm")
            r = kubectl.run("create", "configmap", name, "--from-literal=k=v")
            self.assertEqual(r.returncode, 0, r.stderr)
            r = kubectl.run("get", "configmap", name, "-o", "jsonpath={.data.k}")
            self.assertEqual((r.returncode, r.stdout), (0, "v"), r.stderr)
        finally:
            kubectl.cleanup()
        # What kubectl wrote is there through the plain port too: one API behind both.
        self.assertEqual(self.server.get("/api/v1/namespaces/default/configmaps/" + name).status, 200)

    def test_anonymous_gets_only_health_and_version(self):
        r = self.https("/api/v1/namespaces")
        self.assertEqual(r.status, 401, r)
        status = r.json()
        self.assertEqual((status["kind"], status["reason"], status["code"]),
                         ("Status", "Unauthorized", 401))
        for path in ("/healthz", "/livez", "/readyz", "/version"):
            self.assertEqual(self.https(path).status, 200, path)
        self.assertEqual(self.https("/metrics").status, 401)

    def test_bearer_token_from_the_token_file(self):
        auth = {"Authorization": "Bearer " + TOKEN}
        self.assertEqual(self.https("/api/v1/namespaces", headers=auth).status, 200)
        name = harness.unique("cm")
        r = self.https("/api/v1/namespaces/default/configmaps", headers=auth, method="POST",
                       body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}})
        self.assertEqual(r.status, 201, r)
        # A wrong token is refused even where anonymous requests are let in.
        bad = {"Authorization": "Bearer not-" + TOKEN}
        self.assertEqual(self.https("/api/v1/namespaces", headers=bad).status, 401)
        self.assertEqual(self.https("/healthz", headers=bad).status, 401)
        # Certificate expiry is on /metrics.
        metrics = self.https("/metrics", headers=auth).body.decode()
        self.assertIn('kubepp_certificate_expiry_seconds{cert="serving"}', metrics)

    def test_client_certificate_of_another_ca_is_rejected(self):
        if shutil.which("openssl") is None:
            self.skipTest("no openssl CLI")
        d = tempfile.mkdtemp(prefix="kubepp-tls-other-")
        try:
            ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
            run = lambda *a: subprocess.run(a, cwd=d, check=True, capture_output=True)
            run("openssl", "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt",
                "-days", "2", "-subj", "/CN=other-ca")
            run("openssl", "req", *ec, "-keyout", "c.key", "-out", "c.csr",
                "-subj", "/O=system:masters/CN=kubernetes-admin")
            run("openssl", "x509", "-req", "-in", "c.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", "c.crt", "-days", "1")
            ctx = self.context(os.path.join(d, "c.crt"), os.path.join(d, "c.key"))
            with self.assertRaises((ssl.SSLError, ConnectionError, urllib.error.URLError)):
                self.https("/api/v1/namespaces", ctx=ctx)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_watch_streams_over_tls_with_the_admin_certificate(self):
        ns = self.server.create_namespace()
        conn = http.client.HTTPSConnection("127.0.0.1", self.secure_port, timeout=20,
                                           context=self.admin_context())
        try:
            conn.request("GET", "/api/v1/namespaces/%s/configmaps?watch=1" % ns)
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200)
            name = harness.unique("cm")
            self.assertEqual(self.server.post("/api/v1/namespaces/%s/configmaps" % ns, {
                "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}).status, 201)
            while True:
                line = resp.readline()
                self.assertTrue(line, "watch ended early")
                if line.strip():
                    event = json.loads(line)
                    break
            self.assertEqual((event["type"], event["object"]["metadata"]["name"]), ("ADDED", name))
        finally:
            conn.close()

    def test_python_client_with_the_admin_kubeconfig(self):
        try:
            from kubernetes import client, config
        except ImportError:
            self.skipTest("no python3-kubernetes")
        with config.new_client_from_config(
                config_file=os.path.join(self.pki, "admin.kubeconfig")) as api_client:
            names = [n.metadata.name for n in client.CoreV1Api(api_client).list_namespace().items]
            api_client.rest_client.pool_manager.clear()  # its kept-alive TLS connection
        self.assertIn("kube-system", names)

    def test_plain_port_keeps_working(self):
        self.assertEqual(self.server.get("/api/v1/namespaces").status, 200)
        self.assertEqual(self.server.get("/healthz").status, 200)


class TlsStartupTest(unittest.TestCase):
    def test_restart_reuses_the_pki(self):
        secure_port = harness.free_port()
        server = harness.ApiServer(["--secure-port", str(secure_port)])
        try:
            server.start()
            pki = os.path.join(server.data_dir, "pki")
            before = {}
            for name in ("ca.crt", "apiserver.crt", "admin.crt"):
                with open(os.path.join(pki, name), "rb") as f:
                    before[name] = f.read()
            server.kill()
            server.start()
            for name, content in before.items():
                with open(os.path.join(pki, name), "rb") as f:
                    self.assertEqual(f.read(), content, name + " was regenerated")
            ctx = ssl.create_default_context(cafile=os.path.join(pki, "ca.crt"))
            ctx.load_cert_chain(os.path.join(pki, "admin.crt"), os.path.join(pki, "admin.key"))
            url = "https://127.0.0.1:%d/api/v1/namespaces/default" % secure_port
            with urllib.request.urlopen(url, context=ctx, timeout=20) as r:
                self.assertEqual(r.status, 200)
        finally:
            server.stop()

    def test_given_certificate_files_are_used_as_they_are(self):
        first = harness.ApiServer(["--secure-port", str(harness.free_port())])
        second = None
        try:
            first.start()
            pki = os.path.join(first.data_dir, "pki")
            first.kill()
            secure_port = harness.free_port()
            second = harness.ApiServer([
                "--secure-port", str(secure_port),
                "--tls-cert-file", os.path.join(pki, "apiserver.crt"),
                "--tls-private-key-file", os.path.join(pki, "apiserver.key"),
                "--client-ca-file", os.path.join(pki, "ca.crt")])
            second.start()
            self.assertFalse(os.path.exists(os.path.join(second.data_dir, "pki")))
            ctx = ssl.create_default_context(cafile=os.path.join(pki, "ca.crt"))
            ctx.load_cert_chain(os.path.join(pki, "admin.crt"), os.path.join(pki, "admin.key"))
            url = "https://localhost:%d/api/v1/namespaces/default" % secure_port
            with urllib.request.urlopen(url, context=ctx, timeout=20) as r:
                self.assertEqual(r.status, 200)
        finally:
            if second:
                second.stop()
            first.stop()


if __name__ == "__main__":
    unittest.main()
