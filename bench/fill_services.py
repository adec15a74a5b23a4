"""Creates N NodePort Services with one EndpointSlice of M ready endpoints each through the
apiserver at 127.0.0.1:PORT (4 keep-alive connections). For bench/proxy_rss.sh.
    fill_services.py PORT N M
"""
import http.client
import json
import sys
import threading


def ip(base, k):
    return "%d.%d.%d.%d" % (base, (k >> 16) & 255, (k >> 8) & 255, k & 255)


def post(conn, path, obj):
    conn.request("POST", path, json.dumps(obj), {"Content-Type": "application/json"})
    r = conn.getresponse()
    body = r.read()
    if r.status != 201:
        raise SystemExit("POST %s: %d %s" % (path, r.status, body[:300]))


def fill(port, lo, hi, m):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    for i in range(lo, hi):
        post(conn, "/api/v1/namespaces/default/services", {
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "s%d" % i, "namespace": "default"},
            "spec": {"type": "NodePort", "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}})
        eps = [{"addresses": [ip(10, 0xF40000 + ((i * m + e) & 0xFFFF))],
                "conditions": {"ready": True}, "nodeName": "node1"} for e in range(m)]
        post(conn, "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", {
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "s%d-1" % i, "namespace": "default",
                         "labels": {"kubernetes.io/service-name": "s%d" % i}},
            "addressType": "IPv4", "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
            "endpoints": eps})


def main():
    port, n, m = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    threads = [threading.Thread(target=fill, args=(port, k * n // 4, (k + 1) * n // 4, m))
               for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
