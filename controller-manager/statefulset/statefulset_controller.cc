#include "controller-manager/statefulset/statefulset_controller.h"

#include <algorithm>
#include <map>
#include <set>

#include "controller-manager/framework/canonical.h"
#include "controller-manager/framework/history.h"
#include "controller-manager/framework/owner.h"
#include "controller-manager/framework/pods.h"

namespace kubepp::controller {

using informer::SplitKey;

namespace {

constexpr const char* kRevisionLabel = kControllerRevisionHashLabel;

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

std::string ClaimNameFor(const std::string& set, const api::Value& claim_template,
                         int64_t ordinal) {
  return api::GetString(claim_template, "metadata.name") + "-" + set + "-" +
         std::to_string(ordinal);
}

api::Document ClaimFor(const api::Value& sts, const api::Value& claim_template, int64_t ordinal) {
  api::Document claim;
  claim.SetObject();
  auto& a = claim.GetAllocator();
  api::SetString(claim, "apiVersion", "v1", a);
  api::SetString(claim, "kind", "PersistentVolumeClaim", a);
  std::string set = api::GetString(sts, "metadata.name");
  api::SetString(claim, "metadata.name", ClaimNameFor(set, claim_template, ordinal), a);
  api::SetString(claim, "metadata.namespace", api::GetString(sts, "metadata.namespace"), a);
  auto labels = api::GetStringMap(claim_template, "metadata.labels");
  for (auto& [k, v] : api::GetStringMap(sts, "spec.selector.matchLabels")) labels[k] = v;
  if (!labels.empty()) api::SetStringMap(claim, "metadata.labels", labels, a);
  auto annotations = api::GetStringMap(claim_template, "metadata.annotations");
  if (!annotations.empty()) api::SetStringMap(claim, "metadata.annotations", annotations, a);
  if (api::GetString(sts, "spec.persistentVolumeClaimRetentionPolicy.whenDeleted") == "Delete") {
    // Owned (not controlled) by the set: the garbage collector removes it with the set.
    api::Value refs(rapidjson::kArrayType);
    api::Value ref = ControllerRefJson(sts, "apps/v1", "StatefulSet", a);
    api::Remove(ref, "controller");
    refs.PushBack(ref, a);
    api::SetValue(claim, "metadata.ownerReferences", std::move(refs), a);
  }
  if (const api::Value* spec = api::Find(claim_template, "spec")) {
    api::SetValue(claim, "spec", api::Value(*spec, a), a);
  }
  return claim;
}

StatefulSetController::StatefulSetController(client::RestClient* client,
                                             SharedInformers* informers, const Clock* clock,
                                             EventRecorder* events)
    : PodOwnerController("statefulset", "StatefulSet", informers->For(client::kStatefulSets),
                         informers->For(client::kPods)),
      client_(client),
      clock_(clock),
      events_(events),
      claims_(informers->For(client::kPersistentVolumeClaims)),
      revisions_(informers->For(client::kControllerRevisions)) {}

Status StatefulSetController::CreateClaims(const api::Value& sts, int64_t ordinal,
                                           const std::string& pod_name) {
  const api::Value* templates = api::Find(sts, "spec.volumeClaimTemplates");
  if (templates == nullptr || !templates->IsArray()) return Status::Ok();
  std::string ns = api::GetString(sts, "metadata.namespace");
  std::string set = api::GetString(sts, "metadata.name");
  for (const auto& t : templates->GetArray()) {
    std::string claim_name = ClaimNameFor(set, t, ordinal);
    ObjectPtr existing = claims_.Get(ns + "/" + claim_name);
    if (existing) {
      if (IsBeingDeleted(*existing)) {
        return Unavailable("pvc " + claim_name + " is being deleted");
      }
      continue;
    }
    auto r = client_->Create(client::kPersistentVolumeClaims, ns, ClaimFor(sts, t, ordinal));
    if (!r.ok() && r.status().code() != Code::kAlreadyExists) {
      events_->Event(sts, "Warning", "FailedCreate",
                     "create Claim " + claim_name + " for Pod " + pod_name + " in StatefulSet " +
                         set + " failed error: " + r.status().message());
      return std::move(r).take_status();
    }
    if (r.ok()) {
      events_->Event(sts, "Normal", "SuccessfulCreate",
                     "create Claim " + claim_name + " Pod " + pod_name + " in StatefulSet " + set +
                         " success");
    }
  }
  return Status::Ok();
}

Status StatefulSetController::CreatePod(const std::string& key, const api::Value& sts,
                                        int64_t ordinal, const std::string& revision,
                                        const api::Value& tmpl) {
  auto [ns, name] = SplitKey(key);
  std::string pod_name = name + "-" + std::to_string(ordinal);
  // Claims first, as upstream: the pod's volumes name them.
  RETURN_IF_ERROR(CreateClaims(sts, ordinal, pod_name));
  api::Document scratch;
  api::Value cref = ControllerRefJson(sts, "apps/v1", "StatefulSet", scratch.GetAllocator());
  api::Document pod = PodFromTemplate(tmpl, ns, "", cref);
  auto& a = pod.GetAllocator();
  // updateStorage: a volume per claim template, replacing a template volume of that name.
  if (const api::Value* templates = api::Find(sts, "spec.volumeClaimTemplates");
      templates != nullptr && templates->IsArray() && !templates->Empty()) {
    api::Value volumes(rapidjson::kArrayType);
    std::set<std::string> claimed;
    for (const auto& t : templates->GetArray()) {
      std::string vol = api::GetString(t, "metadata.name");
      claimed.insert(vol);
      api::Value v(rapidjson::kObjectType);
      v.AddMember("name", api::Str(vol, a), a);
      api::Value src(rapidjson::kObjectType);
      src.AddMember("claimName", api::Str(ClaimNameFor(name, t, ordinal), a), a);
      v.AddMember("persistentVolumeClaim", std::move(src), a);
      volumes.PushBack(std::move(v), a);
    }
    if (const api::Value* old = api::Find(pod, "spec.volumes"); old != nullptr && old->IsArray()) {
      for (const auto& v : old->GetArray()) {
        if (!claimed.count(api::GetString(v, "name"))) volumes.PushBack(api::Value(v, a), a);
      }
    }
    api::SetValue(pod, "spec.volumes", std::move(volumes), a);
  }
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
  std::vector<ObjectPtr> candidates;
  for (const auto& p : pods_.List()) {
    if (api::GetString(*p, "metadata.namespace") == ns) candidates.push_back(p);
  }
  ASSIGN_OR_RETURN(std::vector<ObjectPtr> pods,
                   ClaimObjects(client_, client::kPods, sts, "apps/v1", "StatefulSet", *selector,
                                candidates, RecheckOwner(client_, client::kStatefulSets, sts)));
  // The revisions: the current one (status.currentRevision) and the template's.
  std::vector<ObjectPtr> owned = OwnedRevisions(revisions_.List(), sts);
  RevisionState revs;
  if (!IsBeingDeleted(sts)) {
    ASSIGN_OR_RETURN(revs, SyncRevisions(client_, sts, "apps/v1", "StatefulSet", *tmpl, owned,
                                         api::GetString(sts, "status.currentRevision")));
  }
  std::string update_rev = revs.update ? api::GetString(*revs.update, "metadata.name") : "";
  std::string current_rev = revs.current ? api::GetString(*revs.current, "metadata.name") : "";
  api::Document current_tmpl = revs.current ? RevisionTemplate(*revs.current) : api::Clone(*tmpl);

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
  bool scaled_delete =
      api::GetString(sts, "spec.persistentVolumeClaimRetentionPolicy.whenScaled") == "Delete";

  Status manage;
  if (expectations_.Satisfied(key) && !IsBeingDeleted(sts)) {
    manage = [&]() -> Status {
      // Bring up every ordinal, in order (OrderedReady waits for each to be ready). An
      // ordinal below the partition is (re)made at the current revision, as upstream's
      // newVersionedStatefulSetPod.
      bool all_ready = true;
      for (int64_t ord = start; ord < start + replicas; ++ord) {
        auto it = by_ordinal.find(ord);
        if (it == by_ordinal.end()) {
          bool current = rolling && ord < start + partition;
          RETURN_IF_ERROR(CreatePod(key, sts, ord, current ? current_rev : update_rev,
                                    current ? static_cast<const api::Value&>(current_tmpl) : *tmpl));
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
        if (scaled_delete) RETURN_IF_ERROR(OwnClaimsByPod(sts, *pod));
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
  for (const auto& p : pods) {
    ready += RunningAndReady(*p);
    available += RunningAndReady(*p) && IsPodAvailable(*p, min_ready, now);
    if (IsBeingDeleted(*p)) continue;
    updated += RevisionOf(*p) == update_rev;
    current += RevisionOf(*p) == current_rev;
  }
  int64_t count = static_cast<int64_t>(pods.size());
  // completeRollingUpdate: every pod updated and ready makes the update current.
  if (rolling && updated == count && ready == count && count == replicas) {
    current_rev = update_rev;
    current = updated;
  }
  // Revisions still in use (by a pod, or as current/update) are kept; the rest beyond
  // revisionHistoryLimit go, oldest first.
  if (!IsBeingDeleted(sts) && revs.update) {
    std::set<std::string> live = {current_rev, update_rev};
    for (const auto& p : pods) live.insert(RevisionOf(*p));
    RETURN_IF_ERROR(TruncateHistory(client_, owned, live,
                                    api::GetInt(sts, "spec.revisionHistoryLimit", 10)));
  }
  api::Document next = api::Clone(sts);
  auto& a = next.GetAllocator();
  api::Value& status = api::Ensure(next, "status", a);
  api::SetInt(status, "observedGeneration", api::GetInt(sts, "metadata.generation", 1), a);
  api::SetInt(status, "replicas", count, a);
  api::SetInt(status, "readyReplicas", ready, a);
  api::SetInt(status, "availableReplicas", available, a);
  api::SetInt(status, "currentReplicas", current, a);
  api::SetInt(status, "updatedReplicas", updated, a);
  if (!current_rev.empty()) api::SetString(status, "currentRevision", current_rev, a);
  if (!update_rev.empty()) api::SetString(status, "updateRevision", update_rev, a);
  api::SetInt(status, "collisionCount",
              revs.update ? revs.collision_count : api::GetInt(sts, "status.collisionCount"), a);
  const api::Value* old_status = api::Find(sts, "status");
  api::Value empty(rapidjson::kObjectType);
  if (!SemanticEqual(old_status ? *old_status : empty, status)) {
    RETURN_IF_ERROR(client_->UpdateStatus(client::kStatefulSets, "", next).status());
  }
  return manage;
}

Status StatefulSetController::OwnClaimsByPod(const api::Value& sts, const api::Value& pod) {
  const api::Value* templates = api::Find(sts, "spec.volumeClaimTemplates");
  if (templates == nullptr || !templates->IsArray()) return Status::Ok();
  std::string ns = api::GetString(sts, "metadata.namespace");
  std::string set = api::GetString(sts, "metadata.name");
  int64_t ord = OrdinalOf(set, api::GetString(pod, "metadata.name"));
  std::string pod_uid = api::GetString(pod, "metadata.uid");
  for (const auto& t : templates->GetArray()) {
    std::string claim_name = ClaimNameFor(set, t, ord);
    ObjectPtr claim = claims_.Get(ns + "/" + claim_name);
    if (!claim) continue;
    bool owned = false;
    for (const auto& ref : OwnerRefsOf(*claim)) owned = owned || ref.uid == pod_uid;
    if (owned) continue;
    // The garbage collector deletes the claim once the pod is gone.
    api::Document next = api::Clone(*claim);
    auto& a = next.GetAllocator();
    api::Value& meta = api::Ensure(next, "metadata", a);
    if (!meta.HasMember("ownerReferences") || !meta["ownerReferences"].IsArray()) {
      api::Remove(meta, "ownerReferences");
      meta.AddMember("ownerReferences", api::Value(rapidjson::kArrayType), a);
    }
    api::Value ref(rapidjson::kObjectType);
    ref.AddMember("apiVersion", "v1", a);
    ref.AddMember("kind", "Pod", a);
    ref.AddMember("name", api::Str(api::GetString(pod, "metadata.name"), a), a);
    ref.AddMember("uid", api::Str(pod_uid, a), a);
    meta["ownerReferences"].PushBack(std::move(ref), a);
    auto r = client_->Update(client::kPersistentVolumeClaims, ns, next);
    if (!r.ok()) return std::move(r).take_status();
  }
  return Status::Ok();
}

}  // namespace kubepp::controller
