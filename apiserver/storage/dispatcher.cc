#include "apiserver/storage/dispatcher.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>

namespace kubepp::apiserver {

namespace {
// Subscriptions claimed at once: few enough to balance, enough to keep the shared
// counter cold.
constexpr size_t kClaim = 8;

// Fan-out is bulk work (a thousand watchers: a thousand socket writes per event), the
// requests are short: when the CPU is taken, the scheduler gives the request threads
// about 3 times the fan-out's share (nice 0 against 5) without starving it, so a write
// is answered before its events have reached every watcher, not after. Measured in
// BENCHMARKS.md (issue 2, watch).
void LowerThisThreadsPriority() { setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 5); }
}  // namespace

Dispatcher::Dispatcher(unsigned threads) {
  threads_.emplace_back([this] { Loop(); });
  for (unsigned i = 1; i < threads; ++i) threads_.emplace_back([this] { Helper(); });
}

Dispatcher::~Dispatcher() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  threads_[0].join();  // Loop: after it, no batch is handed out
  {
    std::lock_guard<std::mutex> l(work_mu_);
    helpers_stopping_ = true;
  }
  work_cv_.notify_all();
  for (size_t i = 1; i < threads_.size(); ++i) threads_[i].join();
}

void Dispatcher::Publish(const std::vector<EventPtr>& events) {
  std::lock_guard<std::mutex> l(mu_);
  if (subscriptions_ == 0) return;
  queue_.insert(queue_.end(), events.begin(), events.end());
  cv_.notify_one();
}

void Dispatcher::Join(uint64_t id, Subscription sub) {
  std::lock_guard<std::mutex> l(mu_);
  joining_.emplace_back(id, std::move(sub));
  ++subscriptions_;
}

void Dispatcher::Leave(uint64_t id) {
  std::lock_guard<std::mutex> sl(sinks_mu_);  // first: no batch is being delivered
  std::erase_if(active_, [id](const auto& a) { return a.first == id; });
  std::lock_guard<std::mutex> l(mu_);
  --subscriptions_;
  std::erase_if(joining_, [id](const auto& j) { return j.first == id; });
}

void Dispatcher::Loop() {
  LowerThisThreadsPriority();
  std::vector<EventPtr> events;
  std::vector<std::pair<uint64_t, Subscription>> joined;
  for (;;) {
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
    }
    std::lock_guard<std::mutex> sl(sinks_mu_);
    {
      // Events and joiners in one step: a joiner receives exactly the events queued
      // after its Join (the earlier ones of this batch are at or below its after_rv).
      std::lock_guard<std::mutex> l(mu_);
      events.swap(queue_);
      joined.swap(joining_);
    }
    for (auto& j : joined) active_.push_back(std::move(j));
    joined.clear();
    {
      std::lock_guard<std::mutex> l(work_mu_);
      batch_ = &events;
      next_ = 0;
      busy_helpers_ = threads_.size() - 1;
      ++generation_;
    }
    work_cv_.notify_all();
    Deliver();
    {
      std::unique_lock<std::mutex> l(work_mu_);
      done_cv_.wait(l, [this] { return busy_helpers_ == 0; });
      batch_ = nullptr;
    }
    events.clear();
  }
}

void Dispatcher::Helper() {
  LowerThisThreadsPriority();
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> l(work_mu_);
      work_cv_.wait(l, [&] { return helpers_stopping_ || generation_ != seen; });
      if (helpers_stopping_) return;
      seen = generation_;
    }
    Deliver();
    std::lock_guard<std::mutex> l(work_mu_);
    if (--busy_helpers_ == 0) done_cv_.notify_one();
  }
}

// active_ and *batch_ stay as they are until every thread has returned from here: Loop
// holds sinks_mu_ and waits for the helpers.
void Dispatcher::Deliver() {
  const size_t n = active_.size();
  for (;;) {
    size_t first = next_.fetch_add(kClaim);
    if (first >= n) return;
    for (size_t i = first; i < std::min(n, first + kClaim); ++i) {
      for (const EventPtr& ev : *batch_) active_[i].second.Deliver(ev);
    }
  }
}

}  // namespace kubepp::apiserver
