// The Job controller (batch/v1, NonIndexed completion mode): runs pods from the
// template until spec.completions of them succeed (or, without completions, until one
// succeeds and none is active), at most spec.parallelism at once; counts failed pods
// against backoffLimit; fails the Job after activeDeadlineSeconds; marks it Complete or
// Failed (conditions, completionTime) and deletes it ttlSecondsAfterFinished later.
// Status: startTime, active, ready, succeeded, failed.
//
// Counting: succeeded and failed are taken as the larger of the recorded status and the
// terminal pods still present, so they never go down when finished pods are removed.
// Thread safety: Sync runs on several workers at once, for different keys.
#pragma once

#include "common/client/rest_client.h"
#include "controller-manager/framework/clock.h"
#include "controller-manager/framework/events.h"
#include "controller-manager/framework/pod_owner_controller.h"

namespace kubepp::controller {

class JobController : public PodOwnerController {
 public:
  JobController(client::RestClient* client, SharedInformers* informers, const Clock* clock,
                EventRecorder* events, int write_parallelism = 16);

  Status Sync(const std::string& key) override;

 private:
  // Deletes the pods in `pods` (active ones), with expectations.
  Status DeletePods(const std::string& key, const std::vector<ObjectPtr>& pods);
  Status CreatePods(const std::string& key, const api::Value& job, int count);
  Status SyncFinished(const std::string& key, const api::Value& job);

  client::RestClient* client_;
  const Clock* clock_;
  EventRecorder* events_;
  int write_parallelism_;
};

}  // namespace kubepp::controller
