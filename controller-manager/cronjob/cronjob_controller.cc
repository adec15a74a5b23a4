#include "controller-manager/cronjob/cronjob_controller.h"

#include <algorithm>
#include <set>

#include "common/util/time.h"
#include "controller-manager/cronjob/cron.h"
#include "controller-manager/framework/canonical.h"
#include "controller-manager/framework/conditions.h"
#include "controller-manager/framework/owner.h"
#include "controller-manager/framework/pods.h"

namespace kubepp::controller {

using informer::KeyOf;
using informer::SplitKey;

namespace {

// "Complete" or "Failed" when the Job has finished, else "".
std::string Finished(const api::Value& job) {
  const api::Value* status = api::Find(job, "status");
  if (status == nullptr) return "";
  for (const char* type : {"Complete", "Failed"}) {
    const api::Value* c = FindCondition(*status, type);
    if (c != nullptr && api::GetString(*c, "status") == "True") return type;
  }
  return "";
}

}  // namespace

CronJobController::CronJobController(client::RestClient* client, SharedInformers* informers,
                                     const Clock* clock, EventRecorder* events,
                                     std::string zoneinfo_dir)
    : QueueController("cronjob"),
      client_(client),
      cronjobs_(informers->For(client::kCronJobs)),
      jobs_(informers->For(client::kJobs)),
      clock_(clock),
      events_(events),
      zoneinfo_dir_(std::move(zoneinfo_dir)) {
  cronjobs_.AddEventHandler({
      [this](const ObjectPtr& cj) { Enqueue(KeyOf(*cj)); },
      [this](const ObjectPtr&, const ObjectPtr& cj) { Enqueue(KeyOf(*cj)); },
      nullptr,
  });
  auto on_job = [this](const ObjectPtr& job) {
    std::string key = OwnerKey(*job);
    if (!key.empty()) Enqueue(key);
  };
  jobs_.AddEventHandler(
      {on_job, [on_job](const ObjectPtr&, const ObjectPtr& job) { on_job(job); }, on_job});
}

std::string CronJobController::OwnerKey(const api::Value& job) const {
  auto ref = ControllerOf(job);
  if (!ref || ref->kind != "CronJob") return "";
  std::string key = api::GetString(job, "metadata.namespace") + "/" + ref->name;
  ObjectPtr cj = cronjobs_.Get(key);
  return cj && api::GetString(*cj, "metadata.uid") == ref->uid ? key : "";
}

Status CronJobController::CleanupHistory(const api::Value& cj, std::vector<ObjectPtr> finished) {
  std::sort(finished.begin(), finished.end(), [](const ObjectPtr& a, const ObjectPtr& b) {
    int64_t ta = TimeField(*a, "status.startTime"), tb = TimeField(*b, "status.startTime");
    if (ta != tb) return ta < tb;
    return api::GetString(*a, "metadata.name") < api::GetString(*b, "metadata.name");
  });
  for (const char* kind : {"Complete", "Failed"}) {
    bool complete = std::string(kind) == "Complete";
    int64_t limit = api::GetInt(cj, complete ? "spec.successfulJobsHistoryLimit"
                                             : "spec.failedJobsHistoryLimit",
                                complete ? 3 : 1);
    std::vector<ObjectPtr> these;
    for (const auto& j : finished) {
      if (Finished(*j) == kind && !IsBeingDeleted(*j)) these.push_back(j);
    }
    for (int64_t i = 0; i + limit < static_cast<int64_t>(these.size()); ++i) {
      client::DeleteOptions opts;
      opts.propagation_policy = "Background";
      opts.precondition_uid = api::GetString(*these[i], "metadata.uid");
      Status st = client_->Delete(client::kJobs, api::GetString(*these[i], "metadata.namespace"),
                                  api::GetString(*these[i], "metadata.name"), opts);
      if (!st.ok() && st.code() != Code::kNotFound && st.code() != Code::kConflict) return st;
    }
  }
  return Status::Ok();
}

Status CronJobController::Sync(const std::string& key) {
  ObjectPtr cached = cronjobs_.Get(key);
  if (!cached || IsBeingDeleted(*cached)) return Status::Ok();
  const api::Value& cj = *cached;
  auto [ns, name] = SplitKey(key);
  std::string uid = api::GetString(cj, "metadata.uid");
  std::vector<ObjectPtr> active, finished;
  std::set<std::string> job_names;
  int64_t last_success = TimeField(cj, "status.lastSuccessfulTime");
  for (const auto& job : jobs_.List()) {
    if (api::GetString(*job, "metadata.namespace") != ns) continue;
    auto ref = ControllerOf(*job);
    if (!ref || ref->uid != uid) continue;
    job_names.insert(api::GetString(*job, "metadata.name"));
    std::string done = Finished(*job);
    if (done.empty()) {
      active.push_back(job);
    } else {
      finished.push_back(job);
      if (done == "Complete") {
        last_success = std::max(last_success, TimeField(*job, "status.completionTime"));
      }
    }
  }

  int64_t now = clock_->NowUnix();
  std::string last_schedule = api::GetString(cj, "status.lastScheduleTime");
  std::optional<ObjectPtr> created;
  Status result;
  int64_t next_wake = 0;
  auto tz = TimeZone::Load(api::GetString(cj, "spec.timeZone"), zoneinfo_dir_);
  auto schedule = CronSchedule::Parse(api::GetString(cj, "spec.schedule"));
  if (!tz.ok()) {
    events_->Event(cj, "Warning", "UnknownTimeZone", tz.status().message());
  } else if (!schedule.ok()) {
    events_->Event(cj, "Warning", "InvalidSchedule", schedule.status().message());
  } else if (!api::GetBool(cj, "spec.suspend")) {
    int64_t earliest = TimeField(cj, "status.lastScheduleTime");
    if (earliest == 0) earliest = TimeField(cj, "metadata.creationTimestamp");
    const api::Value* deadline = api::Find(cj, "spec.startingDeadlineSeconds");
    if (deadline != nullptr && deadline->IsInt64()) {
      earliest = std::max(earliest, now - deadline->GetInt64() - 1);
    }
    // The most recent scheduled time in (earliest, now].
    int64_t scheduled = 0, missed = 0;
    for (auto t = schedule->Next(earliest, *tz); t && *t <= now; t = schedule->Next(*t, *tz)) {
      scheduled = *t;
      ++missed;
    }
    if (missed > 100) {
      events_->Event(cj, "Warning", "TooManyMissedTimes",
                     "too many missed start times: " + std::to_string(missed) +
                         "; check clock skew or set startingDeadlineSeconds");
    }
    if (auto next = schedule->Next(now, *tz)) next_wake = *next;
    std::string job_name = name + "-" + std::to_string(scheduled / 60);
    std::string policy = api::GetString(cj, "spec.concurrencyPolicy", "Allow");
    if (scheduled != 0 && !job_names.count(job_name)) {
      if (policy == "Forbid" && !active.empty()) {
        events_->Event(cj, "Normal", "JobAlreadyActive",
                       "Not starting job because prior execution is running and concurrency "
                       "policy is Forbid");
      } else {
        if (policy == "Replace") {
          for (const auto& job : active) {
            client::DeleteOptions opts;
            opts.propagation_policy = "Background";
            opts.precondition_uid = api::GetString(*job, "metadata.uid");
            Status st = client_->Delete(client::kJobs, ns, api::GetString(*job, "metadata.name"), opts);
            if (!st.ok() && st.code() != Code::kNotFound && st.code() != Code::kConflict) return st;
            events_->Event(cj, "Normal", "SuccessfulDelete",
                           "Deleted job " + api::GetString(*job, "metadata.name"));
          }
          active.clear();
        }
        api::Document job;
        job.SetObject();
        auto& a = job.GetAllocator();
        api::SetString(job, "apiVersion", "batch/v1", a);
        api::SetString(job, "kind", "Job", a);
        api::SetString(job, "metadata.name", job_name, a);
        api::SetString(job, "metadata.namespace", ns, a);
        for (const char* f : {"labels", "annotations"}) {
          if (const api::Value* v = api::Find(cj, std::string("spec.jobTemplate.metadata.") + f)) {
            api::SetValue(job, std::string("metadata.") + f, api::Value(*v, a), a);
          }
        }
        api::Value& ann = api::Ensure(job, "metadata.annotations", a);
        ann.RemoveMember("batch.kubernetes.io/cronjob-scheduled-timestamp");
        ann.AddMember("batch.kubernetes.io/cronjob-scheduled-timestamp",
                      api::Str(util::FormatRfc3339(scheduled), a), a);
        api::Value refs(rapidjson::kArrayType);
        refs.PushBack(ControllerRefJson(cj, "batch/v1", "CronJob", a), a);
        api::SetValue(job, "metadata.ownerReferences", std::move(refs), a);
        if (const api::Value* spec = api::Find(cj, "spec.jobTemplate.spec")) {
          api::SetValue(job, "spec", api::Value(*spec, a), a);
        }
        auto r = client_->Create(client::kJobs, ns, job);
        if (r.ok()) {
          events_->Event(cj, "Normal", "SuccessfulCreate", "Created job " + job_name);
          created = std::make_shared<const api::Document>(std::move(r).value());
          last_schedule = util::FormatRfc3339(scheduled);
        } else if (r.status().code() == Code::kAlreadyExists) {
          last_schedule = util::FormatRfc3339(scheduled);  // made before, not yet cached
        } else {
          events_->Event(cj, "Warning", "FailedCreate",
                         "Error creating job: " + r.status().message());
          result = std::move(r).take_status();
        }
      }
    }
  }

  api::Document next = api::Clone(cj);
  auto& a = next.GetAllocator();
  api::Value& status = api::Ensure(next, "status", a);
  api::Value refs(rapidjson::kArrayType);
  if (created) active.push_back(*created);
  for (const auto& job : active) {
    api::Value ref(rapidjson::kObjectType);
    ref.AddMember("apiVersion", "batch/v1", a);
    ref.AddMember("kind", "Job", a);
    ref.AddMember("name", api::Str(api::GetString(*job, "metadata.name"), a), a);
    ref.AddMember("namespace", api::Str(ns, a), a);
    ref.AddMember("uid", api::Str(api::GetString(*job, "metadata.uid"), a), a);
    ref.AddMember("resourceVersion", api::Str(api::GetString(*job, "metadata.resourceVersion"), a), a);
    refs.PushBack(std::move(ref), a);
  }
  status.RemoveMember("active");
  if (!refs.Empty()) status.AddMember("active", std::move(refs), a);
  if (!last_schedule.empty()) api::SetString(status, "lastScheduleTime", last_schedule, a);
  if (last_success != 0) api::SetString(status, "lastSuccessfulTime", util::FormatRfc3339(last_success), a);
  const api::Value* old_status = api::Find(cj, "status");
  api::Value empty(rapidjson::kObjectType);
  if (!SemanticEqual(old_status ? *old_status : empty, status)) {
    RETURN_IF_ERROR(client_->UpdateStatus(client::kCronJobs, "", next).status());
  }
  RETURN_IF_ERROR(CleanupHistory(cj, finished));
  if (next_wake != 0) {
    EnqueueAfter(key, std::chrono::seconds(std::max<int64_t>(next_wake - clock_->NowUnix(), 0)) +
                          std::chrono::milliseconds(100));
  }
  return result;
}

}  // namespace kubepp::controller
