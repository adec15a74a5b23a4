// The kubelet's API (upstream's :10250): /healthz, /metrics, /pods (a PodList of this
// process's pods) and /containerLogs/<ns>/<pod>/<container>?follow&tailLines&limitBytes&
// previous, which the apiserver's pods/log proxies to. Served over HTTPS only, every
// request authenticated and authorized by a KubeletAuth (auth.h) before it is handled.
// Thread safety: handlers run on the server's threads; follow streams on their own.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/http/server.h"
#include "kubelet/auth.h"
#include "kubelet/node_agent.h"

namespace kubepp::kubelet {

struct KubeletServerOptions {
  std::string address;
  int port = 10250;
  // PEM files (http::ServerOptions'): the serving certificate and key, and the CA that
  // verifies client certificates ("" = none asked for).
  std::string tls_cert_file, tls_key_file, client_ca_file;
  std::shared_ptr<KubeletAuth> auth;  // must be set
};

// Serves `agents` (which must outlive the server) as `options` say.
Result<std::unique_ptr<http::Server>> StartKubeletServer(const KubeletServerOptions& options,
                                                         std::vector<NodeAgent*> agents);

// The last `tail_lines` lines (all when < 0) of `data`, then at most `limit_bytes`
// (all when <= 0).
std::string TailLines(const std::string& data, int64_t tail_lines, int64_t limit_bytes);

}  // namespace kubepp::kubelet
