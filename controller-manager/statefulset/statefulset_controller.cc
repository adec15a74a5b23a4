#include "controller-manager/statefulset/statefulset_controller.h"

#include <map>

#include "controller-manager/framework/canonical.h"
#include "controller-manager/framework/owner.h"
#include "controller-manager/framework/pods.h"

namespace kubepp::controller {

using informer::SplitKey;

namespace {

constexpr const char* kRevisionLabel = "controller-revision-hash";

// The ordinal of a pod named <set>-<n>, or -1.
int64_t OrdinalOf(const std::string& set, const std::string& pod) {
  if (pod.size() <= set.size() + 1 || pod.compare(0, set.size(), set) != 0 || pod[set.size()] != '-') {
    return -1;
  }
  std::string n = pod.substr(set.size() + 1);
  if (n.empty() || n.size() > 9 || n.find_first_not_of("0123456789") != std::string::npos ||
      (n.size() > 1 && n[0] == '0')) {
    return -1;
  }
  return std::stoll(n);
}

bool RunningAndReady(const api::Value& pod) {
  return api::GetString(pod, "status.phase") == "Running" && IsPodReady(pod);
}

std::string RevisionOf(const api::Value& pod) {
  return api::GetStringMap(pod, "metadata.labels")[kRevisionLabel];
}

}  // namespace

StatefulSetController::StatefulSetController(client::RestClient* client,
                                             SharedInformers* informers, const Clock* clock,
                                             EventRecorder* events)
    : PodOwnerController("statefulset", "StatefulSet", informers->For(client::kStatefulSets),
                         informers->For(client::kPods)),
      client_(client),
      clock_(clock),
      events_(events) {}

Status StatefulSetController::CreatePod(const std::string& key, const api::Value& sts,
                                        int64_t ordinal, const std::string& revision) {
  auto [ns, name] = SplitKey(key);
  std::string pod_name = name + "-" + std::to_string(ordinal);
  api::Document scratch;
  api::Value cref = ControllerRefJson(sts, "apps/v1", "StatefulSet", scratch.GetAllocator());
  api::Document pod = PodFromTemplate(*api::Find(sts, "spec.template"), ns, "", cref);
  auto& a = pod.GetAllocator();
  api::Remove(pod, "metadata.generateName");
  api::SetString(pod, "metadata.name", pod_name, a);
  auto labels = api::GetStringMap(pod, "metadata.labels");
  labels["statefulset.kubernetes.io/pod-name"] = pod_name;
  labels["apps.kubernetes.io/pod-index"] = std::to_string(ordinal);
  labels[kRevisionLabel] = revision;
  api::SetStringMap(pod, "metadata.labels", labels, a);
  api::SetString(pod, "spec.hostname", pod_name, a);
  if (std::string svc = api::GetString(sts, "spec.serviceName"); !svc.empty()) {
    api::SetString(pod, "spec.subdomain", svc, a);
  }
  expectations_.ExpectCreations(key, 1);
  auto r = client_->Create(client::kPods, ns, pod);
  if (!r.ok()) {
    expectations_.LowerCreations(key, 1);
    // The name is taken by a pod the cache has not shown yet: it will.
    if (r.status().code() == Code::kAlreadyExists) return Status::Ok();
    events_->Event(sts, "Warning", "FailedCreate",
                   "create Pod " + pod_name + " in StatefulSet " + name + " failed error: " +
                       r.status().message());
    return std::move(r).take_status();
  }
  events_->Event(sts, "Normal", "SuccessfulCreate",
                 "create Pod " + pod_name + " in StatefulSet " + name + " successful");
  return Status::Ok();
}

Status StatefulSetController::DeletePod(const std::string& key, const api::Value& sts,
                                        const api::Value& pod) {
  std::string uid = api::GetString(pod, "metadata.uid");
  std::string pod_name = api::GetString(pod, "metadata.name");
  expectations_.ExpectDeletions(key, {uid});
  client::DeleteOptions opts;
  opts.precondition_uid = uid;
  Status st = client_->Delete(client::kPods, api::GetString(pod, "metadata.namespace"), pod_name, opts);
  if (!st.ok()) {
    expectations_.DeletionObserved(key, uid);
    return st.code() == Code::kNotFound || st.code() == Code::kConflict ? Status::Ok() : st;
  }
  events_->Event(sts, "Normal", "SuccessfulDelete",
                 "delete Pod " + pod_name + " in StatefulSet " +
                     api::GetString(sts, "metadata.name") + " successful");
  return Status::Ok();
}

Status StatefulSetController::Sync(const std::string& key) {
  ObjectPtr cached = owners_.Get(key);
  if (!cached) {
    expectations_.Delete(key);
    return Status::Ok();
  }
  const api::Value& sts = *cached;
  auto [ns, name] = SplitKey(key);
  auto selector = api::LabelSelector::FromJson(api::Find(sts, "spec.selector"));
  const api::Value* tmpl = api::Find(sts, "spec.template");
  if (!selector.ok() || selector->Empty() || tmpl == nullptr) return Status::Ok();
  std::string update_rev = TemplateHash(*tmpl);
  std::vector<ObjectPtr> candidates;
  for (const auto& p : pods_.List()) {
    if (api::GetString(*p, "metadata.namespace") == ns) candidates.push_back(p);
  }
  ASSIGN_OR_RETURN(std::vector<ObjectPtr> pods,
                   ClaimObjects(client_, client::kPods, sts, "apps/v1", "StatefulSet", *selector,
                                candidates, RecheckOwner(client_, client::kStatefulSets, sts)));
  int64_t replicas = api::GetInt(sts, "spec.replicas", 1);
  int64_t start = api::GetInt(sts, "spec.ordinals.start", 0);
  std::map<int64_t, ObjectPtr> by_ordinal;
  std::vector<ObjectPtr> condemned;  // outside [start, start + replicas), highest first
  for (const auto& p : pods) {
    int64_t ord = OrdinalOf(name, api::GetString(*p, "metadata.name"));
    if (ord >= start && ord < start + replicas) {
      by_ordinal[ord] = p;
    } else {
      condemned.push_back(p);
    }
  }
  std::sort(condemned.begin(), condemned.end(), [&](const ObjectPtr& a, const ObjectPtr& b) {
    return OrdinalOf(name, api::GetString(*a, "metadata.name")) >
           OrdinalOf(name, api::GetString(*b, "metadata.name"));
  });
  bool ordered = api::GetString(sts, "spec.podManagementPolicy", "OrderedReady") == "OrderedReady";
  bool rolling = api::GetString(sts, "spec.updateStrategy.type", "RollingUpdate") == "RollingUpdate";
  int64_t partition = api::GetInt(sts, "spec.updateStrategy.rollingUpdate.partition", 0);

  Status manage;
  if (expectations_.Satisfied(key) && !IsBeingDeleted(sts)) {
    manage = [&]() -> Status {
      // Bring up every ordinal, in order (OrderedReady waits for each to be ready).
      bool all_ready = true;
      for (int64_t ord = start; ord < start + replicas; ++ord) {
        auto it = by_ordinal.find(ord);
        if (it == by_ordinal.end()) {
          RETURN_IF_ERROR(CreatePod(key, sts, ord, update_rev));
          all_ready = false;
          if (ordered) return Status::Ok();
          continue;
        }
        const api::Value& pod = *it->second;
        if (api::GetString(pod, "status.phase") == "Failed" && !IsBeingDeleted(pod)) {
          RETURN_IF_ERROR(DeletePod(key, sts, pod));  // recreated on a later sync
          all_ready = false;
          if (ordered) return Status::Ok();
          continue;
        }
        if (!RunningAndReady(pod) || IsBeingDeleted(pod)) {
          all_ready = false;
          if (ordered) return Status::Ok();
        }
      }
      // Scale down from the highest ordinal.
      for (const auto& pod : condemned) {
        if (IsBeingDeleted(*pod)) {
          if (ordered) return Status::Ok();
          continue;
        }
        if (ordered && !all_ready) return Status::Ok();
        RETURN_IF_ERROR(DeletePod(key, sts, *pod));
        if (ordered) return Status::Ok();
      }
      // Roll out a new template, highest ordinal first, one pod at a time.
      if (!rolling || !all_ready || !condemned.empty()) return Status::Ok();
      for (int64_t ord = start + replicas - 1; ord >= start + partition; --ord) {
        const api::Value& pod = *by_ordinal[ord];
        if (RevisionOf(pod) != update_rev) return DeletePod(key, sts, pod);
      }
      return Status::Ok();
    }();
  }

  int64_t ready = 0, available = 0, updated = 0, current = 0;
  int64_t min_ready = api::GetInt(sts, "spec.minReadySeconds");
  int64_t now = clock_->NowUnix();
  std::string current_rev = api::GetString(sts, "status.currentRevision");
  for (const auto& p : pods) {
    ready += IsPodReady(*p);
    available += IsPodAvailable(*p, min_ready, now);
    updated += RevisionOf(*p) == update_rev;
  }
  if (updated == static_cast<int64_t>(pods.size()) && updated == replicas) current_rev = update_rev;
  if (current_rev.empty()) current_rev = update_rev;
  for (const auto& p : pods) current += RevisionOf(*p) == current_rev;
  api::Document next = api::Clone(sts);
  auto& a = next.GetAllocator();
  api::Value& status = api::Ensure(next, "status", a);
  api::SetInt(status, "observedGeneration", api::GetInt(sts, "metadata.generation", 1), a);
  api::SetInt(status, "replicas", static_cast<int64_t>(pods.size()), a);
  api::SetInt(status, "readyReplicas", ready, a);
  api::SetInt(status, "availableReplicas", available, a);
  api::SetInt(status, "currentReplicas", current, a);
  api::SetInt(status, "updatedReplicas", updated, a);
  api::SetString(status, "currentRevision", current_rev, a);
  api::SetString(status, "updateRevision", update_rev, a);
  api::SetInt(status, "collisionCount", api::GetInt(sts, "status.collisionCount"), a);
  const api::Value* old_status = api::Find(sts, "status");
  api::Value empty(rapidjson::kObjectType);
  if (!SemanticEqual(old_status ? *old_status : empty, status)) {
    RETURN_IF_ERROR(client_->UpdateStatus(client::kStatefulSets, "", next).status());
  }
  return manage;
}

}  // namespace kubepp::controller
