"""A stand-in for kubelets in controller-manager tests: it plays the node side of pods
through the API only, the way a kubelet reports status.

Every pod it sees that is not yet Running gets, after `delay` seconds, phase Running, a
pod IP and the Ready condition (PUT pods/<name>/status). Pods whose labels match
`unready` stay Running but not Ready. A pod labelled fake-kubelet/exit-code=N instead
finishes: phase Succeeded (N == "0") or Failed. A bound pod being deleted is removed at
once (DELETE with gracePeriodSeconds=0), as a kubelet does once its containers stopped.
It polls the pod list; stop() ends its thread.
"""
import json
import threading
import time
import urllib.error
import urllib.request


def _utc(t=None):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class FakeKubelet:
    def __init__(self, server, delay=0.0, interval=0.1):
        self.server = server
        self.delay = delay
        self.interval = interval
        self.unready = {}  # label key -> value: matching pods are never marked ready
        self._seen = {}  # uid -> first seen (monotonic)
        self._next_ip = 2
        self._ips = {}  # uid -> ip
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.lock = threading.Lock()

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=10)

    def _ip_for(self, uid):
        if uid not in self._ips:
            n = self._next_ip
            self._next_ip += 1
            self._ips[uid] = "10.244.%d.%d" % (n // 250, n % 250 + 2)
        return self._ips[uid]

    def _run(self):
        while not self._stop.is_set():
            try:
                self._tick()
            except (OSError, ValueError):
                pass  # the apiserver may be restarting
            self._stop.wait(self.interval)

    def _tick(self):
        resp = self.server.get("/api/v1/pods", timeout=10)
        if resp.status != 200:
            return
        now = time.monotonic()
        for pod in resp.json().get("items", []):
            meta = pod["metadata"]
            if meta.get("deletionTimestamp"):
                if pod["spec"].get("nodeName"):
                    self.server.delete("/api/v1/namespaces/%s/pods/%s?gracePeriodSeconds=0"
                                       % (meta["namespace"], meta["name"]), timeout=10)
                continue
            uid = meta["uid"]
            first = self._seen.setdefault(uid, now)
            if now - first < self.delay:
                continue
            labels = meta.get("labels", {})
            with self.lock:
                ready = not any(labels.get(k) == v for k, v in self.unready.items())
            status = pod.get("status", {})
            exit_code = labels.get("fake-kubelet/exit-code")
            if exit_code is not None:
                if status.get("phase") in ("Succeeded", "Failed"):
                    continue
                pod["status"] = {
                    "phase": "Succeeded" if exit_code == "0" else "Failed",
                    "startTime": _utc(),
                    "containerStatuses": [
                        {"name": c["name"], "image": c.get("image", ""), "ready": False,
                         "restartCount": 0,
                         "state": {"terminated": {"exitCode": int(exit_code),
                                                  "finishedAt": _utc()}}}
                        for c in pod["spec"].get("containers", [])],
                }
                path = "/api/v1/namespaces/%s/pods/%s/status" % (meta["namespace"], meta["name"])
                self.server.put(path, pod, timeout=10)
                continue
            conds = {c["type"]: c["status"] for c in status.get("conditions", [])}
            want_ready = "True" if ready else "False"
            if status.get("phase") == "Running" and conds.get("Ready") == want_ready:
                continue
            status = {
                "phase": "Running",
                "podIP": self._ip_for(uid),
                "podIPs": [{"ip": self._ip_for(uid)}],
                "hostIP": "127.0.0.1",
                "startTime": status.get("startTime") or _utc(),
                "conditions": [
                    {"type": "Ready", "status": want_ready, "lastTransitionTime": _utc()},
                    {"type": "ContainersReady", "status": want_ready, "lastTransitionTime": _utc()},
                ],
                "containerStatuses": [
                    {"name": c["name"], "image": c.get("image", ""), "ready": ready,
                     "restartCount": 0, "started": True,
                     "state": {"running": {"startedAt": _utc()}}}
                    for c in pod["spec"].get("containers", [])
                ],
            }
            pod["status"] = status
            path = "/api/v1/namespaces/%s/pods/%s/status" % (meta["namespace"], meta["name"])
            self.server.put(path, pod, timeout=10)
