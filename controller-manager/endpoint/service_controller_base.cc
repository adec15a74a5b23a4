#include "controller-manager/endpoint/service_controller_base.h"

#include "controller-manager/endpoint/endpoint_util.h"

namespace kubepp::controller::endpoint {

using informer::KeyOf;

ServiceControllerBase::ServiceControllerBase(std::string name, client::RestClient* client,
                                             SharedInformers* informers)
    : QueueController(std::move(name)),
      client_(client),
      services_(informers->For(client::kServices)),
      pods_(informers->For(client::kPods)) {
  services_.AddEventHandler({
      [this](const ObjectPtr& s) { Enqueue(KeyOf(*s)); },
      [this](const ObjectPtr&, const ObjectPtr& s) { Enqueue(KeyOf(*s)); },
      [this](const ObjectPtr& s) { Enqueue(KeyOf(*s)); },
  });
  pods_.AddEventHandler({
      [this](const ObjectPtr& p) { EnqueueServicesOf(*p); },
      [this](const ObjectPtr& old_pod, const ObjectPtr& p) {
        if (EndpointFingerprint(*old_pod) == EndpointFingerprint(*p)) return;
        EnqueueServicesOf(*old_pod);
        EnqueueServicesOf(*p);
      },
      [this](const ObjectPtr& p) { EnqueueServicesOf(*p); },
  });
}

void ServiceControllerBase::Started() {
  for (const auto& s : services_.List()) Enqueue(KeyOf(*s));
}

std::vector<ObjectPtr> ServiceControllerBase::PodsIn(const std::string& ns) const {
  std::vector<ObjectPtr> out;
  for (const auto& p : pods_.List()) {
    if (api::GetString(*p, "metadata.namespace") == ns) out.push_back(p);
  }
  return out;
}

void ServiceControllerBase::EnqueueServicesOf(const api::Value& pod) {
  std::string ns = api::GetString(pod, "metadata.namespace");
  for (const auto& s : services_.List()) {
    if (api::GetString(*s, "metadata.namespace") != ns) continue;
    auto sel = ServiceSelector::Of(*s);
    if (sel && sel->Matches(pod)) Enqueue(KeyOf(*s));
  }
}

}  // namespace kubepp::controller::endpoint
