// The scheduler: informers on pods, nodes and namespaces feed the cache and the
// scheduling queue; one scheduling thread pops pods, runs the framework on a snapshot
// and assumes the chosen node; bind workers POST pods/<name>/binding concurrently (so
// throughput is not one round trip per pod); status workers write the PodScheduled
// condition and the last-attempt annotation of pods that fit nowhere; an event
// recorder sends Scheduled / FailedScheduling events.
//
//   Scheduler s(&client, config);
//   RETURN_IF_ERROR(s.Start(std::chrono::seconds(60)));
//   ... s.Stop();
//
// Thread safety: Start and Stop from one thread; the rest is internal.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/client/event_recorder.h"
#include "common/client/rest_client.h"
#include "common/informer/informer.h"
#include "common/informer/workqueue.h"
#include "scheduler/cache.h"
#include "scheduler/framework/framework.h"
#include "scheduler/scheduling_queue.h"

namespace kubepp::scheduler {

struct SchedulerConfig {
  std::string scheduler_name = "default-scheduler";
  int percentage_of_nodes_to_score = 0;  // 0: upstream's adaptive default
  int bind_workers = 16;
  int status_workers = 2;
  QueueOptions queue;
};

class Scheduler {
 public:
  // `client` must outlive the scheduler.
  Scheduler(client::RestClient* client, SchedulerConfig config);
  ~Scheduler();  // Stop()
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Starts the informers, waits until they synced (Unavailable after `sync_timeout`),
  // then starts scheduling.
  Status Start(std::chrono::milliseconds sync_timeout);
  // Stops scheduling and the informers; bindings in flight finish first.
  void Stop();

  // Refreshes the queue and cache gauges (called before /metrics is rendered).
  void UpdateGauges() const;

  const Cache& cache() const { return cache_; }
  const SchedulingQueue& queue() const { return queue_; }

 private:
  struct BindJob {
    QueuedPod qp;
    std::string node;
  };
  // What the status workers write for a pod: the outcome of its latest attempt.
  struct StatusJob {
    PodPtr pod;
    bool scheduled = false;
    std::string message;  // FitError::Message()
    std::string detail;   // FitError::DetailJson()
  };

  void AddHandlers();
  void OnPodAdd(const informer::ObjectPtr& obj);
  void OnPodUpdate(const informer::ObjectPtr& old_obj, const informer::ObjectPtr& obj);
  void OnPodDelete(const informer::ObjectPtr& obj);
  bool Responsible(const PodInfo& pod) const;

  void ScheduleLoop();
  void ScheduleOne(QueuedPod qp);
  void BindLoop();
  void Bind(BindJob job);
  void StatusLoop();
  void WriteStatus(const StatusJob& job);
  void QueueStatus(StatusJob job);
  // The pod as the informer has it now (nullptr when gone).
  informer::ObjectPtr CurrentPod(const std::string& key) const;

  client::RestClient* client_;
  SchedulerConfig config_;
  Cache cache_;
  SchedulingQueue queue_;
  Framework framework_;
  Snapshot snapshot_;  // scheduling thread only
  client::EventRecorder events_;

  std::unique_ptr<informer::Informer> pods_, nodes_, namespaces_;

  std::mutex bind_mu_;
  std::condition_variable bind_cv_;
  std::deque<BindJob> bind_jobs_;
  bool bind_stopping_ = false;

  informer::WorkQueue status_queue_;
  std::mutex status_mu_;
  std::map<std::string, StatusJob> status_jobs_;  // latest per pod key

  std::vector<std::thread> threads_;
  bool started_ = false;
};

}  // namespace kubepp::scheduler
