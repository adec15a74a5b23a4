// The kubelet's HTTP API (upstream's :10250, plain HTTP here): /healthz, /metrics,
// /pods (a PodList of this process's pods) and
// /containerLogs/<ns>/<pod>/<container>?follow&tailLines&limitBytes&previous, which the
// apiserver's pods/log proxies to.
// Thread safety: handlers run on the server's threads; follow streams on their own.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/http/server.h"
#include "kubelet/node_agent.h"

namespace kubepp::kubelet {

// Serves `agents` (which must outlive the server) on address:port.
Result<std::unique_ptr<http::Server>> StartKubeletServer(const std::string& address, int port,
                                                         std::vector<NodeAgent*> agents);

// The last `tail_lines` lines (all when < 0) of `data`, then at most `limit_bytes`
// (all when <= 0).
std::string TailLines(const std::string& data, int64_t tail_lines, int64_t limit_bytes);

}  // namespace kubepp::kubelet
