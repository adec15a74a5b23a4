// Fans watch events out to many subscribers on a few threads, off the storage's write
// path: the writer queues each published event and moves on; a thousand watchers cost
// the writer one queue insertion, not a thousand calls.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "apiserver/storage/storage.h"

namespace kubepp::apiserver {

// One watch's sink and what it wants: the events of `resource` with a revision after
// `after_rv` (the events up to it were delivered when it subscribed).
struct Subscription {
  std::string resource;
  WatchSink sink;
  int64_t after_rv = 0;

  void Deliver(const EventPtr& ev) const {
    if (ev->object->rv > after_rv && ev->object->resource == resource) sink(ev);
  }
};

// Delivers each published event to every joined subscription, in publication order.
// A subscription's sink is called by one thread at a time, its events in order; the
// subscriptions are split among `threads` threads batch by batch (each thread claims a
// few subscriptions at a time and delivers the whole batch to them), so a thread slowed
// by the machine does not hold the rest back.
//
// Publish and Join are meant to be called under one lock of the caller's (the storage's
// publish lock): a subscription then sees exactly the events published after its Join.
class Dispatcher {
 public:
  explicit Dispatcher(unsigned threads);
  ~Dispatcher();  // stops; events not yet delivered are dropped

  void Publish(const std::vector<EventPtr>& events);
  void Join(uint64_t id, Subscription sub);
  // Returns with no call to that sink in progress or to come. Must not be called from a
  // sink.
  void Leave(uint64_t id);

 private:
  void Loop();    // the first thread: takes batches and hands them out
  void Helper();  // the others
  void Deliver();  // claims subscriptions of the current batch until none is left

  std::mutex mu_;  // guards the four below
  std::condition_variable cv_;
  std::vector<EventPtr> queue_;
  std::vector<std::pair<uint64_t, Subscription>> joining_;
  size_t subscriptions_ = 0;  // joining or active: nothing is queued without any
  bool stopping_ = false;

  std::mutex sinks_mu_;  // held by Loop while a batch is delivered; guards active_
  std::vector<std::pair<uint64_t, Subscription>> active_;

  // The batch being delivered, shared with the helpers under work_mu_.
  std::mutex work_mu_;
  std::condition_variable work_cv_, done_cv_;
  const std::vector<EventPtr>* batch_ = nullptr;
  uint64_t generation_ = 0;  // one per batch
  size_t busy_helpers_ = 0;
  bool helpers_stopping_ = false;
  std::atomic<size_t> next_{0};  // the next unclaimed index into active_

  std::vector<std::thread> threads_;  // last: start once the rest is constructed
};

}  // namespace kubepp::apiserver
