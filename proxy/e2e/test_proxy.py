"""End-to-end tests of the proxy (root): a real apiserver and proxy process, pods that are
network namespaces with a veth on a bridge and a tiny HTTP server, Services and
EndpointSlices made through the API; traffic through ClusterIP, NodePort, LoadBalancer,
session affinity, rejection without endpoints, cluster DNS, --cleanup; in both proxy modes
(nftables, iptables).

Isolation: the test process itself enters a fresh "node" network namespace (setns on its
main thread), so the apiserver, the proxy, its nftables table, routes, bridge and iptables
rules, and every packet the test sends exist only there and in the pod namespaces it
makes. All of them are named kpx-<pid>-* and are deleted at the end, also on failure.

The proxy binary comes from $KUBEPP_PROXY (ctest sets it), else build/bin/proxy.
"""
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "e2e"))
import harness  # noqa: E402

PROXY = os.environ.get("KUBEPP_PROXY", os.path.join(harness.REPO, "build", "bin", "proxy"))
PREFIX = "kpx-%d-" % os.getpid()
NODE_NS = PREFIX + "node"
NODE_IP = "198.18.0.1"     # on a port-less bridge inside the node namespace only
BRIDGE_IP = "10.244.1.1"
PODS = {"pod1": "10.244.1.2", "pod2": "10.244.1.3"}
DNS_IP = "10.96.0.10"
CLONE_NEWNET = 0x40000000

libc = ctypes.CDLL(None, use_errno=True)


def setns(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + path)
    finally:
        os.close(fd)


def sh(*argv, check=True, netns=None, timeout=30):
    """Runs a command (inside `netns` when given); returns CompletedProcess (text)."""
    cmd = (["ip", "netns", "exec", netns] if netns else []) + list(argv)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError("%s failed (%d): %s" % (" ".join(cmd), r.returncode, r.stderr))
    return r


def wait_for(fn, timeout=30, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


def curl(url, netns=None, max_time=5):
    """(exit code, body) of one GET. Exit 7 is 'connection refused', 28 a timeout."""
    r = sh("curl", "-s", "--max-time", str(max_time), url, check=False, netns=netns,
           timeout=max_time + 10)
    return r.returncode, r.stdout.strip()


def dns_query(server, port, name, qtype=1, tcp=False):
    """Sends one query; returns (rcode, [A record addresses])."""
    q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", qtype, 1)
    if tcp:
        with socket.create_connection((server, port), timeout=5) as s:
            s.sendall(struct.pack(">H", len(q)) + q)
            n = struct.unpack(">H", s.recv(2))[0]
            data = b""
            while len(data) < n:
                data += s.recv(n - len(data))
    else:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(5)
            s.sendto(q, (server, port))
            data = s.recv(65535)
    rcode = data[3] & 0xF
    ancount = struct.unpack(">H", data[6:8])[0]
    pos = len(q)  # the question is echoed unchanged
    ips = []
    for _ in range(ancount):
        while data[pos] != 0 and data[pos] & 0xC0 != 0xC0:
            pos += data[pos] + 1
        pos += 2 if data[pos] & 0xC0 == 0xC0 else 1
        rtype, _, _, rdlen = struct.unpack(">HHIH", data[pos:pos + 10])
        pos += 10
        if rtype == 1:
            ips.append(socket.inet_ntoa(data[pos:pos + 4]))
        pos += rdlen
    return rcode, ips


def proxy_rules(mode):
    """The proxy's rules, sorted: its nftables table as nft lists it (without the dynamic
    affinity entries; the large sets without the name suffix a full resync switches and the
    size it declares), or its
    iptables chains and rules as iptables-save lists them."""
    if mode == "nftables":
        text = sh("nft", "list", "table", "ip", "kubepp").stdout
        text = re.sub(r"(-endpoints-tcp|-endpoints-udp|-endpoints-sctp|hairpin-endpoints)-2\b",
                      r"\1", text)
        return sorted(line for line in text.splitlines()
                      if "expires" not in line and not re.match(r"\s*size \d+$", line))
    text = sh("iptables-save").stdout
    return sorted(line for line in text.splitlines() if "KUBEPP" in line)


class Proxy:
    def __init__(self, server_url, tmp, mode):
        self.server_url = server_url
        self.mode = mode
        self.log_path = os.path.join(tmp, "proxy.log")
        self.proc = None
        self.healthz_port = harness.free_port()
        self.extra_args = []

    def args(self):
        return [PROXY, "--server", self.server_url, "--hostname-override", "node1",
                "--node-ip", NODE_IP, "--healthz-port", str(self.healthz_port), "--min-sync-period", "100ms",
                "--resolv-conf", "/dev/null", "--proxy-mode", self.mode] + self.extra_args

    def full_syncs(self):
        """Successful full syncs so far, from /metrics."""
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.healthz_port, timeout=5) as r:
            for line in r.read().decode().splitlines():
                if line.startswith('kubepp_proxy_syncs_total{kind="full",result="ok"}'):
                    return int(float(line.split()[-1]))
        return 0

    def start(self):
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.args(), stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=log, start_new_session=True)
        return self

    def wait_healthy(self):
        """Until /healthz says the rules are programmed."""
        def healthy():
            if self.proc.poll() is not None:
                raise AssertionError("proxy exited: " + self.log_tail())
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % self.healthz_port,
                                            timeout=2) as r:
                    return r.status == 200 and json.loads(r.read())["nodeHealthy"]
            except OSError:
                return False
        wait_for(healthy, what="proxy /healthz")

    def kill(self, sig=signal.SIGKILL):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            self.proc.wait(timeout=20)
        self.proc = None

    def cleanup(self):
        return subprocess.run(self.args() + ["--cleanup"], capture_output=True, text=True,
                              timeout=60)

    def log_tail(self, n=30):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""


class ProxyTest(unittest.TestCase):
    MODE = "nftables"

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root (network namespaces, nftables)")
        if not os.access(PROXY, os.X_OK):
            raise unittest.SkipTest("no proxy binary at %s" % PROXY)
        cls.tmp = tempfile.mkdtemp(prefix="kubepp-e2e-proxy-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.http_servers = []
        cls.addClassCleanup(cls.teardown_network)
        cls.setup_network()
        cls.server = harness.ApiServer()
        cls.addClassCleanup(cls.server.stop)
        cls.server.start()
        cls.proxy = Proxy(cls.server.url, cls.tmp, cls.MODE)
        cls.addClassCleanup(cls.proxy.kill)
        cls.proxy.start()
        cls.proxy.wait_healthy()
        cls.ns = cls.server.create_namespace()

    @classmethod
    def setup_network(cls):
        cls.host_ns = os.open("/proc/self/ns/net", os.O_RDONLY)
        sh("ip", "netns", "add", NODE_NS)
        for pod in PODS:
            sh("ip", "netns", "add", PREFIX + pod)
        # From here on this process (and what it starts) lives in the node namespace.
        setns("/var/run/netns/" + NODE_NS)
        sh("ip", "link", "set", "lo", "up")
        sh("ip", "link", "add", "uplink0", "type", "bridge")
        sh("ip", "addr", "add", NODE_IP + "/24", "dev", "uplink0")
        sh("ip", "link", "set", "uplink0", "up")
        sh("ip", "link", "add", "cbr0", "type", "bridge")
        sh("ip", "addr", "add", BRIDGE_IP + "/24", "dev", "cbr0")
        sh("ip", "link", "set", "cbr0", "up")
        with open("/proc/sys/net/ipv4/ip_forward", "w") as f:
            f.write("1\n")
        # As Docker leaves a host: forwarded traffic is dropped unless accepted.
        sh("iptables", "-w", "5", "-P", "FORWARD", "DROP")
        for i, (pod, ip) in enumerate(PODS.items()):
            netns = PREFIX + pod
            sh("ip", "link", "add", "veth%d" % i, "type", "veth", "peer", "name", "eth0",
               "netns", netns)
            sh("ip", "link", "set", "veth%d" % i, "master", "cbr0")
            sh("ip", "link", "set", "veth%d" % i, "type", "bridge_slave", "hairpin", "on")
            sh("ip", "link", "set", "veth%d" % i, "up")
            sh("ip", "link", "set", "lo", "up", netns=netns)
            sh("ip", "addr", "add", ip + "/24", "dev", "eth0", netns=netns)
            sh("ip", "link", "set", "eth0", "up", netns=netns)
            sh("ip", "route", "add", "default", "via", BRIDGE_IP, netns=netns)
            root = os.path.join(cls.tmp, pod)
            os.makedirs(root)
            with open(os.path.join(root, "index.html"), "w") as f:
                f.write(pod + "\n")
            log = open(os.path.join(cls.tmp, pod + ".log"), "wb")
            cls.http_servers.append(subprocess.Popen(
                ["ip", "netns", "exec", netns, "busybox", "httpd", "-f", "-p", ip + ":8080",
                 "-h", root], stdout=log, stderr=log, start_new_session=True))
            log.close()
            # A UDP responder on the same port: answers every datagram with the pod name.
            cls.http_servers.append(subprocess.Popen(
                ["ip", "netns", "exec", netns, sys.executable, "-c",
                 "import socket,sys\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                 "s.bind((sys.argv[1],8080))\nwhile True:\n d,a=s.recvfrom(100)\n"
                 " s.sendto(sys.argv[2].encode(),a)", ip, pod],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        for pod, ip in PODS.items():
            wait_for(lambda: curl("http://%s:8080/" % ip)[1] == pod, what=pod + " serving")

    @classmethod
    def teardown_network(cls):
        for p in cls.http_servers:
            if p.poll() is None:
                os.kill(p.pid, signal.SIGKILL)
            p.wait()
        if getattr(cls, "host_ns", None) is not None:
            libc.setns(cls.host_ns, CLONE_NEWNET)
            os.close(cls.host_ns)
            cls.host_ns = None
        for name in [NODE_NS] + [PREFIX + p for p in PODS]:
            subprocess.run(["ip", "netns", "del", name], capture_output=True)

    def setUp(self):
        self.log_mark = os.path.getsize(self.proxy.log_path)

    def tearDown(self):
        # Every change must reach the kernel as a partial sync: a failed one is repaired by
        # the next full sync, which would hide the failure from the traffic checks.
        with open(self.proxy.log_path, errors="replace") as f:
            f.seek(self.log_mark)
            failed = [line for line in f if "sync failed" in line]
        self.assertEqual(failed, [], "the proxy failed to program the rules")

    def run(self, result=None):
        failures = len(result.failures) + len(result.errors) if result else 0
        out = super().run(result)
        if result and len(result.failures) + len(result.errors) > failures:
            print("\n--- proxy log tail (%s) ---\n%s" % (self.id(), self.proxy.log_tail(20)))
        return out

    # --- API objects ---

    def make_service(self, name, ports=None, **spec):
        body = {"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": name, "namespace": self.ns},
                "spec": dict({"ports": ports or [{"name": "http", "port": 80,
                                                  "targetPort": 8080}]}, **spec)}
        r = self.server.post("/api/v1/namespaces/%s/services" % self.ns, body)
        self.assertEqual(r.status, 201, r)
        return r.json()

    def set_endpoints(self, service, pods, port_name="http"):
        path = "/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices" % self.ns
        body = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": {"name": service + "-1", "namespace": self.ns,
                             "labels": {"kubernetes.io/service-name": service}},
                "addressType": "IPv4",
                "ports": [{"name": port_name, "port": 8080, "protocol": "TCP"}],
                "endpoints": [{"addresses": [PODS[p]], "conditions": {"ready": True},
                               "nodeName": "node1"} for p in pods]}
        existing = self.server.get(path + "/" + service + "-1")
        if existing.status == 200:
            body["metadata"]["resourceVersion"] = existing.json()["metadata"]["resourceVersion"]
            r = self.server.put(path + "/" + service + "-1", body)
            self.assertEqual(r.status, 200, r)
        else:
            r = self.server.post(path, body)
            self.assertEqual(r.status, 201, r)

    def backends_seen(self, url, n=30, netns=None):
        seen = set()
        for _ in range(n):
            code, body = curl(url, netns=netns)
            if code == 0:
                seen.add(body)
        return seen

    # --- tests ---

    def test_cluster_ip_reaches_both_backends_from_node_and_pod(self):
        svc = self.make_service("web")
        self.set_endpoints("web", ["pod1", "pod2"])
        url = "http://%s/" % svc["spec"]["clusterIP"]
        wait_for(lambda: curl(url)[0] == 0, what="ClusterIP answering")
        wait_for(lambda: self.backends_seen(url, 10) == {"pod1", "pod2"}, what="both backends")
        # From a pod (through the bridge, FORWARD, hairpin when it picks itself).
        seen = wait_for(lambda: self.backends_seen(url, 20, netns=PREFIX + "pod1")
                        == {"pod1", "pod2"}, what="both backends from pod1")
        self.assertTrue(seen)

    def test_node_port_on_localhost_and_node_ip(self):
        svc = self.make_service("np", type="NodePort")
        self.set_endpoints("np", ["pod2"])
        node_port = svc["spec"]["ports"][0]["nodePort"]
        for host in ("127.0.0.1", NODE_IP):
            url = "http://%s:%d/" % (host, node_port)
            self.assertEqual(wait_for(lambda: curl(url)[1], what="NodePort on " + host), "pod2")
        # From a pod to the node's address.
        url = "http://%s:%d/" % (NODE_IP, node_port)
        self.assertEqual(wait_for(lambda: curl(url, netns=PREFIX + "pod1")[1],
                                  what="NodePort from a pod"), "pod2")

    def test_no_endpoints_is_refused_not_hanging(self):
        svc = self.make_service("empty")
        url = "http://%s/" % svc["spec"]["clusterIP"]
        # curl exit 7: connection refused (a reset), not 28 (timeout).
        wait_for(lambda: curl(url, max_time=10)[0] == 7, what="refused")
        self.set_endpoints("empty", ["pod1"])
        self.assertEqual(wait_for(lambda: curl(url)[1], what="served once endpoints exist"), "pod1")
        self.set_endpoints("empty", [])
        wait_for(lambda: curl(url, max_time=10)[0] == 7, what="refused again")

    def test_load_balancer_gets_node_address_and_serves_it(self):
        self.make_service("lb", type="LoadBalancer",
                          ports=[{"name": "http", "port": 8081, "targetPort": 8080}])
        self.set_endpoints("lb", ["pod1"])
        path = "/api/v1/namespaces/%s/services/lb" % self.ns

        def ingress():
            ing = self.server.get(path).json().get("status", {}).get("loadBalancer", {})
            return [i.get("ip") for i in ing.get("ingress", [])]
        self.assertEqual(wait_for(ingress, what="status.loadBalancer.ingress"), [NODE_IP])
        url = "http://%s:8081/" % NODE_IP
        self.assertEqual(wait_for(lambda: curl(url)[1], what="LoadBalancer address"), "pod1")

    def test_session_affinity_client_ip(self):
        svc = self.make_service("sticky", sessionAffinity="ClientIP")
        self.set_endpoints("sticky", ["pod1", "pod2"])
        url = "http://%s/" % svc["spec"]["clusterIP"]
        wait_for(lambda: curl(url)[0] == 0, what="ClusterIP answering")
        self.assertEqual(len(self.backends_seen(url, 15)), 1)

    def test_ipv6_address_is_left_out_with_an_event(self):
        # The apiserver accepts an IPv6 external IP; these IPv4 rules cannot carry it: the
        # rest of the Service is programmed and the Service gets a Warning Event.
        svc = self.make_service("v6ext", externalIPs=["2001:db8::1"])
        self.set_endpoints("v6ext", ["pod1"])
        url = "http://%s/" % svc["spec"]["clusterIP"]
        self.assertEqual(wait_for(lambda: curl(url)[1], what="ClusterIP of v6ext"), "pod1")

        def events():
            items = self.server.get("/api/v1/namespaces/%s/events" % self.ns).json()["items"]
            return [e for e in items if e["involvedObject"]["name"] == "v6ext"
                    and e["reason"] == "AddressNotProgrammed"]
        event = wait_for(events, what="an AddressNotProgrammed event")[0]
        self.assertEqual(event["type"], "Warning")
        self.assertIn("2001:db8::1", event["message"])

    def test_removed_endpoint_stops_receiving(self):
        svc = self.make_service("shrink")
        self.set_endpoints("shrink", ["pod1", "pod2"])
        url = "http://%s/" % svc["spec"]["clusterIP"]
        wait_for(lambda: self.backends_seen(url, 10) == {"pod1", "pod2"}, what="both backends")
        self.set_endpoints("shrink", ["pod2"])
        wait_for(lambda: self.backends_seen(url, 10) == {"pod2"}, what="only pod2")

    def test_removed_udp_endpoint_flow_moves_to_another(self):
        # One client socket (one conntrack flow): without the flush, its datagrams would
        # keep going to the removed endpoint until the entry expired.
        svc = self.make_service("udp", ports=[{"name": "dns", "port": 53, "protocol": "UDP",
                                               "targetPort": 8080}])
        path = "/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices" % self.ns
        def endpoints(pods):
            body = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                    "metadata": {"name": "udp-1", "namespace": self.ns,
                                 "labels": {"kubernetes.io/service-name": "udp"}},
                    "addressType": "IPv4",
                    "ports": [{"name": "dns", "port": 8080, "protocol": "UDP"}],
                    "endpoints": [{"addresses": [PODS[p]], "conditions": {"ready": True}}
                                  for p in pods]}
            existing = self.server.get(path + "/udp-1")
            if existing.status == 200:
                body["metadata"]["resourceVersion"] = existing.json()["metadata"]["resourceVersion"]
                self.assertEqual(self.server.put(path + "/udp-1", body).status, 200)
            else:
                self.assertEqual(self.server.post(path, body).status, 201)
        endpoints(["pod1"])
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        sock.settimeout(0.5)
        target = (svc["spec"]["clusterIP"], 53)

        def ask():
            try:
                sock.sendto(b"?", target)
                return sock.recvfrom(100)[0].decode()
            except OSError:
                return None
        self.assertEqual(wait_for(ask, what="UDP through the ClusterIP"), "pod1")
        endpoints(["pod2"])
        self.assertEqual(wait_for(lambda: ask() == "pod2" and "pod2", what="the flow on pod2"),
                         "pod2")

    def test_cluster_dns(self):
        svc = self.make_service("named")
        name = "named.%s.svc.cluster.local" % self.ns
        ip = svc["spec"]["clusterIP"]
        self.assertEqual(wait_for(lambda: dns_query(DNS_IP, 53, name)[1], what="A record"), [ip])
        self.assertEqual(dns_query(DNS_IP, 53, name, tcp=True), (0, [ip]))
        self.assertEqual(dns_query(DNS_IP, 53, "nope.%s.svc.cluster.local" % self.ns)[0], 3)
        self.assertEqual(dns_query(DNS_IP, 53, "10-244-1-2.%s.pod.cluster.local" % self.ns),
                         (0, ["10.244.1.2"]))
        # No local upstream (--resolv-conf /dev/null): SERVFAIL, nothing sent anywhere.
        self.assertEqual(dns_query(DNS_IP, 53, "example.org")[0], 2)
        # From a pod, as its resolv.conf would say.
        r = sh("python3", "-c",
               "import socket,struct;q=struct.pack('>HHHHHH',1,256,1,0,0,0)+b''.join("
               "bytes([len(l)])+l.encode() for l in %r.split('.'))+b'\\0\\0\\1\\0\\1';"
               "s=socket.socket(2,2);s.settimeout(5);s.sendto(q,(%r,53));d=s.recv(512);"
               "print(socket.inet_ntoa(d[-4:]))" % (name, DNS_IP), netns=PREFIX + "pod1")
        self.assertEqual(r.stdout.strip(), ip)

    def test_full_resyncs_do_not_interrupt_new_connections(self):
        # Every full sync rewrites the whole table (nftables: fills the unused slot maps,
        # then switches to them in one transaction); connections made meanwhile all work.
        svc = self.make_service("resynced")
        self.set_endpoints("resynced", ["pod1", "pod2"])
        url = "http://%s/" % svc["spec"]["clusterIP"]
        wait_for(lambda: curl(url)[1] in ("pod1", "pod2"), what="served")
        self.proxy.kill()
        self.proxy.extra_args = ["--sync-period", "200ms"]
        try:
            self.proxy.start()
            self.proxy.wait_healthy()
            # Until three more full syncs have happened (a minute at most), and 30 requests.
            first = self.proxy.full_syncs()
            answers = []
            deadline = time.time() + 60
            while time.time() < deadline and (len(answers) < 30 or self.proxy.full_syncs() - first < 3):
                answers.append(curl(url, max_time=2))
            self.assertGreaterEqual(self.proxy.full_syncs() - first, 3)
        finally:
            self.proxy.kill()
            self.proxy.extra_args = []
            self.proxy.start()
            self.proxy.wait_healthy()
        self.assertEqual([a for a in answers if a[1] not in ("pod1", "pod2")], [])

    def test_zz_restart_converges_and_cleanup_removes_everything(self):
        svc = self.make_service("durable")
        self.set_endpoints("durable", ["pod1"])
        url = "http://%s/" % svc["spec"]["clusterIP"]
        wait_for(lambda: curl(url)[1] == "pod1", what="served")
        before = proxy_rules(self.MODE)
        self.proxy.kill()
        self.assertEqual(curl(url)[1], "pod1")  # rules stay while the proxy is down
        self.proxy.start()
        self.proxy.wait_healthy()
        # The same rules again, nothing duplicated (affinity entries are runtime state).
        self.assertEqual(proxy_rules(self.MODE), before)
        self.assertEqual(curl(url)[1], "pod1")
        self.proxy.kill(signal.SIGTERM)
        r = self.proxy.cleanup()
        self.assertEqual(r.returncode, 0, r.stderr)
        if self.MODE == "nftables":
            self.assertNotEqual(sh("nft", "list", "table", "ip", "kubepp", check=False).returncode, 0)
        else:
            self.assertNotIn("KUBEPP", sh("iptables-save").stdout)
        self.assertNotEqual(sh("ip", "link", "show", "kubepp-svc0", check=False).returncode, 0)
        self.assertNotIn("kubepp", sh("iptables", "-w", "5", "-S", "FORWARD").stdout)


class IptablesProxyTest(ProxyTest):
    """The same cases with --proxy-mode=iptables (the host's iptables backend)."""
    MODE = "iptables"


if __name__ == "__main__":
    unittest.main()
