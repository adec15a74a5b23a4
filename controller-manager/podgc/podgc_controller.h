// Pod garbage collection, as upstream's PodGC controller. Every check period (one work
// item, re-queued) it force-deletes (grace period 0) pods nothing else will remove:
//  - orphaned: bound to a node that does not exist, once the node has been missing for
//    the quarantine time (a node being re-registered is not mistaken for a gone one);
//  - unscheduled and terminating: deleted before any node took them;
//  - terminating on a node tainted node.kubernetes.io/out-of-service that is not Ready
//    (the operator said the node is gone for good: its kubelet will never confirm);
// and, above --terminated-pod-gc-threshold finished (Succeeded/Failed) pods, deletes the
// oldest finished ones down to the threshold (0 disables that part).
// Before deleting an orphaned or out-of-service pod that is still running it sets the
// DisruptionTarget condition (reason DeletionByPodGC), as upstream.
// Thread safety: one work item; Sync runs on one worker at a time.
#pragma once

#include <map>
#include <string>

#include "common/client/rest_client.h"
#include "controller-manager/framework/clock.h"
#include "controller-manager/framework/controller.h"
#include "controller-manager/framework/informers.h"

namespace kubepp::controller {

struct PodGcOptions {
  int64_t terminated_pod_gc_threshold = 12500;  // --terminated-pod-gc-threshold
  int64_t check_period_seconds = 20;            // upstream's gcCheckPeriod
  int64_t quarantine_seconds = 40;              // upstream's quarantineTime
};

class PodGcController : public QueueController {
 public:
  static constexpr const char* kCheckKey = "gc";
  static constexpr const char* kOutOfServiceTaint = "node.kubernetes.io/out-of-service";

  PodGcController(client::RestClient* client, SharedInformers* informers, const Clock* clock,
                  PodGcOptions options = {});

  void Started() override { Enqueue(kCheckKey); }
  Status Sync(const std::string& key) override;

 private:
  Status ForceDelete(const api::Value& pod, bool mark_disruption);

  client::RestClient* client_;
  informer::Informer& pods_;
  informer::Informer& nodes_;
  const Clock* clock_;
  PodGcOptions options_;
  std::map<std::string, int64_t> missing_since_;  // node name -> first seen missing
};

}  // namespace kubepp::controller
