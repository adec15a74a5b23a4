"""Encryption at rest (--encryption-provider-config): what reaches the disk, key rotation
with the rewrite at start, and clear errors for values no configured key can read."""
import base64
import os
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import unittest

from harness import APISERVER, KUBECTL_133, ApiServer, Kubectl, free_port, unique

KEY1 = base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
KEY2 = base64.b64encode(b"fedcba9876543210fedcba9876543210").decode()


def config(*providers, resources="[secrets]"):
    text = ("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n"
            "resources:\n- resources: %s\n  providers:\n" % resources)
    for p in providers:
        if p == "identity":
            text += "  - identity: {}\n"
        else:
            kind, keys = p
            text += "  - %s:\n      keys:\n" % kind
            for name, secret in keys:
                text += "      - name: %s\n        secret: %s\n" % (name, secret)
    return text


def stored_values(data_dir, resource, name):
    """{table: [value bytes]} of one object in the objects and log tables, read directly."""
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(data_dir, "kubepp.db"), uri=True)
    try:
        out = {}
        for table in ("objects", "log"):
            rows = db.execute("SELECT value FROM %s WHERE resource=? AND name=?" % table,
                              (resource, name)).fetchall()
            out[table] = [bytes(r[0]) for r in rows]
        return out
    finally:
        db.close()


class EncryptionTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="kubepp-e2e-enc-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.config_path = os.path.join(self.tmp, "encryption.yaml")

    def write_config(self, text):
        with open(self.config_path, "w") as f:
            f.write(text)

    def restart(self, server):
        server.kill(signal.SIGTERM)
        server.start(port=server.port)  # kubectl's kubeconfig names the port

    def test_encrypt_rotate_and_unreadable(self):
        self.write_config(config(("aesgcm", [("key1", KEY1)]), "identity"))
        s = ApiServer(["--encryption-provider-config", self.config_path])
        self.addCleanup(s.stop)
        s.start()
        ns = s.create_namespace()
        secret = unique("s")
        plain = "hunter2-" + secret
        r = s.post("/api/v1/namespaces/%s/secrets" % ns,
                   {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": secret},
                    "stringData": {"password": plain}})
        self.assertEqual(r.status, 201, r)
        rv = r.json()["metadata"]["resourceVersion"]
        cm = unique("cm")
        r = s.post("/api/v1/namespaces/%s/configmaps" % ns,
                   {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": cm},
                    "data": {"note": "not-secret-" + cm}})
        self.assertEqual(r.status, 201, r)

        # On disk: objects and log rows are encrypted under key1, with no trace of the value.
        encoded = base64.b64encode(plain.encode())
        values = stored_values(s.data_dir, "secrets", secret)
        for table in ("objects", "log"):
            self.assertEqual(len(values[table]), 1, table)
            v = values[table][0]
            self.assertTrue(v.startswith(b"k8s:enc:aesgcm:v1:key1:"), (table, v[:40]))
            self.assertNotIn(plain.encode(), v)
            self.assertNotIn(encoded, v)
            self.assertNotIn(secret.encode(), v)
        # Resources the configuration does not name stay plain JSON.
        self.assertIn(b"not-secret-" + cm.encode(), stored_values(s.data_dir, "configmaps", cm)["objects"][0])

        # Clients see plaintext.
        path = "/api/v1/namespaces/%s/secrets/%s" % (ns, secret)
        r = s.get(path)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(base64.b64decode(r.json()["data"]["password"]).decode(), plain)
        kubectl = None
        if os.access(KUBECTL_133, os.X_OK):
            kubectl = Kubectl(KUBECTL_133, s.url)
            self.addCleanup(kubectl.cleanup)
            out = kubectl.run("get", "secret", "-n", ns, secret,
                              "-o", "jsonpath={.data.password}")
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(base64.b64decode(out.stdout).decode(), plain)

        # A backup carries the encrypted value.
        backup = os.path.join(self.tmp, "backup.db")
        out = subprocess.run([APISERVER, "backup", "--data-dir", s.data_dir, "--to", backup],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        with open(backup, "rb") as f:
            self.assertNotIn(plain.encode(), f.read())

        # Rotation, upstream's steps: key2 added second, restart; key2 moved first, restart
        # (the start rewrites what key1 wrote, keeping the revision); key1 removed.
        self.write_config(config(("aesgcm", [("key1", KEY1), ("key2", KEY2)]), "identity"))
        self.restart(s)
        self.assertTrue(stored_values(s.data_dir, "secrets", secret)["objects"][0]
                        .startswith(b"k8s:enc:aesgcm:v1:key1:"))
        self.write_config(config(("aesgcm", [("key2", KEY2), ("key1", KEY1)]), "identity"))
        self.restart(s)
        values = stored_values(s.data_dir, "secrets", secret)
        for table in ("objects", "log"):
            self.assertTrue(values[table][0].startswith(b"k8s:enc:aesgcm:v1:key2:"), table)
        r = s.get(path)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["metadata"]["resourceVersion"], rv)
        self.assertEqual(base64.b64decode(r.json()["data"]["password"]).decode(), plain)
        self.assertIn("storage: rewrote 1 objects and 1 log entries", s.log_tail(200))
        self.assertNotIn(KEY1, s.log_tail(500))
        self.assertNotIn(KEY2, s.log_tail(500))
        # Upstream's rewrite by clients works too (and bumps the revisions).
        if kubectl is not None:
            got = kubectl.run("get", "secrets", "-n", ns, "-o", "json")
            self.assertEqual(got.returncode, 0, got.stderr)
            out = kubectl.run("replace", "-f", "-", input=got.stdout)
            self.assertEqual(out.returncode, 0, out.stderr)
        self.write_config(config(("aesgcm", [("key2", KEY2)]), "identity"))
        self.restart(s)
        r = s.get(path)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(base64.b64decode(r.json()["data"]["password"]).decode(), plain)

        # Only a key that did not write it: reads of that secret fail with a clear
        # InternalError; other resources are fine.
        self.write_config(config(("aesgcm", [("key9", KEY1)])))
        self.restart(s)
        r = s.get(path)
        self.assertEqual(r.status, 500, r)
        st = r.json()
        self.assertEqual(st["kind"], "Status")
        self.assertEqual(st["reason"], "InternalError")
        self.assertIn('secrets "%s/%s"' % (ns, secret), st["message"])
        self.assertIn('aesgcm key "key2"', st["message"])
        self.assertNotIn(plain, r.body.decode())
        r = s.get("/api/v1/namespaces/%s/secrets" % ns)
        self.assertEqual(r.status, 500, r)
        self.assertEqual(r.json()["reason"], "InternalError")
        self.assertEqual(s.get("/api/v1/secrets").status, 500)
        r = s.put(path, {"apiVersion": "v1", "kind": "Secret",
                         "metadata": {"name": secret, "namespace": ns}, "data": {}})
        self.assertEqual(r.status, 500, r)
        self.assertEqual(s.delete(path).status, 500)
        r = s.get("/api/v1/namespaces/%s/configmaps/%s" % (ns, cm))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(s.get("/api/v1/namespaces/%s/configmaps" % ns).status, 200)
        self.assertEqual(s.get("/api/v1/namespaces/%s" % ns).status, 200)
        # Secrets elsewhere still work, under the configured key.
        other = s.create_namespace()
        r = s.post("/api/v1/namespaces/%s/secrets" % other,
                   {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "fine"},
                    "stringData": {"k": "v"}})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(s.get("/api/v1/namespaces/%s/secrets/fine" % other).status, 200)
        self.assertEqual(s.get("/api/v1/namespaces/%s/secrets" % other).status, 200)
        if kubectl is not None:
            out = kubectl.run("get", "secret", "-n", ns, secret)
            self.assertNotEqual(out.returncode, 0)
            self.assertIn("unable to decrypt", out.stderr)
        # The value was left as it was: the right key reads it again.
        self.write_config(config(("aesgcm", [("key2", KEY2)]), "identity"))
        self.restart(s)
        self.assertEqual(s.get(path).status, 200)

    def test_enabling_encryption_leaves_no_plaintext_on_disk(self):
        s = ApiServer()
        self.addCleanup(s.stop)
        s.start()
        ns = s.create_namespace()
        marker = unique("plaintext-marker")
        names = {"small": marker, "large": marker * 400}  # the large one spills to overflow pages
        for name, value in names.items():
            r = s.post("/api/v1/namespaces/%s/secrets" % ns,
                       {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name},
                        "stringData": {"v": value}})
            self.assertEqual(r.status, 201, r)
        # Secrets hold base64; both values start with the marker, so with the same text.
        encoded = base64.b64encode(marker.encode())[:24]
        for name in names:
            self.assertIn(encoded, stored_values(s.data_dir, "secrets", name)["objects"][0])

        # Upstream's way in: the key first, identity second to read what is there; the
        # start rewrites it, zeroes the freed space and truncates the WAL.
        self.write_config(config(("aescbc", [("key1", KEY1)]), "identity"))
        s.extra_args = ["--encryption-provider-config", self.config_path]
        self.restart(s)
        for name, value in names.items():
            v = stored_values(s.data_dir, "secrets", name)
            self.assertTrue(v["objects"][0].startswith(b"k8s:enc:aescbc:v1:key1:"), name)
            self.assertTrue(v["log"][0].startswith(b"k8s:enc:aescbc:v1:key1:"), name)
            r = s.get("/api/v1/namespaces/%s/secrets/%s" % (ns, name))
            self.assertEqual(r.status, 200, r)
            self.assertEqual(base64.b64decode(r.json()["data"]["v"]).decode(), value)
        for suffix in ("", "-wal"):
            path = os.path.join(s.data_dir, "kubepp.db" + suffix)
            if os.path.exists(path):
                with open(path, "rb") as f:
                    data = f.read()
                self.assertFalse(encoded in data, "plaintext left in " + path)

    def test_bad_configs_refuse_to_start(self):
        cases = {
            "secret is not of the expected length":
                config(("aesgcm", [("key1", base64.b64encode(b"short").decode())])),
            "must be base64 encoded": config(("aesgcm", [("key1", "not-base64!")])),
            "secretbox provider is not supported": config(("secretbox", [("k", KEY1)])),
            "kind must be EncryptionConfiguration":
                "apiVersion: apiserver.config.k8s.io/v1\nkind: Nope\nresources: []\n",
            "no file": None,
        }
        for expected, text in cases.items():
            with self.subTest(expected):
                path = os.path.join(self.tmp, "missing.yaml")
                if text is not None:
                    path = self.config_path
                    self.write_config(text)
                data_dir = os.path.join(self.tmp, "data-" + unique("d"))
                out = subprocess.run(
                    [APISERVER, "--port", str(free_port()), "--data-dir", data_dir,
                     "--encryption-provider-config", path],
                    capture_output=True, text=True, timeout=30)
                self.assertNotEqual(out.returncode, 0)
                last = out.stderr.strip().splitlines()[-1]
                self.assertIn("--encryption-provider-config", last)
                self.assertIn(expected, last)
                self.assertFalse(os.path.exists(data_dir), "nothing is created")


if __name__ == "__main__":
    unittest.main()
