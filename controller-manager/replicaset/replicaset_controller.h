// The ReplicaSet controller: keeps spec.replicas active pods matching each ReplicaSet's
// selector and reports their state in its status.
//
// Sync(namespace/name): claims pods (adopt matching orphans, release owned pods that no
// longer match); when the expectations of earlier creations/deletions have been seen in
// the pod cache, creates missing pods from the template (slow-start batches, at most
// burst_replicas per sync) or deletes extras (unscheduled, then not ready, then newest
// first); then writes status (replicas, fullyLabeledReplicas, readyReplicas,
// availableReplicas honouring minReadySeconds, observedGeneration, ReplicaFailure).
//
// Thread safety: Sync runs on several workers at once, for different keys.
#pragma once

#include "common/client/rest_client.h"
#include "controller-manager/framework/clock.h"
#include "controller-manager/framework/events.h"
#include "controller-manager/framework/informers.h"
#include "controller-manager/framework/owner.h"
#include "controller-manager/framework/pod_owner_controller.h"

namespace kubepp::controller {

struct ReplicaSetOptions {
  int burst_replicas = 500;     // pods created or deleted per sync at most (upstream's)
  int write_parallelism = 16;   // concurrent create/delete requests
};

class ReplicaSetController : public PodOwnerController {
 public:
  // Registers handlers on the pods and replicasets informers; everything must outlive it.
  ReplicaSetController(client::RestClient* client, SharedInformers* informers, const Clock* clock,
                       EventRecorder* events, ReplicaSetOptions options = {});

  Status Sync(const std::string& key) override;

 protected:
  void OnOwnedPodUpdate(const std::string& key, const api::Value& old_pod,
                        const api::Value& pod) override;

 private:
  Status ManageReplicas(const std::string& key, const api::Value& rs,
                        const std::vector<ObjectPtr>& pods);
  // Writes the status computed from `pods` when it differs; `manage` is the outcome of
  // ManageReplicas (a failed creation shows as the ReplicaFailure condition).
  Status UpdateStatus(const api::Value& rs, const std::vector<ObjectPtr>& pods,
                      const Status& manage_error, bool create_failed);

  client::RestClient* client_;
  const Clock* clock_;
  EventRecorder* events_;
  ReplicaSetOptions options_;
};

}  // namespace kubepp::controller
