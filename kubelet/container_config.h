// From a pod spec to what the runtime needs (upstream kuberuntime's
// generateContainerConfig): resolved environment, volume mounts on host paths, limits,
// security settings, the log path; plus the per-pod files every container mounts
// (/etc/hosts, /etc/resolv.conf) and the pod's volume directories.
//
// Thread safety: stateless functions; they touch only the pod's own directories.
#pragma once

#include <functional>
#include <string>

#include "common/api/json.h"
#include "common/status.h"
#include "kubelet/envvars.h"
#include "kubelet/runtime/runtime.h"

namespace kubepp::kubelet {

// Where a pod's things live under --root-dir.
struct PodPaths {
  std::string root;  // <root-dir>/pods/<uid>
  std::string VolumeDir(const std::string& plugin, const std::string& volume) const {
    return root + "/volumes/" + plugin + "/" + volume;
  }
  std::string LogPath(const std::string& container, uint32_t attempt) const {
    return root + "/logs/" + container + "/" + std::to_string(attempt) + ".log";
  }
  std::string HostsFile() const { return root + "/etc-hosts"; }
  std::string ResolvConf() const { return root + "/resolv.conf"; }
};
PodPaths PathsOf(const std::string& root_dir, const std::string& uid);

struct PodContext {
  std::string node_name;
  std::string pod_ip;
  std::string host_ip;
  std::string cluster_dns;     // "" leaves the host's resolv.conf
  std::string cluster_domain;  // "cluster.local"
  PodPaths paths;
  // Reads key `key` of ConfigMap (`secret` false) or Secret `name` in the pod's
  // namespace (Secret values decoded). nullptr: such references are errors.
  std::function<Result<std::string>(bool secret, const std::string& name,
                                    const std::string& key)> lookup;
  // The service variables (ServiceEnvVars) the containers get unless they declare the
  // same names; $(VAR) in env values can refer to them.
  EnvList service_env;
};

// Creates the pod's volume directories (emptyDir, hostPath DirectoryOrCreate) and writes
// /etc/hosts and /etc/resolv.conf. Idempotent.
Status PreparePodFiles(const api::Value& pod, const PodContext& ctx);

// The container config for `container` (an element of spec.containers or
// spec.initContainers). Unresolvable env references are BadRequest
// (-> CreateContainerConfigError).
Result<ContainerConfig> BuildContainerConfig(const api::Value& pod, const api::Value& container,
                                             uint32_t attempt, const PodContext& ctx);

// The value of a resourceFieldRef (`resource` "limits.cpu", "requests.memory", ...) of
// `container`, in whole units of `divisor` rounded up, as upstream.
Result<std::string> ResourceFieldValue(const api::Value& container, const api::Value& ref);

// The content of the pod's /etc/resolv.conf and /etc/hosts.
std::string ResolvConfFor(const api::Value& pod, const PodContext& ctx);
std::string HostsFileFor(const api::Value& pod, const PodContext& ctx);

// Upstream's $(VAR) expansion in command, args and env values: $(VAR) of a known
// variable is replaced, $$ escapes, unknown references stay as written.
std::string ExpandVars(const std::string& in,
                       const std::vector<std::pair<std::string, std::string>>& env);

}  // namespace kubepp::kubelet
