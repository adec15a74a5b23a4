// The PersistentVolume binder (upstream's persistentvolume-binder, pkg/controller/volume/
// persistentvolume): binds PersistentVolumeClaims to PersistentVolumes and keeps both
// phases current.
//
// A Pending claim without spec.volumeName is bound to the volume that names it in
// spec.claimRef (pre-bound, e.g. by a provisioner), else to the smallest Available
// volume that fits (FindMatchingVolume). Binding writes the volume first (spec.claimRef
// with the claim's uid, annotation pv.kubernetes.io/bound-by-controller=yes, phase
// Bound), then the claim (spec.volumeName, annotations pv.kubernetes.io/bind-completed
// and bound-by-controller, phase Bound with the volume's accessModes and capacity). With
// no fitting volume, a claim of a class with a provisioner is annotated
// volume.kubernetes.io/storage-provisioner (and the beta key) and waits for it
// (ExternalProvisioning event); a claim without one gets a FailedBinding event. A bound
// claim whose volume is gone is Lost.
//
// A volume without claimRef (or pre-bound to a claim not yet bound) is Available; one
// whose claim is bound to it is Bound; one whose claim was deleted (or replaced: another
// uid) is Released and, with reclaimPolicy Retain, stays so. Deleting a Released volume
// of policy Delete is the job of whoever provisioned it (pv.kubernetes.io/provisioned-by:
// the local-path provisioner here). Recycle is not supported (deprecated upstream): such
// volumes are marked Failed, as upstream does when no recycler plugin exists.
//
// Keys: "ns/name" for claims, "name" for volumes (cluster-scoped names have no slash).
// Every write carries the resourceVersion it was computed from, so a stale cache makes
// it fail with Conflict and the key is retried from fresh state; two claims can never
// both take one volume.
//
// Thread safety: Sync is safe on several workers for different keys; run with one
// worker, as upstream's single sync loop, so that matching is never done twice at once.
#pragma once

#include <vector>

#include "common/client/rest_client.h"
#include "controller-manager/framework/controller.h"
#include "controller-manager/framework/events.h"
#include "controller-manager/framework/informers.h"

namespace kubepp::controller {

inline constexpr const char* kAnnBindCompleted = "pv.kubernetes.io/bind-completed";
inline constexpr const char* kAnnBoundByController = "pv.kubernetes.io/bound-by-controller";
inline constexpr const char* kAnnProvisionedBy = "pv.kubernetes.io/provisioned-by";
inline constexpr const char* kAnnStorageProvisioner = "volume.kubernetes.io/storage-provisioner";
inline constexpr const char* kAnnBetaStorageProvisioner =
    "volume.beta.kubernetes.io/storage-provisioner";
inline constexpr const char* kAnnDefaultClass = "storageclass.kubernetes.io/is-default-class";

// The storage class a claim or volume asks for: the beta annotation
// volume.beta.kubernetes.io/storage-class, else spec.storageClassName ("" for none).
std::string StorageClassOf(const api::Value& object);

// The volume of `volumes` that `claim` should bind to, or nullptr: a volume whose
// claimRef names the claim (namespace, name and, when set, uid) wins; otherwise the
// smallest spec.capacity.storage among volumes that are not being deleted, have no
// claimRef, are of the claim's class and volumeMode, offer every access mode the claim
// asks for, hold at least its spec.resources.requests.storage and match its
// spec.selector (ties: the first in `volumes`).
const api::Value* FindMatchingVolume(const api::Value& claim,
                                     const std::vector<const api::Value*>& volumes);

class PersistentVolumeBinder : public QueueController {
 public:
  PersistentVolumeBinder(client::RestClient* client, SharedInformers* informers,
                         EventRecorder* events);

  Status Sync(const std::string& key) override;

 private:
  Status SyncClaim(const std::string& key);
  Status SyncVolume(const std::string& name);
  Status Bind(const api::Value& claim, const api::Value& volume);
  // Sets the claim's status phase (and, for Bound, accessModes/capacity from `volume`)
  // unless it already has them.
  Status SetClaimPhase(const api::Value& claim, const std::string& phase,
                       const api::Value* volume);
  Status SetVolumePhase(const api::Value& volume, const std::string& phase);

  client::RestClient* client_;
  EventRecorder* events_;
  informer::Informer& claims_;
  informer::Informer& volumes_;
  informer::Informer& classes_;
};

}  // namespace kubepp::controller
