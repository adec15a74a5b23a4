#include "controller-manager/job/job_controller.h"

#include <algorithm>

#include "common/util/time.h"
#include "controller-manager/framework/canonical.h"
#include "controller-manager/framework/conditions.h"
#include "controller-manager/framework/owner.h"
#include "controller-manager/framework/parallel.h"
#include "controller-manager/framework/pods.h"

namespace kubepp::controller {

using informer::SplitKey;

namespace {

bool Finished(const api::Value& job) {
  const api::Value* status = api::Find(job, "status");
  if (status == nullptr) return false;
  for (const char* type : {"Complete", "Failed"}) {
    const api::Value* c = FindCondition(*status, type);
    if (c != nullptr && api::GetString(*c, "status") == "True") return true;
  }
  return false;
}

}  // namespace

JobController::JobController(client::RestClient* client, SharedInformers* informers,
                             const Clock* clock, EventRecorder* events, int write_parallelism)
    : PodOwnerController("job", "Job", informers->For(client::kJobs), informers->For(client::kPods)),
      client_(client),
      clock_(clock),
      events_(events),
      write_parallelism_(write_parallelism) {}

Status JobController::SyncFinished(const std::string& key, const api::Value& job) {
  const api::Value* ttl = api::Find(job, "spec.ttlSecondsAfterFinished");
  if (ttl == nullptr || !ttl->IsInt64()) return Status::Ok();
  int64_t finished = TimeField(job, "status.completionTime");
  if (finished == 0) {
    const api::Value* failed = FindCondition(*api::Find(job, "status"), "Failed");
    if (failed != nullptr) finished = TimeField(*failed, "lastTransitionTime");
  }
  int64_t due = finished + ttl->GetInt64() - clock_->NowUnix();
  if (due > 0) {
    EnqueueAfter(key, std::chrono::seconds(due));
    return Status::Ok();
  }
  auto [ns, name] = SplitKey(key);
  client::DeleteOptions opts;
  opts.propagation_policy = "Background";
  opts.precondition_uid = api::GetString(job, "metadata.uid");
  Status st = client_->Delete(client::kJobs, ns, name, opts);
  return st.code() == Code::kNotFound || st.code() == Code::kConflict ? Status::Ok() : st;
}

Status JobController::CreatePods(const std::string& key, const api::Value& job, int count) {
  auto [ns, name] = SplitKey(key);
  api::Document scratch;
  api::Value cref = ControllerRefJson(job, "batch/v1", "Job", scratch.GetAllocator());
  const api::Value* tmpl = api::Find(job, "spec.template");
  api::Value empty(rapidjson::kObjectType);
  api::Document pod = PodFromTemplate(tmpl ? *tmpl : empty, ns, name + "-", cref);
  expectations_.ExpectCreations(key, count);
  auto [created, error] = SlowStartBatch(count, write_parallelism_, [&](int) {
    return client_->Create(client::kPods, ns, pod).status();
  });
  if (!error.ok()) {
    expectations_.LowerCreations(key, count - created);
    events_->Event(job, "Warning", "FailedCreate", "Error creating: " + error.message());
    return error;
  }
  events_->Event(job, "Normal", "SuccessfulCreate", "Created " + std::to_string(count) + " pod(s)");
  return Status::Ok();
}

Status JobController::DeletePods(const std::string& key, const std::vector<ObjectPtr>& pods) {
  std::vector<std::string> uids;
  for (const auto& p : pods) uids.push_back(api::GetString(*p, "metadata.uid"));
  expectations_.ExpectDeletions(key, uids);
  std::mutex mu;
  Status first_error;
  ParallelFor(static_cast<int>(pods.size()), write_parallelism_, [&](int i) {
    client::DeleteOptions opts;
    opts.precondition_uid = uids[i];
    Status st = client_->Delete(client::kPods, api::GetString(*pods[i], "metadata.namespace"),
                                api::GetString(*pods[i], "metadata.name"), opts);
    if (st.ok()) return;
    expectations_.DeletionObserved(key, uids[i]);
    if (st.code() == Code::kNotFound) return;
    std::lock_guard lock(mu);
    if (first_error.ok()) first_error = std::move(st);
  });
  return first_error;
}

Status JobController::Sync(const std::string& key) {
  ObjectPtr cached = owners_.Get(key);
  if (!cached) {
    expectations_.Delete(key);
    return Status::Ok();
  }
  const api::Value& job = *cached;
  if (Finished(job)) return SyncFinished(key, job);
  auto [ns, name] = SplitKey(key);
  auto selector = api::LabelSelector::FromJson(api::Find(job, "spec.selector"));
  if (!selector.ok()) return Status::Ok();  // invalid until the spec changes
  bool need_sync = expectations_.Satisfied(key) && !IsBeingDeleted(job);
  std::vector<ObjectPtr> candidates;
  for (const auto& p : pods_.List()) {
    if (api::GetString(*p, "metadata.namespace") == ns) candidates.push_back(p);
  }
  ASSIGN_OR_RETURN(std::vector<ObjectPtr> pods,
                   ClaimObjects(client_, client::kPods, job, "batch/v1", "Job", *selector,
                                candidates, RecheckOwner(client_, client::kJobs, job)));
  std::vector<ObjectPtr> active;
  int64_t succeeded = 0, failed = 0, ready = 0;
  for (const auto& p : pods) {
    std::string phase = api::GetString(*p, "status.phase");
    if (phase == "Succeeded") {
      ++succeeded;
    } else if (phase == "Failed") {
      ++failed;
    } else if (!IsBeingDeleted(*p)) {
      active.push_back(p);
      ready += IsPodReady(*p);
    }
  }
  succeeded = std::max(succeeded, api::GetInt(job, "status.succeeded"));
  failed = std::max(failed, api::GetInt(job, "status.failed"));

  int64_t now = clock_->NowUnix();
  bool suspended = api::GetBool(job, "spec.suspend");
  const api::Value* completions_v = api::Find(job, "spec.completions");
  bool has_completions = completions_v != nullptr && completions_v->IsInt64();
  int64_t completions = has_completions ? completions_v->GetInt64() : 0;
  int64_t parallelism = api::GetInt(job, "spec.parallelism", 1);
  int64_t backoff_limit = api::GetInt(job, "spec.backoffLimit", 6);
  int64_t start = TimeField(job, "status.startTime");
  if (start == 0 && !suspended) start = now;

  // Terminal outcomes, in upstream's order of precedence.
  Condition finish;
  if (failed > backoff_limit) {
    finish = {"Failed", "True", "BackoffLimitExceeded", "Job has reached the specified backoff limit"};
  } else if (const api::Value* ads = api::Find(job, "spec.activeDeadlineSeconds");
             ads != nullptr && ads->IsInt64() && start != 0 && now - start >= ads->GetInt64()) {
    finish = {"Failed", "True", "DeadlineExceeded", "Job was active longer than specified deadline"};
  } else if (has_completions ? succeeded >= completions : succeeded > 0 && active.empty()) {
    finish = {"Complete", "True", "CompletionsReached", "Reached expected number of succeeded pods"};
  }

  Status manage;
  if (!finish.type.empty() || suspended) {
    if (!active.empty()) manage = DeletePods(key, active);
  } else if (need_sync) {
    int64_t want = has_completions ? std::min(parallelism, completions - succeeded)
                                   : (succeeded > 0 ? 0 : parallelism);
    want = std::max<int64_t>(want, 0);
    int64_t diff = want - static_cast<int64_t>(active.size());
    if (diff > 0) {
      manage = CreatePods(key, job, static_cast<int>(std::min<int64_t>(diff, 500)));
    } else if (diff < 0) {
      std::vector<ObjectPtr> extra = active;
      std::stable_sort(extra.begin(), extra.end(),
                       [](const ObjectPtr& a, const ObjectPtr& b) { return DeletePodFirst(*a, *b); });
      extra.resize(static_cast<size_t>(-diff));
      manage = DeletePods(key, extra);
    }
  }
  if (!finish.type.empty() && finish.type == "Failed") {
    events_->Event(job, "Warning", finish.reason, finish.message);
  }

  api::Document next = api::Clone(job);
  auto& a = next.GetAllocator();
  api::Value& status = api::Ensure(next, "status", a);
  std::string stamp = util::FormatRfc3339(now);
  if (start != 0 && !api::Has(status, "startTime")) api::SetString(status, "startTime", stamp, a);
  api::SetInt(status, "active", finish.type.empty() ? static_cast<int64_t>(active.size()) : 0, a);
  api::SetInt(status, "ready", finish.type.empty() ? ready : 0, a);
  api::SetInt(status, "succeeded", succeeded, a);
  api::SetInt(status, "failed", failed, a);
  if (!finish.type.empty()) {
    SetCondition(status, finish, stamp, false, false, a);
    // Upstream also records the criteria that led there.
    SetCondition(status, {finish.type == "Complete" ? "SuccessCriteriaMet" : "FailureTarget", "True",
                          finish.reason, finish.message},
                 stamp, false, false, a);
    if (finish.type == "Complete") api::SetString(status, "completionTime", stamp, a);
  }
  const api::Value* old_status = api::Find(job, "status");
  if (old_status == nullptr || CanonicalJson(*old_status) != CanonicalJson(status)) {
    RETURN_IF_ERROR(client_->UpdateStatus(client::kJobs, "", next).status());
    if (finish.type == "Complete") events_->Event(job, "Normal", "Completed", "Job completed");
  }
  if (finish.type.empty() && manage.ok()) {
    // Wake up for the active deadline.
    if (const api::Value* ads = api::Find(job, "spec.activeDeadlineSeconds");
        ads != nullptr && ads->IsInt64() && start != 0) {
      EnqueueAfter(key, std::chrono::seconds(std::max<int64_t>(start + ads->GetInt64() - now, 1)));
    }
  }
  return manage;
}

}  // namespace kubepp::controller
