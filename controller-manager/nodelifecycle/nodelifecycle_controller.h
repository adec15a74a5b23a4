// Node lifecycle: notices nodes whose kubelet went silent and evicts their pods, as
// upstream's node lifecycle controller with taint-based eviction.
//
// Every monitor period, and at once when a node is added or its Ready condition changes
// (one work item, re-queued), it looks at each node:
//  - health: a node is heard from when its Lease (kube-node-lease/<node>) renewTime or
//    its Ready condition's lastHeartbeatTime changes; both are compared with this
//    process's own clock when they change, so clock skew between machines does not
//    matter. Silent for longer than the grace period: its conditions become Unknown
//    (NodeStatusUnknown) and its pods stop being Ready.
//  - taints: Ready Unknown -> node.kubernetes.io/unreachable, Ready False ->
//    node.kubernetes.io/not-ready, each with effects NoSchedule and NoExecute (timeAdded
//    for the latter); Ready True removes them.
//  - eviction: a pod on a node with a NoExecute taint it does not tolerate is deleted;
//    a toleration with tolerationSeconds (admission adds 300 s for both taints) delays
//    that until timeAdded + tolerationSeconds; one without it tolerates forever.
//  - disruption: when no node is ready, or more than 2 nodes and at least
//    unhealthy_zone_threshold of them are not ready, the control plane is more likely
//    cut off than the nodes dead: eviction stops until that ends (upstream's
//    fully/partially disrupted zone with no secondary eviction rate for small clusters).
//
// Thread safety: one work item; Sync runs on one worker at a time.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "common/client/rest_client.h"
#include "controller-manager/framework/clock.h"
#include "controller-manager/framework/controller.h"
#include "controller-manager/framework/events.h"
#include "controller-manager/framework/informers.h"

namespace kubepp::controller {

struct NodeLifecycleOptions {
  int64_t grace_period_seconds = 40;  // --node-monitor-grace-period
  int64_t monitor_period_seconds = 5;  // --node-monitor-period
  double unhealthy_zone_threshold = 0.55;
};

class NodeLifecycleController : public QueueController {
 public:
  static constexpr const char* kMonitorKey = "monitor";
  static constexpr const char* kUnreachableTaint = "node.kubernetes.io/unreachable";
  static constexpr const char* kNotReadyTaint = "node.kubernetes.io/not-ready";

  NodeLifecycleController(client::RestClient* client, SharedInformers* informers,
                          const Clock* clock, EventRecorder* events,
                          NodeLifecycleOptions options = {});

  void Started() override { Enqueue(kMonitorKey); }
  // One monitor pass over every node, then re-queued after the monitor period.
  Status Sync(const std::string& key) override;

  // Whether the last pass found the cluster disrupted (evictions stopped).
  bool Disrupted() const { return disrupted_; }

 private:
  struct Health {
    std::string lease_renew;   // last seen values
    std::string heartbeat;
    int64_t probe_time = 0;    // our clock when one of them last changed
  };
  // Updates the node's conditions when silent (then `node` becomes the written object);
  // returns its Ready status afterwards ("" when the kubelet never reported one and the
  // grace period has not passed).
  Result<std::string> MonitorHealth(ObjectPtr& node, int64_t now);
  Status SyncTaints(const api::Value& node, const std::string& ready, int64_t now);
  Status MarkPodsNotReady(const std::string& node_name);
  // Deletes pods whose tolerations ran out; sets *next_check to the soonest later
  // deadline (0 when none).
  Status EvictPods(const api::Value& node, int64_t now, int64_t* next_check);

  client::RestClient* client_;
  informer::Informer& nodes_;
  informer::Informer& leases_;
  informer::Informer& pods_;
  const Clock* clock_;
  EventRecorder* events_;
  NodeLifecycleOptions options_;
  std::map<std::string, Health> health_;  // by node name; touched only by Sync
  bool disrupted_ = false;
};

}  // namespace kubepp::controller
