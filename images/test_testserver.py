"""The test workload behaves as the e2e cases rely on (run on the host, not in a pod)."""
import os
import socket
import subprocess
import time
import unittest
import urllib.error
import urllib.request

BINARY = os.environ.get("KUBEPP_TESTSERVER", "")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TestServerTest(unittest.TestCase):
    def setUp(self):
        if not os.access(BINARY, os.X_OK):
            self.fail("no testserver binary at %r (KUBEPP_TESTSERVER)" % BINARY)

    def start(self, *args):
        p = subprocess.Popen([BINARY, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.addCleanup(lambda: (p.kill(), p.wait()))
        return p

    def get(self, port, path):
        deadline = time.monotonic() + 10
        while True:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=5) as r:
                    return r.status, r.read().decode()
            except urllib.error.HTTPError as e:
                return e.code, e.read().decode()
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def test_serve_hostname_and_healthz_toggle(self):
        port = free_port()
        self.start("serve-hostname", "--port", str(port))
        self.assertEqual(self.get(port, "/"), (200, socket.gethostname()))
        self.assertEqual(self.get(port, "/healthz")[0], 200)
        self.get(port, "/fail")
        self.assertEqual(self.get(port, "/healthz")[0], 500)
        self.get(port, "/recover")
        self.assertEqual(self.get(port, "/healthz")[0], 200)
        self.assertEqual(self.get(port, "/echo?msg=hi"), (200, "hi"))

    def test_serves_through_the_shutdown_delay_then_exits_zero(self):
        port = free_port()
        p = self.start("serve-hostname", "--port", str(port), "--shutdown-delay", "1")
        self.assertEqual(self.get(port, "/")[0], 200)
        p.terminate()
        time.sleep(0.3)
        self.assertIsNone(p.poll(), "exited before its shutdown delay")
        self.assertEqual(self.get(port, "/")[0], 200)
        self.assertEqual(p.wait(timeout=10), 0)

    def test_echo_tcp_and_udp(self):
        port = free_port()
        self.start("echo", "--port", str(port))
        deadline = time.monotonic() + 10
        while True:
            try:
                c = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        with c:
            c.sendall(b"ping")
            self.assertEqual(c.recv(10), b"ping")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.settimeout(5)
            u.sendto(b"pong", ("127.0.0.1", port))
            self.assertEqual(u.recvfrom(10)[0], b"pong")

    def test_exit_code(self):
        p = subprocess.run([BINARY, "exit", "--code", "7"], capture_output=True, timeout=10)
        self.assertEqual(p.returncode, 7)
        bad = subprocess.run([BINARY, "nope"], capture_output=True, timeout=10)
        self.assertEqual(bad.returncode, 2)


if __name__ == "__main__":
    unittest.main()
