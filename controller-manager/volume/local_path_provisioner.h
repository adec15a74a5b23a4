// A dynamic provisioner of hostPath volumes, as k3s's local-path-provisioner, for the
// StorageClasses whose provisioner is kubepp.io/local-path. kubepp's nodes all run on
// this machine, so a directory of the controller-manager's host is reachable from every
// node (no node affinity is set).
//
// On start it makes the StorageClass `local-path` if missing (reclaimPolicy Delete,
// volumeBindingMode Immediate), annotated storageclass.kubernetes.io/is-default-class=
// true unless another class is the default already.
//
// For each Pending claim of such a class without spec.volumeName it creates the
// PersistentVolume pvc-<claim uid> (upstream's provisioner naming): capacity the
// claim's request, the claim's accessModes and volumeMode, the class's reclaimPolicy,
// hostPath <dir>/pvc-<uid>_<namespace>_<name> (type DirectoryOrCreate; the directory is
// made here too, mode 0777 as k3s's), annotation pv.kubernetes.io/provisioned-by, and a
// claimRef naming the claim with its uid so that the binder binds exactly that pair.
// WaitForFirstConsumer classes are provisioned at once too (there is no topology to
// wait for on one machine).
//
// A PersistentVolume it provisioned that is Released with reclaimPolicy Delete loses its
// directory (only ever a direct child of <dir>), then is deleted.
//
// Keys: "ns/name" for claims, "name" for volumes, kClassKey for the default class.
// Thread safety: Sync is safe on several workers for different keys.
#pragma once

#include <string>

#include "common/client/rest_client.h"
#include "controller-manager/framework/controller.h"
#include "controller-manager/framework/events.h"
#include "controller-manager/framework/informers.h"

namespace kubepp::controller {

inline constexpr const char* kLocalPathProvisioner = "kubepp.io/local-path";
inline constexpr const char* kLocalPathClass = "local-path";

// The PersistentVolume the provisioner makes for `claim` of `storage_class` under `dir`.
api::Document LocalPathVolumeFor(const api::Value& claim, const api::Value& storage_class,
                                 const std::string& dir);

class LocalPathProvisioner : public QueueController {
 public:
  // `dir` is the directory volumes are made in (created when needed).
  LocalPathProvisioner(client::RestClient* client, SharedInformers* informers,
                       EventRecorder* events, std::string dir);

  void Started() override;
  Status Sync(const std::string& key) override;

  // The key of the "make the default StorageClass" sync (no object name has a colon).
  static constexpr const char* kClassKey = ":storageclass";

 private:
  Status EnsureClass();
  Status SyncClaim(const std::string& key);
  Status SyncVolume(const std::string& name);
  bool Ours(const std::string& class_name) const;

  client::RestClient* client_;
  EventRecorder* events_;
  std::string dir_;
  informer::Informer& claims_;
  informer::Informer& volumes_;
  informer::Informer& classes_;
};

}  // namespace kubepp::controller
