// Pod facts controllers share: readiness and availability (minReadySeconds), which
// pods count as active, which pod to delete first when scaling down, and pods made
// from a workload's template. Also IntOrString arithmetic ("25%" of a count).
// Thread safety: stateless functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/api/json.h"
#include "common/status.h"

namespace kubepp::controller {

// status.conditions[type=Ready].status == "True".
bool IsPodReady(const api::Value& pod);
// When the Ready condition last turned True (Unix seconds), 0 when unknown.
int64_t PodReadySince(const api::Value& pod);
// Ready for at least `min_ready_seconds` at `now` (as upstream IsPodAvailable).
bool IsPodAvailable(const api::Value& pod, int64_t min_ready_seconds, int64_t now);
// Phase Succeeded or Failed.
bool IsPodTerminal(const api::Value& pod);
// Neither terminal nor being deleted: counts toward a controller's replicas.
bool IsPodActive(const api::Value& pod);
// Whether `a` should be deleted before `b` when scaling down (upstream ActivePods
// order): unscheduled before scheduled, Pending before Unknown before Running, not ready
// before ready, ready for less time first, more container restarts first, newer first.
bool DeletePodFirst(const api::Value& a, const api::Value& b);

// A pod for `template_spec` (a PodTemplateSpec) in `ns`, named `<generate_name>xxxxx`
// by the server, carrying the template's labels and annotations and `controller_ref`.
api::Document PodFromTemplate(const api::Value& template_spec, const std::string& ns,
                              const std::string& generate_name, const api::Value& controller_ref);

// Whether a pod toleration tolerates a node taint (upstream ToleratesTaint): effects
// match (an empty toleration effect matches all), and Exists matches the key (an empty
// key with Exists matches every taint) or Equal matches key and value.
bool Tolerates(const api::Value& toleration, const api::Value& taint);
// Whether `tolerations` (a pod's spec.tolerations, may be null) tolerate every taint in
// `taints` (a node's spec.taints, may be null) whose effect is NoSchedule or NoExecute.
bool ToleratesAll(const api::Value* tolerations, const api::Value* taints);

// An IntOrString (10 or "25%") resolved against `total`: percentages round up or down
// as asked; a missing value is `fallback`. A malformed value is BadRequest.
Result<int64_t> ScaledIntOrPercent(const api::Value* v, int64_t total, bool round_up,
                                   int64_t fallback);

// Seconds since the epoch of an RFC 3339 field at `path`, 0 when absent or malformed.
int64_t TimeField(const api::Value& object, std::string_view path);

}  // namespace kubepp::controller
