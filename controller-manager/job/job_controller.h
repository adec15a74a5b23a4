// The Job controller (batch/v1): runs pods from the template until spec.completions of
// them succeed (or, without completions, until one succeeds and none is active), at most
// spec.parallelism at once; counts failed pods against backoffLimit; fails the Job after
// activeDeadlineSeconds; marks it Complete or Failed (conditions, completionTime) and
// deletes it ttlSecondsAfterFinished later. Status: startTime, active, ready, succeeded,
// failed.
//
// completionMode Indexed (as upstream): each pod gets an index in [0, completions) as
// annotation and label batch.kubernetes.io/job-completion-index, hostname <job>-<index>,
// and JOB_COMPLETION_INDEX in every container; the Job completes when every index has a
// succeeded pod (status.completedIndexes, e.g. "0-2,4"; succeeded = their number).
//
// Counting: succeeded and failed are taken as the larger of the recorded status and the
// terminal pods still present, so they never go down when finished pods are removed.
// Thread safety: Sync runs on several workers at once, for different keys.
#pragma once

#include <set>
#include <vector>

#include "common/client/rest_client.h"
#include "controller-manager/framework/clock.h"
#include "controller-manager/framework/events.h"
#include "controller-manager/framework/pod_owner_controller.h"

namespace kubepp::controller {

// "1,3-5" <-> {1,3,4,5}; indexes at or above `limit` and malformed parts are dropped.
std::set<int64_t> ParseIndexes(const std::string& text, int64_t limit);
std::string FormatIndexes(const std::set<int64_t>& indexes);

class JobController : public PodOwnerController {
 public:
  static constexpr const char* kCompletionIndexAnnotation = "batch.kubernetes.io/job-completion-index";

  JobController(client::RestClient* client, SharedInformers* informers, const Clock* clock,
                EventRecorder* events, int write_parallelism = 16);

  Status Sync(const std::string& key) override;

 private:
  // Deletes the pods in `pods` (active ones), with expectations.
  Status DeletePods(const std::string& key, const std::vector<ObjectPtr>& pods);
  // `count` pods, or one per index when `indexes` is not empty.
  Status CreatePods(const std::string& key, const api::Value& job, int count,
                    const std::vector<int64_t>& indexes);
  Status ManageIndexed(const std::string& key, const api::Value& job,
                       const std::vector<ObjectPtr>& active, const std::set<int64_t>& done,
                       int64_t completions, int64_t parallelism);
  Status SyncFinished(const std::string& key, const api::Value& job);

  client::RestClient* client_;
  const Clock* clock_;
  EventRecorder* events_;
  int write_parallelism_;
};

}  // namespace kubepp::controller
