"""Service account tokens on the apiserver's secure port: TokenRequest, authentication of
the tokens (RBAC by the account's bindings, SelfSubjectReview, TokenReview), what makes a
token invalid (expiry, forged signature, wrong audience, alg none, garbage, a deleted bound
pod or service account), the ServiceAccount admission's token volume, the OIDC discovery
documents, and a signing key that survives a restart.

One apiserver with --secure-port serves every test (its generated PKI and sa.key); each
test works in namespaces of its own. No controller-manager: tests create the accounts.
"""
import base64
import hashlib
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ISSUER = "https://kubernetes.default.svc.cluster.local"
AUTHN = "/apis/authentication.k8s.io/v1"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def claims_of(token):
    return json.loads(b64url_decode(token.split(".")[1]))


class ServiceAccountTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="kubepp-sa-")
        cls.secure_port = harness.free_port()
        cls.server = harness.ApiServer(["--secure-port", str(cls.secure_port)])
        try:
            cls.server.start()
        except Exception:
            shutil.rmtree(cls.work, ignore_errors=True)
            raise
        pki = os.path.join(cls.server.data_dir, "pki")
        cls.ca = os.path.join(pki, "ca.crt")
        cls.admin = (os.path.join(pki, "admin.crt"), os.path.join(pki, "admin.key"))
        cls.sa_key = os.path.join(pki, "sa.key")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.work, ignore_errors=True)

    # --- helpers ---

    def https(self, path, method="GET", body=None, token=None, admin=False, port=None):
        url = "https://127.0.0.1:%d%s" % (port or self.secure_port, path)
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if token is not None:
            headers["Authorization"] = "Bearer " + token
        ctx = ssl.create_default_context(cafile=self.ca)
        if admin:
            ctx.load_cert_chain(*self.admin)
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=20) as r:
                return harness.Response(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            return harness.Response(e.code, e.headers, e.read())

    def create_sa(self, ns, name, **extra):
        body = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}}
        body.update(extra)
        r = self.server.post("/api/v1/namespaces/%s/serviceaccounts" % ns, body)
        self.assertEqual(r.status, 201, r)
        return r.json()

    def create_pod(self, ns, name, sa=None, **spec):
        s = {"containers": [{"name": "c", "image": "busybox:1.36"}]}
        if sa:
            s["serviceAccountName"] = sa
        s.update(spec)
        r = self.server.post("/api/v1/namespaces/%s/pods" % ns,
                             {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": s})
        self.assertEqual(r.status, 201, r)
        return r.json()

    def token_request(self, ns, sa, spec=None):
        return self.https("/api/v1/namespaces/%s/serviceaccounts/%s/token" % (ns, sa), "POST",
                          {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                           "spec": spec or {}}, admin=True)

    def token(self, ns, sa, spec=None):
        r = self.token_request(ns, sa, spec)
        self.assertEqual(r.status, 201, r)
        return r.json()["status"]["token"]

    def whoami(self, token):
        return self.https(AUTHN + "/selfsubjectreviews", "POST",
                          {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
                          token=token)

    def assertUnauthorized(self, token):
        r = self.https("/api/v1/namespaces/default/configmaps", token=token)
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.json()["reason"], "Unauthorized")

    def sign(self, claims, key=None, header=None):
        """A JWT signed with `key` (default: the server's sa.key) by the openssl CLI."""
        header = header or {"alg": "RS256", "kid": "k"}
        data = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key or self.sa_key, "-binary"],
                             input=data.encode(), capture_output=True, check=True).stdout
        return data + "." + b64url(sig)

    # --- tests ---

    def test_token_request_and_authentication(self):
        ns = self.server.create_namespace()
        sa = self.create_sa(ns, "robot")
        r = self.token_request(ns, "robot", {"expirationSeconds": 1200})
        self.assertEqual(r.status, 201, r)
        tr = r.json()
        self.assertEqual(tr["kind"], "TokenRequest")
        self.assertEqual(tr["apiVersion"], "authentication.k8s.io/v1")
        self.assertEqual(tr["spec"]["audiences"], [ISSUER])
        self.assertEqual(tr["spec"]["expirationSeconds"], 1200)
        token = tr["status"]["token"]
        header = json.loads(b64url_decode(token.split(".")[0]))
        self.assertEqual(header["alg"], "RS256")
        self.assertEqual(len(header["kid"]), 43)
        c = claims_of(token)
        self.assertEqual(c["iss"], ISSUER)
        self.assertEqual(c["sub"], "system:serviceaccount:%s:robot" % ns)
        self.assertEqual(c["aud"], [ISSUER])
        self.assertEqual(c["exp"] - c["iat"], 1200)
        self.assertEqual(c["nbf"], c["iat"])
        self.assertEqual(c["kubernetes.io"], {"namespace": ns, "serviceaccount": {
            "name": "robot", "uid": sa["metadata"]["uid"]}})
        exp = time.strptime(tr["status"]["expirationTimestamp"], "%Y-%m-%dT%H:%M:%SZ")
        self.assertAlmostEqual(time.mktime(exp) - time.mktime(time.gmtime(c["iat"])), 1200, delta=2)

        # Who am I: the service account, its uid and groups.
        r = self.whoami(token)
        self.assertEqual(r.status, 201, r)
        info = r.json()["status"]["userInfo"]
        self.assertEqual(info["username"], "system:serviceaccount:%s:robot" % ns)
        self.assertEqual(info["uid"], sa["metadata"]["uid"])
        self.assertEqual(info["groups"], ["system:serviceaccounts", "system:serviceaccounts:" + ns,
                                          "system:authenticated"])
        self.assertEqual(info["extra"]["authentication.kubernetes.io/credential-id"],
                         ["JTI=" + c["jti"]])

        # RBAC: denied until a RoleBinding names the account.
        path = "/api/v1/namespaces/%s/configmaps" % ns
        r = self.https(path, token=token)
        self.assertEqual(r.status, 403, r)
        self.assertIn('User "system:serviceaccount:%s:robot" cannot list resource "configmaps"' % ns,
                      r.json()["message"])
        r = self.server.post("/apis/rbac.authorization.k8s.io/v1/namespaces/%s/rolebindings" % ns, {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "robot-view"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "ServiceAccount", "name": "robot", "namespace": ns}]})
        self.assertEqual(r.status, 201, r)
        r = self.https(path, token=token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.https("/api/v1/namespaces/default/configmaps", token=token).status, 403)

        # TokenReview (as an admin): the same user, with the audiences it holds.
        r = self.https(AUTHN + "/tokenreviews", "POST",
                       {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
                        "spec": {"token": token}}, admin=True)
        self.assertEqual(r.status, 201, r)
        st = r.json()["status"]
        self.assertTrue(st["authenticated"])
        self.assertEqual(st["user"]["username"], "system:serviceaccount:%s:robot" % ns)
        self.assertEqual(st["audiences"], [ISSUER])
        r = self.https(AUTHN + "/tokenreviews", "POST",
                       {"kind": "TokenReview", "apiVersion": "authentication.k8s.io/v1",
                        "spec": {"token": "garbage"}}, admin=True)
        self.assertEqual(r.status, 201, r)
        self.assertFalse(r.json()["status"]["authenticated"])

    def test_invalid_tokens_get_401(self):
        ns = self.server.create_namespace()
        sa = self.create_sa(ns, "robot")
        good = self.token(ns, "robot")
        self.assertEqual(self.whoami(good).status, 201)
        now = int(time.time())
        claims = {"iss": ISSUER, "sub": "system:serviceaccount:%s:robot" % ns, "aud": [ISSUER],
                  "iat": now - 7200, "nbf": now - 7200, "exp": now - 3600,
                  "kubernetes.io": {"namespace": ns, "serviceaccount": {
                      "name": "robot", "uid": sa["metadata"]["uid"]}}}
        # Signed with the real key: the claims are what the server would issue...
        fresh = dict(claims, iat=now, nbf=now, exp=now + 600)
        self.assertEqual(self.whoami(self.sign(fresh)).status, 201)
        # ...but expired,
        self.assertUnauthorized(self.sign(claims))
        # for another audience, or another issuer,
        self.assertUnauthorized(self.sign(dict(fresh, aud=["vault"])))
        self.assertUnauthorized(self.sign(dict(fresh, iss="https://elsewhere")))
        # or forged with another key,
        other = os.path.join(self.work, "other.key")
        subprocess.run(["openssl", "genrsa", "-out", other, "2048"], check=True, capture_output=True)
        self.assertUnauthorized(self.sign(fresh, key=other))
        # or changed after signing, or unsigned (alg none).
        h, _, s = good.split(".")
        evil = dict(claims_of(good), sub="system:serviceaccount:kube-system:admin")
        self.assertUnauthorized(h + "." + b64url(json.dumps(evil).encode()) + "." + s)
        none = b64url(b'{"alg":"none"}') + "." + good.split(".")[1] + "."
        self.assertUnauthorized(none)
        for garbage in ("", "x", "a.b.c", "...", good + "x", good[:-10], "\u00e9.\u00e9.\u00e9"):
            self.assertUnauthorized(garbage)
        # A token for another audience, from TokenRequest.
        vault = self.token(ns, "robot", {"audiences": ["vault"]})
        self.assertEqual(claims_of(vault)["aud"], ["vault"])
        self.assertUnauthorized(vault)
        r = self.https(AUTHN + "/tokenreviews", "POST",
                       {"spec": {"token": vault, "audiences": ["vault", "other"]}}, admin=True)
        self.assertEqual(r.json()["status"]["audiences"], ["vault"], r)
        # The server still answers.
        self.assertEqual(self.whoami(good).status, 201)

    def test_deleting_the_bound_pod_or_the_account_invalidates(self):
        ns = self.server.create_namespace()
        sa = self.create_sa(ns, "robot")
        pod = self.create_pod(ns, "web", sa="robot")
        bound = self.token(ns, "robot", {"boundObjectRef": {
            "kind": "Pod", "apiVersion": "v1", "name": "web", "uid": pod["metadata"]["uid"]}})
        self.assertEqual(claims_of(bound)["kubernetes.io"]["pod"],
                         {"name": "web", "uid": pod["metadata"]["uid"]})
        r = self.whoami(bound)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["status"]["userInfo"]["extra"]["authentication.kubernetes.io/pod-name"],
                         ["web"])
        unbound = self.token(ns, "robot")
        # The pod (not on a node, so deleted at once) goes: its token with it.
        self.assertEqual(self.server.delete("/api/v1/namespaces/%s/pods/web" % ns).status, 200)
        self.assertUnauthorized(bound)
        self.assertEqual(self.whoami(unbound).status, 201)
        # A new pod of the same name is another pod.
        self.create_pod(ns, "web", sa="robot")
        self.assertUnauthorized(bound)
        # The account goes (and comes back with another uid): every token with it.
        self.assertEqual(self.server.delete("/api/v1/namespaces/%s/serviceaccounts/robot" % ns).status, 200)
        self.assertUnauthorized(unbound)
        self.create_sa(ns, "robot")
        self.assertUnauthorized(unbound)
        self.assertEqual(self.whoami(self.token(ns, "robot")).status, 201)
        del sa

    def test_token_request_errors(self):
        ns = self.server.create_namespace()
        self.create_sa(ns, "robot")
        self.create_sa(ns, "other")
        pod = self.create_pod(ns, "web", sa="robot")
        r = self.token_request(ns, "robot", {"expirationSeconds": 60})
        self.assertEqual(r.status, 422, r)
        self.assertEqual(r.json()["details"]["causes"][0]["field"], "spec.expirationSeconds")
        self.assertIn("may not specify a duration less than 10 minutes", r.json()["message"])
        r = self.token_request(ns, "nobody")
        self.assertEqual(r.status, 404, r)
        self.assertEqual(r.json()["message"], 'serviceaccounts "nobody" not found')
        r = self.token_request(ns, "other", {"boundObjectRef": {"kind": "Pod", "apiVersion": "v1",
                                                                "name": "web"}})
        self.assertEqual(r.status, 400, r)
        r = self.token_request(ns, "robot", {"boundObjectRef": {"kind": "Node", "apiVersion": "v1",
                                                                "name": "n"}})
        self.assertEqual(r.status, 400, r)
        r = self.token_request(ns, "robot", {"boundObjectRef": {"kind": "Pod", "apiVersion": "v1",
                                                                "name": "gone"}})
        self.assertEqual(r.status, 404, r)
        r = self.token_request(ns, "robot", {"boundObjectRef": {"kind": "Pod", "apiVersion": "v1",
                                                                "name": "web", "uid": "stale"}})
        self.assertEqual(r.status, 409, r)
        # The kubelet's volume token: a year long, warning after the requested 3607 s.
        r = self.token_request(ns, "robot", {"expirationSeconds": 3607, "boundObjectRef": {
            "kind": "Pod", "apiVersion": "v1", "name": "web", "uid": pod["metadata"]["uid"]}})
        self.assertEqual(r.status, 201, r)
        c = claims_of(r.json()["status"]["token"])
        self.assertEqual(c["exp"] - c["iat"], 365 * 86400)
        self.assertEqual(c["kubernetes.io"]["warnafter"], c["iat"] + 3607)
        # Not JSON, a wrong kind: 4xx, the server lives on.
        r = self.https("/api/v1/namespaces/%s/serviceaccounts/robot/token" % ns, "POST", ["x"], admin=True)
        self.assertEqual(r.status, 400, r)
        r = self.https("/api/v1/namespaces/%s/serviceaccounts/robot/token" % ns, "POST",
                       {"kind": "Pod", "apiVersion": "v1"}, admin=True)
        self.assertEqual(r.status, 400, r)
        # Without the right to create serviceaccounts/token: 403 (the account itself).
        t = self.token(ns, "robot")
        r = self.https("/api/v1/namespaces/%s/serviceaccounts/robot/token" % ns, "POST", {}, token=t)
        self.assertEqual(r.status, 403, r)

    def test_admission_mounts_the_token_volume(self):
        ns = self.server.create_namespace()
        self.create_sa(ns, "quiet", automountServiceAccountToken=False)
        pod = self.create_pod(ns, "p", initContainers=[{"name": "i", "image": "busybox:1.36"}])
        spec = pod["spec"]
        self.assertEqual(spec["serviceAccountName"], "default")
        vols = [v for v in spec["volumes"] if v["name"].startswith("kube-api-access-")]
        self.assertEqual(len(vols), 1)
        name = vols[0]["name"]
        self.assertRegex(name, r"^kube-api-access-[a-z0-9]{5}$")
        self.assertEqual(vols[0]["projected"], {"defaultMode": 420, "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {
                "apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}]})
        mount = {"name": name, "readOnly": True,
                 "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}
        self.assertEqual(spec["containers"][0]["volumeMounts"], [mount])
        self.assertEqual(spec["initContainers"][0]["volumeMounts"], [mount])
        # Opt-outs: the pod's, or its account's.
        p = self.create_pod(ns, "off", automountServiceAccountToken=False)
        self.assertNotIn("volumes", p["spec"])
        p = self.create_pod(ns, "quiet", sa="quiet")
        self.assertNotIn("volumes", p["spec"])
        p = self.create_pod(ns, "loud", sa="quiet", automountServiceAccountToken=True)
        self.assertEqual(len(p["spec"]["volumes"]), 1)

    def test_oidc_discovery_and_jwks_verify_tokens(self):
        r = self.https("/.well-known/openid-configuration", admin=True)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["issuer"], ISSUER)
        self.assertEqual(r.json()["jwks_uri"], ISSUER + "/openid/v1/jwks")
        self.assertEqual(r.json()["id_token_signing_alg_values_supported"], ["RS256"])
        r = self.https("/openid/v1/jwks", admin=True)
        self.assertEqual(r.status, 200, r)
        keys = r.json()["keys"]
        self.assertEqual(len(keys), 1)
        ns = self.server.create_namespace()
        self.create_sa(ns, "robot")
        token = self.token(ns, "robot")
        header = json.loads(b64url_decode(token.split(".")[0]))
        key = keys[0]
        self.assertEqual(header["kid"], key["kid"])
        # RS256 by hand (RSASSA-PKCS1-v1_5): s^e mod n is the padded SHA-256 DigestInfo.
        n = int.from_bytes(b64url_decode(key["n"]), "big")
        e = int.from_bytes(b64url_decode(key["e"]), "big")
        data, _, sig = token.rpartition(".")
        em = pow(int.from_bytes(b64url_decode(sig), "big"), e, n).to_bytes((n.bit_length() + 7) // 8, "big")
        digest_info = bytes.fromhex("3031300d060960864801650304020105000420") + \
            hashlib.sha256(data.encode()).digest()
        self.assertEqual(em, b"\x00\x01" + b"\xff" * (len(em) - 3 - len(digest_info)) + b"\x00" + digest_info)

    def test_signing_key_survives_a_restart(self):
        data_dir = os.path.join(self.work, "restart-data")
        port = harness.free_port()
        server = harness.ApiServer(["--secure-port", str(port)], data_dir=data_dir)
        try:
            server.start()
            ns = server.create_namespace()
            r = server.post("/api/v1/namespaces/%s/serviceaccounts" % ns,
                            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "robot"}})
            self.assertEqual(r.status, 201, r)
            ca = os.path.join(data_dir, "pki", "ca.crt")
            ctx = ssl.create_default_context(cafile=ca)
            ctx.load_cert_chain(os.path.join(data_dir, "pki", "admin.crt"),
                                os.path.join(data_dir, "pki", "admin.key"))

            def post(path, body, token=None):
                headers = {"Content-Type": "application/json"}
                c = ctx
                if token:
                    headers["Authorization"] = "Bearer " + token
                    c = ssl.create_default_context(cafile=ca)
                req = urllib.request.Request("https://127.0.0.1:%d%s" % (port, path),
                                             data=json.dumps(body).encode(), headers=headers)
                try:
                    with urllib.request.urlopen(req, context=c, timeout=20) as resp:
                        return resp.status, json.loads(resp.read())
                except urllib.error.HTTPError as err:
                    return err.code, json.loads(err.read())

            code, tr = post("/api/v1/namespaces/%s/serviceaccounts/robot/token" % ns, {})
            self.assertEqual(code, 201, tr)
            token = tr["status"]["token"]
            server.kill()
            server.start(port=server.port)
            code, body = post(AUTHN + "/selfsubjectreviews", {}, token=token)
            self.assertEqual(code, 201, body)
            self.assertEqual(body["status"]["userInfo"]["username"],
                             "system:serviceaccount:%s:robot" % ns)
        finally:
            server.stop()

    def test_plain_http_server_has_no_tokens(self):
        server = harness.ApiServer()
        try:
            server.start()
            ns = server.create_namespace()
            r = server.post("/api/v1/namespaces/%s/serviceaccounts" % ns,
                            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}})
            self.assertEqual(r.status, 201, r)
            r = server.post("/api/v1/namespaces/%s/pods" % ns, {
                "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}})
            self.assertEqual(r.status, 201, r)
            self.assertEqual(r.json()["spec"]["serviceAccountName"], "default")
            self.assertNotIn("volumes", r.json()["spec"])
            r = server.post("/api/v1/namespaces/%s/serviceaccounts/default/token" % ns, {})
            self.assertEqual(r.status, 404, r)
        finally:
            server.stop()

    def test_kubectl_create_token_and_whoami(self):
        if not os.access(harness.KUBECTL_133, os.X_OK):
            self.skipTest("no kubectl 1.33 at %s" % harness.KUBECTL_133)
        ns = self.server.create_namespace()
        self.create_sa(ns, "robot")
        admin = harness.Kubectl(harness.KUBECTL_133, "unused")
        robot = harness.Kubectl(harness.KUBECTL_133, "unused")
        try:
            with open(admin.kubeconfig, "w") as f:
                with open(os.path.join(self.server.data_dir, "pki", "admin.kubeconfig")) as src:
                    f.write(src.read())
            r = admin.run("create", "token", "robot", "-n", ns, "--duration", "15m")
            self.assertEqual(r.returncode, 0, r.stderr)
            token = r.stdout.strip()
            self.assertEqual(claims_of(token)["exp"] - claims_of(token)["iat"], 900)
            with open(robot.kubeconfig, "w") as f:
                f.write("apiVersion: v1\nkind: Config\n"
                        "clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:%d\n"
                        "    certificate-authority: %s\n"
                        "contexts:\n- name: c\n  context:\n    cluster: c\n    user: u\n"
                        "users:\n- name: u\n  user:\n    token: %s\n"
                        "current-context: c\n" % (self.secure_port, self.ca, token))
            r = robot.run("auth", "whoami", "-o", "json")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(json.loads(r.stdout)["status"]["userInfo"]["username"],
                             "system:serviceaccount:%s:robot" % ns)
            r = robot.run("get", "pods", "-n", ns)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("Forbidden", r.stderr)
        finally:
            admin.cleanup()
            robot.cleanup()


if __name__ == "__main__":
    unittest.main()
