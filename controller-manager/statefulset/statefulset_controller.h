// The StatefulSet controller: pods with stable identities <name>-<ordinal> (hostname =
// pod name, subdomain = spec.serviceName, labels statefulset.kubernetes.io/pod-name and
// apps.kubernetes.io/pod-index), as upstream's.
//
// OrderedReady (default): pod N is created only once pods 0..N-1 are Running and
// Ready; scale-down removes the highest ordinal first, one at a time. Parallel creates
// and deletes without waiting. RollingUpdate replaces pods whose
// controller-revision-hash differs from the template's, from the highest ordinal down
// to spec.updateStrategy.rollingUpdate.partition, one at a time, each only after all
// pods are ready; OnDelete only recreates pods the user deleted. Failed pods are
// replaced. Status: replicas, readyReplicas, availableReplicas, currentReplicas,
// updatedReplicas, currentRevision, updateRevision, observedGeneration.
//
// Limits: there are no ControllerRevisions, so a pod below the partition that is
// recreated gets the current template; volumeClaimTemplates are not provisioned (the
// apiserver has no PersistentVolumeClaims yet).
// Thread safety: Sync runs on several workers at once, for different keys.
#pragma once

#include "common/client/rest_client.h"
#include "controller-manager/framework/clock.h"
#include "controller-manager/framework/events.h"
#include "controller-manager/framework/pod_owner_controller.h"

namespace kubepp::controller {

class StatefulSetController : public PodOwnerController {
 public:
  StatefulSetController(client::RestClient* client, SharedInformers* informers,
                        const Clock* clock, EventRecorder* events);

  Status Sync(const std::string& key) override;

 private:
  Status CreatePod(const std::string& key, const api::Value& sts, int64_t ordinal,
                   const std::string& revision);
  Status DeletePod(const std::string& key, const api::Value& sts, const api::Value& pod);

  client::RestClient* client_;
  const Clock* clock_;
  EventRecorder* events_;
};

}  // namespace kubepp::controller
