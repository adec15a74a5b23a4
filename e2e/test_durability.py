"""Acknowledged writes survive kill -9, revisions keep growing, and watches resume without gaps."""
import http.client
import json
import threading
import time
import unittest

from harness import ApiServer, WatchStream

WRITERS = 8
KILL_AFTER_SECONDS = 2.0


class DurabilityTest(unittest.TestCase):
    def setUp(self):
        self.server = ApiServer()
        self.addCleanup(self.server.stop)
        self.server.start()

    def test_kill_9_mid_stream(self):
        s = self.server
        ns = s.create_namespace()
        base = "/api/v1/namespaces/%s/configmaps" % ns
        start_rv = int(s.get(base).json()["metadata"]["resourceVersion"])

        acked = {}  # name -> resourceVersion of every create answered 2xx
        acked_lock = threading.Lock()
        watched = {"last_rv": start_rv, "names": set()}

        def writer(t):
            conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
            i = 0
            try:
                while True:
                    name = "w%d-%d" % (t, i)
                    i += 1
                    body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                                       "metadata": {"name": name}, "data": {"i": str(i)}})
                    conn.request("POST", base, body, {"Content-Type": "application/json"})
                    r = conn.getresponse()
                    payload = r.read()
                    if 200 <= r.status < 300:
                        rv = int(json.loads(payload)["metadata"]["resourceVersion"])
                        with acked_lock:
                            acked[name] = rv
            except (OSError, http.client.HTTPException, ValueError):
                pass  # the server died under us
            finally:
                conn.close()

        def watcher():
            # Drops its connection halfway, so that many acknowledged creates come after
            # the last revision it saw.
            leave_at = time.monotonic() + KILL_AFTER_SECONDS / 2
            try:
                with WatchStream(s.port, "%s?watch=1&resourceVersion=%d" % (base, start_rv),
                                 timeout=10) as w:
                    for ev in w:
                        if ev["type"] in ("ADDED", "MODIFIED", "DELETED"):
                            watched["last_rv"] = int(ev["object"]["metadata"]["resourceVersion"])
                            watched["names"].add(ev["object"]["metadata"]["name"])
                        if time.monotonic() >= leave_at:
                            return
            except (OSError, http.client.HTTPException, ValueError):
                pass

        threads = [threading.Thread(target=watcher)]
        threads += [threading.Thread(target=writer, args=(t,)) for t in range(WRITERS)]
        for th in threads:
            th.start()
        time.sleep(KILL_AFTER_SECONDS)
        s.kill()  # SIGKILL, mid-stream
        for th in threads:
            th.join(timeout=30)
        self.assertFalse(any(th.is_alive() for th in threads), "client threads hung")
        self.assertGreater(len(acked), 50, "too few writes acknowledged before the kill")
        last_seen = watched["last_rv"]
        max_acked = max(acked.values())

        s.start()  # same data dir
        stored = {i["metadata"]["name"] for i in s.get(base).json()["items"]}
        lost = sorted(set(acked) - stored)
        self.assertEqual(lost, [], "%d of %d acknowledged creates lost" % (len(lost), len(acked)))
        unseen = sorted(watched["names"] - stored)
        self.assertEqual(unseen, [], "objects a watcher saw before the kill are gone")

        r = s.post(base, {"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": "after-restart"}})
        self.assertEqual(r.status, 201, r)
        new_rv = int(r.json()["metadata"]["resourceVersion"])
        self.assertGreater(new_rv, max_acked)
        self.assertGreater(new_rv, last_seen)

        # The watcher resumes from the last revision it saw: every acknowledged create
        # after it arrives, in revision order, before the write made after the restart.
        expected = {n for n, rv in acked.items() if rv > last_seen}
        self.assertTrue(expected, "the watcher saw every write: nothing to resume")
        events = []
        with WatchStream(s.port, "%s?watch=1&resourceVersion=%d&timeoutSeconds=20"
                         % (base, last_seen), timeout=30) as w:
            for ev in w:
                events.append(ev)
                if ev["type"] == "ERROR" or ev["object"]["metadata"]["name"] == "after-restart":
                    break
        self.assertTrue(events, "the resumed watch delivered nothing")
        self.assertNotEqual(events[-1]["type"], "ERROR", events[-1])
        self.assertEqual(events[-1]["object"]["metadata"]["name"], "after-restart",
                         "the resumed watch never delivered the post-restart write")
        names = [e["object"]["metadata"]["name"] for e in events]
        missing = sorted(expected - set(names))
        self.assertEqual(missing, [], "%d of %d acknowledged creates after revision %d missing "
                         "from the resumed watch" % (len(missing), len(expected), last_seen))
        rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
        self.assertEqual(rvs, sorted(rvs))
        self.assertGreater(rvs[0], last_seen)
        self.assertTrue(all(e["type"] == "ADDED" for e in events))


if __name__ == "__main__":
    unittest.main()


class BackupRestoreTest(unittest.TestCase):
    def test_online_backup_then_restore_into_a_new_data_dir(self):
        import os
        import subprocess
        from harness import APISERVER, configmap
        s = ApiServer()
        self.addCleanup(s.stop)
        s.start()
        ns = s.create_namespace()
        base = "/api/v1/namespaces/%s/configmaps" % ns
        for i in range(50):
            self.assertEqual(s.post(base, configmap("b%d" % i)).status, 201)
        backup = os.path.join(s.tmp, "backup.db")
        # While the server runs and keeps writing.
        out = subprocess.run([APISERVER, "backup", "--data-dir", s.data_dir, "--to", backup],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(s.post(base, configmap("after-backup")).status, 201)
        restored = ApiServer()
        self.addCleanup(restored.stop)
        out = subprocess.run([APISERVER, "restore", "--data-dir", restored.data_dir,
                              "--from", backup], capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        restored.start()
        names = {i["metadata"]["name"] for i in restored.get(base).json()["items"]}
        self.assertEqual(names, {"b%d" % i for i in range(50)})
        # Bad input: a clear one-line error and a non-zero exit.
        out = subprocess.run([APISERVER, "restore", "--data-dir", restored.data_dir,
                              "--from", "/nonexistent"], capture_output=True, text=True)
        self.assertNotEqual(out.returncode, 0)
        self.assertEqual(len(out.stderr.strip().splitlines()), 1, out.stderr)
