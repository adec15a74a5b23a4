#include "controller-manager/replicaset/replicaset_controller.h"

#include <algorithm>

#include "common/log.h"
#include "common/util/time.h"
#include "controller-manager/framework/conditions.h"
#include "controller-manager/framework/parallel.h"
#include "controller-manager/framework/pods.h"

namespace kubepp::controller {

using informer::SplitKey;

ReplicaSetController::ReplicaSetController(client::RestClient* client, SharedInformers* informers,
                                           const Clock* clock, EventRecorder* events,
                                           ReplicaSetOptions options)
    : PodOwnerController("replicaset", "ReplicaSet", informers->For(client::kReplicaSets),
                         informers->For(client::kPods)),
      client_(client),
      clock_(clock),
      events_(events),
      options_(options) {}

void ReplicaSetController::OnOwnedPodUpdate(const std::string& key, const api::Value& old_pod,
                                            const api::Value& pod) {
  // A pod that just turned ready becomes available minReadySeconds later: look again then.
  if (IsPodReady(old_pod) || !IsPodReady(pod)) return;
  if (ObjectPtr rs = owners_.Get(key)) {
    int64_t min_ready = api::GetInt(*rs, "spec.minReadySeconds");
    if (min_ready > 0) EnqueueAfter(key, std::chrono::seconds(min_ready + 1));
  }
}

Status ReplicaSetController::Sync(const std::string& key) {
  ObjectPtr rs = owners_.Get(key);
  if (!rs) {
    expectations_.Delete(key);
    return Status::Ok();
  }
  auto [ns, name] = SplitKey(key);
  auto selector = api::LabelSelector::FromJson(api::Find(*rs, "spec.selector"));
  if (!selector.ok()) {
    events_->Event(*rs, "Warning", "InvalidSelector", selector.status().message());
    return Status::Ok();  // nothing to do until the spec changes (which enqueues it)
  }
  // Read before listing pods: a creation observed after this point is in the list.
  bool need_sync = expectations_.Satisfied(key) && !IsBeingDeleted(*rs);
  std::vector<ObjectPtr> candidates;
  for (const ObjectPtr& p : pods_.List()) {
    if (api::GetString(*p, "metadata.namespace") == ns && IsPodActive(*p)) candidates.push_back(p);
  }
  ASSIGN_OR_RETURN(std::vector<ObjectPtr> pods,
                   ClaimObjects(client_, client::kPods, *rs, "apps/v1", "ReplicaSet", *selector,
                                candidates, RecheckOwner(client_, client::kReplicaSets, *rs)));
  Status manage;
  if (need_sync) manage = ManageReplicas(key, *rs, pods);
  bool create_failed = !manage.ok() && api::GetInt(*rs, "spec.replicas", 1) >
                                           static_cast<int64_t>(pods.size());
  RETURN_IF_ERROR(UpdateStatus(*rs, pods, manage, create_failed));
  int64_t min_ready = api::GetInt(*rs, "spec.minReadySeconds");
  if (manage.ok() && min_ready > 0) {
    int64_t now = clock_->NowUnix();
    for (const auto& p : pods) {
      if (IsPodReady(*p) && !IsPodAvailable(*p, min_ready, now)) {
        EnqueueAfter(key, std::chrono::seconds(PodReadySince(*p) + min_ready - now + 1));
        break;
      }
    }
  }
  return manage;
}

Status ReplicaSetController::ManageReplicas(const std::string& key, const api::Value& rs,
                                            const std::vector<ObjectPtr>& pods) {
  int64_t want = api::GetInt(rs, "spec.replicas", 1);
  int64_t diff = static_cast<int64_t>(pods.size()) - want;
  std::string ns = api::GetString(rs, "metadata.namespace");
  std::string name = api::GetString(rs, "metadata.name");
  if (diff < 0) {
    int count = static_cast<int>(std::min<int64_t>(-diff, options_.burst_replicas));
    expectations_.ExpectCreations(key, count);
    api::Document scratch;
    api::Value cref = ControllerRefJson(rs, "apps/v1", "ReplicaSet", scratch.GetAllocator());
    const api::Value* tmpl = api::Find(rs, "spec.template");
    api::Value empty(rapidjson::kObjectType);
    api::Document pod = PodFromTemplate(tmpl != nullptr ? *tmpl : empty, ns, name + "-", cref);
    auto [created, error] = SlowStartBatch(count, options_.write_parallelism, [&](int) {
      return client_->Create(client::kPods, ns, pod).status();
    });
    if (!error.ok()) {
      // Neither the failed creations nor the ones never sent will be observed.
      expectations_.LowerCreations(key, count - created);
      events_->Event(rs, "Warning", "FailedCreate", "Error creating: " + error.message());
      return error;
    }
    events_->Event(rs, "Normal", "SuccessfulCreate",
                   "Created " + std::to_string(count) + " pod(s)");
    return Status::Ok();
  }
  if (diff > 0) {
    int count = static_cast<int>(std::min<int64_t>(diff, options_.burst_replicas));
    std::vector<ObjectPtr> ranked = pods;
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](const ObjectPtr& a, const ObjectPtr& b) { return DeletePodFirst(*a, *b); });
    ranked.resize(count);
    std::vector<std::string> uids;
    for (const auto& p : ranked) uids.push_back(api::GetString(*p, "metadata.uid"));
    expectations_.ExpectDeletions(key, uids);
    std::mutex mu;
    Status first_error;
    ParallelFor(count, options_.write_parallelism, [&](int i) {
      client::DeleteOptions opts;
      opts.precondition_uid = uids[i];
      Status st = client_->Delete(client::kPods, ns, api::GetString(*ranked[i], "metadata.name"), opts);
      if (st.ok()) return;
      // Not deleted by us: the deletion will not be observed (a pod already gone was).
      expectations_.DeletionObserved(key, uids[i]);
      if (st.code() == Code::kNotFound) return;
      std::lock_guard lock(mu);
      if (first_error.ok()) first_error = std::move(st);
    });
    if (!first_error.ok()) {
      events_->Event(rs, "Warning", "FailedDelete", "Error deleting: " + first_error.message());
      return first_error;
    }
    events_->Event(rs, "Normal", "SuccessfulDelete",
                   "Deleted " + std::to_string(count) + " pod(s)");
  }
  return Status::Ok();
}

Status ReplicaSetController::UpdateStatus(const api::Value& rs, const std::vector<ObjectPtr>& pods,
                                          const Status& manage_error, bool create_failed) {
  auto template_labels = api::GetStringMap(rs, "spec.template.metadata.labels");
  int64_t min_ready = api::GetInt(rs, "spec.minReadySeconds");
  int64_t now = clock_->NowUnix();
  int64_t fully_labeled = 0, ready = 0, available = 0;
  // The generation whose spec this sync acted on, also when retrying on a newer object.
  int64_t generation = api::GetInt(rs, "metadata.generation", 1);
  for (const auto& p : pods) {
    auto labels = api::GetStringMap(*p, "metadata.labels");
    bool all = std::all_of(template_labels.begin(), template_labels.end(), [&](const auto& kv) {
      auto it = labels.find(kv.first);
      return it != labels.end() && it->second == kv.second;
    });
    fully_labeled += all;
    ready += IsPodReady(*p);
    available += IsPodAvailable(*p, min_ready, now);
  }
  auto compute = [&](const api::Value& current, api::Document& out) {
    out.CopyFrom(current, out.GetAllocator());
    auto& a = out.GetAllocator();
    api::Value& status = api::Ensure(out, "status", a);
    api::SetInt(status, "replicas", static_cast<int64_t>(pods.size()), a);
    api::SetInt(status, "fullyLabeledReplicas", fully_labeled, a);
    api::SetInt(status, "readyReplicas", ready, a);
    api::SetInt(status, "availableReplicas", available, a);
    api::SetInt(status, "observedGeneration", generation, a);
    if (create_failed) {
      SetCondition(status, {"ReplicaFailure", "True", "FailedCreate", manage_error.message()},
                   util::NowRfc3339(), false, false, a);
    } else if (manage_error.ok()) {
      RemoveCondition(status, "ReplicaFailure");
    }
  };
  api::Document next;
  compute(rs, next);
  const api::Value* old_status = api::Find(rs, "status");
  if (old_status != nullptr && api::ToJson(*old_status) == api::ToJson(next["status"])) {
    return Status::Ok();
  }
  auto r = client_->UpdateStatus(client::kReplicaSets, "", next);
  if (r.ok() || r.status().code() != Code::kConflict) return std::move(r).take_status();
  // Retry once from the server's current object (the spec may have changed too).
  ASSIGN_OR_RETURN(api::Document fresh,
                   client_->Get(client::kReplicaSets, api::GetString(rs, "metadata.namespace"),
                                api::GetString(rs, "metadata.name")));
  if (api::GetString(fresh, "metadata.uid") != api::GetString(rs, "metadata.uid")) {
    return Status::Ok();
  }
  api::Document retry;
  compute(fresh, retry);
  return client_->UpdateStatus(client::kReplicaSets, "", retry).status();
}

}  // namespace kubepp::controller
