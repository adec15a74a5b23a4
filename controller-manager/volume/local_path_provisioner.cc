#include "controller-manager/volume/local_path_provisioner.h"

#include <filesystem>

#include "common/log.h"
#include "controller-manager/framework/owner.h"
#include "controller-manager/volume/pv_binder.h"

namespace kubepp::controller {

namespace fs = std::filesystem;

namespace {

std::string Annotation(const api::Value& obj, const std::string& key) {
  auto m = api::GetStringMap(obj, "metadata.annotations");
  auto it = m.find(key);
  return it == m.end() ? "" : it->second;
}

}  // namespace

api::Document LocalPathVolumeFor(const api::Value& claim, const api::Value& storage_class,
                                 const std::string& dir) {
  std::string ns = api::GetString(claim, "metadata.namespace");
  std::string name = api::GetString(claim, "metadata.name");
  std::string uid = api::GetString(claim, "metadata.uid");
  api::Document pv;
  pv.SetObject();
  auto& a = pv.GetAllocator();
  api::SetString(pv, "apiVersion", "v1", a);
  api::SetString(pv, "kind", "PersistentVolume", a);
  api::SetString(pv, "metadata.name", "pvc-" + uid, a);
  api::SetStringMap(pv, "metadata.annotations", {{kAnnProvisionedBy, kLocalPathProvisioner}}, a);
  const api::Value* request = api::Find(claim, "spec.resources.requests.storage");
  api::SetValue(pv, "spec.capacity.storage",
                request != nullptr ? api::Value(*request, a) : api::Str("0", a), a);
  if (const api::Value* modes = api::Find(claim, "spec.accessModes")) {
    api::SetValue(pv, "spec.accessModes", api::Value(*modes, a), a);
  }
  api::SetString(pv, "spec.persistentVolumeReclaimPolicy",
                 api::GetString(storage_class, "reclaimPolicy", "Delete"), a);
  api::SetString(pv, "spec.storageClassName", api::GetString(storage_class, "metadata.name"), a);
  api::SetString(pv, "spec.volumeMode", api::GetString(claim, "spec.volumeMode", "Filesystem"), a);
  api::SetString(pv, "spec.hostPath.path", dir + "/pvc-" + uid + "_" + ns + "_" + name, a);
  api::SetString(pv, "spec.hostPath.type", "DirectoryOrCreate", a);
  api::SetString(pv, "spec.claimRef.kind", "PersistentVolumeClaim", a);
  api::SetString(pv, "spec.claimRef.apiVersion", "v1", a);
  api::SetString(pv, "spec.claimRef.namespace", ns, a);
  api::SetString(pv, "spec.claimRef.name", name, a);
  api::SetString(pv, "spec.claimRef.uid", uid, a);
  api::SetString(pv, "spec.claimRef.resourceVersion",
                 api::GetString(claim, "metadata.resourceVersion"), a);
  return pv;
}

LocalPathProvisioner::LocalPathProvisioner(client::RestClient* client, SharedInformers* informers,
                                           EventRecorder* events, std::string dir)
    : QueueController("local-path-provisioner"),
      client_(client),
      events_(events),
      dir_(fs::path(dir).lexically_normal().string()),
      claims_(informers->For(client::kPersistentVolumeClaims)),
      volumes_(informers->For(client::kPersistentVolumes)),
      classes_(informers->For(client::kStorageClasses)) {
  while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
  auto enqueue = [this](const ObjectPtr& o) { Enqueue(informer::KeyOf(*o)); };
  auto update = [enqueue](const ObjectPtr&, const ObjectPtr& o) { enqueue(o); };
  claims_.AddEventHandler({enqueue, update, nullptr});
  volumes_.AddEventHandler({enqueue, update, [this](const ObjectPtr& pv) {
                              // Its claim may need a new one (a volume deleted under it).
                              Enqueue(api::GetString(*pv, "spec.claimRef.namespace") + "/" +
                                      api::GetString(*pv, "spec.claimRef.name"));
                            }});
  // A class made after its claims: look at every waiting claim again.
  classes_.AddEventHandler({[this](const ObjectPtr&) {
                              for (const auto& c : claims_.List()) {
                                if (api::GetString(*c, "spec.volumeName").empty())
                                  Enqueue(informer::KeyOf(*c));
                              }
                            },
                            nullptr, nullptr});
}

void LocalPathProvisioner::Started() { Enqueue(kClassKey); }

bool LocalPathProvisioner::Ours(const std::string& class_name) const {
  if (class_name.empty()) return false;
  ObjectPtr sc = classes_.Get(class_name);
  return sc && api::GetString(*sc, "provisioner") == kLocalPathProvisioner;
}

Status LocalPathProvisioner::Sync(const std::string& key) {
  if (key == kClassKey) return EnsureClass();
  if (key.find('/') != std::string::npos) return SyncClaim(key);
  return SyncVolume(key);
}

Status LocalPathProvisioner::EnsureClass() {
  if (classes_.Get(kLocalPathClass)) return Status::Ok();
  bool other_default = false;
  for (const auto& sc : classes_.List()) {
    other_default = other_default || Annotation(*sc, kAnnDefaultClass) == "true";
  }
  api::Document sc;
  sc.SetObject();
  auto& a = sc.GetAllocator();
  api::SetString(sc, "apiVersion", "storage.k8s.io/v1", a);
  api::SetString(sc, "kind", "StorageClass", a);
  api::SetString(sc, "metadata.name", kLocalPathClass, a);
  if (!other_default) {
    api::SetStringMap(sc, "metadata.annotations", {{kAnnDefaultClass, "true"}}, a);
  }
  api::SetString(sc, "provisioner", kLocalPathProvisioner, a);
  api::SetString(sc, "reclaimPolicy", "Delete", a);
  api::SetString(sc, "volumeBindingMode", "Immediate", a);
  auto r = client_->Create(client::kStorageClasses, "", sc);
  if (r.ok()) {
    LOG(INFO) << "created StorageClass " << kLocalPathClass
              << (other_default ? "" : " (the default class)");
  }
  if (r.ok() || r.status().code() == Code::kAlreadyExists) return Status::Ok();
  return std::move(r).take_status();
}

Status LocalPathProvisioner::SyncClaim(const std::string& key) {
  ObjectPtr claim = claims_.Get(key);
  if (!claim || IsBeingDeleted(*claim)) return Status::Ok();
  if (!api::GetString(*claim, "spec.volumeName").empty()) return Status::Ok();
  std::string cls = StorageClassOf(*claim);
  if (!Ours(cls)) return Status::Ok();
  // A manually made volume may fit: the binder gets the first word, as upstream's
  // provisioners wait for the storage-provisioner annotation the binder sets.
  if (Annotation(*claim, kAnnStorageProvisioner) != kLocalPathProvisioner &&
      Annotation(*claim, kAnnBetaStorageProvisioner) != kLocalPathProvisioner) {
    return Status::Ok();
  }
  std::string uid = api::GetString(*claim, "metadata.uid");
  if (volumes_.Get("pvc-" + uid)) return Status::Ok();
  api::Document pv = LocalPathVolumeFor(*claim, *classes_.Get(cls), dir_);
  std::string path = api::GetString(pv, "spec.hostPath.path");
  std::error_code ec;
  fs::create_directories(path, ec);
  if (!ec) fs::permissions(path, fs::perms::all, ec);
  if (ec) {
    events_->Event(*claim, "Warning", "ProvisioningFailed",
                   "failed to provision volume with StorageClass \"" + cls + "\": creating " +
                       path + ": " + ec.message());
    return Internal("creating " + path + ": " + ec.message());
  }
  auto r = client_->Create(client::kPersistentVolumes, "", pv);
  if (!r.ok() && r.status().code() != Code::kAlreadyExists) {
    events_->Event(*claim, "Warning", "ProvisioningFailed",
                   "failed to provision volume with StorageClass \"" + cls +
                       "\": " + r.status().message());
    return std::move(r).take_status();
  }
  if (r.ok()) {
    events_->Event(*claim, "Normal", "ProvisioningSucceeded",
                   "Successfully provisioned volume pvc-" + uid);
  }
  return Status::Ok();
}

Status LocalPathProvisioner::SyncVolume(const std::string& name) {
  ObjectPtr pv = volumes_.Get(name);
  if (!pv || IsBeingDeleted(*pv)) return Status::Ok();
  if (Annotation(*pv, kAnnProvisionedBy) != kLocalPathProvisioner) return Status::Ok();
  if (api::GetString(*pv, "status.phase") != "Released" ||
      api::GetString(*pv, "spec.persistentVolumeReclaimPolicy") != "Delete") {
    return Status::Ok();
  }
  // Only a direct child of our directory is ever removed, whatever the volume says.
  fs::path path = api::GetString(*pv, "spec.hostPath.path");
  if (path.parent_path() == fs::path(dir_) && path.filename().string().rfind("pvc-", 0) == 0) {
    std::error_code ec;
    fs::remove_all(path, ec);
    if (ec) {
      events_->Event(*pv, "Warning", "VolumeFailedDelete",
                     "removing " + path.string() + ": " + ec.message());
      return Internal("removing " + path.string() + ": " + ec.message());
    }
  } else {
    LOG(WARNING) << "volume " << name << ": path " << path.string() << " is not under "
                 << dir_ << "; deleting the PersistentVolume only";
  }
  client::DeleteOptions opts;
  opts.precondition_uid = api::GetString(*pv, "metadata.uid");
  Status st = client_->Delete(client::kPersistentVolumes, "", name, opts);
  if (st.ok() || st.code() == Code::kNotFound) return Status::Ok();
  return st;
}

}  // namespace kubepp::controller
