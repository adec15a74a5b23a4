#include "common/client/event_recorder.h"

#include <cstdio>

#include "common/log.h"
#include "common/util/time.h"

namespace kubepp::client {

ObjectReference ObjectReferenceOf(const api::Value& object) {
  return {api::GetString(object, "kind"), api::GetString(object, "apiVersion"),
          api::GetString(object, "metadata.namespace"), api::GetString(object, "metadata.name"),
          api::GetString(object, "metadata.uid"),
          api::GetString(object, "metadata.resourceVersion")};
}

EventRecorder::EventRecorder(RestClient* client, EventRecorderOptions options)
    : client_(client), options_(std::move(options)) {
  if (options_.instance.empty()) options_.instance = options_.component;
  for (int i = 0; i < std::max(1, options_.workers); ++i) threads_.emplace_back([this] { Work(); });
}

EventRecorder::~EventRecorder() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    queue_.clear();
  }
  cv_.notify_all();
  idle_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void EventRecorder::Record(const ObjectReference& object, std::string_view type,
                           std::string_view reason, std::string_view message) {
  api::Document ev;
  ev.SetObject();
  auto& a = ev.GetAllocator();
  std::string now = util::NowRfc3339();
  // Upstream names events "<object>.<unix nanos in hex>"; a per-process sequence keeps
  // two events of one microsecond apart.
  char suffix[40];
  std::snprintf(suffix, sizeof suffix, ".%llx",
                static_cast<unsigned long long>(util::NowUnixMicros() * 1000 + (seq_++ % 1000)));
  std::string ns = object.ns.empty() ? "default" : object.ns;
  api::SetString(ev, "apiVersion", "v1", a);
  api::SetString(ev, "kind", "Event", a);
  api::SetString(ev, "metadata.name", object.name + suffix, a);
  api::SetString(ev, "metadata.namespace", ns, a);
  api::SetString(ev, "involvedObject.kind", object.kind, a);
  api::SetString(ev, "involvedObject.apiVersion", object.api_version, a);
  if (!object.ns.empty()) api::SetString(ev, "involvedObject.namespace", object.ns, a);
  api::SetString(ev, "involvedObject.name", object.name, a);
  api::SetString(ev, "involvedObject.uid", object.uid, a);
  if (!object.resource_version.empty()) {
    api::SetString(ev, "involvedObject.resourceVersion", object.resource_version, a);
  }
  api::SetString(ev, "reason", reason, a);
  api::SetString(ev, "message", message, a);
  api::SetString(ev, "type", type, a);
  api::SetString(ev, "source.component", options_.component, a);
  if (!options_.host.empty()) api::SetString(ev, "source.host", options_.host, a);
  api::SetString(ev, "firstTimestamp", now, a);
  api::SetString(ev, "lastTimestamp", now, a);
  api::SetInt(ev, "count", 1, a);
  api::SetString(ev, "reportingComponent", options_.component, a);
  api::SetString(ev, "reportingInstance", options_.instance, a);
  {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= options_.max_queued) {
      ++dropped_;
      return;
    }
    queue_.push_back(std::move(ev));
  }
  cv_.notify_one();
}

void EventRecorder::Work() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    api::Document ev = std::move(queue_.front());
    queue_.pop_front();
    ++busy_;
    lock.unlock();
    auto res = client_->Create(kEvents, api::GetString(ev, "metadata.namespace"), ev);
    if (!res.ok()) {
      ++failed_;
      VLOG(2) << "event " << api::GetString(ev, "reason") << " for "
              << api::GetString(ev, "involvedObject.name") << " not recorded: "
              << res.status().ToString();
    }
    lock.lock();
    --busy_;
    if (queue_.empty() && busy_ == 0) idle_cv_.notify_all();
  }
}

bool EventRecorder::WaitIdle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return idle_cv_.wait_for(lock, timeout, [&] { return stopping_ || (queue_.empty() && busy_ == 0); });
}

}  // namespace kubepp::client
