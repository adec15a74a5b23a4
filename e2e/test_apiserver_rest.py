"""The apiserver's REST API over raw HTTP, checked against upstream Kubernetes semantics."""
import http.client
import ipaddress
import socket
import threading
import time
import unittest
import urllib.parse

from harness import TABLE_ACCEPT, ApiServer, ServerTestCase, configmap, deployment, pod


def q(selector):
    return urllib.parse.quote(selector, safe="")


def names(list_resp):
    return [i["metadata"]["name"] for i in list_resp.json()["items"]]


class DiscoveryTest(ServerTestCase):
    def test_version(self):
        r = self.server.get("/version")
        self.assertStatus(r, 200)
        v = r.json()
        for key in ("major", "minor", "gitVersion", "platform"):
            self.assertIn(key, v)
        self.assertTrue(v["gitVersion"].startswith("v"), v)

    def test_healthz(self):
        for path in ("/healthz", "/livez", "/readyz"):
            r = self.server.get(path)
            self.assertEqual((r.status, r.body), (200, b"ok"), path)

    def test_api(self):
        r = self.server.get("/api")
        self.assertStatus(r, 200)
        doc = r.json()
        self.assertEqual(doc["kind"], "APIVersions")
        self.assertEqual(doc["versions"], ["v1"])
        self.assertTrue(doc["serverAddressByClientCIDRs"])

    def test_apis(self):
        doc = self.server.get("/apis").json()
        self.assertEqual(doc["kind"], "APIGroupList")
        groups = {g["name"]: g for g in doc["groups"]}
        for name in ("apps", "batch", "networking.k8s.io", "coordination.k8s.io",
                     "discovery.k8s.io"):
            self.assertIn(name, groups)
            self.assertEqual(groups[name]["preferredVersion"],
                             {"groupVersion": name + "/v1", "version": "v1"})
            self.assertIn({"groupVersion": name + "/v1", "version": "v1"},
                          groups[name]["versions"])

    def test_core_v1_resources(self):
        doc = self.server.get("/api/v1").json()
        self.assertEqual((doc["kind"], doc["groupVersion"]), ("APIResourceList", "v1"))
        res = {r["name"]: r for r in doc["resources"]}
        pods = res["pods"]
        self.assertEqual((pods["kind"], pods["namespaced"], pods["singularName"]),
                         ("Pod", True, "pod"))
        self.assertEqual(pods["shortNames"], ["po"])
        self.assertEqual(pods["categories"], ["all"])
        for verb in ("create", "delete", "deletecollection", "get", "list", "patch", "update",
                     "watch"):
            self.assertIn(verb, pods["verbs"])
        for sub in ("pods/status", "pods/binding", "pods/log", "pods/eviction"):
            self.assertIn(sub, res)
        self.assertEqual(res["pods/binding"]["kind"], "Binding")
        self.assertEqual(res["pods/binding"]["verbs"], ["create"])
        self.assertEqual(res["namespaces"]["namespaced"], False)
        self.assertEqual(res["namespaces"]["shortNames"], ["ns"])
        self.assertEqual(res["configmaps"]["shortNames"], ["cm"])
        self.assertEqual(res["services"]["shortNames"], ["svc"])
        self.assertEqual(res["services"]["categories"], ["all"])
        self.assertEqual(res["nodes"]["shortNames"], ["no"])
        self.assertEqual(res["endpoints"]["shortNames"], ["ep"])

    def test_apps_v1_resources(self):
        doc = self.server.get("/apis/apps/v1").json()
        self.assertEqual((doc["kind"], doc["groupVersion"]), ("APIResourceList", "apps/v1"))
        res = {r["name"]: r for r in doc["resources"]}
        self.assertEqual(res["deployments"]["kind"], "Deployment")
        self.assertEqual(res["deployments"]["shortNames"], ["deploy"])
        self.assertEqual(res["deployments"]["categories"], ["all"])
        self.assertEqual(res["replicasets"]["shortNames"], ["rs"])
        scale = res["deployments/scale"]
        self.assertEqual((scale["group"], scale["version"], scale["kind"]),
                         ("autoscaling", "v1", "Scale"))
        self.assertIn("deployments/status", res)

    def test_unknown_group_is_404(self):
        self.assertStatus(self.server.get("/apis/nope.example.com/v1"), 404, "NotFound")
        self.assertStatus(self.server.get("/api/v1/namespaces/default/nopes"), 404, "NotFound")


class ConfigMapCrudTest(ServerTestCase):
    def setUp(self):
        self.ns = self.server.create_namespace()
        self.base = "/api/v1/namespaces/%s/configmaps" % self.ns

    def test_create_get_list_update_delete(self):
        s = self.server
        r = s.post(self.base, configmap("a", {"x": "1"}))
        self.assertStatus(r, 201)
        created = r.json()
        self.assertEqual((created["kind"], created["apiVersion"]), ("ConfigMap", "v1"))
        meta = created["metadata"]
        self.assertEqual((meta["name"], meta["namespace"]), ("a", self.ns))
        for key in ("uid", "resourceVersion", "creationTimestamp"):
            self.assertTrue(meta.get(key), key)

        got = s.get(self.base + "/a")
        self.assertStatus(got, 200)
        self.assertEqual(got.json(), created)

        lst = s.get(self.base)
        self.assertStatus(lst, 200)
        doc = lst.json()
        self.assertEqual((doc["kind"], doc["apiVersion"]), ("ConfigMapList", "v1"))
        self.assertTrue(doc["metadata"]["resourceVersion"])
        self.assertEqual(names(lst), ["a"])

        created["data"] = {"x": "2"}
        r = s.put(self.base + "/a", created)
        self.assertStatus(r, 200)
        updated = r.json()
        self.assertEqual(updated["data"], {"x": "2"})
        self.assertEqual(updated["metadata"]["uid"], meta["uid"])
        self.assertGreater(int(updated["metadata"]["resourceVersion"]),
                           int(meta["resourceVersion"]))
        self.assertEqual(s.get(self.base + "/a").json()["data"], {"x": "2"})

        self.assertStatus(s.delete(self.base + "/a"), 200)
        self.assertStatus(s.get(self.base + "/a"), 404, "NotFound")
        self.assertEqual(names(s.get(self.base)), [])

    def test_not_found_status(self):
        st = self.assertStatus(self.server.get(self.base + "/nope"), 404, "NotFound")
        self.assertEqual(st["message"], 'configmaps "nope" not found')
        self.assertEqual(st["details"]["name"], "nope")
        self.assertEqual(st["details"]["kind"], "configmaps")
        self.assertStatus(self.server.delete(self.base + "/nope"), 404, "NotFound")

    def test_already_exists(self):
        self.assertStatus(self.server.post(self.base, configmap("dup")), 201)
        st = self.assertStatus(self.server.post(self.base, configmap("dup")), 409, "AlreadyExists")
        self.assertEqual(st["message"], 'configmaps "dup" already exists')
        self.assertEqual(st["details"]["name"], "dup")

    def test_stale_resource_version_conflicts(self):
        s = self.server
        v1 = s.post(self.base, configmap("c", {"n": "1"})).json()
        v2 = dict(v1, data={"n": "2"})
        self.assertStatus(s.put(self.base + "/c", v2), 200)
        stale = dict(v1, data={"n": "3"})
        st = self.assertStatus(s.put(self.base + "/c", stale), 409, "Conflict")
        self.assertIn("the object has been modified", st["message"])
        self.assertEqual(s.get(self.base + "/c").json()["data"], {"n": "2"})

    def test_generate_name(self):
        body = configmap("")
        del body["metadata"]["name"]
        body["metadata"]["generateName"] = "gen-"
        r = self.server.post(self.base, body)
        self.assertStatus(r, 201)
        name = r.json()["metadata"]["name"]
        self.assertTrue(name.startswith("gen-") and len(name) > 4, name)
        self.assertStatus(self.server.get(self.base + "/" + name), 200)

    def test_yaml_body(self):
        body = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\n"
                "  labels:\n    app: y\ndata:\n  key: value\n")
        r = self.server.post(self.base, body, content_type="application/yaml")
        self.assertStatus(r, 201)
        got = self.server.get(self.base + "/from-yaml").json()
        self.assertEqual(got["data"], {"key": "value"})
        self.assertEqual(got["metadata"]["labels"], {"app": "y"})

    def test_malformed_json_is_400(self):
        r = self.server.post(self.base, '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {',
                             content_type="application/json")
        self.assertStatus(r, 400, "BadRequest")
        r = self.server.post(self.base, "metadata: [unclosed", content_type="application/yaml")
        self.assertStatus(r, 400, "BadRequest")
        self.assertEqual(names(self.server.get(self.base)), [])

    def test_kind_or_api_version_not_matching_url_is_400(self):
        secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}
        self.assertStatus(self.server.post(self.base, secret), 400, "BadRequest")
        wrong_group = configmap("w")
        wrong_group["apiVersion"] = "apps/v1"
        self.assertStatus(self.server.post(self.base, wrong_group), 400, "BadRequest")
        self.assertEqual(names(self.server.get(self.base)), [])

    def test_strict_field_validation_names_unknown_fields(self):
        bad = configmap("strict")
        bad["dataa"] = {"k": "v"}
        r = self.server.post(self.base + "?fieldValidation=Strict", bad)
        self.assertStatus(r, 400, "BadRequest")
        self.assertIn('unknown field "dataa"', r.json()["message"])
        self.assertEqual(names(self.server.get(self.base)), [])
        # Without Strict the same body is accepted (upstream ignores or warns).
        self.assertEqual(self.server.post(self.base, bad).status, 201)

    def test_repeated_fields_keep_the_last_warn_or_fail_strict(self):
        body = ('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dup","name":"dup2"},'
                '"data":{"k":"first","k":"last"}}')
        r = self.server.post(self.base + "?fieldValidation=Strict", body, content_type="application/json")
        self.assertStatus(r, 400, "BadRequest")
        self.assertIn('duplicate field "metadata.name"', r.json()["message"])
        self.assertIn('duplicate field "data.k"', r.json()["message"])
        self.assertEqual(names(self.server.get(self.base)), [])
        # The default (Warn): created with the last of each, a warning per repeated field.
        r = self.server.post(self.base, body, content_type="application/json")
        self.assertEqual(r.status, 201)
        self.assertEqual(r.json()["metadata"]["name"], "dup2")
        self.assertEqual(r.json()["data"], {"k": "last"})
        warnings = " ".join(r.headers.get_all("Warning") or [])
        self.assertIn('duplicate field \\"metadata.name\\"', warnings)
        self.assertIn('duplicate field \\"data.k\\"', warnings)

    def test_namespace_or_name_not_matching_url_is_400(self):
        other = configmap("o", namespace="some-other-namespace")
        self.assertStatus(self.server.post(self.base, other), 400, "BadRequest")
        created = self.server.post(self.base, configmap("n1")).json()
        self.assertStatus(self.server.put(self.base + "/n2", created), 400, "BadRequest")

    def test_invalid_name_is_422_with_causes(self):
        st = self.assertStatus(self.server.post(self.base, configmap("Bad_Name")), 422, "Invalid")
        self.assertTrue(st["message"].startswith('ConfigMap "Bad_Name" is invalid'), st)
        self.assertEqual(st["details"]["name"], "Bad_Name")
        self.assertEqual(st["details"]["kind"], "ConfigMap")
        fields = [c.get("field") for c in st["details"]["causes"]]
        self.assertIn("metadata.name", fields)
        no_name = configmap("x")
        del no_name["metadata"]["name"]
        self.assertStatus(self.server.post(self.base, no_name), 422, "Invalid")

    def test_create_in_missing_namespace_is_404(self):
        st = self.assertStatus(
            self.server.post("/api/v1/namespaces/no-such-ns/configmaps", configmap("a")),
            404, "NotFound")
        self.assertEqual(st["message"], 'namespaces "no-such-ns" not found')

    def test_oversize_body_is_413(self):
        body = ('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},'
                '"data":{"k":"%s"}}' % ("x" * (3 * 1024 * 1024 + 512 * 1024))).encode()
        status, payload = raw_request(self.server.port, "POST", self.base, body)
        self.assertEqual(status, 413, payload[:300])
        self.assertStatus(self.server.get(self.base + "/big"), 404, "NotFound")
        self.assertStatus(self.server.get("/healthz"), 200)

    def test_dry_run_does_not_persist(self):
        s = self.server
        r = s.post(self.base + "?dryRun=All", configmap("dry"))
        self.assertStatus(r, 201)
        self.assertEqual(r.json()["metadata"]["name"], "dry")
        self.assertStatus(s.get(self.base + "/dry"), 404, "NotFound")

        real = s.post(self.base, configmap("real", {"v": "1"})).json()
        self.assertStatus(s.put(self.base + "/real?dryRun=All", dict(real, data={"v": "2"})), 200)
        self.assertStatus(s.patch(self.base + "/real?dryRun=All", {"data": {"v": "3"}}), 200)
        self.assertStatus(s.delete(self.base + "/real?dryRun=All"), 200)
        got = s.get(self.base + "/real")
        self.assertStatus(got, 200)
        self.assertEqual(got.json()["data"], {"v": "1"})
        self.assertEqual(got.json()["metadata"]["resourceVersion"],
                         real["metadata"]["resourceVersion"])

    def test_finalizers_delay_deletion(self):
        s = self.server
        s.post(self.base, configmap("fin", finalizers=["example.com/hold"]))
        r = s.delete(self.base + "/fin")
        self.assertStatus(r, 200)
        self.assertTrue(r.json()["metadata"].get("deletionTimestamp"), r)
        got = s.get(self.base + "/fin")
        self.assertStatus(got, 200)
        self.assertTrue(got.json()["metadata"].get("deletionTimestamp"))
        self.assertEqual(got.json()["metadata"]["finalizers"], ["example.com/hold"])
        self.assertStatus(s.patch(self.base + "/fin", {"metadata": {"finalizers": None}}), 200)
        self.assertStatus(s.get(self.base + "/fin"), 404, "NotFound")

    def test_table_output(self):
        s = self.server
        for n in ("t1", "t2"):
            s.post(self.base, configmap(n))
        r = s.get(self.base, headers={"Accept": TABLE_ACCEPT})
        self.assertStatus(r, 200)
        table = r.json()
        self.assertEqual((table["kind"], table["apiVersion"]), ("Table", "meta.k8s.io/v1"))
        cols = [c["name"] for c in table["columnDefinitions"]]
        self.assertEqual(cols[0], "Name")
        self.assertIn("Age", cols)
        for c in table["columnDefinitions"]:
            for key in ("name", "type", "format", "description", "priority"):
                self.assertIn(key, c)
        self.assertTrue(table["metadata"]["resourceVersion"])
        self.assertEqual([row["cells"][0] for row in table["rows"]], ["t1", "t2"])
        for row in table["rows"]:
            self.assertEqual(len(row["cells"]), len(cols))
            obj = row["object"]
            self.assertEqual(obj["kind"], "PartialObjectMetadata")
            self.assertEqual(obj["metadata"]["namespace"], self.ns)
        one = s.get(self.base + "/t1", headers={"Accept": TABLE_ACCEPT}).json()
        self.assertEqual(one["kind"], "Table")
        self.assertEqual([row["cells"][0] for row in one["rows"]], ["t1"])


class SelectorAndPagingTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ns = cls.server.create_namespace()
        cls.base = "/api/v1/namespaces/%s/configmaps" % cls.ns
        for name, labels in (("a1", {"app": "a", "tier": "web"}), ("a2", {"app": "a"}),
                             ("b1", {"app": "b"}), ("none", None)):
            r = cls.server.post(cls.base, configmap(name, labels=labels))
            assert r.status == 201, r

    def select(self, query):
        r = self.server.get(self.base + "?" + query)
        self.assertStatus(r, 200)
        return sorted(names(r))

    def test_label_selector_equality(self):
        self.assertEqual(self.select("labelSelector=" + q("app=a")), ["a1", "a2"])
        self.assertEqual(self.select("labelSelector=" + q("app==a,tier=web")), ["a1"])
        # != also matches objects without the label, as upstream.
        self.assertEqual(self.select("labelSelector=" + q("app!=a")), ["b1", "none"])

    def test_label_selector_set_based(self):
        self.assertEqual(self.select("labelSelector=" + q("app in (a,b)")), ["a1", "a2", "b1"])
        self.assertEqual(self.select("labelSelector=" + q("app notin (a)")), ["b1", "none"])
        self.assertEqual(self.select("labelSelector=" + q("app")), ["a1", "a2", "b1"])
        self.assertEqual(self.select("labelSelector=" + q("!app")), ["none"])
        self.assertEqual(self.select("labelSelector=" + q("app in (a),!tier")), ["a2"])

    def test_bad_label_selector_is_400(self):
        r = self.server.get(self.base + "?labelSelector=" + q("app in (a"))
        self.assertStatus(r, 400, "BadRequest")

    def test_field_selector(self):
        self.assertEqual(self.select("fieldSelector=" + q("metadata.name=b1")), ["b1"])
        self.assertEqual(self.select("fieldSelector=" + q("metadata.name!=b1")),
                         ["a1", "a2", "none"])
        self.assertEqual(self.select("fieldSelector=" + q("metadata.namespace=" + self.ns)),
                         ["a1", "a2", "b1", "none"])
        r = self.server.get(self.base + "?fieldSelector=" + q("spec.nope=x"))
        self.assertStatus(r, 400, "BadRequest")

    def test_selector_across_namespaces(self):
        r = self.server.get("/api/v1/configmaps?fieldSelector=" + q("metadata.name=a1"))
        self.assertStatus(r, 200)
        self.assertEqual([(i["metadata"]["namespace"], i["metadata"]["name"])
                          for i in r.json()["items"]], [(self.ns, "a1")])

    def test_limit_and_continue(self):
        seen, pages, token = [], 0, None
        rvs = set()
        while True:
            path = self.base + "?limit=3" + ("&continue=" + q(token) if token else "")
            r = self.server.get(path)
            self.assertStatus(r, 200)
            doc = r.json()
            pages += 1
            self.assertLessEqual(len(doc["items"]), 3)
            seen += [i["metadata"]["name"] for i in doc["items"]]
            rvs.add(doc["metadata"]["resourceVersion"])
            token = doc["metadata"].get("continue")
            if not token:
                break
        self.assertEqual(pages, 2)
        self.assertEqual(seen, ["a1", "a2", "b1", "none"])
        self.assertEqual(len(rvs), 1, "every page is served at the first page's revision")

    def test_limit_with_selector(self):
        r = self.server.get(self.base + "?limit=1&labelSelector=" + q("app=a")).json()
        self.assertEqual([i["metadata"]["name"] for i in r["items"]], ["a1"])
        r2 = self.server.get(self.base + "?limit=1&labelSelector=" + q("app=a") +
                             "&continue=" + q(r["metadata"]["continue"])).json()
        self.assertEqual([i["metadata"]["name"] for i in r2["items"]], ["a2"])

    def test_bad_continue_token_is_400(self):
        self.assertStatus(self.server.get(self.base + "?limit=1&continue=garbage"), 400,
                          "BadRequest")


class ContinueSnapshotTest(ServerTestCase):
    def test_continue_pages_are_a_consistent_snapshot(self):
        # Upstream serves every page of a paged list from the first page's revision:
        # objects created after the first page do not show up on later pages.
        s = self.server
        ns = s.create_namespace()
        base = "/api/v1/namespaces/%s/configmaps" % ns
        for n in ("a", "b"):
            s.post(base, configmap(n))
        first = s.get(base + "?limit=1").json()
        self.assertEqual([i["metadata"]["name"] for i in first["items"]], ["a"])
        s.post(base, configmap("c"))
        rest = s.get(base + "?limit=10&continue=" + q(first["metadata"]["continue"])).json()
        self.assertEqual([i["metadata"]["name"] for i in rest["items"]], ["b"])


class WatchTest(ServerTestCase):
    def setUp(self):
        self.ns = self.server.create_namespace()
        self.base = "/api/v1/namespaces/%s/configmaps" % self.ns

    def test_watch_streams_changes_in_order(self):
        s = self.server
        rv = s.get(self.base).json()["metadata"]["resourceVersion"]
        with s.watch(self.base + "?watch=1&resourceVersion=" + rv, timeout=10) as w:
            self.assertEqual(w.status, 200)
            self.assertEqual(w.headers.get("Transfer-Encoding"), "chunked")
            self.assertIn("application/json", w.headers.get("Content-Type"))
            created = s.post(self.base, configmap("w", {"v": "1"})).json()
            s.put(self.base + "/w", dict(created, data={"v": "2"}))
            s.delete(self.base + "/w")
            events = [w.next_event() for _ in range(3)]
        self.assertEqual([e["type"] for e in events], ["ADDED", "MODIFIED", "DELETED"])
        for e in events:
            self.assertEqual((e["object"]["kind"], e["object"]["metadata"]["name"]),
                             ("ConfigMap", "w"))
        self.assertEqual(events[1]["object"]["data"], {"v": "2"})
        rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
        self.assertEqual(rvs, sorted(set(rvs)))
        self.assertGreater(rvs[0], int(rv))

    def test_watch_replays_from_resource_version(self):
        s = self.server
        first = s.post(self.base, configmap("r1")).json()
        s.post(self.base, configmap("r2"))
        s.post(self.base, configmap("r3"))
        rv = first["metadata"]["resourceVersion"]
        with s.watch(self.base + "?watch=1&resourceVersion=" + rv, timeout=10) as w:
            events = [w.next_event() for _ in range(2)]
        self.assertEqual([(e["type"], e["object"]["metadata"]["name"]) for e in events],
                         [("ADDED", "r2"), ("ADDED", "r3")])

    def test_watch_with_label_selector(self):
        s = self.server
        rv = s.get(self.base).json()["metadata"]["resourceVersion"]
        path = self.base + "?watch=1&resourceVersion=%s&labelSelector=%s" % (rv, q("app=x"))
        with s.watch(path, timeout=10) as w:
            s.post(self.base, configmap("other", labels={"app": "y"}))
            s.post(self.base, configmap("match", labels={"app": "x"}))
            ev = w.next_event()
        self.assertEqual((ev["type"], ev["object"]["metadata"]["name"]), ("ADDED", "match"))

    def test_watch_timeout_seconds_ends_cleanly(self):
        rv = self.server.get(self.base).json()["metadata"]["resourceVersion"]
        start = time.monotonic()
        with self.server.watch(self.base + "?watch=1&timeoutSeconds=2&resourceVersion=" + rv,
                               timeout=15) as w:
            self.assertEqual(w.status, 200)
            # Reading to the end raises IncompleteRead unless the stream ends with the
            # terminating zero-length chunk.
            events = list(w)
        elapsed = time.monotonic() - start
        self.assertEqual(events, [])
        self.assertGreaterEqual(elapsed, 1.5)
        self.assertLess(elapsed, 6)


class WatchExpiredTest(ServerTestCase):
    server_args = ("--watch-history", "20")

    def test_watch_from_compacted_revision_gets_410(self):
        s = self.server
        ns = s.create_namespace()
        base = "/api/v1/namespaces/%s/configmaps" % ns
        first = s.post(base, configmap("first")).json()
        create_many(s.port, base, "old", 1100)
        old_rv = first["metadata"]["resourceVersion"]
        with s.watch(base + "?watch=1&resourceVersion=" + old_rv, timeout=10) as w:
            self.assertEqual(w.status, 200)
            ev = w.next_event()
            self.assertIsNotNone(ev, "stream ended without an ERROR event")
            self.assertEqual(ev["type"], "ERROR", ev)
            st = ev["object"]
            self.assertEqual((st["kind"], st["code"]), ("Status", 410), st)
            self.assertIn(st["reason"], ("Expired", "Gone"))
            self.assertIsNone(w.next_event(), "the stream ends after the ERROR event")
        # A recent revision still resumes.
        rv = s.get(base + "?limit=1").json()["metadata"]["resourceVersion"]
        with s.watch(base + "?watch=1&resourceVersion=" + rv, timeout=10) as w:
            s.post(base, configmap("after"))
            ev = w.next_event()
        self.assertEqual((ev["type"], ev["object"]["metadata"]["name"]), ("ADDED", "after"))


class EventTtlTest(ServerTestCase):
    """--event-ttl: Events are deleted that long after their last write, as upstream."""
    server_args = ("--event-ttl", "2s")

    def test_event_is_deleted_after_its_ttl_and_watchers_see_it(self):
        s = self.server
        ns = s.create_namespace()
        events = "/api/v1/namespaces/%s/events" % ns
        rv = s.get(events).json()["metadata"]["resourceVersion"]
        with s.watch(events + "?watch=1&resourceVersion=" + rv, timeout=60) as w:
            r = s.post(events, {
                "apiVersion": "v1", "kind": "Event", "metadata": {"name": "short-lived"},
                "involvedObject": {"kind": "Pod", "name": "p", "namespace": ns},
                "reason": "Testing", "message": "goes away", "type": "Normal"})
            self.assertStatus(r, 201)
            # Other resources have no TTL.
            self.assertStatus(s.post("/api/v1/namespaces/%s/configmaps" % ns,
                                     configmap("stays")), 201)
            seen = []
            deadline = time.monotonic() + 45  # generous: the TTL is 2 s
            while time.monotonic() < deadline:
                ev = w.next_event()
                self.assertIsNotNone(ev, "the watch ended before the DELETED event")
                seen.append((ev["type"], ev["object"]["metadata"]["name"]))
                if ev["type"] == "DELETED":
                    break
        self.assertEqual(seen, [("ADDED", "short-lived"), ("DELETED", "short-lived")])
        self.assertStatus(s.get(events + "/short-lived"), 404, "NotFound")
        self.assertStatus(s.get("/api/v1/namespaces/%s/configmaps/stays" % ns), 200)

    def test_bad_event_ttl_is_refused(self):
        bad = ApiServer(("--event-ttl", "2x"))
        self.addCleanup(bad.stop)
        with self.assertRaises(RuntimeError) as cm:
            bad.start(timeout=20)
        self.assertIn('unknown unit "x" in duration "2x"', str(cm.exception))


class MetadataAndSubresourceTest(ServerTestCase):
    def setUp(self):
        self.ns = self.server.create_namespace()
        self.deps = "/apis/apps/v1/namespaces/%s/deployments" % self.ns
        self.pods = "/api/v1/namespaces/%s/pods" % self.ns

    def test_generation_bumps_on_spec_change_only(self):
        s = self.server
        d = s.post(self.deps, deployment("gen")).json()
        self.assertEqual(d["metadata"]["generation"], 1)
        d["spec"]["replicas"] = 2
        d = s.put(self.deps + "/gen", d).json()
        self.assertEqual(d["metadata"]["generation"], 2)
        d = s.patch(self.deps + "/gen", {"metadata": {"labels": {"x": "y"}}}).json()
        self.assertEqual(d["metadata"]["generation"], 2)
        d = s.patch(self.deps + "/gen", {"metadata": {"annotations": {"a": "b"}}}).json()
        self.assertEqual(d["metadata"]["generation"], 2)
        d = s.patch(self.deps + "/gen/status", {"status": {"observedGeneration": 2}}).json()
        self.assertEqual(d["metadata"]["generation"], 2)
        self.assertEqual(d["status"]["observedGeneration"], 2)
        d = s.patch(self.deps + "/gen", {"spec": {"template": {"spec": {"containers": [
            {"name": "c", "image": "nginx:1.26"}]}}}}, patch_type="strategic").json()
        self.assertEqual(d["metadata"]["generation"], 3)

    def test_status_subresource(self):
        s = self.server
        p = s.post(self.pods, pod("st")).json()
        self.assertEqual(p["status"]["phase"], "Pending", "a new pod starts Pending")
        p["status"] = {"phase": "Running", "podIP": "10.244.0.5"}
        p["spec"]["containers"][0]["image"] = "changed:1"
        r = s.put(self.pods + "/st/status", p)
        self.assertStatus(r, 200)
        got = s.get(self.pods + "/st").json()
        self.assertEqual(got["status"]["phase"], "Running")
        self.assertEqual(got["status"]["podIP"], "10.244.0.5")
        self.assertEqual(got["spec"]["containers"][0]["image"], "busybox:1.36",
                         "a status update must not change the spec")

        got["status"]["phase"] = "Failed"
        got["metadata"]["labels"]["extra"] = "yes"
        r = s.put(self.pods + "/st", got)
        self.assertStatus(r, 200)
        got = s.get(self.pods + "/st").json()
        self.assertEqual(got["metadata"]["labels"]["extra"], "yes")
        self.assertEqual(got["status"]["phase"], "Running",
                         "an update of the main resource must not change the status")

    def test_pod_binding(self):
        s = self.server
        s.post(self.pods, pod("b"))
        binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "b"},
                   "target": {"apiVersion": "v1", "kind": "Node", "name": "node-1"}}
        self.assertStatus(s.post(self.pods + "/b/binding", binding), 201)
        self.assertEqual(s.get(self.pods + "/b").json()["spec"]["nodeName"], "node-1")
        binding["target"]["name"] = "node-2"
        self.assertStatus(s.post(self.pods + "/b/binding", binding), 409, "Conflict")
        self.assertEqual(s.get(self.pods + "/b").json()["spec"]["nodeName"], "node-1")

    def test_deployment_scale(self):
        s = self.server
        s.post(self.deps, deployment("sc", replicas=2))
        r = s.get(self.deps + "/sc/scale")
        self.assertStatus(r, 200)
        scale = r.json()
        self.assertEqual((scale["kind"], scale["apiVersion"]), ("Scale", "autoscaling/v1"))
        self.assertEqual((scale["metadata"]["name"], scale["metadata"]["namespace"]),
                         ("sc", self.ns))
        self.assertEqual(scale["spec"]["replicas"], 2)
        self.assertEqual(scale["status"]["selector"], "app=sc")
        r = s.patch(self.deps + "/sc/scale", {"spec": {"replicas": 5}})
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["kind"], "Scale")
        self.assertEqual(r.json()["spec"]["replicas"], 5)
        self.assertEqual(s.get(self.deps + "/sc").json()["spec"]["replicas"], 5)

    def test_patch_types(self):
        s = self.server
        s.post(self.deps, deployment("p", command=["sleep", "1"]))
        r = s.patch(self.deps + "/p", {"metadata": {"labels": {"tier": "web"}}})
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["metadata"]["labels"], {"app": "p", "tier": "web"})

        r = s.patch(self.deps + "/p", [{"op": "replace", "path": "/spec/replicas", "value": 4}],
                    patch_type="json")
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["spec"]["replicas"], 4)

        # What `kubectl apply` sends for an image change.
        smp = {"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "c"}],
            "containers": [{"name": "c", "image": "nginx:1.26"}]}}}}
        r = s.patch(self.deps + "/p", smp, patch_type="strategic")
        self.assertStatus(r, 200)
        containers = s.get(self.deps + "/p").json()["spec"]["template"]["spec"]["containers"]
        self.assertEqual(len(containers), 1)
        self.assertEqual(containers[0]["image"], "nginx:1.26")
        self.assertEqual(containers[0]["command"], ["sleep", "1"])

        # A plain merge patch replaces the list: the command is gone.
        r = s.patch(self.deps + "/p", {"spec": {"template": {"spec": {"containers": [
            {"name": "c", "image": "nginx:1.27"}]}}}})
        self.assertStatus(r, 200)
        self.assertNotIn("command", r.json()["spec"]["template"]["spec"]["containers"][0])

    def test_bad_patch_is_rejected(self):
        s = self.server
        s.post(self.deps, deployment("bad"))
        r = s.patch(self.deps + "/bad", [{"op": "replace", "path": "/spec/nope/x", "value": 1}],
                    patch_type="json")
        self.assertStatus(r, 422, "Invalid")
        r = s.request("PATCH", self.deps + "/bad", {"spec": {}}, content_type="text/plain")
        self.assertStatus(r, 415, "UnsupportedMediaType")
        self.assertStatus(s.patch(self.deps + "/nope", {"spec": {}}), 404, "NotFound")

    def test_namespace_deletion_sets_terminating(self):
        s = self.server
        ns = s.create_namespace()
        r = s.delete("/api/v1/namespaces/" + ns)
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["status"]["phase"], "Terminating")
        got = s.get("/api/v1/namespaces/" + ns).json()
        self.assertEqual(got["status"]["phase"], "Terminating")
        self.assertTrue(got["metadata"].get("deletionTimestamp"))
        r = s.post("/api/v1/namespaces/%s/configmaps" % ns, configmap("late"))
        self.assertStatus(r, 403, "Forbidden")


class ServiceAndBootstrapTest(ServerTestCase):
    def setUp(self):
        self.ns = self.server.create_namespace()
        self.svcs = "/api/v1/namespaces/%s/services" % self.ns

    def service(self, name, type_="ClusterIP", node_port=None, cluster_ip=None):
        port = {"port": 80, "targetPort": 8080, "protocol": "TCP"}
        if node_port:
            port["nodePort"] = node_port
        spec = {"type": type_, "selector": {"app": name}, "ports": [port]}
        if cluster_ip:
            spec["clusterIP"] = cluster_ip
        return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}

    def test_cluster_ip_allocated(self):
        r = self.server.post(self.svcs, self.service("web"))
        self.assertStatus(r, 201)
        spec = r.json()["spec"]
        ip = ipaddress.ip_address(spec["clusterIP"])
        self.assertIn(ip, ipaddress.ip_network("10.96.0.0/12"))
        self.assertEqual(spec["clusterIPs"], [spec["clusterIP"]])
        other = self.server.post(self.svcs, self.service("web2")).json()["spec"]["clusterIP"]
        self.assertNotEqual(other, spec["clusterIP"])

    def test_node_port_allocated(self):
        r = self.server.post(self.svcs, self.service("np", "NodePort"))
        self.assertStatus(r, 201)
        spec = r.json()["spec"]
        port = spec["ports"][0]["nodePort"]
        self.assertTrue(30000 <= port <= 32767, port)
        self.assertIn(ipaddress.ip_address(spec["clusterIP"]),
                      ipaddress.ip_network("10.96.0.0/12"))

    def test_duplicate_node_port_and_cluster_ip_rejected(self):
        first = self.server.post(self.svcs, self.service("d1", "NodePort")).json()["spec"]
        r = self.server.post(self.svcs,
                             self.service("d2", "NodePort",
                                          node_port=first["ports"][0]["nodePort"]))
        st = self.assertStatus(r, 422, "Invalid")
        self.assertIn("spec.ports[0].nodePort", [c.get("field") for c in st["details"]["causes"]])
        r = self.server.post(self.svcs, self.service("d3", cluster_ip=first["clusterIP"]))
        self.assertStatus(r, 422, "Invalid")
        self.assertStatus(self.server.get(self.svcs + "/d2"), 404, "NotFound")

    def test_deleting_a_service_frees_its_node_port(self):
        s = self.server
        port = s.post(self.svcs, self.service("f1", "NodePort")).json()["spec"]["ports"][0][
            "nodePort"]
        self.assertStatus(s.delete(self.svcs + "/f1"), 200)
        r = s.post(self.svcs, self.service("f2", "NodePort", node_port=port))
        self.assertStatus(r, 201)

    def test_default_namespaces_and_kubernetes_service(self):
        items = self.server.get("/api/v1/namespaces").json()["items"]
        phases = {i["metadata"]["name"]: i["status"]["phase"] for i in items}
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
            self.assertEqual(phases.get(ns), "Active", ns)
        r = self.server.get("/api/v1/namespaces/default/services/kubernetes")
        self.assertStatus(r, 200)
        spec = r.json()["spec"]
        self.assertEqual(spec["clusterIP"], "10.96.0.1")
        self.assertEqual(spec["ports"][0]["port"], 443)


def raw_request(port, method, path, body):
    """Sends a request over a plain socket and tolerates the server closing early (as it
    may after rejecting the headers); returns (status, body bytes)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        head = ("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                "Content-Length: %d\r\nConnection: close\r\n\r\n" % (method, path, len(body)))
        try:
            s.sendall(head.encode() + body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        data = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except ConnectionResetError:
            pass
    finally:
        s.close()
    if not data.startswith(b"HTTP/1."):
        return None, data
    status = int(data.split(b" ", 2)[1])
    return status, data.split(b"\r\n\r\n", 1)[-1]


def create_many(port, base, prefix, count, threads=8):
    """Creates `count` configmaps concurrently over persistent connections."""
    errors = []

    def work(t):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            for i in range(t, count, threads):
                body = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"%s-%d"}}' % (
                    prefix, i)
                conn.request("POST", base, body, {"Content-Type": "application/json"})
                r = conn.getresponse()
                r.read()
                if r.status != 201:
                    errors.append(r.status)
        finally:
            conn.close()

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    if errors:
        raise AssertionError("%d creates failed: %s" % (len(errors), errors[:5]))


if __name__ == "__main__":
    unittest.main()


class PodLogProxyTest(ServerTestCase):
    """pods/log is proxied to the kubelet of the pod's node (here a stub kubelet, which
    speaks HTTPS as kubelets do)."""

    def test_log_and_follow_are_proxied_to_the_nodes_kubelet(self):
        import http.server
        import os
        import shutil
        import ssl
        import subprocess
        import tempfile
        requests = []
        denied = []

        class Kubelet(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                requests.append(self.path)
                if denied:  # what a kubelet answers a user without nodes/proxy
                    body = denied[0].encode()
                    self.send_response(403)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if "follow=true" in self.path:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for i in range(3):
                        line = ("line %d\n" % i).encode()
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                        self.wfile.flush()
                    self.wfile.write(b"0\r\n\r\n")
                    return
                body = b"hello from c\n"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        tmp = tempfile.mkdtemp(prefix="kubepp-stub-kubelet-")
        self.addCleanup(shutil.rmtree, tmp, True)
        crt, key = os.path.join(tmp, "kubelet.crt"), os.path.join(tmp, "kubelet.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt,
                        "-days", "1", "-subj", "/CN=logs-node"], check=True, capture_output=True)
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(crt, key)
        stub = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Kubelet)
        stub.socket = tls.wrap_socket(stub.socket, server_side=True)
        threading.Thread(target=stub.serve_forever, daemon=True).start()
        try:
            node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "logs-node"},
                    "status": {"addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
                               "daemonEndpoints": {"kubeletEndpoint": {"Port": stub.server_address[1]}}}}
            self.assertEqual(self.server.post("/api/v1/nodes", node).status, 201)
            ns = self.server.create_namespace()
            p = pod("lp")
            p["spec"]["nodeName"] = "logs-node"
            self.assertEqual(self.server.post("/api/v1/namespaces/%s/pods" % ns, p).status, 201)
            r = self.server.get("/api/v1/namespaces/%s/pods/lp/log?tailLines=5" % ns)
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(r.body, b"hello from c\n")
            self.assertTrue(requests[-1].startswith("/containerLogs/%s/lp/" % ns), requests)
            self.assertIn("tailLines=5", requests[-1])
            r = self.server.get("/api/v1/namespaces/%s/pods/lp/log?follow=true" % ns)
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(r.body, b"line 0\nline 1\nline 2\n")
            unbound = pod("ub")
            self.assertEqual(self.server.post("/api/v1/namespaces/%s/pods" % ns, unbound).status, 201)
            self.assertEqual(self.server.get("/api/v1/namespaces/%s/pods/ub/log" % ns).status, 400)
            # A kubelet's 403 text comes back as upstream's apiserver passes it on.
            denied.append("Forbidden (user=x, verb=get, resource=nodes, subresource=proxy)")
            r = self.server.get("/api/v1/namespaces/%s/pods/lp/log" % ns)
            st = self.assertStatus(r, 403, "Forbidden")
            self.assertEqual(st["message"], "Forbidden (user=x, verb=get, resource=nodes, "
                                            "subresource=proxy) ( pods/log lp)")
        finally:
            stub.shutdown()


class AbuseTest(ServerTestCase):
    """Slow, malformed and oversized clients get errors; everyone else is still served."""

    def test_slow_and_garbage_clients_do_not_block_others(self):
        port = int(self.server.url.rsplit(":", 1)[1])
        slow = []
        for _ in range(20):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"GET /api/v1/namespaces HTTP/1.1\r\nHost: x\r\n")  # never finished
            slow.append(s)
        garbage = socket.create_connection(("127.0.0.1", port))
        garbage.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64 + b"\r\n\r\n")
        garbage.settimeout(10)
        reply = garbage.recv(4096)
        self.assertTrue(reply.startswith(b"HTTP/1.1 400"), reply[:100])
        garbage.close()
        huge_header = socket.create_connection(("127.0.0.1", port))
        huge_header.sendall(b"GET /version HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n")
        huge_header.settimeout(10)
        self.assertTrue(huge_header.recv(4096).startswith(b"HTTP/1.1 431"))
        huge_header.close()
        # Everyone else is unaffected.
        for _ in range(5):
            self.assertEqual(self.server.get("/api/v1/namespaces").status, 200)
        for s in slow:
            s.close()
        self.assertEqual(self.server.get("/healthz").status, 200)


class PriorityClassTest(ServerTestCase):
    """Upstream's Priority admission: PriorityClass objects resolve spec.priority."""

    def test_priority_class_resolution(self):
        pcs = "/apis/scheduling.k8s.io/v1/priorityclasses"
        names = [i["metadata"]["name"] for i in self.server.get(pcs).json()["items"]]
        self.assertIn("system-cluster-critical", names)
        self.assertIn("system-node-critical", names)
        high = {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                "metadata": {"name": "high"}, "value": 1000, "preemptionPolicy": "Never"}
        self.assertEqual(self.server.post(pcs, high).status, 201)
        ns = self.server.create_namespace()
        base = "/api/v1/namespaces/%s/pods" % ns
        p = pod("hp")
        p["spec"]["priorityClassName"] = "high"
        created = self.server.post(base, p).json()
        self.assertEqual(created["spec"]["priority"], 1000)
        self.assertEqual(created["spec"]["preemptionPolicy"], "Never")
        self.assertEqual(self.server.post(base, pod("plain")).json()["spec"]["priority"], 0)
        unknown = pod("nope")
        unknown["spec"]["priorityClassName"] = "does-not-exist"
        r = self.server.post(base, unknown)
        self.assertEqual(r.status, 403, r.body)
        self.assertIn("no PriorityClass with name does-not-exist", r.json()["message"])
        default = {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                   "metadata": {"name": "everyone"}, "value": 7, "globalDefault": True}
        self.assertEqual(self.server.post(pcs, default).status, 201)
        d = self.server.post(base, pod("defaulted")).json()
        self.assertEqual((d["spec"]["priority"], d["spec"]["priorityClassName"]), (7, "everyone"))
