"""Shared machinery of the end-to-end tests: a real apiserver process, raw HTTP, kubectl.

The apiserver binary comes from $KUBEPP_APISERVER (ctest sets it), else build/bin/apiserver.
Every server gets a fresh temporary --data-dir and a free loopback port; stop() kills it by
PID and removes the directory, so a test leaves nothing behind even when it fails.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APISERVER = os.environ.get("KUBEPP_APISERVER", os.path.join(REPO, "build", "bin", "apiserver"))
KUBECTL_133 = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33"
KUBECTL_120 = "/var/cache/kubepp-tools/kubectl-1.20/usr/bin/kubectl"

TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unique(prefix):
    """A DNS-1123 name no other test uses."""
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<HTTP %d %s>" % (self.status, self.body[:500])


class ApiServer:
    """One apiserver process. start() returns once /healthz answers."""

    def __init__(self, extra_args=(), data_dir=None):
        self.extra_args = list(extra_args)
        self.tmp = tempfile.mkdtemp(prefix="kubepp-e2e-")
        self.data_dir = data_dir or os.path.join(self.tmp, "data")
        self.log_path = os.path.join(self.tmp, "apiserver.log")
        self.proc = None
        self.port = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self, port=None, timeout=20):
        if not os.access(APISERVER, os.X_OK):
            message = "no apiserver binary at %s" % APISERVER
            if "KUBEPP_APISERVER" in os.environ:
                raise RuntimeError(message)  # ctest named it: a broken build, not a skip
            raise unittest.SkipTest(message + " (build it or set KUBEPP_APISERVER)")
        self.port = port or free_port()
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                [APISERVER, "--port", str(self.port), "--data-dir", self.data_dir]
                + self.extra_args,
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                # Another test may have taken the free port we picked: pick again.
                if port is None and "Address already in use" in self.log_tail(3):
                    self.proc = None
                    return self.start(None, timeout)
                raise RuntimeError("apiserver exited with %s:\n%s"
                                   % (self.proc.returncode, self.log_tail()))
            try:
                if self.request("GET", "/healthz", timeout=1).status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError("apiserver not healthy after %ss:\n%s" % (timeout, self.log_tail()))

    def kill(self, sig=signal.SIGKILL):
        """Ends the process (by PID) and reaps it; harmless when it is not running."""
        if self.proc is None:
            return
        kill_process(self.proc, sig)
        self.proc = None

    def stop(self):
        """Graceful stop, then removal of the data and log directory."""
        self.kill(signal.SIGTERM)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def log_tail(self, n=40):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    # --- raw HTTP ---

    def request(self, method, path, body=None, headers=None, content_type=None, timeout=30):
        """One HTTP request; any status (4xx/5xx included) comes back as a Response."""
        hdrs = {"Accept": "application/json"}
        hdrs.update(headers or {})
        data = body
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", content_type or "application/json")
        elif isinstance(body, str):
            data = body.encode()
        if data is not None and content_type:
            hdrs["Content-Type"] = content_type
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return Response(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            return Response(e.code, e.headers, e.read())

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body, **kw):
        return self.request("PUT", path, body, **kw)

    def patch(self, path, body, patch_type="merge", **kw):
        types = {"merge": "application/merge-patch+json",
                 "json": "application/json-patch+json",
                 "strategic": "application/strategic-merge-patch+json"}
        return self.request("PATCH", path, body, content_type=types[patch_type], **kw)

    def delete(self, path, body=None, **kw):
        return self.request("DELETE", path, body, **kw)

    def watch(self, path, timeout=30):
        """Opens a watch stream; iterate the returned WatchStream for events."""
        return WatchStream(self.port, path, timeout)

    def create_namespace(self, name=None):
        name = name or unique("ns")
        r = self.post("/api/v1/namespaces",
                      {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        if r.status != 201:
            raise AssertionError("creating namespace %s: %r" % (name, r))
        return name


class WatchStream:
    """A chunked watch response read line by line (one JSON event per line)."""

    def __init__(self, port, path, timeout):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.conn.request("GET", path, headers={"Accept": "application/json"})
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.headers = self.resp.headers

    def next_event(self):
        """The next event, or None when the stream ended cleanly. Raises on timeout."""
        while True:
            line = self.resp.readline()
            if not line:
                return None
            if line.strip():
                return json.loads(line)

    def __iter__(self):
        while True:
            ev = self.next_event()
            if ev is None:
                return
            yield ev

    def close(self):
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Kubectl:
    """Runs one kubectl binary against a server with its own HOME, kubeconfig and cache."""

    def __init__(self, binary, server_url):
        self.binary = binary
        self.home = tempfile.mkdtemp(prefix="kubepp-kubectl-")
        self.kubeconfig = os.path.join(self.home, "kubeconfig")
        self.cache_dir = os.path.join(self.home, "cache")
        with open(self.kubeconfig, "w") as f:
            f.write("apiVersion: v1\nkind: Config\n"
                    "clusters:\n- name: kubepp\n  cluster:\n    server: %s\n"
                    "contexts:\n- name: kubepp\n  context:\n    cluster: kubepp\n    user: kubepp\n"
                    "users:\n- name: kubepp\n  user: {}\n"
                    "current-context: kubepp\n" % server_url)

    def _argv(self, args):
        return [self.binary, "--kubeconfig", self.kubeconfig, "--cache-dir", self.cache_dir,
                "--request-timeout", "20s"] + list(args)

    def _env(self):
        env = dict(os.environ)
        env.update(HOME=self.home, KUBECONFIG=self.kubeconfig)
        return env

    def run(self, *args, input=None, timeout=60):
        """Runs to completion; returns CompletedProcess with text stdout/stderr."""
        return subprocess.run(self._argv(args), input=input, capture_output=True, text=True,
                              env=self._env(), timeout=timeout)

    def popen(self, *args):
        """Starts in the background (own session); stop it with kill_process()."""
        return subprocess.Popen(self._argv(args), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self._env(),
                                start_new_session=True)

    def cleanup(self):
        shutil.rmtree(self.home, ignore_errors=True)


def kill_process(proc, sig=signal.SIGKILL, grace=10):
    """Sends `sig` to the process (by PID), waits up to `grace` seconds, then SIGKILL;
    reaps it. Harmless when it has already exited."""
    if proc.poll() is None:
        try:
            os.kill(proc.pid, sig)
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


class ServerTestCase(unittest.TestCase):
    """One apiserver per test class; tests isolate themselves with their own namespaces."""

    server_args = ()
    server = None

    @classmethod
    def setUpClass(cls):
        cls.server = ApiServer(cls.server_args)
        cls.addClassCleanup(cls.server.stop)
        cls.server.start()

    def run(self, result=None):
        # Attach the server's log to a failing test's output: server bugs show there.
        failures = len(result.failures) + len(result.errors) if result else 0
        out = super().run(result)
        if result and len(result.failures) + len(result.errors) > failures and self.server:
            print("\n--- apiserver log tail (%s) ---\n%s" % (self.id(), self.server.log_tail(15)))
        return out

    # --- assertions shared by the test files ---

    def assertStatus(self, resp, code, reason=None):
        """resp has HTTP `code` and, for errors, a Status body with that code and reason."""
        self.assertEqual(resp.status, code, resp)
        if code < 400:
            return None
        st = resp.json()
        self.assertEqual(st.get("kind"), "Status", st)
        self.assertEqual(st.get("apiVersion"), "v1", st)
        self.assertEqual(st.get("status"), "Failure", st)
        self.assertEqual(st.get("code"), code, st)
        if reason is not None:
            self.assertEqual(st.get("reason"), reason, st)
        return st


# --- object builders ---

def configmap(name, data=None, labels=None, **metadata):
    meta = {"name": name}
    if labels:
        meta["labels"] = labels
    meta.update(metadata)
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data or {"k": "v"}}


def deployment(name, image="nginx:1.25", replicas=1, command=None):
    container = {"name": "c", "image": image}
    if command:
        container["command"] = command
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                         "spec": {"containers": [container]}},
        },
    }


def pod(name, image="busybox:1.36", labels=None):
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {"app": name}},
        "spec": {"containers": [{"name": "c", "image": image, "command": ["sleep", "3600"]}]},
    }
