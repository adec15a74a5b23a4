#include "controller-manager/deployment/deployment_controller.h"

#include <algorithm>
#include <map>
#include <set>

#include "common/log.h"
#include "common/util/time.h"
#include "controller-manager/deployment/deployment_util.h"
#include "controller-manager/framework/canonical.h"
#include "controller-manager/framework/conditions.h"
#include "controller-manager/framework/pods.h"

namespace kubepp::controller {

using namespace deployment;
using informer::KeyOf;
using informer::SplitKey;

namespace {

ObjectPtr Shared(api::Document doc) { return std::make_shared<const api::Document>(std::move(doc)); }

std::string Name(const api::Value& obj) { return api::GetString(obj, "metadata.name"); }

void SortByCreation(std::vector<ObjectPtr>& rss) {
  std::sort(rss.begin(), rss.end(),
            [](const ObjectPtr& a, const ObjectPtr& b) { return CreatedBefore(*a, *b); });
}

const api::Value& StatusOf(const api::Value& obj) {
  static const api::Value kEmpty(rapidjson::kObjectType);
  const api::Value* s = api::Find(obj, "status");
  return s != nullptr && s->IsObject() ? *s : kEmpty;
}

}  // namespace

std::vector<ObjectPtr> DeploymentController::State::All() const {
  std::vector<ObjectPtr> all = old_rs;
  if (new_rs) all.push_back(new_rs);
  return all;
}

DeploymentController::DeploymentController(client::RestClient* client, SharedInformers* informers,
                                           const Clock* clock, EventRecorder* events)
    : QueueController("deployment"),
      client_(client),
      deployments_(informers->For(client::kDeployments)),
      replicasets_(informers->For(client::kReplicaSets)),
      pods_(informers->For(client::kPods)),
      clock_(clock),
      events_(events) {
  deployments_.AddEventHandler({
      [this](const ObjectPtr& d) { Enqueue(KeyOf(*d)); },
      [this](const ObjectPtr&, const ObjectPtr& d) { Enqueue(KeyOf(*d)); },
      [this](const ObjectPtr& d) { Enqueue(KeyOf(*d)); },
  });
  replicasets_.AddEventHandler({
      [this](const ObjectPtr& rs) {
        std::string key = DeploymentKeyForRs(*rs);
        if (!key.empty()) {
          Enqueue(key);
        } else if (!ControllerOf(*rs)) {
          EnqueueMatchingDeployments(*rs);
        }
      },
      [this](const ObjectPtr& old_rs, const ObjectPtr& rs) {
        std::string old_key = DeploymentKeyForRs(*old_rs), key = DeploymentKeyForRs(*rs);
        if (!old_key.empty() && old_key != key) Enqueue(old_key);
        if (!key.empty()) {
          Enqueue(key);
        } else if (!ControllerOf(*rs)) {
          EnqueueMatchingDeployments(*rs);
        }
      },
      [this](const ObjectPtr& rs) {
        std::string key = DeploymentKeyForRs(*rs);
        if (!key.empty()) Enqueue(key);
      },
  });
  // Recreate waits for the old pods to be gone: their deletions wake it.
  pods_.AddEventHandler({nullptr, nullptr, [this](const ObjectPtr& pod) {
                           auto ref = ControllerOf(*pod);
                           if (!ref || ref->kind != "ReplicaSet") return;
                           ObjectPtr rs = replicasets_.Get(
                               api::GetString(*pod, "metadata.namespace") + "/" + ref->name);
                           if (!rs) return;
                           std::string key = DeploymentKeyForRs(*rs);
                           if (key.empty()) return;
                           ObjectPtr d = deployments_.Get(key);
                           if (d && !IsRollingUpdate(*d)) Enqueue(key);
                         }});
}

std::string DeploymentController::DeploymentKeyForRs(const api::Value& rs) const {
  auto ref = ControllerOf(rs);
  if (!ref || ref->kind != "Deployment") return "";
  std::string key = api::GetString(rs, "metadata.namespace") + "/" + ref->name;
  ObjectPtr d = deployments_.Get(key);
  if (!d || api::GetString(*d, "metadata.uid") != ref->uid) return "";
  return key;
}

void DeploymentController::EnqueueMatchingDeployments(const api::Value& rs) {
  std::string ns = api::GetString(rs, "metadata.namespace");
  auto labels = api::GetStringMap(rs, "metadata.labels");
  for (const ObjectPtr& d : deployments_.List()) {
    if (api::GetString(*d, "metadata.namespace") != ns) continue;
    auto sel = api::LabelSelector::FromJson(api::Find(*d, "spec.selector"));
    if (sel.ok() && !sel->Empty() && sel->Matches(labels)) Enqueue(KeyOf(*d));
  }
}

Status DeploymentController::Sync(const std::string& key) {
  ObjectPtr cached = deployments_.Get(key);
  if (!cached) return Status::Ok();
  auto [ns, name] = SplitKey(key);
  State s;
  s.d = api::Clone(*cached);
  auto selector = api::LabelSelector::FromJson(api::Find(s.d, "spec.selector"));
  if (!selector.ok() || selector->Empty()) {
    events_->Event(s.d, "Warning", "SelectingAll",
                   "This deployment is selecting all pods. A non-empty selector is required.");
    if (api::GetInt(s.d, "status.observedGeneration") < api::GetInt(s.d, "metadata.generation", 1)) {
      api::Document status = api::Clone(StatusOf(s.d));
      api::SetInt(status, "observedGeneration", api::GetInt(s.d, "metadata.generation", 1),
                  status.GetAllocator());
      return UpdateDeploymentStatus(s, status);
    }
    return Status::Ok();
  }
  std::vector<ObjectPtr> candidates;
  for (const ObjectPtr& rs : replicasets_.List()) {
    if (api::GetString(*rs, "metadata.namespace") == ns) candidates.push_back(rs);
  }
  ASSIGN_OR_RETURN(std::vector<ObjectPtr> rs_list,
                   ClaimObjects(client_, client::kReplicaSets, s.d, "apps/v1", "Deployment",
                                *selector, candidates,
                                RecheckOwner(client_, client::kDeployments, s.d)));
  if (IsBeingDeleted(s.d)) {
    RETURN_IF_ERROR(FindOrCreateNewReplicaSet(s, rs_list, false));
    return SyncRolloutStatus(s, false);
  }
  RETURN_IF_ERROR(CheckPausedConditions(s));
  if (api::GetBool(s.d, "spec.paused")) {
    RETURN_IF_ERROR(FindOrCreateNewReplicaSet(s, rs_list, false));
    return SyncOnlyScale(s);
  }
  RETURN_IF_ERROR(FindOrCreateNewReplicaSet(s, rs_list, false));
  if (IsScalingEvent(s)) return SyncOnlyScale(s);
  // The new ReplicaSet is made by the strategy, after the scaling check (upstream's order).
  if (!s.new_rs && IsRollingUpdate(s.d)) RETURN_IF_ERROR(FindOrCreateNewReplicaSet(s, rs_list, true));
  return IsRollingUpdate(s.d) ? RolloutRolling(s) : RolloutRecreate(s);
}

Status DeploymentController::CheckPausedConditions(State& s) {
  if (!HasProgressDeadline(s.d)) return Status::Ok();
  const api::Value* cond = FindCondition(StatusOf(s.d), "Progressing");
  if (cond != nullptr && api::GetString(*cond, "reason") == kTimedOutReason) return Status::Ok();
  bool paused_cond = cond != nullptr && api::GetString(*cond, "reason") == kPausedReason;
  bool paused = api::GetBool(s.d, "spec.paused");
  Condition c;
  if (paused && !paused_cond) {
    c = {"Progressing", "Unknown", kPausedReason, "Deployment is paused"};
  } else if (!paused && paused_cond) {
    c = {"Progressing", "Unknown", kResumedReason, "Deployment is resumed"};
  } else {
    return Status::Ok();
  }
  api::Document status = api::Clone(StatusOf(s.d));
  SetCondition(status, c, util::NowRfc3339(), true, false, status.GetAllocator());
  return UpdateDeploymentStatus(s, status);
}

Status DeploymentController::FindOrCreateNewReplicaSet(State& s,
                                                       const std::vector<ObjectPtr>& rs_list,
                                                       bool create) {
  std::vector<ObjectPtr> sorted = rs_list;
  SortByCreation(sorted);
  const api::Value* tmpl = api::Find(s.d, "spec.template");
  s.new_rs = nullptr;
  s.old_rs.clear();
  for (const ObjectPtr& rs : sorted) {
    const api::Value* rs_tmpl = api::Find(*rs, "spec.template");
    // The oldest ReplicaSet with the template is the new one (several can exist after
    // a hash collision or when a user copies one).
    if (!s.new_rs && tmpl && rs_tmpl && EqualIgnoreHash(*tmpl, *rs_tmpl)) {
      s.new_rs = rs;
    } else {
      s.old_rs.push_back(rs);
    }
  }
  int64_t max_old_revision = 0;
  for (const auto& rs : s.old_rs) max_old_revision = std::max(max_old_revision, Revision(*rs));
  int64_t new_revision = max_old_revision + 1;
  if (!s.new_rs) {
    if (!create) return Status::Ok();
    return CreateNewReplicaSet(s, rs_list, new_revision);
  }
  api::Document rs = api::Clone(*s.new_rs);
  bool changed = SetNewReplicaSetAnnotations(s.d, rs, new_revision, true);
  int64_t min_ready = api::GetInt(s.d, "spec.minReadySeconds");
  if (api::GetInt(rs, "spec.minReadySeconds") != min_ready) {
    api::SetInt(rs, "spec.minReadySeconds", min_ready, rs.GetAllocator());
    changed = true;
  }
  if (changed) {
    ASSIGN_OR_RETURN(api::Document written, client_->Update(client::kReplicaSets, "", rs));
    s.new_rs = Shared(std::move(written));
  }
  RETURN_IF_ERROR(SetDeploymentRevision(s, Revision(*s.new_rs)));
  if (HasProgressDeadline(s.d) && FindCondition(StatusOf(s.d), "Progressing") == nullptr) {
    api::Document status = api::Clone(StatusOf(s.d));
    SetCondition(status,
                 {"Progressing", "True", kFoundNewRSReason,
                  "Found new replica set \"" + Name(*s.new_rs) + "\""},
                 util::NowRfc3339(), true, false, status.GetAllocator());
    RETURN_IF_ERROR(UpdateDeploymentStatus(s, status));
  }
  return Status::Ok();
}

Status DeploymentController::CreateNewReplicaSet(State& s, const std::vector<ObjectPtr>& rs_list,
                                                 int64_t revision) {
  int64_t collisions = api::GetInt(s.d, "status.collisionCount");
  std::string hash = ComputeHash(*api::Find(s.d, "spec.template"), collisions);
  std::string ns = api::GetString(s.d, "metadata.namespace");
  api::Document rs;
  rs.SetObject();
  auto& a = rs.GetAllocator();
  api::SetString(rs, "apiVersion", "apps/v1", a);
  api::SetString(rs, "kind", "ReplicaSet", a);
  api::SetString(rs, "metadata.name", Name(s.d) + "-" + hash, a);
  api::SetString(rs, "metadata.namespace", ns, a);
  auto labels = api::GetStringMap(s.d, "spec.template.metadata.labels");
  labels[kPodTemplateHashLabel] = hash;
  api::SetStringMap(rs, "metadata.labels", labels, a);
  api::Value refs(rapidjson::kArrayType);
  refs.PushBack(ControllerRefJson(s.d, "apps/v1", "Deployment", a), a);
  api::SetValue(rs, "metadata.ownerReferences", std::move(refs), a);
  api::SetValue(rs, "spec.selector", api::Value(*api::Find(s.d, "spec.selector"), a), a);
  api::Value& match = api::Ensure(rs, "spec.selector.matchLabels", a);
  match.RemoveMember(kPodTemplateHashLabel);
  match.AddMember(api::Str(kPodTemplateHashLabel, a), api::Str(hash, a), a);
  api::SetValue(rs, "spec.template", api::Value(*api::Find(s.d, "spec.template"), a), a);
  api::SetStringMap(rs, "spec.template.metadata.labels", labels, a);
  api::SetInt(rs, "spec.minReadySeconds", api::GetInt(s.d, "spec.minReadySeconds"), a);
  int64_t replicas = NewRSNewReplicas(s.d, rs_list, nullptr);
  api::SetInt(rs, "spec.replicas", replicas, a);
  SetNewReplicaSetAnnotations(s.d, rs, revision, false);

  auto created = client_->Create(client::kReplicaSets, ns, rs);
  if (!created.ok() && created.status().code() == Code::kAlreadyExists) {
    // Ours from an earlier sync that the cache has not shown yet, or a hash collision.
    ASSIGN_OR_RETURN(api::Document existing,
                     client_->Get(client::kReplicaSets, ns, Name(rs)));
    auto ref = ControllerOf(existing);
    if (ref && ref->uid == api::GetString(s.d, "metadata.uid") &&
        EqualIgnoreHash(*api::Find(s.d, "spec.template"), *api::Find(existing, "spec.template"))) {
      s.new_rs = Shared(std::move(existing));
      return SetDeploymentRevision(s, Revision(*s.new_rs));
    }
    api::Document status = api::Clone(StatusOf(s.d));
    api::SetInt(status, "collisionCount", collisions + 1, status.GetAllocator());
    RETURN_IF_ERROR(UpdateDeploymentStatus(s, status));
    return AlreadyExists("hash collision for ReplicaSet \"" + Name(rs) +
                         "\"; collisionCount raised to " + std::to_string(collisions + 1));
  }
  if (!created.ok()) {
    if (HasProgressDeadline(s.d)) {
      api::Document status = api::Clone(StatusOf(s.d));
      SetCondition(status,
                   {"Progressing", "False", "ReplicaSetCreateError",
                    "Failed to create new replica set \"" + Name(rs) + "\": " +
                        created.status().message()},
                   util::NowRfc3339(), true, false, status.GetAllocator());
      (void)UpdateDeploymentStatus(s, status);  // the create error is what we report
    }
    events_->Event(s.d, "Warning", "FailedCreate",
                   "Failed to create new replica set \"" + Name(rs) + "\": " +
                       created.status().message());
    return std::move(created).take_status();
  }
  s.new_rs = Shared(std::move(created).value());
  if (replicas > 0) {
    events_->Event(s.d, "Normal", "ScalingReplicaSet",
                   "Scaled up replica set " + Name(*s.new_rs) + " from 0 to " +
                       std::to_string(replicas));
  }
  RETURN_IF_ERROR(SetDeploymentRevision(s, revision));
  if (HasProgressDeadline(s.d)) {
    api::Document status = api::Clone(StatusOf(s.d));
    SetCondition(status,
                 {"Progressing", "True", kNewReplicaSetReason,
                  "Created new replica set \"" + Name(*s.new_rs) + "\""},
                 util::NowRfc3339(), true, true, status.GetAllocator());
    RETURN_IF_ERROR(UpdateDeploymentStatus(s, status));
  }
  return Status::Ok();
}

Status DeploymentController::SetDeploymentRevision(State& s, int64_t revision) {
  if (Revision(s.d) == revision && api::Has(s.d, "metadata.annotations")) return Status::Ok();
  api::Document d = api::Clone(s.d);
  auto& a = d.GetAllocator();
  api::Value& meta = api::Ensure(d, "metadata", a);
  if (!meta.HasMember("annotations") || !meta["annotations"].IsObject()) {
    meta.RemoveMember("annotations");
    meta.AddMember("annotations", api::Value(rapidjson::kObjectType), a);
  }
  meta["annotations"].RemoveMember(kRevisionAnnotation);
  meta["annotations"].AddMember(api::Str(kRevisionAnnotation, a),
                                api::Str(std::to_string(revision), a), a);
  ASSIGN_OR_RETURN(api::Document written, client_->Update(client::kDeployments, "", d));
  s.d = std::move(written);
  return Status::Ok();
}

Result<bool> DeploymentController::ScaleReplicaSet(State& s, ObjectPtr& rs, int64_t replicas) {
  int64_t current = SpecReplicas(*rs);
  bool size_changed = current != replicas;
  int64_t desired = SpecReplicas(s.d), max = desired + MaxSurge(s.d);
  if (!size_changed && !ReplicasAnnotationsNeedUpdate(*rs, desired, max)) return false;
  api::Document copy = api::Clone(*rs);
  api::SetInt(copy, "spec.replicas", replicas, copy.GetAllocator());
  SetReplicasAnnotations(copy, desired, max);
  ASSIGN_OR_RETURN(api::Document written, client_->Update(client::kReplicaSets, "", copy));
  ObjectPtr updated = Shared(std::move(written));
  // Keep the sync's view current.
  std::string uid = api::GetString(*updated, "metadata.uid");
  if (s.new_rs && api::GetString(*s.new_rs, "metadata.uid") == uid) s.new_rs = updated;
  for (auto& o : s.old_rs) {
    if (api::GetString(*o, "metadata.uid") == uid) o = updated;
  }
  rs = updated;
  if (size_changed) {
    events_->Event(s.d, "Normal", "ScalingReplicaSet",
                   std::string(replicas > current ? "Scaled up" : "Scaled down") +
                       " replica set " + Name(*rs) + " from " + std::to_string(current) + " to " +
                       std::to_string(replicas));
  }
  return size_changed;
}

bool DeploymentController::IsScalingEvent(const State& s) const {
  for (const auto& rs : FilterActive(s.All())) {
    auto desired = IntAnnotation(*rs, kDesiredReplicasAnnotation);
    if (desired && *desired != SpecReplicas(s.d)) return true;
  }
  return false;
}

Status DeploymentController::Scale(State& s) {
  int64_t want = SpecReplicas(s.d);
  // One active ReplicaSet (or none: the newest) simply takes the whole size.
  std::vector<ObjectPtr> old_newest_first = s.old_rs;
  SortByCreation(old_newest_first);
  std::reverse(old_newest_first.begin(), old_newest_first.end());
  std::vector<ObjectPtr> candidates;
  if (s.new_rs) candidates.push_back(s.new_rs);
  candidates.insert(candidates.end(), old_newest_first.begin(), old_newest_first.end());
  std::vector<ObjectPtr> active = FilterActive(candidates);
  ObjectPtr only;
  if (active.size() == 1) {
    only = active[0];
  } else if (active.empty() && !candidates.empty()) {
    only = candidates[0];
  }
  if (only) {
    if (SpecReplicas(*only) == want) return Status::Ok();
    return ScaleReplicaSet(s, only, want).status();
  }
  if (active.empty()) return Status::Ok();
  // The new ReplicaSet is saturated: old ones go to zero.
  if (s.new_rs && SpecReplicas(*s.new_rs) == want &&
      IntAnnotation(*s.new_rs, kDesiredReplicasAnnotation) == want &&
      api::GetInt(*s.new_rs, "status.availableReplicas") == want) {
    for (ObjectPtr rs : FilterActive(s.old_rs)) RETURN_IF_ERROR(ScaleReplicaSet(s, rs, 0).status());
    return Status::Ok();
  }
  if (!IsRollingUpdate(s.d)) return Status::Ok();
  // Mid-rollout: spread the change over the active ReplicaSets in proportion to size.
  int64_t all = 0;
  for (const auto& rs : active) all += SpecReplicas(*rs);
  int64_t allowed = want > 0 ? want + MaxSurge(s.d) : 0;
  int64_t to_add = allowed - all;
  std::stable_sort(active.begin(), active.end(), [&](const ObjectPtr& a, const ObjectPtr& b) {
    if (SpecReplicas(*a) != SpecReplicas(*b)) return SpecReplicas(*a) > SpecReplicas(*b);
    // Ties: newer first when adding, older first when removing.
    return to_add > 0 ? CreatedBefore(*b, *a) : CreatedBefore(*a, *b);
  });
  std::vector<int64_t> sizes;
  int64_t added = 0;
  for (const auto& rs : active) {
    int64_t share = to_add != 0 ? ReplicaSetProportion(*rs, s.d, to_add, added) : 0;
    sizes.push_back(SpecReplicas(*rs) + share);
    added += share;
  }
  if (to_add != 0) sizes[0] = std::max<int64_t>(sizes[0] + (to_add - added), 0);
  for (size_t i = 0; i < active.size(); ++i) {
    RETURN_IF_ERROR(ScaleReplicaSet(s, active[i], sizes[i]).status());
  }
  return Status::Ok();
}

Status DeploymentController::SyncOnlyScale(State& s) {
  RETURN_IF_ERROR(Scale(s));
  if (api::GetBool(s.d, "spec.paused")) RETURN_IF_ERROR(CleanupDeployment(s));
  return SyncRolloutStatus(s, false);
}

Result<bool> DeploymentController::ReconcileNewReplicaSet(State& s) {
  int64_t want = SpecReplicas(s.d);
  int64_t have = SpecReplicas(*s.new_rs);
  if (have == want) return false;
  if (have > want) return ScaleReplicaSet(s, s.new_rs, want);
  return ScaleReplicaSet(s, s.new_rs, NewRSNewReplicas(s.d, s.All(), s.new_rs.get()));
}

Result<bool> DeploymentController::ReconcileOldReplicaSets(State& s) {
  std::vector<ObjectPtr> old_active = FilterActive(s.old_rs);
  int64_t old_pods = 0;
  for (const auto& rs : old_active) old_pods += SpecReplicas(*rs);
  if (old_pods == 0) return false;
  int64_t all_pods = 0;
  for (const auto& rs : s.All()) all_pods += SpecReplicas(*rs);
  int64_t min_available = SpecReplicas(s.d) - MaxUnavailable(s.d);
  int64_t new_unavailable =
      s.new_rs ? SpecReplicas(*s.new_rs) - api::GetInt(*s.new_rs, "status.availableReplicas") : 0;
  int64_t max_scaled_down = all_pods - min_available - new_unavailable;
  if (max_scaled_down <= 0) return false;

  // First remove old pods that are not available anyway: that costs no availability.
  SortByCreation(old_active);
  int64_t cleaned = 0;
  for (ObjectPtr& rs : old_active) {
    if (cleaned >= max_scaled_down) break;
    int64_t replicas = SpecReplicas(*rs);
    int64_t available = api::GetInt(*rs, "status.availableReplicas");
    if (replicas == 0 || replicas <= available) continue;
    int64_t down = std::min(max_scaled_down - cleaned, replicas - available);
    RETURN_IF_ERROR(ScaleReplicaSet(s, rs, replicas - down).status());
    cleaned += down;
  }
  // Then scale down as far as minimum availability allows. A ReplicaSet's available pods
  // beyond its spec.replicas are about to be deleted (its status is from before a
  // scale-down this controller already made): counting them, as upstream does, lets a
  // sync racing the ReplicaSet controller dip below the minimum.
  int64_t available_pods = 0;
  for (const auto& rs : s.All()) {
    available_pods += std::min(api::GetInt(*rs, "status.availableReplicas"), SpecReplicas(*rs));
  }
  int64_t scaled = 0;
  if (available_pods > min_available) {
    int64_t total = available_pods - min_available;
    std::vector<ObjectPtr> olds = FilterActive(s.old_rs);
    SortByCreation(olds);
    for (ObjectPtr& rs : olds) {
      if (scaled >= total) break;
      int64_t replicas = SpecReplicas(*rs);
      if (replicas == 0) continue;
      int64_t down = std::min(replicas, total - scaled);
      RETURN_IF_ERROR(ScaleReplicaSet(s, rs, replicas - down).status());
      scaled += down;
    }
  }
  return cleaned + scaled > 0;
}

Status DeploymentController::RolloutRolling(State& s) {
  if (!s.new_rs) return SyncRolloutStatus(s, true);
  ASSIGN_OR_RETURN(bool scaled_up, ReconcileNewReplicaSet(s));
  if (scaled_up) return SyncRolloutStatus(s, true);
  ASSIGN_OR_RETURN(bool scaled_down, ReconcileOldReplicaSets(s));
  if (scaled_down) return SyncRolloutStatus(s, true);
  if (DeploymentComplete(s.d, StatusOf(s.d))) RETURN_IF_ERROR(CleanupDeployment(s));
  return SyncRolloutStatus(s, true);
}

bool DeploymentController::OldPodsRunning(const State& s) const {
  std::set<std::string> old_uids;
  for (const auto& rs : s.old_rs) old_uids.insert(api::GetString(*rs, "metadata.uid"));
  if (old_uids.empty()) return false;
  std::string ns = api::GetString(s.d, "metadata.namespace");
  for (const ObjectPtr& pod : pods_.List()) {
    if (api::GetString(*pod, "metadata.namespace") != ns || IsPodTerminal(*pod)) continue;
    auto ref = ControllerOf(*pod);
    if (ref && old_uids.count(ref->uid)) return true;
  }
  return false;
}

Status DeploymentController::RolloutRecreate(State& s) {
  bool scaled_down = false;
  for (ObjectPtr rs : FilterActive(s.old_rs)) {
    ASSIGN_OR_RETURN(bool scaled, ScaleReplicaSet(s, rs, 0));
    scaled_down |= scaled;
  }
  if (scaled_down || OldPodsRunning(s)) return SyncRolloutStatus(s, true);
  if (!s.new_rs) {
    std::vector<ObjectPtr> all = s.All();
    RETURN_IF_ERROR(FindOrCreateNewReplicaSet(s, all, true));
  }
  if (SpecReplicas(*s.new_rs) != SpecReplicas(s.d)) {
    RETURN_IF_ERROR(ScaleReplicaSet(s, s.new_rs, SpecReplicas(s.d)).status());
    return SyncRolloutStatus(s, true);
  }
  if (DeploymentComplete(s.d, StatusOf(s.d))) RETURN_IF_ERROR(CleanupDeployment(s));
  return SyncRolloutStatus(s, true);
}

Status DeploymentController::CleanupDeployment(State& s) {
  const api::Value* limit_v = api::Find(s.d, "spec.revisionHistoryLimit");
  if (limit_v == nullptr || !limit_v->IsInt64()) return Status::Ok();
  int64_t limit = limit_v->GetInt64();
  std::vector<ObjectPtr> cleanable;
  for (const auto& rs : s.old_rs) {
    if (!IsBeingDeleted(*rs)) cleanable.push_back(rs);
  }
  int64_t extra = static_cast<int64_t>(cleanable.size()) - limit;
  if (extra <= 0) return Status::Ok();
  std::sort(cleanable.begin(), cleanable.end(), [](const ObjectPtr& a, const ObjectPtr& b) {
    if (Revision(*a) != Revision(*b)) return Revision(*a) < Revision(*b);
    return CreatedBefore(*a, *b);
  });
  for (int64_t i = 0; i < extra; ++i) {
    const api::Value& rs = *cleanable[i];
    // Only ReplicaSets that are fully scaled down and whose controller has caught up.
    if (api::GetInt(rs, "status.replicas") != 0 || SpecReplicas(rs) != 0 ||
        api::GetInt(rs, "metadata.generation", 1) > api::GetInt(rs, "status.observedGeneration")) {
      continue;
    }
    client::DeleteOptions opts;
    opts.precondition_uid = api::GetString(rs, "metadata.uid");
    Status st = client_->Delete(client::kReplicaSets, api::GetString(rs, "metadata.namespace"),
                                Name(rs), opts);
    if (!st.ok() && st.code() != Code::kNotFound) return st;
  }
  return Status::Ok();
}

api::Document DeploymentController::CalculateStatus(const State& s) const {
  api::Document status = api::Clone(StatusOf(s.d));
  auto& a = status.GetAllocator();
  int64_t replicas = 0, ready = 0, available = 0, total = 0;
  for (const auto& rs : s.All()) {
    replicas += api::GetInt(*rs, "status.replicas");
    ready += api::GetInt(*rs, "status.readyReplicas");
    available += api::GetInt(*rs, "status.availableReplicas");
    total += SpecReplicas(*rs);
  }
  api::SetInt(status, "observedGeneration", api::GetInt(s.d, "metadata.generation", 1), a);
  api::SetInt(status, "replicas", replicas, a);
  api::SetInt(status, "updatedReplicas", s.new_rs ? api::GetInt(*s.new_rs, "status.replicas") : 0, a);
  api::SetInt(status, "readyReplicas", ready, a);
  api::SetInt(status, "availableReplicas", available, a);
  api::SetInt(status, "unavailableReplicas", std::max<int64_t>(total - available, 0), a);
  std::string now = util::NowRfc3339();
  if (available >= SpecReplicas(s.d) - MaxUnavailable(s.d)) {
    SetCondition(status, {"Available", "True", "MinimumReplicasAvailable",
                          "Deployment has minimum availability."},
                 now, true, false, a);
  } else {
    SetCondition(status, {"Available", "False", "MinimumReplicasUnavailable",
                          "Deployment does not have minimum availability."},
                 now, true, false, a);
  }
  return status;
}

Status DeploymentController::SyncRolloutStatus(State& s, bool progress_conditions) {
  api::Document status = CalculateStatus(s);
  auto& a = status.GetAllocator();
  std::string now = util::NowRfc3339();
  if (!HasProgressDeadline(s.d)) RemoveCondition(status, "Progressing");
  const api::Value* current = FindCondition(StatusOf(s.d), "Progressing");
  bool complete_already = api::GetInt(status, "replicas") == api::GetInt(status, "updatedReplicas") &&
                          current != nullptr &&
                          api::GetString(*current, "reason") == kNewRSAvailableReason;
  std::string rs_name = s.new_rs ? "ReplicaSet \"" + Name(*s.new_rs) + "\"" : "Deployment";
  if (progress_conditions && HasProgressDeadline(s.d) && !complete_already) {
    if (DeploymentComplete(s.d, status)) {
      SetCondition(status, {"Progressing", "True", kNewRSAvailableReason,
                            rs_name + " has successfully progressed."},
                   now, true, false, a);
    } else if (DeploymentProgressing(s.d, status)) {
      // Refresh lastUpdateTime: progress pushes the deadline out.
      SetCondition(status, {"Progressing", "True", kReplicaSetUpdatedReason,
                            rs_name + " is progressing."},
                   now, true, true, a);
    } else if (DeploymentTimedOut(s.d, status, clock_->NowUnix())) {
      SetCondition(status, {"Progressing", "False", kTimedOutReason,
                            rs_name + " has timed out progressing."},
                   now, true, false, a);
    }
  }
  // A ReplicaSet that cannot create pods explains a stuck Deployment.
  const api::Value* failure = nullptr;
  for (const auto& rs : s.All()) {
    const api::Value* c = FindCondition(StatusOf(*rs), "ReplicaFailure");
    if (c != nullptr && api::GetString(*c, "status") == "True") {
      failure = c;
      if (rs == s.new_rs) break;
    }
  }
  if (failure != nullptr) {
    SetCondition(status, {"ReplicaFailure", "True", api::GetString(*failure, "reason"),
                          api::GetString(*failure, "message")},
                 now, true, false, a);
  } else {
    RemoveCondition(status, "ReplicaFailure");
  }
  if (CanonicalJson(status) != CanonicalJson(StatusOf(s.d))) {
    RETURN_IF_ERROR(UpdateDeploymentStatus(s, status));
  }
  // Look again when the progress deadline would pass.
  if (progress_conditions && HasProgressDeadline(s.d)) {
    const api::Value* cond = FindCondition(StatusOf(s.d), "Progressing");
    if (cond != nullptr && api::GetString(*cond, "reason") != kNewRSAvailableReason &&
        api::GetString(*cond, "reason") != kTimedOutReason) {
      int64_t due = TimeField(*cond, "lastUpdateTime") +
                    api::GetInt(s.d, "spec.progressDeadlineSeconds") - clock_->NowUnix();
      EnqueueAfter(KeyOf(s.d), std::chrono::seconds(std::max<int64_t>(due, 0) + 1));
    }
  }
  return Status::Ok();
}

Status DeploymentController::UpdateDeploymentStatus(State& s, const api::Value& status) {
  api::Document d = api::Clone(s.d);
  api::SetValue(d, "status", api::Value(status, d.GetAllocator()), d.GetAllocator());
  ASSIGN_OR_RETURN(api::Document written, client_->UpdateStatus(client::kDeployments, "", d));
  s.d = std::move(written);
  return Status::Ok();
}

}  // namespace kubepp::controller
