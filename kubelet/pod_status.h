// The pod's status as the kubelet reports it (upstream's generateAPIPodStatus and
// getPhase): phase, conditions, container statuses with state/lastState/restartCount,
// podIP(s), hostIP(s), startTime.
// Thread safety: stateless.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/api/json.h"
#include "kubelet/runtime/runtime.h"

namespace kubepp::kubelet {

struct StatusInputs {
  const api::Value* pod = nullptr;
  std::string pod_ip;
  std::string host_ip;
  std::string runtime_name;  // containerID prefix: "<runtime>://<id>"
  // Every runtime container of this pod incarnation (all attempts).
  std::vector<ContainerStatus> containers;
  // Why a container is not running when the pod worker knows better than the runtime
  // (CrashLoopBackOff, ErrImagePull, ...): name -> {reason, message}.
  std::map<std::string, std::pair<std::string, std::string>> waiting;
  // Probe verdicts for a running container.
  std::function<bool(const ContainerStatus&)> ready;
  std::function<bool(const ContainerStatus&)> started;
  std::string start_time;  // RFC 3339; kept from the existing status when set
  std::string now;         // RFC 3339, for condition transition times
};

// The status object ({"phase":...,"conditions":[...],...}).
api::Document ComputePodStatus(const StatusInputs& in);

// Upstream's getPhase over the container statuses of `status` (init containers first).
std::string PodPhase(const api::Value& pod, const api::Value& status);

// The containers of `all` named `name`, latest attempt first.
std::vector<const ContainerStatus*> AttemptsOf(const std::vector<ContainerStatus>& all,
                                               const std::string& name);

}  // namespace kubepp::kubelet
