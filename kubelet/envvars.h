// Service environment variables (upstream pkg/kubelet/envvars and the kubelet's
// getServiceEnvVarMap): for each Service a container can see, `<NAME>_SERVICE_HOST`,
// `<NAME>_SERVICE_PORT`, `<NAME>_SERVICE_PORT_<PORTNAME>` and the Docker-link style
// `<NAME>_PORT`, `<NAME>_PORT_<port>_<PROTO>{,_PROTO,_PORT,_ADDR}`.
//
// Thread safety: stateless functions.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/api/json.h"

namespace kubepp::kubelet {

using EnvList = std::vector<std::pair<std::string, std::string>>;

// The variables of `services` (Service objects, any namespace) for a pod in namespace
// `ns`: the services of `ns` when `enable_service_links`, plus the master service
// `kubernetes` of namespace default always (a same-named service of `ns` wins). Services
// without a ClusterIP (empty or "None") are skipped. Sorted by name.
EnvList ServiceEnvVars(const std::string& ns, bool enable_service_links,
                       const std::vector<const api::Value*>& services);

// Upstream's FromServices for one service: its variables in upstream's order.
EnvList EnvVarsOfService(const api::Value& service);

}  // namespace kubepp::kubelet
