// The /healthz, /livez, /readyz and /metrics endpoints every component serves, on a
// small plain-HTTP server of their own (upstream's 10257, 10259, 10256 ports).
//
//   HealthServerOptions o;
//   o.port = 10259;
//   o.before_metrics = [&] { UpdateGauges(); };
//   ASSIGN_OR_RETURN(auto server, StartHealthServer(o));   // serving until destroyed
// Thread safety: the callbacks run on the server's thread.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/http/server.h"
#include "common/status.h"

namespace kubepp {

struct HealthServerOptions {
  std::string bind_address = "127.0.0.1";
  int port = 0;  // 0: any free port (see Server::port())
  // Whether the component is healthy (null: always). Unhealthy answers 503.
  std::function<bool()> healthy;
  // The health answer's body (null: "ok" / "unhealthy").
  std::function<std::string(bool healthy)> body;
  // Runs before each /metrics scrape, to refresh gauges.
  std::function<void()> before_metrics;
  // Whether /metrics is served here (the kubelet keeps it behind authentication on its
  // API port; its health port answers health only, as upstream's 10248).
  bool serve_metrics = true;
};

// Starts the server. Unavailable when the address cannot be bound.
Result<std::unique_ptr<http::Server>> StartHealthServer(HealthServerOptions options);

}  // namespace kubepp
