"""Image pulls from a registry: apiserver + kubelet --runtime=runc, as root, with Debian's
`docker-registry` (the CNCF distribution registry) on a free loopback port.

The test builds the busybox test image (images/busybox.sh, a `docker save` tarball), pushes
it into the registry with a small OCI distribution client of its own (monolithic blob
uploads of the config and the gzipped layers, an OCI manifest, and an OCI index over
arm64 and amd64), then runs pods from it: the image is pulled (imageID is the repo digest),
a missing tag gives ErrImagePull then ImagePullBackOff, imagePullPolicy Never with a
missing image ErrImageNeverPull, Always resolves again without downloading layers. A
second registry uses token auth (a token server in this process, JWTs signed with a
throwaway key by openssl) and a kubernetes.io/dockerconfigjson imagePullSecret.

Skips when not root or when runc, the CNI plugins, busybox-static or docker-registry are
missing. Registries are started by PID with temporary config and storage and removed at the
end, as is everything the kubelet created."""
import base64
import gzip
import hashlib
import http.server
import json
import os
import random
import shutil
import subprocess
import tarfile
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

import kubelet_harness as kh
from kubelet_harness import harness, wait_for

REGISTRY = "/usr/bin/docker-registry"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def missing_prerequisite():
    reason = kh.missing_prerequisite()
    if reason is None and not os.access(REGISTRY, os.X_OK):
        reason = "docker-registry not installed"
    return reason


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Registry:
    """docker-registry on 127.0.0.1:<free port>, storage and config in a temporary dir."""

    def __init__(self, auth=None):
        self.dir = tempfile.mkdtemp(prefix="kubepp-registry-e2e-")
        self.port = harness.free_port()
        self.host = "127.0.0.1:%d" % self.port
        self.url = "http://" + self.host
        self.token = None  # sent as Bearer by the pusher when set
        config = {
            "version": 0.1,
            "log": {"level": "warn"},
            "storage": {"filesystem": {"rootdirectory": os.path.join(self.dir, "data")},
                        "delete": {"enabled": True}},
            "http": {"addr": self.host, "secret": "kubepp-e2e"},
        }
        if auth:
            config["auth"] = {"token": auth}
        self.config_path = os.path.join(self.dir, "config.yml")
        with open(self.config_path, "w") as f:
            json.dump(config, f)  # JSON is YAML
        self.log_path = os.path.join(self.dir, "registry.log")
        self.proc = None

    def start(self):
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen([REGISTRY, "serve", self.config_path], stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log, start_new_session=True)
        finally:
            log.close()
        wait_for(self._up, timeout=20, what=lambda: "docker-registry up\n" + self.log_tail())
        return self

    def _up(self):
        if self.proc.poll() is not None:
            raise RuntimeError("docker-registry exited:\n" + self.log_tail())
        try:
            urllib.request.urlopen(self.url + "/v2/", timeout=1)
            return True
        except urllib.error.HTTPError as e:
            return e.code == 401
        except OSError:
            return False

    def stop(self):
        if self.proc is not None:
            harness.kill_process(self.proc, grace=5)
            self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, n=20):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    # --- a minimal OCI distribution pusher ---

    def request(self, method, url, body=None, headers=None):
        headers = dict(headers or {})
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        req = urllib.request.Request(urllib.parse.urljoin(self.url, url), data=body, method=method,
                                     headers=headers)
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()

    def push_blob(self, repo, data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        status, headers, _ = self.request("POST", "/v2/%s/blobs/uploads/" % repo)
        assert status == 202, status
        location = urllib.parse.urljoin(self.url, headers["Location"])
        sep = "&" if "?" in location else "?"
        status, _, _ = self.request("PUT", location + sep + "digest=" + urllib.parse.quote(digest), data,
                                    {"Content-Type": "application/octet-stream"})
        assert status == 201, status
        return {"digest": digest, "size": len(data)}

    def push_manifest(self, repo, ref, manifest, media_type):
        body = json.dumps(manifest).encode()
        status, _, _ = self.request("PUT", "/v2/%s/manifests/%s" % (repo, ref), body, {"Content-Type": media_type})
        assert status == 201, status
        return "sha256:" + hashlib.sha256(body).hexdigest()

    def push_docker_save(self, repo, tag, tarball, labels=None):
        """Pushes the first image of a `docker save` tarball as an OCI manifest with gzip
        layers; returns the manifest's descriptor. `labels` go into its config (another
        image id, the same layers)."""
        with tarfile.open(tarball) as t:
            m = json.load(t.extractfile("manifest.json"))[0]
            config = t.extractfile(m["Config"]).read()
            if labels:
                c = json.loads(config)
                c.setdefault("config", {}).setdefault("Labels", {}).update(labels)
                config = json.dumps(c).encode()
            layers = [gzip.compress(t.extractfile(layer).read(), mtime=0) for layer in m["Layers"]]
        cfg = self.push_blob(repo, config)
        cfg["mediaType"] = "application/vnd.oci.image.config.v1+json"
        descs = []
        for layer in layers:
            d = self.push_blob(repo, layer)
            d["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip"
            descs.append(d)
        manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": cfg, "layers": descs}
        body = json.dumps(manifest).encode()
        digest = self.push_manifest(repo, tag, manifest, OCI_MANIFEST)
        return {"mediaType": OCI_MANIFEST, "digest": digest, "size": len(body)}


class TokenServer:
    """The token endpoint of docker's token auth, in this process: GET /token?service&scope
    with basic auth alice:s3cret gets a JWT granting pull+push on the scope's repository,
    signed by a throwaway RSA key whose self-signed certificate the registry trusts."""

    USER, PASSWORD = "alice", "s3cret"
    SERVICE, ISSUER = "kubepp-e2e-registry", "kubepp-e2e-issuer"

    def __init__(self, workdir):
        self.key = os.path.join(workdir, "token.key")
        self.cert = os.path.join(workdir, "token.crt")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", self.key,
                        "-out", self.cert, "-days", "1", "-subj", "/CN=kubepp-e2e-token"],
                       check=True, capture_output=True)
        der = subprocess.run(["openssl", "x509", "-in", self.cert, "-outform", "DER"], check=True,
                             capture_output=True).stdout
        self.x5c = base64.b64encode(der).decode()
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                url = urllib.parse.urlparse(self.path)
                q = urllib.parse.parse_qs(url.query)
                outer.requests.append((url.path, q, self.headers.get("Authorization", "")))
                want = "Basic " + base64.b64encode(("%s:%s" % (outer.USER, outer.PASSWORD)).encode()).decode()
                if url.path != "/token" or self.headers.get("Authorization") != want:
                    self.send_response(401)
                    self.end_headers()
                    return
                body = json.dumps({"token": outer.mint(q.get("scope", [])), "expires_in": 300}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.realm = "http://127.0.0.1:%d/token" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def mint(self, scopes):
        access = []
        for scope in scopes:
            kind, name, _ = scope.split(":", 2)
            access.append({"type": kind, "name": name, "actions": ["pull", "push"]})
        now = int(time.time())
        header = {"alg": "RS256", "typ": "JWT", "x5c": [self.x5c]}
        claims = {"iss": self.ISSUER, "sub": self.USER, "aud": self.SERVICE, "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": str(random.random()), "access": access}
        signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.key], input=signing_input.encode(),
                             check=True, capture_output=True).stdout
        return signing_input + "." + b64url(sig)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def registry_auth(self):
        return {"realm": self.realm, "service": self.SERVICE, "issuer": self.ISSUER,
                "rootcertbundle": self.cert}


class RegistryPullTest(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        reason = missing_prerequisite()
        if reason:
            raise unittest.SkipTest(reason)
        super().setUpClass()
        cls.work = tempfile.mkdtemp(prefix="kubepp-registry-pull-e2e-")
        cls.addClassCleanup(shutil.rmtree, cls.work, True)
        cls.busybox = os.path.join(cls.work, "busybox.tar")
        subprocess.run([kh.BUILD_BUSYBOX, cls.busybox], check=True, capture_output=True)

        cls.registry = Registry()
        cls.addClassCleanup(cls.registry.stop)
        cls.registry.start()
        cls.repo = cls.registry.host + "/test/busybox"
        cls.manifest = cls.registry.push_docker_save("test/busybox", "1.0", cls.busybox)
        # An index whose amd64 entry is the image (arm64 listed first: it must be skipped).
        arm = dict(cls.manifest, platform={"os": "linux", "architecture": "arm64"})
        amd = dict(cls.manifest, platform={"os": "linux", "architecture": "amd64"})
        cls.index_digest = cls.registry.push_manifest(
            "test/busybox", "multi", {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [arm, amd]}, OCI_INDEX)

        # No image is imported: every one comes from a registry.
        kh.start_runc_node(cls, "kpreg-", "kpr", import_busybox=False, pod_grace=1)


    def create(self, name, image, policy=None, command=("sh", "-c", "echo pulled-ok; sleep 3600"), **spec):
        body = kh.pod(name, command=list(command), image=image, node=self.node, **spec)
        if policy:
            body["spec"]["containers"][0]["imagePullPolicy"] = policy
        self.assertStatus(self.server.post("/api/v1/namespaces/%s/pods" % self.ns, body), 201)

    def container_status(self, name):
        st = self.server.get("/api/v1/namespaces/%s/pods/%s" % (self.ns, name)).json().get("status", {})
        cs = st.get("containerStatuses") or [{}]
        return cs[0]

    def wait_running(self, name, timeout=90):
        return wait_for(lambda: "running" in self.container_status(name).get("state", {}) and self.container_status(name),
                        timeout=timeout, what=lambda: "%s running: %s\n%s" % (
                            name, self.container_status(name), self.kubelet.log_tail(15)))

    def wait_waiting(self, name, reason, timeout=60):
        def check():
            w = self.container_status(name).get("state", {}).get("waiting", {})
            return w if w.get("reason") == reason else None
        return wait_for(check, timeout=timeout, what=lambda: "%s waiting %s: %s\n%s" % (
            name, reason, self.container_status(name), self.kubelet.log_tail(10)))

    def pull_failure(self, name):
        """The waiting message of ErrImagePull, from the Failed event that reports it (the
        status itself turns ImagePullBackOff at the next sync, often within milliseconds)."""
        self.wait_waiting(name, "ImagePullBackOff")
        events = lambda: self.server.get("/api/v1/namespaces/%s/events" % self.ns).json().get("items", [])
        failed = wait_for(lambda: [e["message"] for e in events() if e["involvedObject"].get("name") == name
                                   and e["reason"] == "Failed"], what="Failed event of " + name)
        return failed[0]

    def log(self, name):
        return self.server.get("/api/v1/namespaces/%s/pods/%s/log" % (self.ns, name)).body.decode()

    def test_1_pull_and_run(self):
        image = self.repo + ":1.0"
        self.create("tagged", image)
        cs = self.wait_running("tagged")
        self.assertEqual(cs["image"], image)
        self.assertEqual(cs["imageID"], self.repo + "@" + self.manifest["digest"])
        wait_for(lambda: "pulled-ok" in self.log("tagged"), what="log of the pulled image")
        node = self.server.get("/api/v1/nodes/" + self.node).json()
        wait_for(lambda: any(image in i["names"] for i in
                             self.server.get("/api/v1/nodes/" + self.node).json()["status"]["images"]),
                 timeout=30, what="the pulled image in status.images: %s" % node["status"].get("images"))

    def test_2_index_selects_amd64(self):
        self.create("multi", self.repo + ":multi")
        cs = self.wait_running("multi")
        self.assertEqual(cs["imageID"], self.repo + "@" + self.index_digest)

    def test_3_missing_tag_err_image_pull_then_backoff(self):
        image = self.repo + ":nope"
        self.create("missing", image)
        w = self.wait_waiting("missing", "ImagePullBackOff")
        self.assertEqual(w["message"], 'Back-off pulling image "%s"' % image)
        self.assertEqual(self.pull_failure("missing"), 'Failed to pull image "{0}": failed to pull and unpack image '
                         '"{0}": failed to resolve reference "{0}": {0}: not found'.format(image))

    def test_4_never_with_missing_image(self):
        image = self.repo + ":2.0"  # not pulled by anyone
        self.create("never", image, policy="Never")
        w = self.wait_waiting("never", "ErrImageNeverPull")
        self.assertEqual(w["message"], 'Container image "%s" is not present with pull policy of Never' % image)
        # Never with a present image runs it.
        self.create("never-present", self.repo + ":1.0", policy="Never")
        self.wait_running("never-present")

    def test_5_always_resolves_again_without_downloading_layers(self):
        self.create("always", self.repo + ":1.0", policy="Always")
        self.wait_running("always")
        self.assertIn("0 of 1 layers downloaded", self.kubelet.log_tail(200))

    def test_6_token_auth_with_image_pull_secret(self):
        tokens = TokenServer(self.work)
        self.addCleanup(tokens.stop)
        secured = Registry(auth=tokens.registry_auth())
        self.addCleanup(secured.stop)
        secured.start()
        secured.token = tokens.mint(["repository:private/busybox:push,pull"])
        secured.push_docker_save("private/busybox", "1.0", self.busybox)
        image = secured.host + "/private/busybox:1.0"

        self.create("anonymous", image)
        message = self.pull_failure("anonymous")
        self.assertIn('failed to pull and unpack image "%s"' % image, message)
        self.assertIn("refused the anonymous request", message)

        auth = base64.b64encode(b"alice:s3cret").decode()
        config = {"auths": {secured.host: {"auth": auth}}}
        secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "regcred"},
                  "type": "kubernetes.io/dockerconfigjson",
                  "data": {".dockerconfigjson": base64.b64encode(json.dumps(config).encode()).decode()}}
        self.assertStatus(self.server.post("/api/v1/namespaces/%s/secrets" % self.ns, secret), 201)
        self.create("private", image, imagePullSecrets=[{"name": "regcred"}])
        cs = self.wait_running("private")
        self.assertTrue(cs["imageID"].startswith(secured.host + "/private/busybox@sha256:"), cs)
        self.assertTrue(any(path == "/token" and q.get("scope") == ["repository:private/busybox:pull"] and auth in a
                            for path, q, a in tokens.requests), tokens.requests)


class ImageGCTest(harness.ServerTestCase):
    """Image garbage collection on a runc node: thresholds 0% (always over, never reached)
    and a 1 s period, so every run removes whatever is unused and at least 5 s old and
    reports FreeDiskSpaceFailed. Two pulled images share their layer; busybox is bundled
    (--images-dir) and pinned."""

    MIN_AGE = 5

    @classmethod
    def setUpClass(cls):
        reason = missing_prerequisite()
        if reason:
            raise unittest.SkipTest(reason)
        super().setUpClass()
        cls.work = tempfile.mkdtemp(prefix="kubepp-imagegc-e2e-")
        cls.addClassCleanup(shutil.rmtree, cls.work, True)
        busybox = os.path.join(cls.work, "busybox.tar")
        subprocess.run([kh.BUILD_BUSYBOX, busybox], check=True, capture_output=True)
        cls.registry = Registry()
        cls.addClassCleanup(cls.registry.stop)
        cls.registry.start()
        cls.keep = cls.registry.host + "/test/keep:1.0"
        cls.drop = cls.registry.host + "/test/drop:1.0"
        # Labels make both images other than the bundled busybox (same config: same id).
        cls.keep_digest = cls.registry.push_docker_save("test/keep", "1.0", busybox, {"variant": "keep"})["digest"]
        cls.drop_digest = cls.registry.push_docker_save("test/drop", "1.0", busybox, {"variant": "drop"})["digest"]
        kh.start_runc_node(cls, "kpgc-", "kpg", pod_grace=1, extra_args=[
            "--image-gc-high-threshold", "0", "--image-gc-low-threshold", "0",
            "--image-minimum-gc-age", "%ds" % cls.MIN_AGE, "--image-gc-period", "1s",
            "--node-status-update-frequency", "1"])

    def create(self, name, image, command, restart_policy=None):
        body = kh.pod(name, command=command, image=image, node=self.node, restart_policy=restart_policy)
        self.assertStatus(self.server.post("/api/v1/namespaces/%s/pods" % self.ns, body), 201)

    def pod_status(self, name):
        return self.server.get("/api/v1/namespaces/%s/pods/%s" % (self.ns, name)).json().get("status", {})

    def node_image_names(self):
        images = self.server.get("/api/v1/nodes/" + self.node).json().get("status", {}).get("images", [])
        return {n for i in images for n in i["names"]}

    def gc_failures(self):
        events = self.server.get("/api/v1/namespaces/default/events").json().get("items", [])
        return [e for e in events if e["involvedObject"].get("name") == self.node
                and e["reason"] == "FreeDiskSpaceFailed"]

    def test_unused_images_go_used_and_pinned_ones_stay(self):
        keep_ref = self.registry.host + "/test/keep@" + self.keep_digest
        drop_ref = self.registry.host + "/test/drop@" + self.drop_digest
        self.create("keep", self.keep, ["sh", "-c", "sleep 3600"])
        self.create("drop", self.drop, ["true"], restart_policy="Never")
        wait_for(lambda: self.pod_status("keep").get("phase") == "Running", timeout=90,
                 what=lambda: "keep running: %s\n%s" % (self.pod_status("keep"), self.kubelet.log_tail(15)))
        wait_for(lambda: self.pod_status("drop").get("phase") == "Succeeded", timeout=90,
                 what=lambda: "drop done: %s" % self.pod_status("drop"))

        # Runs past the minimum age: the exited container still holds its image.
        time.sleep(self.MIN_AGE + 1)
        seen = len(self.gc_failures())
        wait_for(lambda: len(self.gc_failures()) >= seen + 2, what="two more image GC runs")
        failure = self.gc_failures()[-1]
        self.assertEqual(failure["type"], "Warning")
        self.assertRegex(failure["message"], r"^Failed to garbage collect required amount of images\. "
                         r"Attempted to free \d+ bytes, but only found \d+ bytes eligible to free\.$")
        names = self.node_image_names()
        self.assertIn(drop_ref, names)
        self.assertIn(keep_ref, names)
        self.assertIn("docker.io/library/busybox:1.36", names)

        # Without its pod, the image goes at the next run; its layer stays (keep's too).
        self.assertStatus(self.server.delete("/api/v1/namespaces/%s/pods/drop?gracePeriodSeconds=0" % self.ns), 200)
        wait_for(lambda: drop_ref not in self.node_image_names(), timeout=60,
                 what=lambda: "drop image gone from status.images: %s\n%s" % (
                     self.node_image_names(), self.kubelet.log_tail(15)))
        names = self.node_image_names()
        self.assertIn(keep_ref, names)
        self.assertIn("docker.io/library/busybox:1.36", names)
        log = self.kubelet.log_tail(400)
        self.assertRegex(log, r"image GC: removed image sha256:[0-9a-f]+ \(%s\), \d+ bytes \(least recently used\)"
                         % self.drop.replace(".", "\\."))
        self.assertIn("0 layer(s) no other image uses", log)
        self.assertEqual(self.pod_status("keep").get("phase"), "Running")

        # Needed again: pulled again (the layer is still there) and run.
        self.create("again", self.drop, ["true"], restart_policy="Never")
        wait_for(lambda: self.pod_status("again").get("phase") == "Succeeded", timeout=90,
                 what=lambda: "again done: %s\n%s" % (self.pod_status("again"), self.kubelet.log_tail(15)))
        self.assertIn("0 of 1 layers downloaded", self.kubelet.log_tail(200))


if __name__ == "__main__":
    unittest.main()
