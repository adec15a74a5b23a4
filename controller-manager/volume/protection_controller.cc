#include "controller-manager/volume/protection_controller.h"

#include "controller-manager/framework/owner.h"

namespace kubepp::controller {

using informer::SplitKey;

namespace {

bool HasFinalizer(const api::Value& obj, const std::string& finalizer) {
  const api::Value* f = api::Find(obj, "metadata.finalizers");
  if (f == nullptr || !f->IsArray()) return false;
  for (const auto& e : f->GetArray()) {
    if (e.IsString() && api::View(e) == finalizer) return true;
  }
  return false;
}

// The claims a pod names (persistentVolumeClaim volumes, generic ephemeral volumes).
std::vector<std::string> ClaimsOf(const api::Value& pod) {
  std::vector<std::string> out;
  const api::Value* vols = api::Find(pod, "spec.volumes");
  if (vols == nullptr || !vols->IsArray()) return out;
  for (const auto& v : vols->GetArray()) {
    std::string claim = api::GetString(v, "persistentVolumeClaim.claimName");
    if (!claim.empty()) out.push_back(claim);
    if (api::FindMember(v, "ephemeral") != nullptr) {
      out.push_back(api::GetString(pod, "metadata.name") + "-" + api::GetString(v, "name"));
    }
  }
  return out;
}

}  // namespace

bool PodUsesClaim(const api::Value& pod, const std::string& claim_name) {
  // As upstream: only a scheduled pod can use it (the kubelet refuses to start one with a
  // claim being deleted), and a finished one no longer does.
  if (api::GetString(pod, "spec.nodeName").empty()) return false;
  std::string phase = api::GetString(pod, "status.phase");
  if (phase == "Succeeded" || phase == "Failed") return false;
  for (const auto& c : ClaimsOf(pod)) {
    if (c == claim_name) return true;
  }
  return false;
}

StorageProtectionController::StorageProtectionController(client::RestClient* client,
                                                         SharedInformers* informers, bool claims)
    : QueueController(claims ? "pvc-protection" : "pv-protection"),
      client_(client),
      claims_mode_(claims),
      objects_(informers->For(claims ? client::kPersistentVolumeClaims : client::kPersistentVolumes)),
      pods_(informers->For(client::kPods)) {
  auto enqueue = [this](const ObjectPtr& o) {
    if (IsBeingDeleted(*o)) Enqueue(informer::KeyOf(*o));
  };
  objects_.AddEventHandler(
      {enqueue, [enqueue](const ObjectPtr&, const ObjectPtr& o) { enqueue(o); }, nullptr});
  if (!claims) return;
  // A pod that stops using its claims (finished, deleted) may free them.
  auto release = [this](const ObjectPtr& pod) {
    std::string ns = api::GetString(*pod, "metadata.namespace");
    for (const auto& c : ClaimsOf(*pod)) {
      ObjectPtr claim = objects_.Get(ns + "/" + c);
      if (claim && IsBeingDeleted(*claim)) Enqueue(ns + "/" + c);
    }
  };
  pods_.AddEventHandler(
      {nullptr, [release](const ObjectPtr&, const ObjectPtr& pod) { release(pod); }, release});
}

Status StorageProtectionController::RemoveFinalizer(const client::ResourceRef& ref,
                                                    const api::Value& object,
                                                    const std::string& finalizer) {
  api::Document next = api::Clone(object);
  auto& a = next.GetAllocator();
  api::Value kept(rapidjson::kArrayType);
  for (const auto& f : api::Find(object, "metadata.finalizers")->GetArray()) {
    if (!(f.IsString() && api::View(f) == finalizer)) kept.PushBack(api::Value(f, a), a);
  }
  api::SetValue(next, "metadata.finalizers", std::move(kept), a);
  auto r = client_->Update(ref, api::GetString(object, "metadata.namespace"), next);
  if (r.ok() || r.status().code() == Code::kNotFound) return Status::Ok();
  return std::move(r).take_status();
}

Status StorageProtectionController::Sync(const std::string& key) {
  ObjectPtr obj = objects_.Get(key);
  if (!obj || !IsBeingDeleted(*obj)) return Status::Ok();
  if (!claims_mode_) {
    if (!HasFinalizer(*obj, kPvProtectionFinalizer)) return Status::Ok();
    if (api::GetString(*obj, "status.phase") == "Bound") return Status::Ok();
    return RemoveFinalizer(client::kPersistentVolumes, *obj, kPvProtectionFinalizer);
  }
  if (!HasFinalizer(*obj, kPvcProtectionFinalizer)) return Status::Ok();
  auto [ns, name] = SplitKey(key);
  for (const auto& pod : pods_.List()) {
    if (api::GetString(*pod, "metadata.namespace") == ns && PodUsesClaim(*pod, name)) {
      return Status::Ok();  // looked at again when that pod changes or goes
    }
  }
  ASSIGN_OR_RETURN(api::Document live, client_->List(client::kPods, ns));
  if (const api::Value* items = api::Find(live, "items"); items != nullptr && items->IsArray()) {
    for (const auto& pod : items->GetArray()) {
      if (PodUsesClaim(pod, name)) return Status::Ok();
    }
  }
  return RemoveFinalizer(client::kPersistentVolumeClaims, *obj, kPvcProtectionFinalizer);
}

}  // namespace kubepp::controller
