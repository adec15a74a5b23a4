#include "scheduler/scheduling_queue.h"

#include <algorithm>

namespace kubepp::scheduler {

namespace {
// How often parked pods are checked against max_unschedulable (upstream: 30 s).
constexpr auto kUnschedulableFlushInterval = std::chrono::seconds(30);
}  // namespace

SchedulingQueue::SchedulingQueue(QueueOptions options)
    : options_(std::move(options)), last_unschedulable_flush_(options_.now()) {}

Clock::time_point SchedulingQueue::BackoffUntil(const QueuedPod& qp) const {
  Clock::duration d = options_.initial_backoff;
  for (int i = 1; i < qp.attempts && d < options_.max_backoff; ++i) d *= 2;
  return qp.timestamp + std::min(d, options_.max_backoff);
}

void SchedulingQueue::Unlink(Entry& e) {
  switch (e.where) {
    case Where::kActive: active_.erase(e.active_key); break;
    case Where::kBackoff: backoff_.erase(e.backoff_key); break;
    case Where::kUnschedulable: unschedulable_.erase(e.qp.pod->key); break;
    case Where::kInFlight: break;
  }
}

void SchedulingQueue::PushActive(Entry& e) {
  e.where = Where::kActive;
  e.active_key = {-static_cast<int64_t>(e.qp.pod->priority), e.qp.timestamp, ++seq_, e.qp.pod->key};
  active_.insert(e.active_key);
  cv_.notify_one();
}

void SchedulingQueue::PushBackoff(Entry& e) {
  e.where = Where::kBackoff;
  e.backoff_key = {BackoffUntil(e.qp), ++seq_, e.qp.pod->key};
  backoff_.insert(e.backoff_key);
  cv_.notify_one();  // the waiter recomputes its deadline
}

void SchedulingQueue::PushActiveOrBackoff(Entry& e, Clock::time_point now) {
  if (e.qp.attempts > 0 && BackoffUntil(e.qp) > now) {
    PushBackoff(e);
  } else {
    PushActive(e);
  }
}

void SchedulingQueue::Add(const PodPtr& pod) {
  std::lock_guard lock(mu_);
  if (!closed_) UpdateLocked(pod);
}

void SchedulingQueue::Update(const PodPtr& pod) {
  std::lock_guard lock(mu_);
  if (!closed_) UpdateLocked(pod);
}

void SchedulingQueue::UpdateLocked(const PodPtr& pod) {
  auto it = pods_.find(pod->key);
  if (it == pods_.end()) {
    Entry& e = pods_[pod->key];
    e.qp.pod = pod;
    e.qp.timestamp = options_.now();
    PushActive(e);
    return;
  }
  Entry& e = it->second;
  bool changed = e.qp.pod->spec_hash != pod->spec_hash;
  switch (e.where) {
    case Where::kInFlight:
      e.qp.pod = pod;
      e.changed_in_flight = e.changed_in_flight || changed;
      break;
    case Where::kActive:
      Unlink(e);
      e.qp.pod = pod;
      PushActive(e);  // priority may have changed
      break;
    case Where::kBackoff:
      e.qp.pod = pod;
      break;
    case Where::kUnschedulable:
      e.qp.pod = pod;
      if (changed) {
        Unlink(e);
        PushActiveOrBackoff(e, options_.now());
      }
      break;
  }
}

void SchedulingQueue::Delete(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = pods_.find(key);
  if (it == pods_.end()) return;
  Unlink(it->second);
  pods_.erase(it);
}

void SchedulingQueue::FlushLocked(Clock::time_point now) {
  while (!backoff_.empty() && std::get<0>(*backoff_.begin()) <= now) {
    std::string key = std::get<2>(*backoff_.begin());
    backoff_.erase(backoff_.begin());
    PushActive(pods_.at(key));
  }
  if (now - last_unschedulable_flush_ < kUnschedulableFlushInterval) return;
  last_unschedulable_flush_ = now;
  std::vector<std::string> due;
  for (const auto& key : unschedulable_) {
    if (now - pods_.at(key).qp.timestamp >= options_.max_unschedulable) due.push_back(key);
  }
  for (const auto& key : due) {
    Entry& e = pods_.at(key);
    Unlink(e);
    PushActiveOrBackoff(e, now);
  }
}

std::optional<QueuedPod> SchedulingQueue::PopLocked() {
  if (active_.empty()) return std::nullopt;
  std::string key = std::get<3>(*active_.begin());
  active_.erase(active_.begin());
  Entry& e = pods_.at(key);
  e.where = Where::kInFlight;
  e.changed_in_flight = false;
  ++e.qp.attempts;
  e.qp.cycle = ++cycle_;
  return e.qp;
}

std::optional<QueuedPod> SchedulingQueue::TryPop() {
  std::lock_guard lock(mu_);
  FlushLocked(options_.now());
  return PopLocked();
}

std::optional<QueuedPod> SchedulingQueue::Pop() {
  std::unique_lock lock(mu_);
  while (!closed_) {
    Clock::time_point now = options_.now();
    FlushLocked(now);
    if (auto qp = PopLocked()) return qp;
    Clock::time_point wake = now + std::chrono::seconds(1);
    if (!backoff_.empty()) wake = std::min(wake, std::get<0>(*backoff_.begin()));
    cv_.wait_for(lock, wake - now);
  }
  return std::nullopt;
}

void SchedulingQueue::AddUnschedulable(QueuedPod qp) {
  std::lock_guard lock(mu_);
  auto it = pods_.find(qp.pod->key);
  if (it == pods_.end() || it->second.where != Where::kInFlight) return;  // deleted meanwhile
  Entry& e = it->second;
  e.qp.timestamp = options_.now();
  if (move_request_cycle_ >= qp.cycle || e.changed_in_flight) {
    PushBackoff(e);
  } else {
    e.where = Where::kUnschedulable;
    unschedulable_.insert(e.qp.pod->key);
  }
}

void SchedulingQueue::AddBackoff(QueuedPod qp) {
  std::lock_guard lock(mu_);
  if (closed_) return;
  auto it = pods_.find(qp.pod->key);
  if (it != pods_.end() && it->second.where != Where::kInFlight) return;  // already queued
  Entry& e = pods_[qp.pod->key];
  if (it == pods_.end()) e.qp = std::move(qp);
  e.qp.timestamp = options_.now();
  PushBackoff(e);
}

void SchedulingQueue::Done(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = pods_.find(key);
  if (it != pods_.end() && it->second.where == Where::kInFlight) pods_.erase(it);
}

void SchedulingQueue::MoveAllToActiveOrBackoff(
    const std::function<bool(const PodInfo&)>& filter) {
  std::lock_guard lock(mu_);
  move_request_cycle_ = cycle_;
  if (unschedulable_.empty()) return;
  Clock::time_point now = options_.now();
  std::vector<std::string> moving;
  for (const auto& key : unschedulable_) {
    if (!filter || filter(*pods_.at(key).qp.pod)) moving.push_back(key);
  }
  for (const auto& key : moving) {
    Entry& e = pods_.at(key);
    Unlink(e);
    PushActiveOrBackoff(e, now);
  }
}

void SchedulingQueue::Close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  cv_.notify_all();
}

SchedulingQueue::Counts SchedulingQueue::GetCounts() const {
  std::lock_guard lock(mu_);
  Counts c;
  c.active = active_.size();
  c.backoff = backoff_.size();
  c.unschedulable = unschedulable_.size();
  c.in_flight = pods_.size() - c.active - c.backoff - c.unschedulable;
  return c;
}

bool SchedulingQueue::Contains(const std::string& key) const {
  std::lock_guard lock(mu_);
  return pods_.count(key) > 0;
}

}  // namespace kubepp::scheduler
