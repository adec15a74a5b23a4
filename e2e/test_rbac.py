"""RBAC on the apiserver's secure port: the default policy, bindings made with kubectl,
the upstream 403 message, `kubectl auth can-i`, and the plain port that stays open.

One apiserver with --secure-port and a --token-auth-file serves every test. Users:
jane (no bindings until a test makes them), boss (group system:masters) and the
service account ns:robot; each test works in namespaces of its own.
"""
import json
import os
import shutil
import ssl
import sys
import tempfile
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

TOKENS = {
    "jane": "jane-token-0123456789",
    "boss": "boss-token-0123456789",
    "robot": "robot-token-0123456789",
}
RBAC = "/apis/rbac.authorization.k8s.io/v1"


def forbidden_list(user, resource, ns, group=""):
    return ('%s is forbidden: User "%s" cannot list resource "%s" in API group "%s" in the '
            'namespace "%s"' % (resource if not group else resource + "." + group, user,
                                resource, group, ns))


class RbacTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="kubepp-rbac-")
        tokens = os.path.join(cls.work, "tokens.csv")
        with open(tokens, "w") as f:
            f.write("%s,jane,uid-jane\n" % TOKENS["jane"])
            f.write('%s,boss,uid-boss,"system:masters"\n' % TOKENS["boss"])
            f.write("%s,system:serviceaccount:robots:robot,uid-robot\n" % TOKENS["robot"])
        cls.secure_port = harness.free_port()
        cls.audit = os.path.join(cls.work, "audit.log")
        cls.server = harness.ApiServer(["--secure-port", str(cls.secure_port),
                                        "--token-auth-file", tokens,
                                        "--audit-log-path", cls.audit])
        try:
            cls.server.start()
        except Exception:
            shutil.rmtree(cls.work, ignore_errors=True)
            raise
        cls.ca = os.path.join(cls.server.data_dir, "pki", "ca.crt")
        cls.kubectls = {}

    @classmethod
    def tearDownClass(cls):
        for k in cls.kubectls.values():
            k.cleanup()
        cls.server.stop()
        shutil.rmtree(cls.work, ignore_errors=True)

    # --- helpers ---

    def https(self, user, path, method="GET", body=None):
        url = "https://127.0.0.1:%d%s" % (self.secure_port, path)
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if user:
            headers["Authorization"] = "Bearer " + TOKENS[user]
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        ctx = ssl.create_default_context(cafile=self.ca)
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=20) as r:
                return harness.Response(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            return harness.Response(e.code, e.headers, e.read())

    def kubectl(self, user, *args):
        """kubectl 1.33 as `user`, with a token kubeconfig; skips the test without kubectl."""
        if not os.access(harness.KUBECTL_133, os.X_OK):
            self.skipTest("no kubectl 1.33 at %s" % harness.KUBECTL_133)
        k = self.kubectls.get(user)
        if k is None:
            k = harness.Kubectl(harness.KUBECTL_133, "unused")
            with open(k.kubeconfig, "w") as f:
                f.write("apiVersion: v1\nkind: Config\n"
                        "clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:%d\n"
                        "    certificate-authority: %s\n"
                        "contexts:\n- name: c\n  context:\n    cluster: c\n    user: u\n"
                        "users:\n- name: u\n  user:\n    token: %s\n"
                        "current-context: c\n" % (self.secure_port, self.ca, TOKENS[user]))
            self.kubectls[user] = k
        return k.run(*args)

    def create_pod(self, ns, name):
        r = self.server.post("/api/v1/namespaces/%s/pods" % ns, {
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}})
        self.assertEqual(r.status, 201, r)

    # --- tests ---

    def test_user_without_bindings_gets_the_upstream_403(self):
        ns = self.server.create_namespace()
        r = self.https("jane", "/api/v1/namespaces/%s/pods" % ns)
        self.assertEqual(r.status, 403, r)
        status = r.json()
        self.assertEqual((status["kind"], status["status"], status["reason"], status["code"]),
                         ("Status", "Failure", "Forbidden", 403))
        self.assertEqual(status["message"], forbidden_list("jane", "pods", ns))
        self.assertEqual(status["details"], {"kind": "pods"})
        r = self.https("jane", "/apis/apps/v1/deployments")
        self.assertEqual(r.json()["message"],
                         'deployments.apps is forbidden: User "jane" cannot list resource '
                         '"deployments" in API group "apps" at the cluster scope')
        r = self.https("jane", "/api/v1/namespaces/%s/pods/web/log" % ns)
        self.assertEqual(r.json()["message"],
                         'pods "web" is forbidden: User "jane" cannot get resource "pods/log" in '
                         'API group "" in the namespace "%s"' % ns)
        r = self.https("jane", "/metrics")
        self.assertEqual((r.status, r.json()["message"]),
                         (403, 'forbidden: User "jane" cannot get path "/metrics"'))
        # What every authenticated user may do: discovery, health, and ask about itself.
        for path in ("/api", "/apis", "/api/v1", "/apis/apps/v1", "/version", "/healthz"):
            self.assertEqual(self.https("jane", path).status, 200, path)
        # kubectl shows the server's message.
        r = self.kubectl("jane", "get", "pods", "-n", ns)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Error from server (Forbidden): " + forbidden_list("jane", "pods", ns),
                      r.stderr)

    def test_audit_log_names_user_verb_resource_and_code(self):
        ns = self.server.create_namespace()
        self.assertEqual(self.https("jane", "/api/v1/namespaces/%s/pods/p1" % ns).status, 403)
        self.assertEqual(self.https("boss", "/api/v1/namespaces/%s/configmaps" % ns).status, 200)
        with open(self.audit) as f:
            lines = [json.loads(l) for l in f if ns in l]
        jane = [l for l in lines if l["user"] == "jane"]
        self.assertEqual(len(jane), 1, lines)
        self.assertEqual({k: jane[0][k] for k in ("verb", "resource", "namespace", "name", "code")},
                         {"verb": "get", "resource": "pods", "namespace": ns, "name": "p1",
                          "code": 403})
        self.assertIn("system:authenticated", jane[0]["groups"])
        self.assertTrue(jane[0]["time"].endswith("Z"))
        boss = [l for l in lines if l["user"] == "boss"]
        self.assertEqual((boss[0]["verb"], boss[0]["resource"], boss[0]["code"]),
                         ("list", "configmaps", 200))
        # The plain port's requests too, as system:unsecured.
        self.assertTrue(any(l["user"] == "system:unsecured" and l["verb"] == "create"
                            and l["resource"] == "namespaces" for l in
                            (json.loads(x) for x in open(self.audit))))

    def test_per_user_rate_limit_answers_429_with_retry_after(self):
        tokens = os.path.join(self.work, "tokens.csv")
        port = harness.free_port()
        server = harness.ApiServer(["--secure-port", str(port), "--token-auth-file", tokens,
                                    "--user-qps", "1", "--user-burst", "3"])
        server.start()
        self.addCleanup(server.stop)
        ctx = ssl.create_default_context(cafile=os.path.join(server.data_dir, "pki", "ca.crt"))

        def get(user):
            req = urllib.request.Request("https://127.0.0.1:%d/version" % port,
                                         headers={"Authorization": "Bearer " + TOKENS[user]})
            try:
                with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
                    return r.status, None
            except urllib.error.HTTPError as e:
                return e.code, (e.headers.get("Retry-After"), json.loads(e.read()))
        codes = [get("jane") for _ in range(6)]
        self.assertEqual([c for c, _ in codes[:3]], [200, 200, 200])
        refused = [extra for c, extra in codes if c == 429]
        self.assertTrue(refused, codes)
        retry_after, status = refused[0]
        self.assertEqual(retry_after, "1")
        self.assertEqual((status["reason"], status["code"]), ("TooManyRequests", 429))
        self.assertIn('user "jane"', status["message"])
        self.assertEqual(get("robot")[0], 200, "another user is not limited by jane")
        self.assertEqual([get("boss")[0] for _ in range(6)], [200] * 6, "system:masters exempt")

    def test_no_escalation_through_roles_or_bindings(self):
        ns = self.server.create_namespace()
        rb = "/apis/rbac.authorization.k8s.io/v1/namespaces/%s/rolebindings" % ns
        roles = "/apis/rbac.authorization.k8s.io/v1/namespaces/%s/roles" % ns

        def binding(name, role, kind="ClusterRole"):
            return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                    "metadata": {"name": name},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role},
                    "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io",
                                  "name": "jane"}]}

        def role(name, rules):
            return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                    "metadata": {"name": name}, "rules": rules}
        self.assertEqual(self.https("boss", rb, "POST", binding("jane-admin", "admin")).status, 201)
        # jane administers the namespace: she may hand out what she holds...
        self.assertEqual(self.https("jane", rb, "POST", binding("jane-view", "view")).status, 201)
        r = self.https("jane", roles, "POST", role("reader", [
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]))
        self.assertEqual(r.status, 201, r)
        # ...but not more.
        r = self.https("jane", rb, "POST", binding("jane-root", "cluster-admin"))
        self.assertEqual(r.status, 403, r)
        self.assertIn('user "jane"', r.json()["message"])
        self.assertIn("is attempting to grant RBAC permissions not currently held", r.json()["message"])
        r = self.https("jane", roles, "POST", role("god", [
            {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]))
        self.assertEqual(r.status, 403, r)
        self.assertIn('{APIGroups:["*"], Resources:["*"], Verbs:["*"]}', r.json()["message"])
        # Widening an existing role is an escalation too; nothing was changed.
        req_body = {"rules": [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["delete"]}]}
        r = self.https_patch("jane", roles + "/reader", req_body)
        self.assertEqual(r.status, 403, r)
        self.assertEqual(self.https("boss", roles + "/reader").json()["rules"][0]["resources"], ["pods"])
        self.assertEqual(self.https("boss", rb + "/jane-root").status, 404)

    def https_patch(self, user, path, body):
        url = "https://127.0.0.1:%d%s" % (self.secure_port, path)
        req = urllib.request.Request(url, data=json.dumps(body).encode(), method="PATCH",
                                     headers={"Content-Type": "application/merge-patch+json",
                                              "Authorization": "Bearer " + TOKENS[user]})
        try:
            with urllib.request.urlopen(req, context=ssl.create_default_context(cafile=self.ca),
                                        timeout=20) as r:
                return harness.Response(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            return harness.Response(e.code, e.headers, e.read())

    def test_rolebinding_to_view_grants_reading_one_namespace(self):
        ns, other = self.server.create_namespace(), self.server.create_namespace()
        self.create_pod(ns, "web")
        self.create_pod(other, "web")
        r = self.kubectl("boss", "create", "rolebinding", "jane-view", "--clusterrole=view",
                         "--user=jane", "-n", ns)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("rolebinding.rbac.authorization.k8s.io/jane-view created", r.stdout)

        r = self.kubectl("jane", "get", "pods", "-n", ns)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("web", r.stdout)
        r = self.kubectl("jane", "get", "pod", "web", "-n", ns, "-o", "jsonpath={.metadata.name}")
        self.assertEqual((r.returncode, r.stdout), (0, "web"), r.stderr)
        r = self.kubectl("jane", "delete", "pod", "web", "-n", ns, "--wait=false")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('pods "web" is forbidden: User "jane" cannot delete resource "pods" in API '
                      'group "" in the namespace "%s"' % ns, r.stderr)
        r = self.kubectl("jane", "get", "pods", "-n", other)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(forbidden_list("jane", "pods", other), r.stderr)
        r = self.kubectl("jane", "get", "secrets", "-n", ns)  # view does not read secrets
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(self.server.get("/api/v1/namespaces/%s/pods/web" % ns).status, 200)

        # kubectl auth can-i: yes exits 0, no exits 1.
        for args, answer in ((("list", "pods"), "yes"), (("get", "pods/web"), "yes"),
                             (("watch", "deployments.apps"), "yes"),
                             (("delete", "pods"), "no"), (("create", "configmaps"), "no"),
                             (("get", "secrets"), "no")):
            r = self.kubectl("jane", "auth", "can-i", *args, "-n", ns)
            self.assertEqual((r.stdout.strip(), r.returncode), (answer, 0 if answer == "yes" else 1),
                             "%s: %s" % (args, r.stderr))
        r = self.kubectl("jane", "auth", "can-i", "list", "pods", "-n", other)
        self.assertEqual((r.stdout.strip(), r.returncode), ("no", 1), r.stderr)
        r = self.kubectl("jane", "auth", "can-i", "--list", "-n", ns)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"\npods +\[\] +\[\] +\[get list watch\]")
        self.assertIn("selfsubjectaccessreviews.authorization.k8s.io", r.stdout)

        # Deleting the binding takes the rights away at once.
        r = self.kubectl("boss", "delete", "rolebinding", "jane-view", "-n", ns)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.https("jane", "/api/v1/namespaces/%s/pods" % ns).status, 403)

    def test_roles_and_bindings_with_kubectl(self):
        ns = self.server.create_namespace()
        for args in (("create", "role", "cm-writer", "--verb=create,get", "--resource=configmaps",
                      "-n", ns),
                     ("create", "rolebinding", "robot-cm", "--role=cm-writer",
                      "--serviceaccount=robots:robot", "--group=writers", "-n", ns),
                     ("create", "clusterrole", "node-reader", "--verb=get,list,watch",
                      "--resource=nodes"),
                     ("create", "clusterrolebinding", "jane-nodes-" + ns, "--clusterrole=node-reader",
                      "--user=jane")):
            r = self.kubectl("boss", *args)
            self.assertEqual(r.returncode, 0, "%s: %s" % (args, r.stderr))
        # The service account (a token user named system:serviceaccount:robots:robot).
        cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
        r = self.https("robot", "/api/v1/namespaces/%s/configmaps" % ns, "POST", cm)
        self.assertEqual(r.status, 201, r)
        r = self.https("robot", "/api/v1/namespaces/%s/configmaps/c" % ns, "DELETE")
        self.assertEqual(r.status, 403, r)
        self.assertEqual(self.https("jane", "/api/v1/nodes").status, 200)
        self.assertEqual(self.https("jane", "/api/v1/nodes/x", "DELETE").status, 403)

        r = self.kubectl("boss", "get", "roles,rolebindings", "-n", ns)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("role.rbac.authorization.k8s.io/cm-writer", r.stdout)
        self.assertRegex(r.stdout, r"rolebinding.rbac.authorization.k8s.io/robot-cm +Role/cm-writer")
        r = self.kubectl("boss", "get", "rolebinding", "robot-cm", "-n", ns, "-o", "wide")
        self.assertRegex(r.stdout, r"robot-cm +Role/cm-writer +\S+ +writers +robots/robot")
        r = self.kubectl("boss", "describe", "rolebinding", "robot-cm", "-n", ns)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"Kind: +Role\n +Name: +cm-writer")
        self.assertRegex(r.stdout, r"ServiceAccount +robot +robots")
        r = self.kubectl("boss", "describe", "clusterrole", "node-reader")
        self.assertRegex(r.stdout, r"nodes +\[\] +\[\] +\[get list watch\]")
        r = self.kubectl("boss", "get", "clusterroles")
        for name in ("cluster-admin", "admin", "edit", "view", "system:discovery",
                     "system:basic-user", "system:public-info-viewer", "system:kube-scheduler",
                     "system:kube-controller-manager", "system:node-proxier", "system:node"):
            self.assertRegex(r.stdout, r"\n%s +20\d\d-" % name)

        # roleRef is immutable; bad objects are refused with upstream's field errors.
        r = self.server.patch(RBAC + "/namespaces/%s/rolebindings/robot-cm" % ns,
                              {"roleRef": {"kind": "ClusterRole", "name": "edit"}})
        self.assertEqual(r.status, 422, r)
        self.assertIn("roleRef: Invalid value: rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", "
                      "Kind:\"ClusterRole\", Name:\"edit\"}: cannot change roleRef", r.json()["message"])
        r = self.server.post(RBAC + "/namespaces/%s/roles" % ns, {
            "metadata": {"name": "bad"}, "rules": [{"apiGroups": [""], "resources": ["pods"]}]})
        self.assertEqual(r.status, 422, r)
        self.assertEqual(r.json()["message"],
                         'Role.rbac.authorization.k8s.io "bad" is invalid: rules[0].verbs: '
                         'Required value: verbs must contain at least one value')
        r = self.server.post(RBAC + "/clusterrolebindings", {
            "metadata": {"name": "bad"}, "roleRef": {"kind": "Role", "name": "x"},
            "subjects": [{"kind": "User", "name": "u"}]})
        self.assertEqual(r.status, 422, r)
        self.assertIn('roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
                      r.json()["message"])

    def test_system_masters_may_do_everything(self):
        ns = self.server.create_namespace()
        self.create_pod(ns, "p")
        for args in (("get", "nodes"), ("get", "pods", "-A"), ("delete", "pod", "p", "-n", ns,
                                                             "--wait=false"),
                     ("create", "namespace", harness.unique("ns"))):
            r = self.kubectl("boss", *args)
            self.assertEqual(r.returncode, 0, "%s: %s" % (args, r.stderr))
        r = self.kubectl("boss", "auth", "can-i", "*", "*")
        self.assertEqual((r.stdout.strip(), r.returncode), ("yes", 0), r.stderr)
        self.assertEqual(self.https("boss", "/metrics").status, 200)

    def test_subject_access_review(self):
        ns = self.server.create_namespace()
        self.assertEqual(self.server.post(RBAC + "/namespaces/%s/rolebindings" % ns, {
            "metadata": {"name": "jane-edit"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": "edit"},
            "subjects": [{"kind": "User", "name": "jane"}]}).status, 201)
        review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
                  "spec": {"user": "jane", "resourceAttributes": {
                      "namespace": ns, "verb": "create", "resource": "deployments",
                      "group": "apps"}}}
        r = self.https("boss", "/apis/authorization.k8s.io/v1/subjectaccessreviews", "POST", review)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["status"], {
            "allowed": True,
            "reason": 'RBAC: allowed by RoleBinding "jane-edit/%s" of ClusterRole "edit" to '
                      'User "jane"' % ns})
        # jane may not ask about others, only about herself.
        r = self.https("jane", "/apis/authorization.k8s.io/v1/subjectaccessreviews", "POST", review)
        self.assertEqual(r.status, 403, r)
        review["kind"] = "SelfSubjectAccessReview"
        del review["spec"]["user"]
        review["spec"]["resourceAttributes"]["verb"] = "delete"
        review["spec"]["resourceAttributes"]["resource"] = "nodes"
        r = self.https("jane", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", "POST",
                       review)
        self.assertEqual((r.status, r.json()["status"]), (201, {"allowed": False}), r)
        # Reviews are not stored.
        self.assertEqual(
            self.server.get("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews").status, 405)

    def test_anonymous_and_the_plain_port(self):
        for path in ("/healthz", "/livez", "/readyz", "/version"):
            self.assertEqual(self.https(None, path).status, 200, path)
        for path in ("/api", "/api/v1/namespaces", "/metrics"):
            r = self.https(None, path)
            self.assertEqual((r.status, r.json()["reason"]), (401, "Unauthorized"), path)
        # The plain (loopback) port needs no credentials and may do anything.
        self.assertEqual(self.server.get("/api/v1/namespaces").status, 200)
        self.assertEqual(self.server.get("/metrics").status, 200)
        self.assertEqual(self.server.post(RBAC + "/clusterroles", {
            "metadata": {"name": harness.unique("cr")},
            "rules": [{"verbs": ["get"], "nonResourceURLs": ["/metrics"]}]}).status, 201)


class BootstrapTest(unittest.TestCase):
    def test_restart_keeps_edits_and_restores_deleted_defaults(self):
        server = harness.ApiServer(["--secure-port", str(harness.free_port())])
        try:
            server.start()
            path = RBAC + "/clusterroles/view"
            r = server.patch(path, {"metadata": {"labels": {"edited": "yes"}},
                                    "rules": [{"verbs": ["get"], "apiGroups": [""],
                                               "resources": ["pods"]}]})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(server.delete(RBAC + "/clusterrolebindings/system:basic-user").status,
                             200)
            server.kill()
            server.start()
            view = server.get(path).json()
            self.assertEqual(view["metadata"]["labels"].get("edited"), "yes")
            self.assertEqual(len(view["rules"]), 1)
            binding = server.get(RBAC + "/clusterrolebindings/system:basic-user").json()
            self.assertEqual(binding["subjects"], [{"kind": "Group", "name": "system:authenticated",
                                                    "apiGroup": "rbac.authorization.k8s.io"}])
            self.assertEqual(binding["metadata"]["annotations"],
                             {"rbac.authorization.kubernetes.io/autoupdate": "true"})
        finally:
            server.stop()

    def test_authorization_mode_always_allow_and_bad_modes(self):
        work = tempfile.mkdtemp(prefix="kubepp-rbac-modes-")
        tokens = os.path.join(work, "tokens.csv")
        with open(tokens, "w") as f:
            f.write("%s,jane,uid-jane\n" % TOKENS["jane"])
        port = harness.free_port()
        server = harness.ApiServer(["--secure-port", str(port), "--token-auth-file", tokens,
                                    "--authorization-mode", "AlwaysAllow"])
        bad = harness.ApiServer(["--secure-port", str(harness.free_port()),
                                 "--authorization-mode", "Webhook,RBAC"])
        try:
            server.start()
            ctx = ssl.create_default_context(
                cafile=os.path.join(server.data_dir, "pki", "ca.crt"))

            def status(path, token=None):
                req = urllib.request.Request("https://127.0.0.1:%d%s" % (port, path))
                if token:
                    req.add_header("Authorization", "Bearer " + token)
                try:
                    with urllib.request.urlopen(req, context=ctx, timeout=20) as r:
                        return r.status
                except urllib.error.HTTPError as e:
                    return e.code

            # Any authenticated user may do anything; anonymous only the public paths.
            self.assertEqual(status("/api/v1/namespaces/default/pods", TOKENS["jane"]), 200)
            self.assertEqual(status("/metrics", TOKENS["jane"]), 200)
            self.assertEqual(status("/healthz"), 200)
            self.assertEqual(status("/api/v1/namespaces"), 401)
            with self.assertRaises(RuntimeError) as e:
                bad.start(timeout=10)
            self.assertIn('unsupported mode "Webhook"', str(e.exception))
        finally:
            server.stop()
            bad.stop()
            shutil.rmtree(work, ignore_errors=True)

if __name__ == "__main__":
    unittest.main()
