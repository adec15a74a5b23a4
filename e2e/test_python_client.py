"""The official Python client (Debian python3-kubernetes) against the apiserver."""
import unittest

from harness import ServerTestCase, deployment

try:
    from kubernetes import client, watch
    from kubernetes.client.rest import ApiException
except ImportError:  # run with /usr/bin/python3, which sees the Debian package
    client = None


class PythonClientTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        if client is None:
            raise unittest.SkipTest("the kubernetes Python package is not importable")
        super().setUpClass()
        cfg = client.Configuration()
        cfg.host = cls.server.url
        cls.api_client = client.ApiClient(cfg)
        cls.addClassCleanup(cls.api_client.close)
        cls.core = client.CoreV1Api(cls.api_client)
        cls.apps = client.AppsV1Api(cls.api_client)

    def setUp(self):
        self.ns = self.server.create_namespace()

    def test_version(self):
        info = client.VersionApi(self.api_client).get_code()
        self.assertTrue(info.git_version.startswith("v"))

    def test_list_namespaces(self):
        names = {n.metadata.name for n in self.core.list_namespace().items}
        self.assertTrue({"default", "kube-system", "kube-public", self.ns} <= names, names)

    def test_create_configmap(self):
        # The client drops unset fields: this body has no apiVersion or kind.
        body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="py", labels={"a": "b"}),
                                  data={"k": "v"})
        created = self.core.create_namespaced_config_map(self.ns, body)
        self.assertEqual(created.metadata.name, "py")
        self.assertTrue(created.metadata.resource_version)
        self.assertTrue(created.metadata.uid)
        got = self.core.read_namespaced_config_map("py", self.ns)
        self.assertEqual((got.kind, got.api_version, got.data), ("ConfigMap", "v1", {"k": "v"}))
        self.core.create_namespaced_config_map(
            self.ns, {"metadata": {"name": "from-dict"}, "data": {"x": "y"}})
        self.assertEqual(self.core.read_namespaced_config_map("from-dict", self.ns).data,
                         {"x": "y"})

    def test_patch_deployment_strategic_merge(self):
        self.apps.create_namespaced_deployment(self.ns, deployment("web", command=["sleep", "1"]))
        patched = self.apps.patch_namespaced_deployment("web", self.ns, {"spec": {"template": {
            "spec": {"containers": [{"name": "c", "image": "nginx:1.26"}]}}}})
        containers = patched.spec.template.spec.containers
        self.assertEqual([(c.name, c.image) for c in containers], [("c", "nginx:1.26")])
        self.assertEqual(containers[0].command, ["sleep", "1"])
        self.assertEqual(patched.metadata.generation, 2)

    def test_scale(self):
        self.apps.create_namespaced_deployment(self.ns, deployment("sc"))
        scale = self.apps.patch_namespaced_deployment_scale("sc", self.ns,
                                                            {"spec": {"replicas": 3}})
        self.assertEqual(scale.spec.replicas, 3)
        self.assertEqual(self.apps.read_namespaced_deployment_scale("sc", self.ns).status.selector,
                         "app=sc")
        self.assertEqual(self.apps.read_namespaced_deployment("sc", self.ns).spec.replicas, 3)

    def test_watch_without_resource_version(self):
        for name in ("old1", "old2"):
            self.core.create_namespaced_config_map(
                self.ns, {"metadata": {"name": name}, "data": {"k": name}})
        w = watch.Watch()
        events = []
        for ev in w.stream(self.core.list_namespaced_config_map, self.ns, timeout_seconds=15):
            events.append((ev["type"], ev["object"].metadata.name))
            if len(events) == 2:
                self.core.create_namespaced_config_map(self.ns, {"metadata": {"name": "new"}})
            if ev["object"].metadata.name == "new":
                w.stop()
        self.assertEqual(sorted(events[:2]), [("ADDED", "old1"), ("ADDED", "old2")])
        self.assertEqual(events[2:], [("ADDED", "new")])

    def test_list_with_label_selector(self):
        for name, app in (("a", "x"), ("b", "y"), ("c", "x")):
            self.core.create_namespaced_config_map(
                self.ns, {"metadata": {"name": name, "labels": {"app": app}}})
        got = self.core.list_namespaced_config_map(self.ns, label_selector="app=x")
        self.assertEqual([i.metadata.name for i in got.items], ["a", "c"])
        self.assertTrue(got.metadata.resource_version)
        got = self.core.list_config_map_for_all_namespaces(field_selector="metadata.name=b")
        self.assertEqual([(i.metadata.namespace, i.metadata.name) for i in got.items],
                         [(self.ns, "b")])

    def test_not_found(self):
        with self.assertRaises(ApiException) as ctx:
            self.core.read_namespaced_config_map("nope", self.ns)
        self.assertEqual(ctx.exception.status, 404)
        self.assertIn('"reason":"NotFound"', ctx.exception.body.replace(" ", ""))


if __name__ == "__main__":
    unittest.main()
