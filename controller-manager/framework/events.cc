#include "controller-manager/framework/events.h"

#include "common/log.h"
#include "common/util/random.h"
#include "common/util/time.h"

namespace kubepp::controller {

void EventRecorder::Event(const api::Value& object, const std::string& type,
                          const std::string& reason, const std::string& message) {
  std::string ns = api::GetString(object, "metadata.namespace", "default");
  std::string name = api::GetString(object, "metadata.name");
  std::string now = util::NowRfc3339();
  api::Document ev;
  ev.SetObject();
  auto& a = ev.GetAllocator();
  api::SetString(ev, "apiVersion", "v1", a);
  api::SetString(ev, "kind", "Event", a);
  api::SetString(ev, "metadata.name", name + "." + util::RandomSuffix(10), a);
  api::SetString(ev, "metadata.namespace", ns, a);
  api::SetString(ev, "involvedObject.apiVersion", api::GetString(object, "apiVersion"), a);
  api::SetString(ev, "involvedObject.kind", api::GetString(object, "kind"), a);
  api::SetString(ev, "involvedObject.name", name, a);
  if (api::Has(object, "metadata.namespace")) {
    api::SetString(ev, "involvedObject.namespace", ns, a);
  }
  api::SetString(ev, "involvedObject.uid", api::GetString(object, "metadata.uid"), a);
  api::SetString(ev, "involvedObject.resourceVersion",
                 api::GetString(object, "metadata.resourceVersion"), a);
  api::SetString(ev, "type", type, a);
  api::SetString(ev, "reason", reason, a);
  api::SetString(ev, "message", message, a);
  api::SetString(ev, "source.component", component_, a);
  api::SetString(ev, "firstTimestamp", now, a);
  api::SetString(ev, "lastTimestamp", now, a);
  api::SetInt(ev, "count", 1, a);
  api::SetString(ev, "reportingComponent", component_, a);
  if (auto r = client_->Create(client::kEvents, ns, ev); !r.ok()) {
    VLOG(1) << "event " << reason << " on " << ns << "/" << name
            << " not recorded: " << r.status().ToString();
  }
}

}  // namespace kubepp::controller
