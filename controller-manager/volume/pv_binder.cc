#include "controller-manager/volume/pv_binder.h"

#include <set>

#include "common/api/quantity.h"
#include "common/api/selector.h"
#include "controller-manager/framework/canonical.h"
#include "controller-manager/framework/owner.h"

namespace kubepp::controller {

using informer::SplitKey;

namespace {

double StorageOf(const api::Value& obj, std::string_view path) {
  const api::Value* v = api::Find(obj, path);
  if (v == nullptr) return 0;
  std::string text = v->IsString() ? std::string(api::View(*v)) : api::ToJson(*v);
  auto q = api::ParseQuantity(text);
  return q.ok() ? *q : 0;
}

std::set<std::string> Strings(const api::Value& obj, std::string_view path) {
  std::set<std::string> out;
  const api::Value* a = api::Find(obj, path);
  if (a == nullptr || !a->IsArray()) return out;
  for (const auto& e : a->GetArray()) {
    if (e.IsString()) out.emplace(api::View(e));
  }
  return out;
}

bool HasClaimRef(const api::Value& pv) {
  const api::Value* ref = api::Find(pv, "spec.claimRef");
  return ref != nullptr && ref->IsObject();
}

// Whether the volume's claimRef names `claim` (its uid, when the ref has one).
bool RefersTo(const api::Value& pv, const api::Value& claim) {
  if (!HasClaimRef(pv)) return false;
  if (api::GetString(pv, "spec.claimRef.namespace") != api::GetString(claim, "metadata.namespace") ||
      api::GetString(pv, "spec.claimRef.name") != api::GetString(claim, "metadata.name")) {
    return false;
  }
  std::string uid = api::GetString(pv, "spec.claimRef.uid");
  return uid.empty() || uid == api::GetString(claim, "metadata.uid");
}

std::string Annotation(const api::Value& obj, const std::string& key) {
  auto m = api::GetStringMap(obj, "metadata.annotations");
  auto it = m.find(key);
  return it == m.end() ? "" : it->second;
}

void SetAnnotation(api::Document& obj, const std::string& key, const std::string& value) {
  auto m = api::GetStringMap(obj, "metadata.annotations");
  m[key] = value;
  api::SetStringMap(obj, "metadata.annotations", m, obj.GetAllocator());
}

}  // namespace

std::string StorageClassOf(const api::Value& object) {
  std::string beta = Annotation(object, "volume.beta.kubernetes.io/storage-class");
  if (!beta.empty()) return beta;
  return api::GetString(object, "spec.storageClassName");
}

const api::Value* FindMatchingVolume(const api::Value& claim,
                                     const std::vector<const api::Value*>& volumes) {
  for (const api::Value* pv : volumes) {
    if (RefersTo(*pv, claim) && !IsBeingDeleted(*pv)) return pv;
  }
  double want = StorageOf(claim, "spec.resources.requests.storage");
  std::set<std::string> modes = Strings(claim, "spec.accessModes");
  std::string cls = StorageClassOf(claim);
  std::string mode = api::GetString(claim, "spec.volumeMode", "Filesystem");
  auto selector = api::LabelSelector::FromJson(api::Find(claim, "spec.selector"));
  bool has_selector = api::Find(claim, "spec.selector") != nullptr &&
                      !api::Find(claim, "spec.selector")->IsNull();
  if (has_selector && !selector.ok()) return nullptr;
  const api::Value* best = nullptr;
  double best_size = 0;
  for (const api::Value* pv : volumes) {
    if (IsBeingDeleted(*pv) || HasClaimRef(*pv)) continue;
    if (StorageClassOf(*pv) != cls) continue;
    if (api::GetString(*pv, "spec.volumeMode", "Filesystem") != mode) continue;
    std::set<std::string> offered = Strings(*pv, "spec.accessModes");
    bool all = true;
    for (const auto& m : modes) all = all && offered.count(m) > 0;
    if (!all) continue;
    double size = StorageOf(*pv, "spec.capacity.storage");
    if (size < want) continue;
    if (has_selector && !selector->Matches(api::GetStringMap(*pv, "metadata.labels"))) continue;
    if (best == nullptr || size < best_size) {
      best = pv;
      best_size = size;
    }
  }
  return best;
}

PersistentVolumeBinder::PersistentVolumeBinder(client::RestClient* client,
                                               SharedInformers* informers, EventRecorder* events)
    : QueueController("persistentvolume-binder"),
      client_(client),
      events_(events),
      claims_(informers->For(client::kPersistentVolumeClaims)),
      volumes_(informers->For(client::kPersistentVolumes)),
      classes_(informers->For(client::kStorageClasses)) {
  auto enqueue = [this](const ObjectPtr& o) { Enqueue(informer::KeyOf(*o)); };
  auto update = [enqueue](const ObjectPtr&, const ObjectPtr& o) { enqueue(o); };
  claims_.AddEventHandler({enqueue, update, [this](const ObjectPtr& claim) {
                             // Its volume becomes Released.
                             std::string volume = api::GetString(*claim, "spec.volumeName");
                             if (!volume.empty()) Enqueue(volume);
                             for (const auto& pv : volumes_.List()) {
                               if (RefersTo(*pv, *claim)) Enqueue(informer::KeyOf(*pv));
                             }
                           }});
  volumes_.AddEventHandler({[this](const ObjectPtr& pv) {
                              Enqueue(informer::KeyOf(*pv));
                              // A new volume may fit a waiting claim.
                              for (const auto& c : claims_.List()) {
                                if (api::GetString(*c, "spec.volumeName").empty())
                                  Enqueue(informer::KeyOf(*c));
                              }
                            },
                            [this](const ObjectPtr&, const ObjectPtr& pv) {
                              Enqueue(informer::KeyOf(*pv));
                              if (HasClaimRef(*pv)) {
                                Enqueue(api::GetString(*pv, "spec.claimRef.namespace") + "/" +
                                        api::GetString(*pv, "spec.claimRef.name"));
                              } else {
                                for (const auto& c : claims_.List()) {
                                  if (api::GetString(*c, "spec.volumeName").empty())
                                    Enqueue(informer::KeyOf(*c));
                                }
                              }
                            },
                            [this](const ObjectPtr& pv) {
                              if (HasClaimRef(*pv)) {
                                Enqueue(api::GetString(*pv, "spec.claimRef.namespace") + "/" +
                                        api::GetString(*pv, "spec.claimRef.name"));
                              }
                            }});
}

Status PersistentVolumeBinder::Sync(const std::string& key) {
  if (key.find('/') != std::string::npos) return SyncClaim(key);
  return SyncVolume(key);
}

Status PersistentVolumeBinder::SetClaimPhase(const api::Value& claim, const std::string& phase,
                                             const api::Value* volume) {
  api::Document next = api::Clone(claim);
  auto& a = next.GetAllocator();
  api::SetString(next, "status.phase", phase, a);
  if (volume != nullptr) {
    if (const api::Value* modes = api::Find(*volume, "spec.accessModes")) {
      api::SetValue(next, "status.accessModes", api::Value(*modes, a), a);
    }
    if (const api::Value* cap = api::Find(*volume, "spec.capacity")) {
      api::SetValue(next, "status.capacity", api::Value(*cap, a), a);
    }
  }
  const api::Value* before = api::Find(claim, "status");
  const api::Value* after = api::Find(next, "status");
  if (before != nullptr && after != nullptr && SemanticEqual(*before, *after)) return Status::Ok();
  return client_->UpdateStatus(client::kPersistentVolumeClaims, "", next).status();
}

Status PersistentVolumeBinder::SetVolumePhase(const api::Value& volume, const std::string& phase) {
  if (api::GetString(volume, "status.phase") == phase) return Status::Ok();
  api::Document next = api::Clone(volume);
  auto& a = next.GetAllocator();
  api::SetString(next, "status.phase", phase, a);
  if (phase != "Failed") api::Remove(next, "status.message");
  api::Remove(next, "status.reason");
  return client_->UpdateStatus(client::kPersistentVolumes, "", next).status();
}

Status PersistentVolumeBinder::Bind(const api::Value& claim, const api::Value& volume) {
  std::string pv_name = api::GetString(volume, "metadata.name");
  // 1. The volume: claimRef with the claim's uid, then phase Bound.
  api::Document pv = api::Clone(volume);
  {
    auto& a = pv.GetAllocator();
    bool changed = false;
    if (!RefersTo(volume, claim) || api::GetString(volume, "spec.claimRef.uid").empty()) {
      api::Document ref;
      ref.SetObject();
      auto& ra = ref.GetAllocator();
      api::SetString(ref, "kind", "PersistentVolumeClaim", ra);
      api::SetString(ref, "apiVersion", "v1", ra);
      api::SetString(ref, "namespace", api::GetString(claim, "metadata.namespace"), ra);
      api::SetString(ref, "name", api::GetString(claim, "metadata.name"), ra);
      api::SetString(ref, "uid", api::GetString(claim, "metadata.uid"), ra);
      api::SetString(ref, "resourceVersion", api::GetString(claim, "metadata.resourceVersion"), ra);
      api::SetValue(pv, "spec.claimRef", api::Value(ref, a), a);
      if (!HasClaimRef(volume)) SetAnnotation(pv, kAnnBoundByController, "yes");
      changed = true;
    }
    if (changed) {
      auto r = client_->Update(client::kPersistentVolumes, "", pv);
      if (!r.ok()) return std::move(r).take_status();
      pv = std::move(r).value();
    }
    RETURN_IF_ERROR(SetVolumePhase(pv, "Bound"));
  }
  // 2. The claim: volumeName and annotations, then phase Bound.
  api::Document pvc = api::Clone(claim);
  if (api::GetString(claim, "spec.volumeName") != pv_name ||
      Annotation(claim, kAnnBindCompleted) != "yes") {
    if (api::GetString(claim, "spec.volumeName") != pv_name) {
      api::SetString(pvc, "spec.volumeName", pv_name, pvc.GetAllocator());
      SetAnnotation(pvc, kAnnBoundByController, "yes");
    }
    SetAnnotation(pvc, kAnnBindCompleted, "yes");
    auto r = client_->Update(client::kPersistentVolumeClaims, "", pvc);
    if (!r.ok()) return std::move(r).take_status();
    pvc = std::move(r).value();
  }
  return SetClaimPhase(pvc, "Bound", &pv);
}

Status PersistentVolumeBinder::SyncClaim(const std::string& key) {
  ObjectPtr claim = claims_.Get(key);
  if (!claim || IsBeingDeleted(*claim)) return Status::Ok();
  std::string volume_name = api::GetString(*claim, "spec.volumeName");
  if (!volume_name.empty()) {
    ObjectPtr pv = volumes_.Get(volume_name);
    if (!pv) {
      // Maybe only the cache is behind: ask the server before declaring it lost.
      auto got = client_->Get(client::kPersistentVolumes, "", volume_name);
      if (got.ok()) return Unavailable("volume " + volume_name + " not in the cache yet");
      if (got.status().code() != Code::kNotFound) return got.status();
      if (api::GetString(*claim, "status.phase") != "Lost") {
        events_->Event(*claim, "Warning", "ClaimLost",
                       "Bound claim has lost its PersistentVolume. Data on the volume is lost!");
      }
      return SetClaimPhase(*claim, "Lost", nullptr);
    }
    if (!HasClaimRef(*pv) || RefersTo(*pv, *claim)) return Bind(*claim, *pv);
    // The volume belongs to another claim: this one was bound by the user to a volume
    // that is taken. Upstream leaves it Pending with an event.
    if (api::GetString(*claim, "status.phase") != "Bound") {
      events_->Event(*claim, "Warning", "FailedBinding",
                     "volume \"" + volume_name + "\" already bound to a different claim.");
    }
    return SetClaimPhase(*claim, api::GetString(*claim, "status.phase") == "Bound" ? "Lost" : "Pending",
                         nullptr);
  }
  std::vector<ObjectPtr> all = volumes_.List();
  std::vector<const api::Value*> volumes;
  for (const auto& pv : all) volumes.push_back(pv.get());
  if (const api::Value* pv = FindMatchingVolume(*claim, volumes)) return Bind(*claim, *pv);

  // Nothing fits: dynamic provisioning, if the class has a provisioner.
  std::string cls = StorageClassOf(*claim);
  ObjectPtr sc = cls.empty() ? nullptr : classes_.Get(cls);
  std::string provisioner = sc ? api::GetString(*sc, "provisioner") : "";
  if (provisioner.empty() || provisioner == "kubernetes.io/no-provisioner") {
    if (sc == nullptr && !cls.empty()) {
      events_->Event(*claim, "Warning", "ProvisioningFailed",
                     "storageclass.storage.k8s.io \"" + cls + "\" not found");
    } else {
      events_->Event(*claim, "Normal", "FailedBinding",
                     cls.empty() ? "no persistent volumes available for this claim and no "
                                   "storage class is set"
                                 : "no persistent volumes available for this claim");
    }
    return SetClaimPhase(*claim, "Pending", nullptr);
  }
  if (Annotation(*claim, kAnnStorageProvisioner) != provisioner) {
    api::Document next = api::Clone(*claim);
    SetAnnotation(next, kAnnStorageProvisioner, provisioner);
    SetAnnotation(next, kAnnBetaStorageProvisioner, provisioner);
    auto r = client_->Update(client::kPersistentVolumeClaims, "", next);
    if (!r.ok()) return std::move(r).take_status();
    events_->Event(*claim, "Normal", "ExternalProvisioning",
                   "Waiting for a volume to be created either by the external provisioner '" +
                       provisioner +
                       "' or manually by the system administrator. If volume creation is "
                       "delayed, please verify that the provisioner is running and correctly "
                       "registered.");
    return SetClaimPhase(*r, "Pending", nullptr);
  }
  return SetClaimPhase(*claim, "Pending", nullptr);
}

Status PersistentVolumeBinder::SyncVolume(const std::string& name) {
  ObjectPtr pv = volumes_.Get(name);
  if (!pv || IsBeingDeleted(*pv)) return Status::Ok();
  if (!HasClaimRef(*pv)) return SetVolumePhase(*pv, "Available");
  std::string claim_key = api::GetString(*pv, "spec.claimRef.namespace") + "/" +
                          api::GetString(*pv, "spec.claimRef.name");
  std::string ref_uid = api::GetString(*pv, "spec.claimRef.uid");
  ObjectPtr claim = claims_.Get(claim_key);
  if (ref_uid.empty()) {
    // Pre-bound to a claim that does not exist yet (or is not bound yet).
    if (claim) Enqueue(claim_key);
    return SetVolumePhase(*pv, "Available");
  }
  if (!claim || api::GetString(*claim, "metadata.uid") != ref_uid) {
    // The cache may lag behind a claim created a moment ago: confirm with the server.
    auto got = client_->Get(client::kPersistentVolumeClaims,
                            api::GetString(*pv, "spec.claimRef.namespace"),
                            api::GetString(*pv, "spec.claimRef.name"));
    if (got.ok() && api::GetString(*got, "metadata.uid") == ref_uid) {
      return Unavailable("claim " + claim_key + " not in the cache yet");
    }
    if (!got.ok() && got.status().code() != Code::kNotFound) return got.status();
    std::string phase = api::GetString(*pv, "status.phase");
    if (phase == "Released" || phase == "Failed") return Status::Ok();
    if (api::GetString(*pv, "spec.persistentVolumeReclaimPolicy") == "Recycle") {
      api::Document next = api::Clone(*pv);
      auto& a = next.GetAllocator();
      api::SetString(next, "status.phase", "Failed", a);
      api::SetString(next, "status.message", "no volume plugin matched", a);
      events_->Event(*pv, "Warning", "VolumeFailedRecycle", "No recycler plugin found for the volume!");
      return client_->UpdateStatus(client::kPersistentVolumes, "", next).status();
    }
    return SetVolumePhase(*pv, "Released");
  }
  if (api::GetString(*claim, "spec.volumeName") == name) return SetVolumePhase(*pv, "Bound");
  // The claim is not bound to us yet: finishing the binding is the claim's sync.
  Enqueue(claim_key);
  return Status::Ok();
}

}  // namespace kubepp::controller
