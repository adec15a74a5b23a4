// The scheduling queue, with upstream's three parts:
//   - active: pods ready to be tried, highest spec.priority first, then oldest;
//   - backoff: pods that failed recently, waiting 1 s doubling per attempt up to 10 s;
//   - unschedulable: pods that fit nowhere, parked until a cluster change that could
//     help (MoveAllToActiveOrBackoff: node added or changed, pod deleted, ...) or for at
//     most 5 minutes.
// A popped pod is "in flight" until Done (placed) or AddUnschedulable/AddBackoff (failed).
// If a cluster change happened while it was in flight, a failure sends it to backoff
// rather than parking it, so that the change is not missed (upstream's move request
// cycle).
//
// Thread safety: every method is safe from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "scheduler/framework/types.h"

namespace kubepp::scheduler {

using Clock = std::chrono::steady_clock;

struct QueueOptions {
  Clock::duration initial_backoff = std::chrono::seconds(1);
  Clock::duration max_backoff = std::chrono::seconds(10);
  Clock::duration max_unschedulable = std::chrono::minutes(5);
  // The clock; tests inject a fake one.
  std::function<Clock::time_point()> now = [] { return Clock::now(); };
};

struct QueuedPod {
  PodPtr pod;
  int attempts = 0;       // scheduling attempts so far (counting the current one)
  int64_t cycle = 0;      // the scheduling cycle in which it was popped
  Clock::time_point timestamp;  // when it last entered the queue
};

class SchedulingQueue {
 public:
  explicit SchedulingQueue(QueueOptions options = {});

  // A pending pod: to active unless the queue already holds it (then like Update).
  void Add(const PodPtr& pod);
  // A newer version of a pending pod. A parked pod whose spec or labels changed (spec
  // hash) is moved to backoff or active, since it may fit now.
  void Update(const PodPtr& pod);
  void Delete(const std::string& key);

  // Blocks until a pod is active and hands it out (in flight), or returns nullopt once
  // Close() was called.
  std::optional<QueuedPod> Pop();
  // Non-blocking Pop (after moving due backoffs and overdue parked pods).
  std::optional<QueuedPod> TryPop();

  // The in-flight pod fits nowhere: park it (or back it off, see above). Dropped when
  // the pod was deleted meanwhile.
  void AddUnschedulable(QueuedPod pod);
  // The in-flight (or already released) pod failed for another reason (binding error):
  // back it off.
  void AddBackoff(QueuedPod pod);
  // The in-flight pod was placed.
  void Done(const std::string& key);

  // Moves parked pods (those `filter` accepts; all when null) to backoff or active.
  void MoveAllToActiveOrBackoff(const std::function<bool(const PodInfo&)>& filter = nullptr);

  void Close();

  struct Counts {
    size_t active = 0, backoff = 0, unschedulable = 0, in_flight = 0;
  };
  Counts GetCounts() const;
  bool Contains(const std::string& key) const;

 private:
  enum class Where { kActive, kBackoff, kUnschedulable, kInFlight };
  // Active order: priority descending, then enqueue time, then insertion sequence.
  using ActiveKey = std::tuple<int64_t, Clock::time_point, uint64_t, std::string>;
  using BackoffKey = std::tuple<Clock::time_point, uint64_t, std::string>;
  struct Entry {
    QueuedPod qp;
    Where where = Where::kActive;
    ActiveKey active_key;
    BackoffKey backoff_key;
    bool changed_in_flight = false;  // spec changed while in flight
  };

  // Caller holds mu_.
  void UpdateLocked(const PodPtr& pod);
  Clock::time_point BackoffUntil(const QueuedPod& qp) const;
  void Unlink(Entry& e);
  void PushActive(Entry& e);
  void PushBackoff(Entry& e);
  // Active if its backoff has passed, else backoff.
  void PushActiveOrBackoff(Entry& e, Clock::time_point now);
  void FlushLocked(Clock::time_point now);
  std::optional<QueuedPod> PopLocked();

  QueueOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<std::string, Entry> pods_;
  std::set<ActiveKey> active_;
  std::set<BackoffKey> backoff_;
  std::unordered_set<std::string> unschedulable_;
  uint64_t seq_ = 0;
  int64_t cycle_ = 0;
  int64_t move_request_cycle_ = -1;
  Clock::time_point last_unschedulable_flush_;
  bool closed_ = false;
};

}  // namespace kubepp::scheduler
