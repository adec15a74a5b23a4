// The pure arithmetic and bookkeeping of Deployments, following upstream's
// pkg/controller/deployment/util: pod-template-hash, template identity, revisions and
// their annotations, maxSurge/maxUnavailable resolution, how far the new ReplicaSet may
// grow, proportional scaling shares, and the status/condition predicates that
// `kubectl rollout status` relies on.
// Thread safety: stateless functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/api/json.h"
#include "common/informer/informer.h"
#include "common/status.h"

namespace kubepp::controller::deployment {

using informer::ObjectPtr;

inline constexpr const char* kPodTemplateHashLabel = "pod-template-hash";
inline constexpr const char* kRevisionAnnotation = "deployment.kubernetes.io/revision";
inline constexpr const char* kDesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas";
inline constexpr const char* kMaxReplicasAnnotation = "deployment.kubernetes.io/max-replicas";

// Condition reasons (upstream's names; kubectl and users match on them).
inline constexpr const char* kNewRSAvailableReason = "NewReplicaSetAvailable";
inline constexpr const char* kReplicaSetUpdatedReason = "ReplicaSetUpdated";
inline constexpr const char* kNewReplicaSetReason = "NewReplicaSetCreated";
inline constexpr const char* kFoundNewRSReason = "FoundNewReplicaSet";
inline constexpr const char* kTimedOutReason = "ProgressDeadlineExceeded";
inline constexpr const char* kPausedReason = "DeploymentPaused";
inline constexpr const char* kResumedReason = "DeploymentResumed";

// The pod-template-hash of a template (FNV-32a of its canonical form, then the
// collision count), encoded with upstream's safe alphabet.
std::string ComputeHash(const api::Value& pod_template, int64_t collision_count);
// Whether two pod templates are equal apart from the pod-template-hash label.
bool EqualIgnoreHash(const api::Value& t1, const api::Value& t2);

// spec.replicas of a Deployment or ReplicaSet (default 1).
int64_t SpecReplicas(const api::Value& obj);
// The revision annotation as a number (0 when absent or malformed).
int64_t Revision(const api::Value& obj);
// An integer annotation, when present and valid.
std::optional<int64_t> IntAnnotation(const api::Value& obj, const char* key);

bool IsRollingUpdate(const api::Value& d);
// maxSurge resolved against spec.replicas (rounding up); 0 for Recreate.
int64_t MaxSurge(const api::Value& d);
// maxUnavailable resolved against spec.replicas (rounding down), at most spec.replicas;
// 0 for Recreate. When both resolve to 0, maxUnavailable is 1 (upstream's fenceposts).
int64_t MaxUnavailable(const api::Value& d);
// Both, as upstream ResolveFenceposts: {surge, unavailable}.
std::pair<int64_t, int64_t> ResolveFenceposts(const api::Value* max_surge,
                                              const api::Value* max_unavailable, int64_t desired);

// The replica count the new ReplicaSet should have now: RollingUpdate grows it as far
// as maxSurge allows over all ReplicaSets' spec.replicas, never beyond spec.replicas;
// Recreate jumps to spec.replicas.
int64_t NewRSNewReplicas(const api::Value& d, const std::vector<ObjectPtr>& all_rs,
                         const api::Value* new_rs);

// The annotations a Deployment's ReplicaSet carries: the Deployment's own annotations
// (except kubectl's last-applied configuration and the controller's), the revision
// (raised to `new_revision` when lower), and for a new ReplicaSet the desired/max
// replicas. Returns whether `rs` changed.
bool SetNewReplicaSetAnnotations(const api::Value& d, api::Document& rs, int64_t new_revision,
                                 bool exists);
// Sets desired-replicas and max-replicas; returns whether they changed.
bool SetReplicasAnnotations(api::Document& rs, int64_t desired, int64_t max);
bool ReplicasAnnotationsNeedUpdate(const api::Value& rs, int64_t desired, int64_t max);

// How many replicas `rs` gains (or loses, negative) when a Deployment being rolled out
// is scaled: its share of `to_add`, as upstream's GetReplicaSetProportion.
int64_t ReplicaSetProportion(const api::Value& rs, const api::Value& d, int64_t to_add,
                             int64_t added);

// The newest-first or oldest-first orders upstream uses.
bool CreatedBefore(const api::Value& a, const api::Value& b);
// Active ReplicaSets: spec.replicas > 0.
std::vector<ObjectPtr> FilterActive(const std::vector<ObjectPtr>& rss);

// updated == replicas == available == spec.replicas and the generation is observed.
bool DeploymentComplete(const api::Value& d, const api::Value& status);
// The new status shows progress against the Deployment's current status.
bool DeploymentProgressing(const api::Value& d, const api::Value& new_status);
// Progressing has not been refreshed within progressDeadlineSeconds of `now`.
bool DeploymentTimedOut(const api::Value& d, const api::Value& status, int64_t now);
bool HasProgressDeadline(const api::Value& d);

}  // namespace kubepp::controller::deployment
