// The Ingress data path: an HTTP/1.1 reverse proxy (Boost.Beast behind this header) on a
// plain HTTP port and a TLS port, routing each request by the current Snapshot.
//
// Per request: the route for Host + path (404 without one); on plain HTTP, a 308 to
// https when the route's host has TLS; the Ingress's rate limits (503 past them); then a
// ready endpoint of the backend, round robin, over a pooled keep-alive connection, with
// a retry on the next endpoint when a connect fails (502 when none connects, 503 with no
// endpoints, 504 when the upstream does not answer in time). The answer is relayed as it
// arrives (server-sent events, large downloads), never held whole. The upstream gets
// X-Forwarded-For/-Proto/-Host/-Port, X-Real-IP and X-Request-ID (kept when the client
// sent one). An Upgrade request (WebSocket) becomes a byte tunnel once the upstream
// answers 101. One access-log line per request at verbosity 1.
// TLS: the certificate is chosen by SNI among the snapshot's (exact host, then the
// wildcard of its parent domain), else the default certificate.
// Every read has a deadline, and headers and request bodies a size limit.
//
// Thread safety: Start/Stop from one thread; `snapshot` is called from the I/O threads
// and must be thread-safe. A new snapshot applies to the next request; requests in
// progress finish with the one they started with.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "proxy/ingress/snapshot.h"
#include "proxy/ingress/tls.h"

namespace kubepp::proxy::ingress {

struct ServerOptions {
  std::string bind_address = "0.0.0.0";
  int http_port = 80;    // 0: no plain HTTP listener
  int https_port = 443;  // 0: no TLS listener
  // I/O threads, each with its own event loop, connections and upstream pool (as
  // nginx's worker processes); accepted connections are dealt out round robin.
  int threads = 2;
  size_t max_header_bytes = 32 * 1024;
  size_t max_request_body_bytes = 1024 * 1024;  // ingress-nginx's proxy-body-size default
  std::chrono::seconds client_timeout{60};       // a whole request, or an idle keep-alive
  std::chrono::seconds connect_timeout{5};
  std::chrono::seconds upstream_timeout{60};     // sending the request + reading the answer
  std::chrono::seconds tunnel_idle_timeout{3600};  // upgraded (WebSocket) connections
  std::chrono::seconds pool_idle_timeout{30};    // pooled upstream connections
  size_t max_idle_per_endpoint = 32;            // per I/O thread (nginx: keepalive 32)
  int max_connect_attempts = 3;                  // endpoints tried per request
};

using SnapshotSource = std::function<std::shared_ptr<const Snapshot>()>;

class Server {
 public:
  Server(ServerOptions options, SnapshotSource snapshot,
         std::shared_ptr<const TlsCertificate> default_certificate);
  ~Server();  // Stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the enabled ports and starts serving. A port that cannot be bound is logged
  // as an error and left out (the caller keeps running). Returns how many listen.
  int Start();
  // Closes the listeners and every connection; joins the threads. Idempotent.
  void Stop();
  // The bound ports (0 when not listening).
  int http_port() const;
  int https_port() const;

  struct Impl;  // public only so the implementation's sessions can name it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace kubepp::proxy::ingress
