// A deduplicating, rate-limited work queue with client-go's semantics, the one every
// controller drains with its workers:
//   - a key waiting in the queue is stored once however often it is added;
//   - a key is never handed to two workers at once: a key added while a worker holds it
//     is queued again when that worker calls Done();
//   - AddRateLimited() delays a key by its per-key exponential backoff (failures so far),
//     Forget() resets it after a successful sync;
//   - AddAfter() delays a key; when it is added again meanwhile, the earlier time wins.
//
//   std::string key;
//   while (queue.Get(&key)) {
//     Status st = Sync(key);
//     if (st.ok()) queue.Forget(key); else queue.AddRateLimited(key);
//     queue.Done(key);
//   }
//
// Thread safety: every method is safe from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace kubepp::informer {

using Duration = std::chrono::steady_clock::duration;

// Per-key exponential backoff: base * 2^failures, capped at max (client-go's
// ItemExponentialFailureRateLimiter; the controller default is 5 ms .. 1000 s).
// Thread safety: not synchronized; WorkQueue guards it.
class ExponentialBackoff {
 public:
  ExponentialBackoff(Duration base, Duration max) : base_(base), max_(max) {}
  // The delay for the next retry of `key`, counting this failure.
  Duration When(const std::string& key);
  void Forget(const std::string& key) { failures_.erase(key); }
  int NumRequeues(const std::string& key) const;

 private:
  Duration base_;
  Duration max_;
  std::map<std::string, int> failures_;
};

struct WorkQueueOptions {
  Duration base_delay = std::chrono::milliseconds(5);
  Duration max_delay = std::chrono::seconds(1000);
};

class WorkQueue {
 public:
  explicit WorkQueue(WorkQueueOptions options = {});
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // No-op after ShutDown().
  void Add(const std::string& key);
  // Blocks until a key is ready and hands it to the caller, who must call Done(key).
  // Returns false once the queue is shut down and drained of ready keys.
  bool Get(std::string* key);
  void Done(const std::string& key);
  // Adds `key` once `delay` has passed (immediately when delay <= 0).
  void AddAfter(const std::string& key, Duration delay);
  void AddRateLimited(const std::string& key);
  // Clears the backoff of `key` (the key itself stays queued if it is).
  void Forget(const std::string& key);
  int NumRequeues(const std::string& key) const;
  // Wakes every Get(); delayed keys are dropped.
  void ShutDown();
  bool ShuttingDown() const;
  // Keys ready to be handed out (not counting delayed or in-progress ones).
  size_t Len();

 private:
  using Clock = std::chrono::steady_clock;
  // Caller holds mu_.
  void AddLocked(const std::string& key);
  void PromoteReadyLocked();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::set<std::string> dirty_;       // queued or to be re-queued after Done
  std::set<std::string> processing_;  // handed out, Done not yet called
  // Delayed keys: ready time -> key, and key -> its ready time (one entry per key).
  std::multimap<Clock::time_point, std::string> waiting_;
  std::map<std::string, Clock::time_point> waiting_at_;
  ExponentialBackoff backoff_;
  bool shutting_down_ = false;
};

}  // namespace kubepp::informer
