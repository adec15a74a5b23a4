#include "controller-manager/job/job_controller.h"

#include <algorithm>
#include <optional>

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

std::optional<int64_t> CompletionIndex(const api::Value& pod) {
  const api::Value* ann = api::Find(pod, "metadata.annotations");
  const api::Value* found = ann ? api::FindMember(*ann, JobController::kCompletionIndexAnnotation) : nullptr;
  std::string v = found && found->IsString() ? found->GetString() : "";
  if (v.empty() || v.size() > 9 || !std::all_of(v.begin(), v.end(), ::isdigit)) return std::nullopt;
  return std::stoll(v);
}

}  // namespace

std::set<int64_t> ParseIndexes(const std::string& text, int64_t limit) {
  std::set<int64_t> out;
  size_t p = 0;
  while (p < text.size()) {
    size_t comma = text.find(',', p);
    std::string part = text.substr(p, comma == std::string::npos ? std::string::npos : comma - p);
    p = comma == std::string::npos ? text.size() : comma + 1;
    size_t dash = part.find('-');
    auto num = [](const std::string& t) -> int64_t {
      if (t.empty() || t.size() > 9 || !std::all_of(t.begin(), t.end(), ::isdigit)) return -1;
      return std::stoll(t);
    };
    int64_t lo = num(part.substr(0, dash));
    int64_t hi = dash == std::string::npos ? lo : num(part.substr(dash + 1));
    if (lo < 0 || hi < lo) continue;
    for (int64_t i = lo; i <= hi && i < limit; ++i) out.insert(i);
  }
  return out;
}

std::string FormatIndexes(const std::set<int64_t>& indexes) {
  std::string out;
  for (auto it = indexes.begin(); it != indexes.end();) {
    int64_t lo = *it, hi = *it;
    for (++it; it != indexes.end() && *it == hi + 1; ++it) hi = *it;
    if (!out.empty()) out += ',';
    out += std::to_string(lo);
    if (hi != lo) out += '-' + std::to_string(hi);
  }
  return out;
}

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

namespace {

// Upstream's Indexed pod: the index as annotation and label, in the hostname and, for
// every container, as JOB_COMPLETION_INDEX (from the annotation, by the downward API).
void MakeIndexed(api::Document& pod, const std::string& job_name, int64_t index) {
  auto& a = pod.GetAllocator();
  std::string i = std::to_string(index);
  for (const char* where : {"metadata.annotations", "metadata.labels"}) {
    api::Value& m = api::Ensure(pod, where, a);
    if (m.HasMember(JobController::kCompletionIndexAnnotation)) {
      m[JobController::kCompletionIndexAnnotation].SetString(i.c_str(), static_cast<unsigned>(i.size()), a);
    } else {
      m.AddMember(rapidjson::StringRef(JobController::kCompletionIndexAnnotation), api::Str(i, a), a);
    }
  }
  api::SetString(pod, "metadata.generateName", job_name + "-" + i + "-", a);
  api::SetString(pod, "spec.hostname", job_name + "-" + i, a);
  for (const char* list : {"spec.containers", "spec.initContainers"}) {
    api::Value* cs = api::FindMutable(pod, list);
    if (cs == nullptr || !cs->IsArray()) continue;
    for (auto& c : cs->GetArray()) {
      api::Value env(rapidjson::kObjectType);
      env.AddMember("name", "JOB_COMPLETION_INDEX", a);
      api::SetString(env, "valueFrom.fieldRef.fieldPath",
                     std::string("metadata.annotations['") +
                         JobController::kCompletionIndexAnnotation + "']", a);
      if (!c.HasMember("env") || !c["env"].IsArray()) {
        c.RemoveMember("env");
        c.AddMember("env", api::Value(rapidjson::kArrayType), a);
      }
      c["env"].PushBack(std::move(env), a);
    }
  }
}

}  // namespace

Status JobController::CreatePods(const std::string& key, const api::Value& job, int count,
                                 const std::vector<int64_t>& indexes) {
  auto [ns, name] = SplitKey(key);
  api::Document scratch;
  api::Value cref = ControllerRefJson(job, "batch/v1", "Job", scratch.GetAllocator());
  const api::Value* tmpl = api::Find(job, "spec.template");
  api::Value empty(rapidjson::kObjectType);
  api::Document pod = PodFromTemplate(tmpl ? *tmpl : empty, ns, name + "-", cref);
  if (!indexes.empty()) count = static_cast<int>(indexes.size());
  expectations_.ExpectCreations(key, count);
  auto [created, error] = SlowStartBatch(count, write_parallelism_, [&](int i) {
    if (indexes.empty()) return client_->Create(client::kPods, ns, pod).status();
    api::Document indexed = api::Clone(pod);
    MakeIndexed(indexed, name, indexes[static_cast<size_t>(i)]);
    return client_->Create(client::kPods, ns, indexed).status();
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
  bool indexed = api::GetString(job, "spec.completionMode") == "Indexed";
  const api::Value* completions_v = api::Find(job, "spec.completions");
  bool has_completions = completions_v != nullptr && completions_v->IsInt64();
  int64_t completions = has_completions ? completions_v->GetInt64() : 0;
  // Indexed: the indexes that have succeeded (recorded, and from pods still present).
  std::set<int64_t> done = ParseIndexes(api::GetString(job, "status.completedIndexes"), completions);
  std::vector<ObjectPtr> active;
  int64_t succeeded = 0, failed = 0, ready = 0;
  for (const auto& p : pods) {
    std::string phase = api::GetString(*p, "status.phase");
    if (phase == "Succeeded") {
      ++succeeded;
      if (auto i = CompletionIndex(*p); i && *i < completions) done.insert(*i);
    } else if (phase == "Failed") {
      ++failed;
    } else if (!IsBeingDeleted(*p)) {
      active.push_back(p);
      ready += IsPodReady(*p);
    }
  }
  succeeded = indexed ? static_cast<int64_t>(done.size())
                      : std::max(succeeded, api::GetInt(job, "status.succeeded"));
  failed = std::max(failed, api::GetInt(job, "status.failed"));

  int64_t now = clock_->NowUnix();
  bool suspended = api::GetBool(job, "spec.suspend");
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
  } else if (need_sync && indexed) {
    manage = ManageIndexed(key, job, active, done, completions, parallelism);
  } else if (need_sync) {
    int64_t want = has_completions ? std::min(parallelism, completions - succeeded)
                                   : (succeeded > 0 ? 0 : parallelism);
    want = std::max<int64_t>(want, 0);
    int64_t diff = want - static_cast<int64_t>(active.size());
    if (diff > 0) {
      manage = CreatePods(key, job, static_cast<int>(std::min<int64_t>(diff, 500)), {});
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
  if (indexed) api::SetString(status, "completedIndexes", FormatIndexes(done), a);
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

Status JobController::ManageIndexed(const std::string& key, const api::Value& job,
                                    const std::vector<ObjectPtr>& active,
                                    const std::set<int64_t>& done, int64_t completions,
                                    int64_t parallelism) {
  // Active pods without a valid index, for a finished index, or a second one for an
  // index go; then the lowest indexes neither done nor running get a pod, up to
  // parallelism.
  std::set<int64_t> running;
  std::vector<ObjectPtr> extra;
  for (const auto& p : active) {
    auto i = CompletionIndex(*p);
    if (!i || *i >= completions || done.count(*i) || !running.insert(*i).second) extra.push_back(p);
  }
  if (!extra.empty()) return DeletePods(key, extra);
  std::vector<int64_t> todo;
  int64_t room = parallelism - static_cast<int64_t>(running.size());
  for (int64_t i = 0; i < completions && static_cast<int64_t>(todo.size()) < std::min<int64_t>(room, 500); ++i) {
    if (!done.count(i) && !running.count(i)) todo.push_back(i);
  }
  if (todo.empty()) return Status::Ok();
  return CreatePods(key, job, 0, todo);
}

}  // namespace kubepp::controller
