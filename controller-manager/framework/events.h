// Records core/v1 Events about objects ("FailedCreate", "ScalingReplicaSet", ...), the
// explanations `kubectl describe` shows. Recording is best effort: a failure to write
// an event is logged and never fails the caller's sync.
// Thread safety: safe from any thread.
#pragma once

#include <string>

#include "common/api/json.h"
#include "common/client/rest_client.h"

namespace kubepp::controller {

class EventRecorder {
 public:
  // `client` must outlive the recorder; `component` is the event's source.component.
  EventRecorder(client::RestClient* client, std::string component)
      : client_(client), component_(std::move(component)) {}
  virtual ~EventRecorder() = default;

  // `type` is "Normal" or "Warning". `object` is the involved object (a full object with
  // apiVersion, kind and metadata).
  virtual void Event(const api::Value& object, const std::string& type, const std::string& reason,
                     const std::string& message);

 private:
  client::RestClient* client_;
  std::string component_;
};

}  // namespace kubepp::controller
