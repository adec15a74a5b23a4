// The DaemonSet controller: one pod per eligible node. A node is eligible when the
// template's nodeSelector and required node affinity match it and its NoSchedule /
// NoExecute taints are tolerated (daemon pods also get upstream's default tolerations
// for not-ready, unreachable, pressure and unschedulable nodes). Pods are bound to
// their node directly (spec.nodeName) plus a node-affinity term naming it, so they run
// whether or not a scheduler is up. Pods on nodes that are no longer eligible, failed
// pods and duplicates are deleted. RollingUpdate replaces pods whose
// controller-revision-hash label differs from the template's, keeping at most
// maxUnavailable daemon pods unavailable, or, with maxSurge, starting the new pod beside
// the old one on at most maxSurge nodes at a time and deleting the old one once the new
// one is available (no node without a ready daemon pod); OnDelete leaves them alone.
// Status: desiredNumberScheduled, currentNumberScheduled, numberMisscheduled,
// numberReady, numberAvailable, numberUnavailable, updatedNumberScheduled,
// observedGeneration, collisionCount. Each template is snapshotted into a
// ControllerRevision <name>-<hash> (framework/history.h) whose hash is the pods'
// controller-revision-hash, so `kubectl rollout history|undo daemonset` work; revisions
// no pod runs beyond spec.revisionHistoryLimit are deleted.
// Thread safety: Sync runs on several workers at once, for different keys.
#pragma once

#include "common/client/rest_client.h"
#include "controller-manager/framework/clock.h"
#include "controller-manager/framework/events.h"
#include "controller-manager/framework/pod_owner_controller.h"

namespace kubepp::controller {

// Whether a DaemonSet with pod template `tmpl` should run a pod on `node`.
bool DaemonShouldRun(const api::Value& tmpl, const api::Value& node);

class DaemonSetController : public PodOwnerController {
 public:
  DaemonSetController(client::RestClient* client, SharedInformers* informers, const Clock* clock,
                      EventRecorder* events);

  Status Sync(const std::string& key) override;

 private:
  informer::Informer& nodes_;
  informer::Informer& revisions_;
  client::RestClient* client_;
  const Clock* clock_;
  EventRecorder* events_;
};

}  // namespace kubepp::controller
