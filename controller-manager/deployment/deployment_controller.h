// The Deployment controller: rolls a Deployment's pod template out through
// ReplicaSets named and labelled by pod-template-hash, as upstream's.
//
// Sync(namespace/name): claims ReplicaSets; a paused Deployment or a scaling event
// (spec.replicas changed) only scales (proportionally across ReplicaSets mid-rollout);
// otherwise RollingUpdate grows the new ReplicaSet within maxSurge and shrinks old ones
// within maxUnavailable, and Recreate scales old ones to zero, waits for their pods to
// go, then scales up the new one. Revisions live in the revision annotation of the
// ReplicaSets and the Deployment (so `kubectl rollout history/undo` work), old
// ReplicaSets beyond revisionHistoryLimit are deleted once a rollout completes, and
// status carries every field and condition (Available, Progressing with
// progressDeadlineSeconds) that `kubectl rollout status` reads.
//
// Thread safety: Sync runs on several workers at once, for different keys.
#pragma once

#include <vector>

#include "common/client/rest_client.h"
#include "controller-manager/framework/clock.h"
#include "controller-manager/framework/controller.h"
#include "controller-manager/framework/events.h"
#include "controller-manager/framework/informers.h"
#include "controller-manager/framework/owner.h"

namespace kubepp::controller {

class DeploymentController : public QueueController {
 public:
  // Registers handlers on the deployments, replicasets and pods informers; everything
  // must outlive the controller.
  DeploymentController(client::RestClient* client, SharedInformers* informers, const Clock* clock,
                       EventRecorder* events);

  Status Sync(const std::string& key) override;

 private:
  // One sync's view: the Deployment (a private copy) and its ReplicaSets, updated in
  // place as the sync writes them.
  struct State {
    api::Document d;
    std::vector<ObjectPtr> old_rs;  // every claimed ReplicaSet but the new one
    ObjectPtr new_rs;               // null when none matches the template
    std::vector<ObjectPtr> All() const;
  };

  Status SyncOnlyScale(State& s);
  Status RolloutRolling(State& s);
  Status RolloutRecreate(State& s);
  // Splits `rs_list` into old and new; with `create`, makes the new ReplicaSet when none
  // matches the template. Brings revision annotations up to date.
  Status FindOrCreateNewReplicaSet(State& s, const std::vector<ObjectPtr>& rs_list, bool create);
  Status CreateNewReplicaSet(State& s, const std::vector<ObjectPtr>& rs_list, int64_t revision);
  // Sets rs's spec.replicas (and the replicas annotations); true when the size changed.
  Result<bool> ScaleReplicaSet(State& s, ObjectPtr& rs, int64_t replicas);
  Status Scale(State& s);
  Result<bool> ReconcileNewReplicaSet(State& s);
  Result<bool> ReconcileOldReplicaSets(State& s);
  Status CleanupDeployment(State& s);
  bool IsScalingEvent(const State& s) const;
  bool OldPodsRunning(const State& s) const;
  // Computes status and conditions from the ReplicaSets and writes them when changed.
  Status SyncRolloutStatus(State& s, bool progress_conditions);
  api::Document CalculateStatus(const State& s) const;
  Status UpdateDeploymentStatus(State& s, const api::Value& status);
  // Persists the Deployment's revision annotation when it differs from `revision`.
  Status SetDeploymentRevision(State& s, int64_t revision);
  Status CheckPausedConditions(State& s);

  std::string DeploymentKeyForRs(const api::Value& rs) const;
  void EnqueueMatchingDeployments(const api::Value& rs);

  client::RestClient* client_;
  informer::Informer& deployments_;
  informer::Informer& replicasets_;
  informer::Informer& pods_;
  const Clock* clock_;
  EventRecorder* events_;
};

}  // namespace kubepp::controller
