#include "scheduler/scheduler.h"

#include "common/log.h"
#include "common/metrics.h"
#include "common/util/time.h"
#include "scheduler/plugins/plugins.h"

namespace kubepp::scheduler {
namespace {

using informer::ObjectPtr;
using Seconds = std::chrono::duration<double>;

struct Metrics {
  metrics::CounterVec& attempts = metrics::Registry::Default().AddCounterVec(
      "scheduler_schedule_attempts_total",
      "Scheduling attempts by result (scheduled, unschedulable, error).", {"result"});
  metrics::Histogram& attempt_duration = metrics::Registry::Default().AddHistogram(
      "scheduler_scheduling_attempt_duration_seconds",
      "Time of one scheduling cycle (filter + score + assume), without binding.",
      metrics::ExponentialBuckets(0.00005, 2, 16));
  metrics::Histogram& binding_duration = metrics::Registry::Default().AddHistogram(
      "scheduler_binding_duration_seconds", "Time of one binding request.",
      metrics::DefaultBuckets());
  metrics::GaugeVec& pending = metrics::Registry::Default().AddGaugeVec(
      "scheduler_pending_pods", "Pods in the scheduling queue by part.", {"queue"});
  metrics::GaugeVec& cache = metrics::Registry::Default().AddGaugeVec(
      "scheduler_cache_size", "Nodes, pods and assumed pods in the scheduler cache.", {"type"});
  metrics::Counter& binding_errors = metrics::Registry::Default().AddCounter(
      "scheduler_binding_errors_total", "Binding requests that failed.");
};

Metrics& M() {
  static Metrics m;
  return m;
}

client::ObjectReference PodRef(const PodInfo& pod) {
  return {"Pod", "v1", pod.ns, pod.name, pod.uid, pod.resource_version};
}

std::string Quoted(std::string_view s) {
  std::string out;
  api::AppendQuoted(out, s);
  return out;
}

}  // namespace

Scheduler::Scheduler(client::RestClient* client, SchedulerConfig config)
    : client_(client),
      config_(std::move(config)),
      queue_(config_.queue),
      framework_(plugins::DefaultProfile(), config_.percentage_of_nodes_to_score),
      events_(client, {.component = config_.scheduler_name, .host = "", .instance = "",
                       .workers = 2, .max_queued = 2000}),
      status_queue_(informer::WorkQueueOptions{std::chrono::milliseconds(100),
                                               std::chrono::seconds(10)}) {
  informer::InformerOptions pod_options;
  // Terminal pods hold no resources; upstream's scheduler watches the same set.
  pod_options.field_selector = "status.phase!=Succeeded,status.phase!=Failed";
  pods_ = std::make_unique<informer::Informer>(client_, client::kPods, pod_options);
  nodes_ = std::make_unique<informer::Informer>(client_, client::kNodes);
  namespaces_ = std::make_unique<informer::Informer>(client_, client::kNamespaces);
  AddHandlers();
}

Scheduler::~Scheduler() { Stop(); }

bool Scheduler::Responsible(const PodInfo& pod) const {
  return pod.scheduler_name == config_.scheduler_name && !pod.terminating && !pod.gated;
}

void Scheduler::AddHandlers() {
  pods_->AddEventHandler({
      .on_add = [this](const ObjectPtr& o) { OnPodAdd(o); },
      .on_update = [this](const ObjectPtr& old, const ObjectPtr& o) { OnPodUpdate(old, o); },
      .on_delete = [this](const ObjectPtr& o) { OnPodDelete(o); },
  });
  auto node_changed = [this](const ObjectPtr& o) {
    if (cache_.AddOrUpdateNode(ParseNode(*o))) queue_.MoveAllToActiveOrBackoff();
  };
  nodes_->AddEventHandler({
      .on_add = node_changed,
      .on_update = [node_changed](const ObjectPtr&, const ObjectPtr& o) { node_changed(o); },
      .on_delete = [this](const ObjectPtr& o) {
        cache_.RemoveNode(api::GetString(*o, "metadata.name"));
      },
  });
  auto ns_changed = [this](const ObjectPtr& o) {
    cache_.SetNamespace(api::GetString(*o, "metadata.name"),
                        api::GetStringMap(*o, "metadata.labels"));
  };
  namespaces_->AddEventHandler({
      .on_add = ns_changed,
      .on_update = [ns_changed](const ObjectPtr&, const ObjectPtr& o) { ns_changed(o); },
      .on_delete = [this](const ObjectPtr& o) {
        cache_.RemoveNamespace(api::GetString(*o, "metadata.name"));
      },
  });
}

void Scheduler::OnPodAdd(const ObjectPtr& obj) {
  auto pod = ParsePod(*obj);
  if (!pod.ok()) {
    LOG(WARNING) << "pod " << informer::KeyOf(*obj) << " cannot be scheduled: "
                 << pod.status().message();
    return;
  }
  const PodPtr& p = *pod;
  if (!p->node_name.empty()) {
    cache_.AddPod(p);
    // A new pod may satisfy a parked pod's required affinity.
    queue_.MoveAllToActiveOrBackoff(
        [](const PodInfo& waiting) { return !waiting.required_affinity.empty(); });
    return;
  }
  if (Responsible(*p) && !cache_.Contains(p->key)) queue_.Add(p);
}

void Scheduler::OnPodUpdate(const ObjectPtr& old_obj, const ObjectPtr& obj) {
  auto pod = ParsePod(*obj);
  if (!pod.ok()) return OnPodDelete(old_obj);
  const PodPtr& p = *pod;
  if (!p->node_name.empty()) {
    queue_.Delete(p->key);
    bool was_assigned = !api::GetString(*old_obj, "spec.nodeName").empty();
    cache_.AddPod(p);
    if (!was_assigned) {
      queue_.MoveAllToActiveOrBackoff(
          [](const PodInfo& waiting) { return !waiting.required_affinity.empty(); });
    }
    return;
  }
  if (!Responsible(*p)) {
    queue_.Delete(p->key);
    return;
  }
  // An assumed pod's own status/annotation updates must not requeue it.
  if (!cache_.IsAssumed(p->key)) queue_.Update(p);
}

void Scheduler::OnPodDelete(const ObjectPtr& obj) {
  std::string key = informer::KeyOf(*obj);
  queue_.Delete(key);
  bool was_assigned = !api::GetString(*obj, "spec.nodeName").empty();
  cache_.RemovePod(key);
  if (was_assigned) queue_.MoveAllToActiveOrBackoff();  // its resources are free again
}

ObjectPtr Scheduler::CurrentPod(const std::string& key) const { return pods_->Get(key); }

Status Scheduler::Start(std::chrono::milliseconds sync_timeout) {
  if (started_) return Status::Ok();
  started_ = true;
  namespaces_->Start();
  nodes_->Start();
  pods_->Start();
  auto deadline = std::chrono::steady_clock::now() + sync_timeout;
  for (auto* inf : {namespaces_.get(), nodes_.get(), pods_.get()}) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (!inf->WaitForSync(std::max(left, std::chrono::milliseconds(1)))) {
      return Unavailable("scheduler informers did not sync within " +
                         std::to_string(sync_timeout.count()) + " ms");
    }
  }
  auto stats = cache_.GetStats();
  LOG(INFO) << "scheduler: caches synced: " << stats.nodes << " nodes, " << stats.pods
            << " bound pods, " << queue_.GetCounts().active << " pending pods";
  threads_.emplace_back([this] { ScheduleLoop(); });
  for (int i = 0; i < std::max(1, config_.bind_workers); ++i) {
    threads_.emplace_back([this] { BindLoop(); });
  }
  for (int i = 0; i < std::max(1, config_.status_workers); ++i) {
    threads_.emplace_back([this] { StatusLoop(); });
  }
  return Status::Ok();
}

void Scheduler::Stop() {
  if (!started_) return;
  started_ = false;
  queue_.Close();
  {
    std::lock_guard lock(bind_mu_);
    bind_stopping_ = true;
  }
  bind_cv_.notify_all();
  status_queue_.ShutDown();
  for (auto& t : threads_) t.join();
  threads_.clear();
  pods_->Stop();
  nodes_->Stop();
  namespaces_->Stop();
}

void Scheduler::ScheduleLoop() {
  while (auto qp = queue_.Pop()) ScheduleOne(std::move(*qp));
}

void Scheduler::UpdateGauges() const {
  auto counts = queue_.GetCounts();
  M().pending.WithLabelValues({"active"}).Set(static_cast<double>(counts.active));
  M().pending.WithLabelValues({"backoff"}).Set(static_cast<double>(counts.backoff));
  M().pending.WithLabelValues({"unschedulable"}).Set(static_cast<double>(counts.unschedulable));
  auto stats = cache_.GetStats();
  M().cache.WithLabelValues({"nodes"}).Set(static_cast<double>(stats.nodes));
  M().cache.WithLabelValues({"pods"}).Set(static_cast<double>(stats.pods));
  M().cache.WithLabelValues({"assumed_pods"}).Set(static_cast<double>(stats.assumed));
}

void Scheduler::ScheduleOne(QueuedPod qp) {
  static auto& scheduled = M().attempts.WithLabelValues({"scheduled"});
  static auto& unschedulable = M().attempts.WithLabelValues({"unschedulable"});
  const PodPtr pod = qp.pod;
  if (cache_.Contains(pod->key)) {  // bound or assumed meanwhile
    queue_.Done(pod->key);
    return;
  }
  auto start = std::chrono::steady_clock::now();
  cache_.UpdateSnapshot(&snapshot_);
  ScheduleResult result = framework_.Schedule(*pod, snapshot_);
  if (result.node.empty()) {
    unschedulable.Inc();
    M().attempt_duration.Observe(Seconds(std::chrono::steady_clock::now() - start).count());
    VLOG(1) << "pod " << pod->key << " unschedulable: " << result.error.Message();
    queue_.AddUnschedulable(qp);
    QueueStatus({pod, false, result.error.Message(), result.error.DetailJson()});
    return;
  }
  auto assumed = std::make_shared<PodInfo>(*pod);
  assumed->node_name = result.node;
  if (!cache_.AssumePod(assumed).ok()) {
    queue_.Done(pod->key);
    return;
  }
  queue_.Done(pod->key);
  scheduled.Inc();
  M().attempt_duration.Observe(Seconds(std::chrono::steady_clock::now() - start).count());
  {
    std::lock_guard lock(bind_mu_);
    bind_jobs_.push_back({std::move(qp), result.node});
  }
  bind_cv_.notify_one();
}

void Scheduler::BindLoop() {
  std::unique_lock lock(bind_mu_);
  while (true) {
    // Bindings already decided are sent even when stopping: the cache assumed them.
    bind_cv_.wait(lock, [&] { return bind_stopping_ || !bind_jobs_.empty(); });
    if (bind_jobs_.empty()) return;
    BindJob job = std::move(bind_jobs_.front());
    bind_jobs_.pop_front();
    lock.unlock();
    Bind(std::move(job));
    lock.lock();
  }
}

void Scheduler::Bind(BindJob job) {
  const PodInfo& pod = *job.qp.pod;
  api::Document body;
  body.SetObject();
  auto& a = body.GetAllocator();
  api::SetString(body, "apiVersion", "v1", a);
  api::SetString(body, "kind", "Binding", a);
  api::SetString(body, "metadata.name", pod.name, a);
  api::SetString(body, "metadata.namespace", pod.ns, a);
  api::SetString(body, "metadata.uid", pod.uid, a);
  api::SetString(body, "target.apiVersion", "v1", a);
  api::SetString(body, "target.kind", "Node", a);
  api::SetString(body, "target.name", job.node, a);
  auto start = std::chrono::steady_clock::now();
  auto res = client_->CreateSubresource(client::kPods, pod.ns, pod.name, "binding", body);
  M().binding_duration.Observe(Seconds(std::chrono::steady_clock::now() - start).count());
  if (res.ok()) {
    cache_.FinishBinding(pod.key);
    events_.Record(PodRef(pod), "Normal", "Scheduled",
                   "Successfully assigned " + pod.key + " to " + job.node);
    if (pod.scheduled_status == "False") QueueStatus({job.qp.pod, true, "", ""});
    return;
  }
  M().binding_errors.Inc();
  cache_.ForgetPod(pod.key);
  Code code = res.status().code();
  LOG(WARNING) << "binding " << pod.key << " to " << job.node
               << " failed: " << res.status().ToString();
  // Conflict: bound already (by an earlier incarnation of this scheduler) or replaced;
  // NotFound: deleted. The informer reports what happened; nothing to retry.
  if (code == Code::kConflict || code == Code::kNotFound) return;
  ObjectPtr current = CurrentPod(pod.key);
  if (current && api::GetString(*current, "spec.nodeName").empty() &&
      api::GetString(*current, "metadata.uid") == pod.uid) {
    queue_.AddBackoff(std::move(job.qp));
  }
}

void Scheduler::QueueStatus(StatusJob job) {
  std::string key = job.pod->key;
  {
    std::lock_guard lock(status_mu_);
    status_jobs_[key] = std::move(job);
  }
  status_queue_.Add(key);
}

void Scheduler::StatusLoop() {
  std::string key;
  while (status_queue_.Get(&key)) {
    std::optional<StatusJob> job;
    {
      std::lock_guard lock(status_mu_);
      auto it = status_jobs_.find(key);
      if (it != status_jobs_.end()) {
        job = std::move(it->second);
        status_jobs_.erase(it);
      }
    }
    if (job) WriteStatus(*job);
    status_queue_.Forget(key);
    status_queue_.Done(key);
  }
}

void Scheduler::WriteStatus(const StatusJob& job) {
  const PodInfo& pod = *job.pod;
  // Patches are best effort: a pod deleted or changed meanwhile needs no old verdict.
  auto report = [&](const Result<api::Document>& res, const char* what) {
    if (!res.ok() && res.status().code() != Code::kNotFound) {
      LOG(WARNING) << "updating " << what << " of pod " << pod.key << ": "
                   << res.status().ToString();
    }
  };
  std::string now = util::NowRfc3339();
  if (job.scheduled) {
    std::string patch =
        R"({"status":{"conditions":[{"type":"PodScheduled","status":"True","reason":null,)"
        R"("message":null,"lastProbeTime":null,"lastTransitionTime":")" + now + R"("}]}})";
    report(client_->Patch(client::kPods, pod.ns, pod.name, client::PatchType::kStrategic, patch,
                          "status"),
           "status");
    return;
  }
  // The pod as stored now (the queued copy may be older than our last write).
  std::string stored_status = pod.scheduled_status, stored_message = pod.scheduled_message;
  std::string stored_detail = pod.last_attempt_annotation;
  if (ObjectPtr cur = CurrentPod(pod.key)) {
    if (api::GetString(*cur, "metadata.uid") != pod.uid ||
        !api::GetString(*cur, "spec.nodeName").empty()) {
      return;  // replaced or bound meanwhile
    }
    if (auto latest = ParsePod(*cur); latest.ok()) {
      stored_status = (*latest)->scheduled_status;
      stored_message = (*latest)->scheduled_message;
      stored_detail = (*latest)->last_attempt_annotation;
    }
  } else {
    return;  // deleted
  }
  if (stored_status != "False" || stored_message != job.message) {
    std::string patch = R"({"status":{"conditions":[{"type":"PodScheduled","status":"False",)"
                        R"("reason":"Unschedulable","message":)" +
                        Quoted(job.message) + R"(,"lastProbeTime":null)";
    if (stored_status != "False") patch += R"(,"lastTransitionTime":")" + now + "\"";
    patch += "}]}}";
    report(client_->Patch(client::kPods, pod.ns, pod.name, client::PatchType::kStrategic, patch,
                          "status"),
           "status");
    events_.Record(PodRef(pod), "Warning", "FailedScheduling", job.message);
  }
  if (stored_detail != job.detail) {
    std::string patch = std::string(R"({"metadata":{"annotations":{)") +
                        Quoted(kLastAttemptAnnotation) + ":" + Quoted(job.detail) + "}}}";
    report(client_->Patch(client::kPods, pod.ns, pod.name, client::PatchType::kMerge, patch),
           "annotation");
  }
}

}  // namespace kubepp::scheduler
