// The pvc-protection and pv-protection controllers (upstream's
// pkg/controller/volume/pvcprotection and pvprotection): the apiserver puts the
// kubernetes.io/pvc-protection and kubernetes.io/pv-protection finalizers on every claim
// and volume it creates, so that deleting one that is in use only marks it Terminating.
// A claim being deleted loses its finalizer once no pod uses it (a pod bound to a node,
// not Succeeded or Failed, that names it in a persistentVolumeClaim volume, or whose
// generic ephemeral volume <pod>-<volume> it is); a volume being deleted loses its
// finalizer once it is not Bound. The cache's answer "in use" is trusted; "not in use"
// is confirmed with a live list of the namespace's pods first, as upstream, since a pod
// created a moment ago may not be cached yet.
//
// Keys: "ns/name" for claims, "name" for volumes.
// Thread safety: Sync is safe on several workers for different keys.
#pragma once

#include "common/client/rest_client.h"
#include "controller-manager/framework/controller.h"
#include "controller-manager/framework/informers.h"

namespace kubepp::controller {

inline constexpr const char* kPvcProtectionFinalizer = "kubernetes.io/pvc-protection";
inline constexpr const char* kPvProtectionFinalizer = "kubernetes.io/pv-protection";

// Whether `pod` (in the claim's namespace) keeps claim `claim_name` in use.
bool PodUsesClaim(const api::Value& pod, const std::string& claim_name);

class StorageProtectionController : public QueueController {
 public:
  // `claims` true: the pvc-protection controller; false: pv-protection.
  StorageProtectionController(client::RestClient* client, SharedInformers* informers, bool claims);

  Status Sync(const std::string& key) override;

 private:
  Status RemoveFinalizer(const client::ResourceRef& ref, const api::Value& object,
                         const std::string& finalizer);

  client::RestClient* client_;
  bool claims_mode_;
  informer::Informer& objects_;
  informer::Informer& pods_;
};

}  // namespace kubepp::controller
