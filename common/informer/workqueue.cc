#include "common/informer/workqueue.h"

namespace kubepp::informer {

Duration ExponentialBackoff::When(const std::string& key) {
  int exp = failures_[key]++;
  // Doubling past the cap would overflow; 2^40 * any sane base is far beyond it.
  if (exp >= 40) return max_;
  Duration d = base_ * (int64_t{1} << exp);
  return d > max_ || d < base_ ? max_ : d;
}

int ExponentialBackoff::NumRequeues(const std::string& key) const {
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

WorkQueue::WorkQueue(WorkQueueOptions options)
    : backoff_(options.base_delay, options.max_delay) {}

void WorkQueue::AddLocked(const std::string& key) {
  if (shutting_down_ || dirty_.count(key)) return;
  dirty_.insert(key);
  if (processing_.count(key)) return;  // Done() queues it
  queue_.push_back(key);
  cv_.notify_one();
}

void WorkQueue::PromoteReadyLocked() {
  auto now = Clock::now();
  while (!waiting_.empty() && waiting_.begin()->first <= now) {
    std::string key = std::move(waiting_.begin()->second);
    waiting_.erase(waiting_.begin());
    waiting_at_.erase(key);
    AddLocked(key);
  }
}

void WorkQueue::Add(const std::string& key) {
  std::lock_guard lock(mu_);
  AddLocked(key);
}

bool WorkQueue::Get(std::string* key) {
  std::unique_lock lock(mu_);
  while (true) {
    PromoteReadyLocked();
    if (!queue_.empty() || shutting_down_) break;
    // Delayed keys need no timer thread: a waiting Get wakes when the earliest is due.
    if (waiting_.empty()) {
      cv_.wait(lock);
    } else {
      cv_.wait_until(lock, waiting_.begin()->first);
    }
  }
  if (queue_.empty()) return false;
  *key = std::move(queue_.front());
  queue_.pop_front();
  processing_.insert(*key);
  dirty_.erase(*key);
  return true;
}

void WorkQueue::Done(const std::string& key) {
  std::lock_guard lock(mu_);
  processing_.erase(key);
  if (dirty_.count(key)) {
    queue_.push_back(key);
    cv_.notify_one();
  }
}

void WorkQueue::AddAfter(const std::string& key, Duration delay) {
  std::lock_guard lock(mu_);
  if (shutting_down_) return;
  if (delay <= Duration::zero()) {
    AddLocked(key);
    return;
  }
  auto at = Clock::now() + delay;
  if (auto it = waiting_at_.find(key); it != waiting_at_.end()) {
    if (it->second <= at) return;
    auto range = waiting_.equal_range(it->second);
    for (auto w = range.first; w != range.second; ++w) {
      if (w->second == key) {
        waiting_.erase(w);
        break;
      }
    }
  }
  waiting_.emplace(at, key);
  waiting_at_[key] = at;
  // A Get may be sleeping until a later deadline.
  cv_.notify_all();
}

void WorkQueue::AddRateLimited(const std::string& key) {
  Duration delay;
  {
    std::lock_guard lock(mu_);
    delay = backoff_.When(key);
  }
  AddAfter(key, delay);
}

void WorkQueue::Forget(const std::string& key) {
  std::lock_guard lock(mu_);
  backoff_.Forget(key);
}

int WorkQueue::NumRequeues(const std::string& key) const {
  std::lock_guard lock(mu_);
  return backoff_.NumRequeues(key);
}

void WorkQueue::ShutDown() {
  std::lock_guard lock(mu_);
  shutting_down_ = true;
  waiting_.clear();
  waiting_at_.clear();
  cv_.notify_all();
}

bool WorkQueue::ShuttingDown() const {
  std::lock_guard lock(mu_);
  return shutting_down_;
}

size_t WorkQueue::Len() {
  std::lock_guard lock(mu_);
  PromoteReadyLocked();
  return queue_.size();
}

}  // namespace kubepp::informer
