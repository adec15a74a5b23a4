// status.conditions lists ({type, status, reason, message, lastTransitionTime,
// lastUpdateTime}) as workload controllers keep them.
// Thread safety: stateless functions.
#pragma once

#include <string>
#include <string_view>

#include "common/api/json.h"

namespace kubepp::controller {

struct Condition {
  std::string type;
  std::string status;  // "True", "False", "Unknown"
  std::string reason;
  std::string message;
};

// The condition of `type` in status.conditions of `status` (the status object), or null.
const api::Value* FindCondition(const api::Value& status, std::string_view type);

// Puts `c` into status.conditions at `now` (RFC 3339), following upstream's
// SetDeploymentCondition: an existing condition with the same status and reason is left
// alone unless `refresh` (then only its message and lastUpdateTime change);
// lastTransitionTime is kept while the status stays the same. `update_time` adds
// lastUpdateTime (Deployment conditions have it, ReplicaSet conditions do not).
void SetCondition(api::Value& status, const Condition& c, const std::string& now, bool update_time,
                  bool refresh, api::Allocator& a);
// Returns whether a condition of `type` was there.
bool RemoveCondition(api::Value& status, std::string_view type);

}  // namespace kubepp::controller
