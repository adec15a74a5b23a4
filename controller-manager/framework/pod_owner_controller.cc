#include "controller-manager/framework/pod_owner_controller.h"

#include "common/api/selector.h"
#include "controller-manager/framework/owner.h"

namespace kubepp::controller {

using informer::KeyOf;

PodOwnerController::PodOwnerController(std::string name, std::string owner_kind,
                                       informer::Informer& owners, informer::Informer& pods)
    : QueueController(std::move(name)), owners_(owners), pods_(pods),
      owner_kind_(std::move(owner_kind)) {
  owners_.AddEventHandler({
      [this](const ObjectPtr& o) { Enqueue(KeyOf(*o)); },
      [this](const ObjectPtr&, const ObjectPtr& o) { Enqueue(KeyOf(*o)); },
      [this](const ObjectPtr& o) {
        expectations_.Delete(KeyOf(*o));
        Enqueue(KeyOf(*o));
      },
  });
  pods_.AddEventHandler({
      [this](const ObjectPtr& p) { OnPodAdd(p); },
      [this](const ObjectPtr& o, const ObjectPtr& p) { OnPodUpdate(o, p); },
      [this](const ObjectPtr& p) { OnPodDelete(p); },
  });
}

std::string PodOwnerController::OwnerKey(const api::Value& pod) const {
  auto ref = ControllerOf(pod);
  if (!ref || ref->kind != owner_kind_) return "";
  std::string key = api::GetString(pod, "metadata.namespace") + "/" + ref->name;
  ObjectPtr owner = owners_.Get(key);
  if (!owner || api::GetString(*owner, "metadata.uid") != ref->uid) return "";
  return key;
}

void PodOwnerController::EnqueueMatchingOwners(const api::Value& pod) {
  std::string ns = api::GetString(pod, "metadata.namespace");
  auto labels = api::GetStringMap(pod, "metadata.labels");
  for (const ObjectPtr& owner : owners_.List()) {
    if (api::GetString(*owner, "metadata.namespace") != ns) continue;
    auto sel = api::LabelSelector::FromJson(api::Find(*owner, "spec.selector"));
    if (sel.ok() && !sel->Empty() && sel->Matches(labels)) Enqueue(KeyOf(*owner));
  }
}

void PodOwnerController::OnPodAdd(const ObjectPtr& pod) {
  if (IsBeingDeleted(*pod)) return OnPodDelete(pod);
  if (!ControllerOf(*pod)) return EnqueueMatchingOwners(*pod);
  std::string key = OwnerKey(*pod);
  if (key.empty()) return;
  expectations_.CreationObserved(key);
  Enqueue(key);
}

void PodOwnerController::OnPodUpdate(const ObjectPtr& old_pod, const ObjectPtr& pod) {
  std::string key = OwnerKey(*pod);
  // A graceful deletion has begun: for the owner the pod is gone already.
  if (!key.empty() && IsBeingDeleted(*pod) && !IsBeingDeleted(*old_pod)) {
    expectations_.DeletionObserved(key, api::GetString(*pod, "metadata.uid"));
  }
  std::string old_key = OwnerKey(*old_pod);
  if (!old_key.empty() && old_key != key) Enqueue(old_key);
  if (key.empty()) {
    if (!ControllerOf(*pod)) EnqueueMatchingOwners(*pod);
    return;
  }
  Enqueue(key);
  OnOwnedPodUpdate(key, *old_pod, *pod);
}

void PodOwnerController::OnPodDelete(const ObjectPtr& pod) {
  std::string key = OwnerKey(*pod);
  if (key.empty()) return;
  expectations_.DeletionObserved(key, api::GetString(*pod, "metadata.uid"));
  Enqueue(key);
}

}  // namespace kubepp::controller
