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
// Revisions: each template is snapshotted into a ControllerRevision <name>-<hash>
// (framework/history.h); pods carry its name in the controller-revision-hash label;
// status.currentRevision/updateRevision name revisions, and a pod below the partition
// that is recreated gets the current revision's template. Revisions no pod uses beyond
// spec.revisionHistoryLimit are deleted. `kubectl rollout history|undo|status` work on
// them.
//
// volumeClaimTemplates: before pod <name>-<n> is created, each template T becomes the
// claim T-<name>-<n> (labels: the template's plus the selector's matchLabels) unless it
// exists, and the pod's volume T names it. Claims are never deleted on scale-down or
// with the set (persistentVolumeClaimRetentionPolicy Retain, the default); with
// whenDeleted: Delete a claim is owned by the set, with whenScaled: Delete a condemned
// pod's claims get an ownerReference to that pod before it is deleted (the garbage
// collector does the rest). A claim being deleted blocks its pod's creation.
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
  Status CreateClaims(const api::Value& sts, int64_t ordinal, const std::string& pod_name);
  Status CreatePod(const std::string& key, const api::Value& sts, int64_t ordinal,
                   const std::string& revision, const api::Value& tmpl);
  Status DeletePod(const std::string& key, const api::Value& sts, const api::Value& pod);
  Status OwnClaimsByPod(const api::Value& sts, const api::Value& pod);

  client::RestClient* client_;
  const Clock* clock_;
  EventRecorder* events_;
  informer::Informer& claims_;
  informer::Informer& revisions_;
};

// The claim of volumeClaimTemplate `claim_template` for ordinal `ordinal` of set `set`:
// <template name>-<set>-<ordinal>.
std::string ClaimNameFor(const std::string& set, const api::Value& claim_template,
                         int64_t ordinal);
// The PersistentVolumeClaim made from `claim_template` for `ordinal` of `sts`.
api::Document ClaimFor(const api::Value& sts, const api::Value& claim_template, int64_t ordinal);

}  // namespace kubepp::controller
