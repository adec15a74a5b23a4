#include "controller-manager/deployment/deployment_util.h"

#include <algorithm>
#include <climits>
#include <cmath>

#include "controller-manager/framework/canonical.h"
#include "controller-manager/framework/conditions.h"
#include "controller-manager/framework/pods.h"

namespace kubepp::controller::deployment {
namespace {

// Controller-owned annotations that are not copied from a Deployment to its ReplicaSets.
bool SkipCopyAnnotation(const std::string& key) {
  return key == "kubectl.kubernetes.io/last-applied-configuration" || key == kRevisionAnnotation ||
         key == "deployment.kubernetes.io/revision-history" || key == kDesiredReplicasAnnotation ||
         key == kMaxReplicasAnnotation || key == "deprecated.deployment.rollback.to";
}

api::Value& Annotations(api::Document& obj) {
  auto& a = obj.GetAllocator();
  api::Value& meta = api::Ensure(obj, "metadata", a);
  if (!meta.HasMember("annotations") || !meta["annotations"].IsObject()) {
    meta.RemoveMember("annotations");
    meta.AddMember("annotations", api::Value(rapidjson::kObjectType), a);
  }
  return meta["annotations"];
}

// Sets annotation `key` to `value`; returns whether it changed.
bool SetAnnotation(api::Document& obj, const std::string& key, const std::string& value) {
  api::Value& ann = Annotations(obj);
  auto& a = obj.GetAllocator();
  auto it = ann.FindMember(key);
  if (it != ann.MemberEnd()) {
    if (api::View(it->value) == value) return false;
    it->value = api::Str(value, a);
    return true;
  }
  ann.AddMember(api::Str(key, a), api::Str(value, a), a);
  return true;
}

}  // namespace

std::string ComputeHash(const api::Value& pod_template, int64_t collision_count) {
  return TemplateHash(pod_template, collision_count);
}

bool EqualIgnoreHash(const api::Value& t1, const api::Value& t2) {
  api::Document a = api::Clone(t1), b = api::Clone(t2);
  for (api::Document* d : {&a, &b}) {
    if (api::Value* labels = api::FindMutable(*d, "metadata.labels"); labels && labels->IsObject()) {
      labels->RemoveMember(kPodTemplateHashLabel);
      if (labels->ObjectEmpty()) api::Remove(*d, "metadata.labels");
    }
  }
  return CanonicalJson(a) == CanonicalJson(b);
}

int64_t SpecReplicas(const api::Value& obj) { return api::GetInt(obj, "spec.replicas", 1); }

std::optional<int64_t> IntAnnotation(const api::Value& obj, const char* key) {
  const api::Value* ann = api::Find(obj, "metadata.annotations");
  if (ann == nullptr) return std::nullopt;
  const api::Value* v = api::FindMember(*ann, key);
  if (v == nullptr || !v->IsString()) return std::nullopt;
  std::string s = v->GetString();
  if (s.empty() || s.size() > 18 || !std::all_of(s.begin(), s.end(), ::isdigit)) {
    return std::nullopt;
  }
  return std::stoll(s);
}

int64_t Revision(const api::Value& obj) {
  return IntAnnotation(obj, kRevisionAnnotation).value_or(0);
}

bool IsRollingUpdate(const api::Value& d) {
  return api::GetString(d, "spec.strategy.type", "RollingUpdate") == "RollingUpdate";
}

std::pair<int64_t, int64_t> ResolveFenceposts(const api::Value* max_surge,
                                              const api::Value* max_unavailable, int64_t desired) {
  // Malformed values were rejected by the apiserver's validation; treat them as 0.
  auto surge = ScaledIntOrPercent(max_surge, desired, true, 0);
  auto unavailable = ScaledIntOrPercent(max_unavailable, desired, false, 0);
  int64_t s = surge.ok() ? *surge : 0, u = unavailable.ok() ? *unavailable : 0;
  // Both zero would make no progress possible.
  if (s == 0 && u == 0) u = 1;
  return {s, u};
}

namespace {
std::pair<int64_t, int64_t> Fenceposts(const api::Value& d) {
  // Defaults as the apiserver's: 25% each.
  api::Document defaults;
  defaults.SetString("25%");
  const api::Value* surge = api::Find(d, "spec.strategy.rollingUpdate.maxSurge");
  const api::Value* unavailable = api::Find(d, "spec.strategy.rollingUpdate.maxUnavailable");
  return ResolveFenceposts(surge ? surge : &defaults, unavailable ? unavailable : &defaults,
                           SpecReplicas(d));
}
}  // namespace

int64_t MaxSurge(const api::Value& d) {
  if (!IsRollingUpdate(d)) return 0;
  return Fenceposts(d).first;
}

int64_t MaxUnavailable(const api::Value& d) {
  if (!IsRollingUpdate(d) || SpecReplicas(d) == 0) return 0;
  return std::min(Fenceposts(d).second, SpecReplicas(d));
}

int64_t NewRSNewReplicas(const api::Value& d, const std::vector<ObjectPtr>& all_rs,
                         const api::Value* new_rs) {
  int64_t want = SpecReplicas(d);
  if (!IsRollingUpdate(d)) return want;
  int64_t new_replicas = new_rs ? SpecReplicas(*new_rs) : 0;
  int64_t current = 0;
  for (const auto& rs : all_rs) current += SpecReplicas(*rs);
  int64_t max_total = want + MaxSurge(d);
  if (current >= max_total) return new_replicas;  // cannot scale up
  int64_t scale_up = max_total - current;
  // Never beyond the desired count.
  scale_up = std::min(scale_up, want - new_replicas);
  return new_replicas + scale_up;
}

bool SetReplicasAnnotations(api::Document& rs, int64_t desired, int64_t max) {
  bool changed = SetAnnotation(rs, kDesiredReplicasAnnotation, std::to_string(desired));
  changed |= SetAnnotation(rs, kMaxReplicasAnnotation, std::to_string(max));
  return changed;
}

bool ReplicasAnnotationsNeedUpdate(const api::Value& rs, int64_t desired, int64_t max) {
  return IntAnnotation(rs, kDesiredReplicasAnnotation) != desired ||
         IntAnnotation(rs, kMaxReplicasAnnotation) != max;
}

bool SetNewReplicaSetAnnotations(const api::Value& d, api::Document& rs, int64_t new_revision,
                                 bool exists) {
  bool changed = false;
  for (const auto& [k, v] : api::GetStringMap(d, "metadata.annotations")) {
    if (!SkipCopyAnnotation(k)) changed |= SetAnnotation(rs, k, v);
  }
  if (Revision(rs) < new_revision) {
    changed |= SetAnnotation(rs, kRevisionAnnotation, std::to_string(new_revision));
  }
  if (!exists) changed |= SetReplicasAnnotations(rs, SpecReplicas(d), SpecReplicas(d) + MaxSurge(d));
  return changed;
}

int64_t ReplicaSetProportion(const api::Value& rs, const api::Value& d, int64_t to_add,
                             int64_t added) {
  int64_t replicas = SpecReplicas(rs);
  if (replicas == 0 || to_add == 0 || to_add == added) return 0;
  int64_t fraction;
  if (SpecReplicas(d) == 0) {
    fraction = -replicas;
  } else {
    int64_t deployment_replicas = SpecReplicas(d) + MaxSurge(d);
    int64_t annotated = IntAnnotation(rs, kMaxReplicasAnnotation).value_or(0);
    if (annotated == 0) annotated = api::GetInt(d, "status.replicas");
    if (annotated == 0) return 0;
    double size = static_cast<double>(replicas * deployment_replicas) / annotated;
    fraction = static_cast<int64_t>(std::llround(size)) - replicas;
  }
  int64_t allowed = to_add - added;
  return to_add > 0 ? std::min(fraction, allowed) : std::max(fraction, allowed);
}

bool CreatedBefore(const api::Value& a, const api::Value& b) {
  int64_t ta = TimeField(a, "metadata.creationTimestamp");
  int64_t tb = TimeField(b, "metadata.creationTimestamp");
  if (ta != tb) return ta < tb;
  return api::GetString(a, "metadata.name") < api::GetString(b, "metadata.name");
}

std::vector<ObjectPtr> FilterActive(const std::vector<ObjectPtr>& rss) {
  std::vector<ObjectPtr> out;
  for (const auto& rs : rss) {
    if (rs && SpecReplicas(*rs) > 0) out.push_back(rs);
  }
  return out;
}

bool DeploymentComplete(const api::Value& d, const api::Value& status) {
  int64_t want = SpecReplicas(d);
  return api::GetInt(status, "updatedReplicas") == want && api::GetInt(status, "replicas") == want &&
         api::GetInt(status, "availableReplicas") == want &&
         api::GetInt(status, "observedGeneration") >= api::GetInt(d, "metadata.generation", 1);
}

bool DeploymentProgressing(const api::Value& d, const api::Value& new_status) {
  const api::Value* old_status = api::Find(d, "status");
  api::Value empty(rapidjson::kObjectType);
  const api::Value& old = old_status ? *old_status : empty;
  int64_t old_old = api::GetInt(old, "replicas") - api::GetInt(old, "updatedReplicas");
  int64_t new_old = api::GetInt(new_status, "replicas") - api::GetInt(new_status, "updatedReplicas");
  return api::GetInt(new_status, "updatedReplicas") > api::GetInt(old, "updatedReplicas") ||
         old_old > new_old ||
         api::GetInt(new_status, "readyReplicas") > api::GetInt(old, "readyReplicas") ||
         api::GetInt(new_status, "availableReplicas") > api::GetInt(old, "availableReplicas");
}

bool HasProgressDeadline(const api::Value& d) {
  const api::Value* pds = api::Find(d, "spec.progressDeadlineSeconds");
  return pds != nullptr && pds->IsInt64() && pds->GetInt64() != INT32_MAX;
}

bool DeploymentTimedOut(const api::Value& d, const api::Value& status, int64_t now) {
  if (!HasProgressDeadline(d)) return false;
  const api::Value* cond = FindCondition(status, "Progressing");
  if (cond == nullptr) return false;
  std::string reason = api::GetString(*cond, "reason");
  if (reason == kNewRSAvailableReason) return false;
  if (reason == kTimedOutReason) return true;
  int64_t from = TimeField(*cond, "lastUpdateTime");
  return from + api::GetInt(d, "spec.progressDeadlineSeconds") < now;
}

}  // namespace kubepp::controller::deployment
