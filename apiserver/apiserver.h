// The apiserver: the Kubernetes REST/watch API over a Storage.
//
//   ApiServerOptions o; o.data_dir = "..."; o.port = 6443;
//   auto s = ApiServer::Start(o);   // listening when this returns
//   ... s->Stop();
// Thread safety: Start/Stop from one thread; serving happens on the server's threads.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"

namespace kubepp::apiserver {

struct ApiServerOptions {
  std::string bind_address = "127.0.0.1";
  int port = 6443;  // 0: any free port
  std::string data_dir = "./kubepp-data";
  std::string service_cluster_ip_range = "10.96.0.0/12";
  std::string service_node_port_range = "30000-32767";
  // Serving plain, unauthenticated HTTP on a non-loopback address is remote root on
  // every node: refused unless this is set.
  bool insecure_allow_any_address = false;
  int threads = 2;
  int max_requests_inflight = 1000;
  int64_t watch_history = 10000;
  int min_request_timeout_seconds = 1800;  // watches without timeoutSeconds end by then
  int bookmark_interval_seconds = 60;
};

class ApiServer {
 public:
  static Result<std::unique_ptr<ApiServer>> Start(const ApiServerOptions& options);
  virtual ~ApiServer() = default;
  virtual int port() const = 0;
  virtual void Stop() = 0;
};

}  // namespace kubepp::apiserver
