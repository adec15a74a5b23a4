// The shape every controller has (DESIGN.md §6): informer handlers only enqueue keys;
// worker threads take keys from a rate-limited work queue and run the idempotent
// Sync(key); a failed Sync is retried with per-key exponential backoff, a successful
// one forgets the key's backoff. The queue never hands one key to two workers at once.
//
// Thread safety: Enqueue* are safe from any thread (informer handlers call them);
// Sync runs concurrently for different keys and must be written for that.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "common/informer/workqueue.h"
#include "common/metrics.h"
#include "common/status.h"

namespace kubepp::controller {

class QueueController {
 public:
  explicit QueueController(std::string name, informer::WorkQueueOptions queue_options = {});
  virtual ~QueueController() = default;
  QueueController(const QueueController&) = delete;
  QueueController& operator=(const QueueController&) = delete;

  const std::string& name() const { return name_; }

  // Called once the shared informers have synced, before the workers start.
  virtual void Started() {}
  // Reconciles the object behind `key` with its desired state. Must be idempotent.
  virtual Status Sync(const std::string& key) = 0;

  // Runs `workers` threads until *stop turns true; returns when they have ended.
  void Run(int workers, const std::atomic<bool>* stop);

  void Enqueue(const std::string& key) { queue_.Add(key); }
  void EnqueueAfter(const std::string& key, std::chrono::steady_clock::duration delay) {
    queue_.AddAfter(key, delay);
  }
  // For tests: the number of keys ready in the queue.
  size_t QueueLength() { return queue_.Len(); }

 private:
  void Work();

  std::string name_;
  informer::WorkQueue queue_;
  metrics::Counter& syncs_ok_;
  metrics::Counter& syncs_failed_;
  metrics::Histogram& sync_seconds_;
  metrics::Gauge& depth_;
};

}  // namespace kubepp::controller
