"""End-to-end tests of the proxy's Ingress controller (root): a real apiserver and proxy
process, two tiny HTTP backends on loopback addresses (127.0.0.2, 127.0.0.3), Services and
EndpointSlices made by hand pointing at them, Ingresses with host and path rules; checks
routing, 404/503, forwarded headers, keep-alive across a configuration change, TLS with
SNI from a kubernetes.io/tls Secret, the HTTP -> HTTPS redirect, rate limiting, retry on a
dead endpoint and status.loadBalancer.

Isolation as test_proxy.py: the test process enters a fresh network namespace (the proxy
still programs its nftables table, there), so the listeners, backends and every packet
exist only there. The namespace is kig-<pid>-node and is deleted at the end, also on
failure. The proxy binary comes from $KUBEPP_PROXY (ctest sets it), else build/bin/proxy.
"""
import base64
import ctypes
import http.client
import http.server
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "e2e"))
import harness  # noqa: E402

PROXY = os.environ.get("KUBEPP_PROXY", os.path.join(harness.REPO, "build", "bin", "proxy"))
PREFIX = "kig-%d-" % os.getpid()
NODE_NS = PREFIX + "node"
NODE_IP = "198.18.0.1"  # on a port-less bridge inside the namespace only
CLONE_NEWNET = 0x40000000
BACKENDS = {"alpha": "127.0.0.2", "beta": "127.0.0.3"}
DEAD_IP = "127.0.0.4"  # nothing listens there
BACKEND_PORT = 18080
DEFAULT_CERT_CN = "Kubernetes Ingress Controller Fake Certificate"

libc = ctypes.CDLL(None, use_errno=True)


def setns(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + path)
    finally:
        os.close(fd)


def sh(*argv):
    r = subprocess.run(list(argv), capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise AssertionError("%s failed (%d): %s" % (" ".join(argv), r.returncode, r.stderr))
    return r


def wait_for(fn, timeout=20, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


class Backend(http.server.BaseHTTPRequestHandler):
    """Answers with its name, the path and the headers it got, as JSON."""
    protocol_version = "HTTP/1.1"  # keep-alive, so the proxy can pool connections

    def do_GET(self):
        if self.headers.get("Upgrade"):
            return self.echo_upgraded()
        body = json.dumps({"name": self.server.name, "path": self.path,
                           "headers": {k.lower(): v for k, v in self.headers.items()}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def echo_upgraded(self):
        """Switches to a toy protocol that answers every chunk upper-cased."""
        self.send_response(101)
        self.send_header("Upgrade", self.headers["Upgrade"])
        self.send_header("Connection", "Upgrade")
        self.end_headers()
        self.wfile.flush()
        while True:
            data = self.connection.recv(4096)
            if not data:
                break
            self.connection.sendall(data.upper())
        self.close_connection = True

    def log_message(self, *args):
        pass


class Answer:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<HTTP %d %r>" % (self.status, self.body[:300])


def get(port, host, path="/", headers=None, conn=None, tls_name=None):
    """One GET through the ingress with the given Host header; any status comes back."""
    own = conn is None
    if own:
        if tls_name is not None:
            conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10,
                                               context=client_tls_context())
        else:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        hdrs = {"Host": host}
        hdrs.update(headers or {})
        conn.request("GET", path, headers=hdrs)
        r = conn.getresponse()
        return Answer(r.status, r.headers, r.read())
    finally:
        if own:
            conn.close()


def client_tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def peer_certificate_subject(port, sni):
    """The subject CN the server presents for SNI `sni` (None: no SNI)."""
    ctx = client_tls_context()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=sni) as s:
            der = s.getpeercert(binary_form=True)
    text = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-subject"],
                          input=der, capture_output=True, timeout=10).stdout.decode()
    return text.split("CN", 1)[1].lstrip(" =").strip() if "CN" in text else text


class IngressTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root (network namespaces, nftables)")
        if not os.access(PROXY, os.X_OK):
            raise unittest.SkipTest("no proxy binary at %s" % PROXY)
        if shutil.which("openssl") is None:
            raise unittest.SkipTest("no openssl command")
        cls.tmp = tempfile.mkdtemp(prefix="kubepp-e2e-ingress-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.servers = []
        cls.addClassCleanup(cls.teardown_network)
        cls.setup_network()
        cls.server = harness.ApiServer()
        cls.addClassCleanup(cls.server.stop)
        cls.server.start()
        cls.http_port = harness.free_port()
        cls.https_port = harness.free_port()
        cls.healthz_port = harness.free_port()
        cls.proxy_log = os.path.join(cls.tmp, "proxy.log")
        with open(cls.proxy_log, "ab") as log:
            cls.proxy = subprocess.Popen(
                [PROXY, "--server", cls.server.url, "--hostname-override", "node1",
                 "--node-ip", NODE_IP, "--healthz-port", str(cls.healthz_port),
                 "--min-sync-period", "100ms", "--resolv-conf", "/dev/null", "--dns=false",
                 "--ingress-http-port", str(cls.http_port),
                 "--ingress-https-port", str(cls.https_port),
                 "--ingress-bind-address", "127.0.0.1", "-v", "1"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        cls.addClassCleanup(harness.kill_process, cls.proxy)
        wait_for(lambda: cls.port_open(cls.http_port) and cls.port_open(cls.https_port),
                 what="ingress listeners")
        cls.ns = cls.server.create_namespace()

    @classmethod
    def setup_network(cls):
        cls.host_ns = os.open("/proc/self/ns/net", os.O_RDONLY)
        sh("ip", "netns", "add", NODE_NS)
        setns("/var/run/netns/" + NODE_NS)
        sh("ip", "link", "set", "lo", "up")
        sh("ip", "link", "add", "uplink0", "type", "bridge")
        sh("ip", "addr", "add", NODE_IP + "/24", "dev", "uplink0")
        sh("ip", "link", "set", "uplink0", "up")
        for name, ip in BACKENDS.items():
            srv = http.server.ThreadingHTTPServer((ip, BACKEND_PORT), Backend)
            srv.daemon_threads = True
            srv.name = name
            threading.Thread(target=srv.serve_forever, daemon=True).start()
            cls.servers.append(srv)

    @classmethod
    def teardown_network(cls):
        for srv in cls.servers:
            srv.shutdown()
            srv.server_close()
        if getattr(cls, "host_ns", None) is not None:
            libc.setns(cls.host_ns, CLONE_NEWNET)
            os.close(cls.host_ns)
            cls.host_ns = None
        subprocess.run(["ip", "netns", "del", NODE_NS], capture_output=True)

    @staticmethod
    def port_open(port):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False

    def run(self, result=None):
        failures = len(result.failures) + len(result.errors) if result else 0
        out = super().run(result)
        if result and len(result.failures) + len(result.errors) > failures:
            with open(self.proxy_log, errors="replace") as f:
                print("\n--- proxy log tail (%s) ---\n%s" % (self.id(), "".join(f.readlines()[-25:])))
        return out

    # --- API objects ---

    def create(self, path, body):
        r = self.server.post(path, body)
        self.assertEqual(r.status, 201, r)
        return r.json()

    def make_service(self, name):
        self.create("/api/v1/namespaces/%s/services" % self.ns, {
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"ports": [{"name": "http", "port": 80, "targetPort": BACKEND_PORT}]}})

    def set_endpoints(self, service, ips):
        path = "/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices" % self.ns
        body = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": {"name": service + "-1",
                             "labels": {"kubernetes.io/service-name": service}},
                "addressType": "IPv4",
                "ports": [{"name": "http", "port": BACKEND_PORT, "protocol": "TCP"}],
                "endpoints": [{"addresses": [ip], "conditions": {"ready": True}} for ip in ips]}
        existing = self.server.get(path + "/" + service + "-1")
        if existing.status == 200:
            body["metadata"]["resourceVersion"] = existing.json()["metadata"]["resourceVersion"]
            r = self.server.put(path + "/" + service + "-1", body)
            self.assertEqual(r.status, 200, r)
        else:
            self.create(path, body)

    def make_ingress(self, name, rules, tls=None, annotations=None, **spec):
        body = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                "metadata": {"name": name, "annotations": annotations or {}},
                "spec": dict({"ingressClassName": "kubepp", "rules": rules}, **spec)}
        if tls:
            body["spec"]["tls"] = tls
        return self.create("/apis/networking.k8s.io/v1/namespaces/%s/ingresses" % self.ns, body)

    @staticmethod
    def rule(host, *paths):
        """paths: (path, pathType, service)."""
        r = {"http": {"paths": [{"path": p, "pathType": t, "backend": {
            "service": {"name": s, "port": {"number": 80}}}} for p, t, s in paths]}}
        if host:
            r["host"] = host
        return r

    def backend_name(self, host, path="/", **kw):
        a = get(self.http_port, host, path, **kw)
        return a.json()["name"] if a.status == 200 else a.status

    # --- tests ---

    def test_routes_by_host_and_path(self):
        self.make_service("alpha")
        self.make_service("beta")
        self.set_endpoints("alpha", [BACKENDS["alpha"]])
        self.set_endpoints("beta", [BACKENDS["beta"]])
        self.make_ingress("routes", [
            self.rule("shop.example.com", ("/", "Prefix", "alpha"), ("/api", "Prefix", "beta"),
                      ("/exact", "Exact", "beta")),
            self.rule("*.wild.example.com", ("/", "ImplementationSpecific", "beta")),
        ])
        wait_for(lambda: self.backend_name("shop.example.com") == "alpha", what="route")
        self.assertEqual(self.backend_name("shop.example.com", "/api"), "beta")
        self.assertEqual(self.backend_name("shop.example.com", "/api/v1/x?q=1"), "beta")
        self.assertEqual(self.backend_name("shop.example.com", "/apix"), "alpha")
        self.assertEqual(self.backend_name("shop.example.com", "/exact"), "beta")
        self.assertEqual(self.backend_name("shop.example.com", "/exact/more"), "alpha")
        self.assertEqual(self.backend_name("SHOP.example.com:8080", "/"), "alpha")
        self.assertEqual(self.backend_name("x.wild.example.com"), "beta")
        self.assertEqual(self.backend_name("a.b.wild.example.com"), 404)
        self.assertEqual(self.backend_name("unknown.example.com"), 404)
        miss = get(self.http_port, "unknown.example.com")
        self.assertIn(b"no Ingress rule", miss.body)
        # HEAD gets no body: the next answer on the connection is framed right.
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=10)
        conn.request("HEAD", "/", headers={"Host": "unknown.example.com"})
        head = conn.getresponse()
        self.assertEqual((head.status, head.read()), (404, b""))
        self.assertEqual(get(self.http_port, "shop.example.com", conn=conn).json()["name"], "alpha")
        conn.close()

        # Forwarded headers; the request keeps the client's X-Request-ID or gets one.
        got = get(self.http_port, "shop.example.com", "/api/h",
                  headers={"X-Forwarded-For": "203.0.113.9"}).json()
        self.assertEqual(got["path"], "/api/h")
        h = got["headers"]
        self.assertEqual(h["x-forwarded-for"], "203.0.113.9, 127.0.0.1")
        self.assertEqual(h["x-forwarded-proto"], "http")
        self.assertEqual(h["x-forwarded-host"], "shop.example.com")
        self.assertEqual(h["host"], "shop.example.com")
        self.assertRegex(h["x-request-id"], "^[0-9a-f]{32}$")
        got = get(self.http_port, "shop.example.com", headers={"X-Request-ID": "abc"}).json()
        self.assertEqual(got["headers"]["x-request-id"], "abc")

        # One keep-alive client connection survives a configuration change.
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=10)
        self.assertEqual(get(self.http_port, "shop.example.com", "/new", conn=conn).json()["name"],
                         "alpha")
        ing = self.server.get("/apis/networking.k8s.io/v1/namespaces/%s/ingresses/routes"
                              % self.ns).json()
        ing["spec"]["rules"][0]["http"]["paths"].append(
            {"path": "/new", "pathType": "Prefix",
             "backend": {"service": {"name": "beta", "port": {"number": 80}}}})
        r = self.server.put("/apis/networking.k8s.io/v1/namespaces/%s/ingresses/routes" % self.ns,
                            ing)
        self.assertEqual(r.status, 200, r)
        wait_for(lambda: get(self.http_port, "shop.example.com", "/new", conn=conn).json()["name"]
                 == "beta", what="new rule on the same connection")
        conn.close()

        # status.loadBalancer.ingress carries the node address.
        def lb():
            got = self.server.get("/apis/networking.k8s.io/v1/namespaces/%s/ingresses/routes"
                                  % self.ns).json()
            return got.get("status", {}).get("loadBalancer", {}).get("ingress")
        self.assertEqual(wait_for(lb, what="status.loadBalancer"), [{"ip": NODE_IP}])

    def test_no_endpoints_is_503_and_dead_endpoint_is_retried(self):
        self.make_service("empty")
        self.make_service("mixed")
        self.set_endpoints("mixed", [DEAD_IP, BACKENDS["alpha"]])
        self.make_ingress("sparse", [self.rule("empty.example.com", ("/", "Prefix", "empty")),
                                     self.rule("mixed.example.com", ("/", "Prefix", "mixed"))])
        wait_for(lambda: get(self.http_port, "empty.example.com").status == 503, what="503")
        self.assertIn(b"no ready endpoints", get(self.http_port, "empty.example.com").body)
        wait_for(lambda: self.backend_name("mixed.example.com") == "alpha", what="mixed route")
        # Round robin starts on the dead endpoint every other request: each still works.
        for _ in range(6):
            self.assertEqual(self.backend_name("mixed.example.com"), "alpha")
        # An unknown backend Service skips that rule only; the Ingress's other rules work.
        self.make_ingress("partly-bad", [self.rule("bad.example.com",
                                                   ("/x", "Prefix", "no-such-service"),
                                                   ("/", "Prefix", "mixed"))])
        wait_for(lambda: self.backend_name("bad.example.com", "/x") == "alpha",
                 what="good rule of a partly bad Ingress")

        def warned():
            events = self.server.get("/api/v1/namespaces/%s/events" % self.ns).json()["items"]
            return [e["message"] for e in events
                    if e["involvedObject"]["name"] == "partly-bad" and e["reason"] == "BadBackend"]
        self.assertIn("no-such-service not found", wait_for(warned, what="BadBackend event")[0])

    def test_tls_by_sni_and_redirect(self):
        self.make_service("secure")
        self.set_endpoints("secure", [BACKENDS["beta"]])
        crt, key = os.path.join(self.tmp, "tls.crt"), os.path.join(self.tmp, "tls.key")
        sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
           "-subj", "/CN=secure.example.com", "-keyout", key, "-out", crt)
        data = {}
        for name, path in (("tls.crt", crt), ("tls.key", key)):
            with open(path, "rb") as f:
                data[name] = base64.b64encode(f.read()).decode()
        self.create("/api/v1/namespaces/%s/secrets" % self.ns, {
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "secure-tls"},
            "type": "kubernetes.io/tls", "data": data})
        self.make_ingress("secure", [self.rule("secure.example.com", ("/", "Prefix", "secure"))],
                          tls=[{"hosts": ["secure.example.com"], "secretName": "secure-tls"}])
        self.make_ingress("plain", [self.rule("plain.example.com", ("/", "Prefix", "secure"))],
                          tls=[{"hosts": ["plain.example.com"], "secretName": "secure-tls"}],
                          annotations={"nginx.ingress.kubernetes.io/ssl-redirect": "false"})
        wait_for(lambda: peer_certificate_subject(self.https_port, "secure.example.com")
                 == "secure.example.com", what="the Secret's certificate by SNI")
        self.assertEqual(peer_certificate_subject(self.https_port, "other.example.com"),
                         DEFAULT_CERT_CN)
        self.assertEqual(peer_certificate_subject(self.https_port, None), DEFAULT_CERT_CN)
        a = get(self.https_port, "secure.example.com", "/t", tls_name="secure.example.com")
        self.assertEqual(a.status, 200, a)
        self.assertEqual(a.json()["name"], "beta")
        self.assertEqual(a.json()["headers"]["x-forwarded-proto"], "https")
        # Plain HTTP to a TLS host: a permanent redirect keeping the method.
        r = get(self.http_port, "secure.example.com", "/t?x=1")
        self.assertEqual(r.status, 308, r)
        self.assertEqual(r.headers["Location"],
                         "https://secure.example.com:%d/t?x=1" % self.https_port)
        self.assertEqual(self.backend_name("plain.example.com"), "beta")
        # curl agrees (SNI from --resolve).
        out = subprocess.run(["curl", "-sk", "--max-time", "5", "--resolve",
                              "secure.example.com:%d:127.0.0.1" % self.https_port,
                              "https://secure.example.com:%d/c" % self.https_port],
                             capture_output=True, text=True, timeout=15)
        self.assertEqual(json.loads(out.stdout)["path"], "/c", out)

    def test_upgrade_becomes_a_tunnel(self):
        self.make_service("tunnel")
        self.set_endpoints("tunnel", [BACKENDS["beta"]])
        self.make_ingress("tunnel", [self.rule("tunnel.example.com", ("/", "Prefix", "tunnel"))])
        wait_for(lambda: self.backend_name("tunnel.example.com") == "beta", what="route")
        with socket.create_connection(("127.0.0.1", self.http_port), timeout=10) as s:
            s.sendall(b"GET /ws HTTP/1.1\r\nHost: tunnel.example.com\r\n"
                      b"Connection: Upgrade\r\nUpgrade: echo\r\n\r\n")
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = s.recv(4096)
                self.assertTrue(chunk, head)
                head += chunk
            self.assertTrue(head.startswith(b"HTTP/1.1 101"), head)
            self.assertIn(b"upgrade: echo", head.lower())
            for word in (b"hello", b"again"):
                s.sendall(word)
                got = b""
                while len(got) < len(word):
                    got += s.recv(4096)
                self.assertEqual(got, word.upper())

    def test_rate_limit_past_the_burst(self):
        self.make_service("limited")
        self.set_endpoints("limited", [BACKENDS["alpha"]])
        self.make_ingress("limited", [self.rule("limited.example.com", ("/", "Prefix", "limited"))],
                          annotations={"nginx.ingress.kubernetes.io/limit-rps": "1",
                                       "nginx.ingress.kubernetes.io/limit-burst-multiplier": "2"})
        wait_for(lambda: self.backend_name("limited.example.com") == "alpha", what="route")
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=10)
        codes = [get(self.http_port, "limited.example.com", conn=conn).status for _ in range(12)]
        conn.close()
        # A bucket holds rps * multiplier + 1 = 3 requests; 12 in a row cannot all pass.
        self.assertIn(503, codes)
        self.assertLessEqual(codes.count(200), 6, codes)
        a = get(self.http_port, "limited.example.com")
        if a.status == 503:
            self.assertIn(b"rate limit", a.body)


if __name__ == "__main__":
    unittest.main()
