// Records core/v1 Events about objects ("Scheduled", "FailedScheduling", ...) the way
// client-go's recorder does for a component: asynchronously, from a bounded queue, so
// that the component never waits on the apiserver for an event; when the queue is full
// new events are dropped (and counted), as upstream's broadcaster drops them.
//
//   EventRecorder events(&client, {.component = "default-scheduler"});
//   events.Record(ObjectReferenceOf(pod), "Normal", "Scheduled", "Successfully assigned ...");
//
// Thread safety: Record may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/api/json.h"
#include "common/client/rest_client.h"

namespace kubepp::client {

// core/v1 ObjectReference: the event's involvedObject.
struct ObjectReference {
  std::string kind, api_version, ns, name, uid, resource_version;
};

// From an object's kind, apiVersion and metadata.
ObjectReference ObjectReferenceOf(const api::Value& object);

struct EventRecorderOptions {
  std::string component;  // source.component and reportingComponent
  std::string host;       // source.host (the node, for node agents)
  std::string instance;   // reportingInstance (defaults to the component)
  int workers = 2;
  size_t max_queued = 1000;
};

class EventRecorder {
 public:
  // `client` must outlive the recorder.
  EventRecorder(RestClient* client, EventRecorderOptions options);
  // Stops the workers; events still queued are dropped.
  ~EventRecorder();
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // `type` is "Normal" or "Warning".
  void Record(const ObjectReference& object, std::string_view type, std::string_view reason,
              std::string_view message);

  uint64_t dropped() const { return dropped_.load(); }
  uint64_t failed() const { return failed_.load(); }
  // Blocks until every queued event was sent (or failed), at most `timeout`.
  bool WaitIdle(std::chrono::milliseconds timeout);

 private:
  void Work();

  RestClient* client_;
  EventRecorderOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  std::deque<api::Document> queue_;
  int busy_ = 0;
  bool stopping_ = false;
  std::atomic<uint64_t> dropped_{0}, failed_{0}, seq_{0};
  std::vector<std::thread> threads_;
};

}  // namespace kubepp::client
