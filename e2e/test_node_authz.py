"""The Node authorizer and the NodeRestriction admission on the apiserver's secure port.

One apiserver with --secure-port (default --authorization-mode=Node,RBAC) serves the
tests. Two kubelet identities, system:node:n1 and system:node:n2 in group system:nodes,
hold client certificates made with the openssl CLI and signed by the CA the apiserver
generated in <data-dir>/pki, as ./kubepp's write_credentials makes them. The setup
(namespaces, Secrets, pods bound to n1 or n2) goes through the plain port
(system:masters). Each test works in a namespace of its own.
"""
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

LEASES = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"
PATCH_TYPES = {"merge": "application/merge-patch+json",
               "strategic": "application/strategic-merge-patch+json"}


def no_relationship(node, verb, resource, name, ns):
    return ('%s "%s" is forbidden: User "system:node:%s" cannot %s resource "%s" in API group '
            '"" in the namespace "%s": no relationship found between node \'%s\' and this object'
            % (resource, name, node, verb, resource, ns, node))


def issue_node_cert(pki, out_dir, node):
    """A client certificate CN=system:node:<node>, O=system:nodes signed by the server's CA."""
    crt, key = os.path.join(out_dir, node + ".crt"), os.path.join(out_dir, node + ".key")
    subprocess.run(
        ["openssl", "req", "-new", "-x509", "-CA", os.path.join(pki, "ca.crt"),
         "-CAkey", os.path.join(pki, "ca.key"), "-days", "1",
         "-subj", "/O=system:nodes/CN=system:node:" + node,
         "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", key, "-out", crt,
         "-addext", "basicConstraints=critical,CA:FALSE",
         "-addext", "keyUsage=critical,digitalSignature",
         "-addext", "extendedKeyUsage=clientAuth"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return crt, key


class NodeAuthzTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="kubepp-nodeauthz-")
        cls.secure_port = harness.free_port()
        cls.server = harness.ApiServer(["--secure-port", str(cls.secure_port)])
        try:
            cls.server.start()
            pki = os.path.join(cls.server.data_dir, "pki")
            cls.ca = os.path.join(pki, "ca.crt")
            cls.contexts = {}
            for node in ("n1", "n2"):
                crt, key = issue_node_cert(pki, cls.work, node)
                ctx = ssl.create_default_context(cafile=cls.ca)
                ctx.load_cert_chain(crt, key)
                cls.contexts[node] = ctx
            # The nodes register themselves, as kubelets do.
            for node in ("n1", "n2"):
                r = cls.https(node, "/api/v1/nodes", "POST", {
                    "apiVersion": "v1", "kind": "Node",
                    "metadata": {"name": node, "labels": {"kubernetes.io/hostname": node}},
                    "spec": {"taints": [{"key": "dedicated", "value": "e2e",
                                         "effect": "NoSchedule"}]}})
                if r.status != 201:
                    raise AssertionError("registering %s: %r" % (node, r))
        except Exception:
            cls.server.stop()
            shutil.rmtree(cls.work, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.work, ignore_errors=True)

    # --- helpers ---

    @classmethod
    def https(cls, node, path, method="GET", body=None, patch=None):
        url = "https://127.0.0.1:%d%s" % (cls.secure_port, path)
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = PATCH_TYPES[patch] if patch else "application/json"
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, context=cls.contexts[node], timeout=20) as r:
                return harness.Response(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            return harness.Response(e.code, e.headers, e.read())

    def assertForbidden(self, r, message):
        self.assertEqual(r.status, 403, r)
        status = r.json()
        self.assertEqual((status["reason"], status["code"]), ("Forbidden", 403))
        self.assertEqual(status["message"], message)

    def make(self, ns, resource, obj):
        r = self.server.post("/api/v1/namespaces/%s/%s" % (ns, resource), obj)
        self.assertEqual(r.status, 201, r)
        return r.json()

    def secret(self, ns, name):
        self.make(ns, "secrets", {"apiVersion": "v1", "kind": "Secret",
                                  "metadata": {"name": name}, "data": {"k": "dg=="}})

    def pod(self, ns, name, node, secret=None, configmap=None, service_account=None):
        spec = {"nodeName": node, "containers": [{"name": "c", "image": "busybox:1.36"}]}
        volumes = []
        if secret:
            volumes.append({"name": "s", "secret": {"secretName": secret}})
        if configmap:
            spec["containers"][0]["envFrom"] = [{"configMapRef": {"name": configmap}}]
        if service_account:
            spec["serviceAccountName"] = service_account
        if volumes:
            spec["volumes"] = volumes
        return self.make(ns, "pods", {"apiVersion": "v1", "kind": "Pod",
                                      "metadata": {"name": name}, "spec": spec})

    # --- tests ---

    def test_a_node_reads_only_the_secrets_and_configmaps_of_its_pods(self):
        ns = self.server.create_namespace()
        for name in ("s1", "s2", "unused"):
            self.secret(ns, name)
        self.make(ns, "configmaps", {"apiVersion": "v1", "kind": "ConfigMap",
                                     "metadata": {"name": "cm1"}, "data": {"a": "b"}})
        self.pod(ns, "p1", "n1", secret="s1", configmap="cm1")
        self.pod(ns, "p2", "n2", secret="s2")
        secrets = "/api/v1/namespaces/%s/secrets/" % ns
        self.assertEqual(self.https("n1", secrets + "s1").status, 200)
        self.assertEqual(self.https("n1", secrets + "s1").json()["data"], {"k": "dg=="})
        self.assertForbidden(self.https("n1", secrets + "s2"),
                             no_relationship("n1", "get", "secrets", "s2", ns))
        self.assertEqual(self.https("n2", secrets + "s2").status, 200)
        self.assertForbidden(self.https("n2", secrets + "unused"),
                             no_relationship("n2", "get", "secrets", "unused", ns))
        # The kubelet's single-object watch of a Secret it needs.
        r = self.https("n1", "/api/v1/namespaces/%s/secrets?fieldSelector=metadata.name%%3Ds1" % ns)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([i["metadata"]["name"] for i in r.json()["items"]], ["s1"])
        r = self.https("n1", "/api/v1/namespaces/%s/secrets" % ns)
        self.assertForbidden(r, 'secrets is forbidden: User "system:node:n1" cannot list resource '
                                '"secrets" in API group "" in the namespace "%s": No Object name '
                                'found' % ns)
        self.assertEqual(self.https("n1", "/api/v1/namespaces/%s/configmaps/cm1" % ns).status, 200)
        self.assertEqual(self.https("n2", "/api/v1/namespaces/%s/configmaps/cm1" % ns).status, 403)
        # Writes are not for kubelets.
        r = self.https("n1", secrets + "s1", "PATCH", {"data": {"k": "eA=="}}, patch="merge")
        self.assertForbidden(r, 'secrets "s1" is forbidden: User "system:node:n1" cannot patch '
                                'resource "secrets" in API group "" in the namespace "%s": can '
                                'only read resources of this type' % ns)

    def test_the_graph_follows_pods_as_they_come_and_go(self):
        ns = self.server.create_namespace()
        self.secret(ns, "s")
        path = "/api/v1/namespaces/%s/secrets/s" % ns
        self.assertEqual(self.https("n1", path).status, 403)
        # A pod made without a node and bound later (as the scheduler does).
        self.make(ns, "pods", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                               "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}],
                                        "volumes": [{"name": "s", "secret": {"secretName": "s"}}]}})
        self.assertEqual(self.https("n1", path).status, 403)
        r = self.server.post("/api/v1/namespaces/%s/pods/p/binding" % ns, {
            "apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p"},
            "target": {"kind": "Node", "name": "n1"}})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.https("n1", path).status, 200)
        self.assertEqual(self.https("n2", path).status, 403)
        r = self.server.delete("/api/v1/namespaces/%s/pods/p" % ns, {"gracePeriodSeconds": 0})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.https("n1", path).status, 403)

    def test_a_node_changes_only_its_own_node(self):
        r = self.https("n1", "/api/v1/nodes/n2", "PATCH",
                       {"metadata": {"labels": {"example.com/x": "y"}}}, patch="merge")
        self.assertForbidden(r, 'nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"')
        r = self.https("n1", "/api/v1/nodes/n2/status", "PATCH",
                       {"status": {"phase": "Running"}}, patch="strategic")
        self.assertForbidden(r, 'nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"')
        r = self.https("n1", "/api/v1/nodes/n2", "DELETE")
        self.assertEqual(r.status, 403, r)
        self.assertForbidden(self.https("n1", "/api/v1/nodes/n2"),
                             'nodes "n2" is forbidden: User "system:node:n1" cannot get resource '
                             '"nodes" in API group "" at the cluster scope: node \'n1\' cannot read '
                             '\'n2\', only its own Node object')
        self.assertEqual(self.https("n1", "/api/v1/nodes").status, 403)
        r = self.https("n1", "/api/v1/nodes", "POST", {"apiVersion": "v1", "kind": "Node",
                                                       "metadata": {"name": "n3"}})
        self.assertForbidden(r, 'nodes "n3" is forbidden: node "n1" is not allowed to modify node "n3"')
        # Its own Node: labels of its own, status; not its taints nor restricted labels.
        r = self.https("n1", "/api/v1/nodes/n1", "PATCH",
                       {"metadata": {"labels": {"example.com/x": "y"}}}, patch="merge")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["metadata"]["labels"]["example.com/x"], "y")
        r = self.https("n1", "/api/v1/nodes/n1/status", "PATCH",
                       {"status": {"conditions": [{"type": "Ready", "status": "True"}]}},
                       patch="strategic")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.https("n1", "/api/v1/nodes/n1").status, 200)
        r = self.https("n1", "/api/v1/nodes/n1", "PATCH", {"spec": {"taints": None}}, patch="merge")
        self.assertForbidden(r, 'nodes "n1" is forbidden: node "n1" is not allowed to modify taints')
        r = self.https("n1", "/api/v1/nodes/n1", "PATCH",
                       {"metadata": {"labels": {"node-role.kubernetes.io/control-plane": ""}}},
                       patch="merge")
        self.assertForbidden(r, 'nodes "n1" is forbidden: is not allowed to modify labels: '
                                'node-role.kubernetes.io/control-plane')
        self.assertEqual(self.server.get("/api/v1/nodes/n1").json()["spec"]["taints"][0]["key"],
                         "dedicated")

    def test_a_node_changes_only_the_pods_bound_to_it(self):
        ns = self.server.create_namespace()
        self.pod(ns, "mine", "n1")
        self.pod(ns, "theirs", "n2")
        pods = "/api/v1/namespaces/%s/pods/" % ns
        r = self.https("n1", pods + "mine/status", "PATCH",
                       {"status": {"phase": "Running"}}, patch="merge")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"]["phase"], "Running")
        r = self.https("n1", pods + "theirs/status", "PATCH",
                       {"status": {"phase": "Running"}}, patch="merge")
        self.assertForbidden(r, 'pods "theirs" is forbidden: node "n1" can only update pod status '
                                'for pods with spec.nodeName set to itself')
        self.assertNotEqual(self.server.get(pods + "theirs").json()["status"]["phase"], "Running")
        r = self.https("n1", pods + "theirs", "DELETE")
        self.assertForbidden(r, 'pods "theirs" is forbidden: node "n1" can only delete pods with '
                                'spec.nodeName set to itself')
        r = self.https("n1", pods + "theirs/eviction", "POST",
                       {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "theirs"}})
        self.assertForbidden(r, 'pods "theirs" is forbidden: node n1 can only evict pods with '
                                'spec.nodeName set to itself')
        r = self.https("n1", pods + "mine", "PATCH", {"metadata": {"labels": {"a": "b"}}}, patch="merge")
        self.assertEqual(r.status, 403, r)
        # Reading: its own pods by name, or all of them by spec.nodeName.
        self.assertEqual(self.https("n1", pods + "mine").status, 200)
        self.assertForbidden(self.https("n1", pods + "theirs"),
                             no_relationship("n1", "get", "pods", "theirs", ns))
        r = self.https("n1", "/api/v1/pods?fieldSelector=spec.nodeName%3Dn1")
        self.assertEqual(r.status, 200, r)
        self.assertIn("mine", [p["metadata"]["name"] for p in r.json()["items"]])
        self.assertEqual(self.https("n1", "/api/v1/pods").status, 403)
        # Only mirror pods, and those naming nothing a node could read through them.
        r = self.https("n1", "/api/v1/namespaces/%s/pods" % ns, "POST", {
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "sneaky"},
            "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "busybox:1.36"}]}})
        self.assertForbidden(r, 'pods "sneaky" is forbidden: pod does not have '
                                '"kubernetes.io/config.mirror" annotation, node "n1" can only '
                                'create mirror pods')
        uid = self.server.get("/api/v1/nodes/n1").json()["metadata"]["uid"]
        mirror = {"apiVersion": "v1", "kind": "Pod",
                  "metadata": {"name": "static-n1",
                               "annotations": {"kubernetes.io/config.mirror": "hash"},
                               "ownerReferences": [{"apiVersion": "v1", "kind": "Node",
                                                    "name": "n1", "uid": uid, "controller": True}]},
                  "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "busybox:1.36"}]}}
        r = self.https("n1", "/api/v1/namespaces/%s/pods" % ns, "POST", mirror)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.https("n1", pods + "static-n1", "DELETE").status, 200)
        self.assertEqual(self.https("n1", pods + "mine", "DELETE").status, 200)

    def test_a_node_uses_only_its_own_lease(self):
        lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                 "metadata": {"name": "n1"}, "spec": {"holderIdentity": "n1"}}
        r = self.https("n1", LEASES, "POST", lease)
        self.assertEqual(r.status, 201, r)
        lease = r.json()
        lease["spec"]["leaseDurationSeconds"] = 40
        self.assertEqual(self.https("n1", LEASES + "/n1", "PUT", lease).status, 200)
        r = self.https("n1", LEASES, "POST", {"apiVersion": "coordination.k8s.io/v1",
                                              "kind": "Lease", "metadata": {"name": "n2"}})
        self.assertForbidden(r, 'leases.coordination.k8s.io "n2" is forbidden: can only access '
                                'node lease with the same name as the requesting node')
        r = self.https("n1", LEASES + "/n2")
        self.assertForbidden(r, 'leases.coordination.k8s.io "n2" is forbidden: User '
                                '"system:node:n1" cannot get resource "leases" in API group '
                                '"coordination.k8s.io" in the namespace "kube-node-lease": can '
                                'only access node lease with the same name as the requesting node')

    def test_service_account_tokens_only_for_pods_on_the_node(self):
        ns = self.server.create_namespace()
        self.make(ns, "serviceaccounts", {"apiVersion": "v1", "kind": "ServiceAccount",
                                          "metadata": {"name": "robot"}})
        pod = self.pod(ns, "p", "n1", service_account="robot")
        token = "/api/v1/namespaces/%s/serviceaccounts/robot/token" % ns

        def request(ref):
            spec = {"audiences": ["https://kubernetes.default.svc.cluster.local"]}
            if ref:
                spec["boundObjectRef"] = ref
            return {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec}
        bound = {"apiVersion": "v1", "kind": "Pod", "name": "p", "uid": pod["metadata"]["uid"]}
        r = self.https("n1", token, "POST", request(bound))
        self.assertEqual(r.status, 201, r)
        self.assertTrue(r.json()["status"]["token"])
        self.assertForbidden(self.https("n2", token, "POST", request(bound)),
                             'serviceaccounts "robot" is forbidden: User "system:node:n2" cannot '
                             'create resource "serviceaccounts/token" in API group "" in the '
                             'namespace "%s": no relationship found between node \'n2\' and this '
                             'object' % ns)
        self.assertForbidden(self.https("n1", token, "POST", request(None)),
                             'serviceaccounts "robot" is forbidden: node requested token not '
                             'bound to a pod')
        # A token bound to a pod on another node, for an account n1's pod uses too.
        other = self.pod(ns, "q", "n2", service_account="robot")
        r = self.https("n1", token, "POST", request(
            {"apiVersion": "v1", "kind": "Pod", "name": "q", "uid": other["metadata"]["uid"]}))
        self.assertForbidden(r, 'serviceaccounts "robot" is forbidden: node requested token bound '
                                'to a pod scheduled on a different node')
        self.assertEqual(self.https("n1", "/api/v1/namespaces/%s/serviceaccounts/robot" % ns).status, 403)

    def test_what_every_kubelet_reads(self):
        for path in ("/api/v1/services", "/api/v1/namespaces/default/endpoints/kubernetes",
                     "/api/v1/namespaces/default/services/kubernetes", "/api", "/version"):
            self.assertEqual(self.https("n1", path).status, 200, path)
        r = self.https("n1", "/api/v1/namespaces/default/events", "POST", {
            "apiVersion": "v1", "kind": "Event", "metadata": {"generateName": "n1-"},
            "involvedObject": {"kind": "Node", "name": "n1"}, "reason": "Starting",
            "message": "kubelet started", "type": "Normal"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.https("n1", "/apis/apps/v1/deployments").status, 403)
        # The rules review of a node is incomplete, as upstream.
        r = self.https("n1", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", "POST", {
            "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
            "spec": {"namespace": "default"}})
        self.assertEqual(r.status, 201, r)
        self.assertTrue(r.json()["status"]["incomplete"])
        self.assertEqual(r.json()["status"]["evaluationError"],
                         "node authorizer does not support user rule resolution")


class NodeBindingMigrationTest(unittest.TestCase):
    """A data dir from before the Node authorizer bound system:node to group system:nodes."""

    def test_the_old_group_binding_is_dropped_at_start(self):
        server = harness.ApiServer(["--secure-port", str(harness.free_port())])
        try:
            server.start()
            path = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/system:node"
            binding = server.get(path).json()
            self.assertNotIn("subjects", binding)
            binding["subjects"] = [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io",
                                    "name": "system:nodes"}]
            self.assertEqual(server.put(path, binding).status, 200)
            server.kill()
            server.start()
            self.assertNotIn("subjects", server.get(path).json())
            # A binding the user changed stays as it is.
            binding = server.get(path).json()
            binding["subjects"] = [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io",
                                    "name": "system:node:special"}]
            self.assertEqual(server.put(path, binding).status, 200)
            server.kill()
            server.start()
            self.assertEqual(server.get(path).json()["subjects"][0]["name"], "system:node:special")
        finally:
            server.stop()


if __name__ == "__main__":
    unittest.main()
