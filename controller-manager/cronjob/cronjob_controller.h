// The CronJob controller: creates a Job from spec.jobTemplate at each scheduled time
// (spec.schedule, in spec.timeZone or UTC), as upstream's cronjob controller v2.
//
// Sync(namespace/name): refreshes status.active from the Jobs it owns (finished ones
// leave it; completed ones set lastSuccessfulTime); unless suspended, finds the most
// recent scheduled time since status.lastScheduleTime (or creation) that is not older
// than startingDeadlineSeconds and, if no Job exists for it yet, applies
// concurrencyPolicy (Allow; Forbid skips while a Job is active; Replace deletes active
// Jobs) and creates the Job "<name>-<minutes since epoch>" (deterministic, so a restart
// never creates one twice). Finished Jobs beyond successfulJobsHistoryLimit (3) and
// failedJobsHistoryLimit (1) are deleted. The key is requeued for the next scheduled
// time.
// Thread safety: Sync runs on several workers at once, for different keys.
#pragma once

#include "common/client/rest_client.h"
#include "controller-manager/framework/clock.h"
#include "controller-manager/framework/controller.h"
#include "controller-manager/framework/events.h"
#include "controller-manager/framework/informers.h"

namespace kubepp::controller {

class CronJobController : public QueueController {
 public:
  CronJobController(client::RestClient* client, SharedInformers* informers, const Clock* clock,
                    EventRecorder* events, std::string zoneinfo_dir = "/usr/share/zoneinfo");

  Status Sync(const std::string& key) override;

 private:
  std::string OwnerKey(const api::Value& job) const;
  Status CleanupHistory(const api::Value& cj, std::vector<ObjectPtr> finished);

  client::RestClient* client_;
  informer::Informer& cronjobs_;
  informer::Informer& jobs_;
  const Clock* clock_;
  EventRecorder* events_;
  std::string zoneinfo_dir_;
};

}  // namespace kubepp::controller
