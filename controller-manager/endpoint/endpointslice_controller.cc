#include "controller-manager/endpoint/endpointslice_controller.h"

#include <algorithm>
#include <map>

#include "controller-manager/endpoint/endpoint_util.h"
#include "controller-manager/framework/canonical.h"
#include "controller-manager/framework/owner.h"

namespace kubepp::controller {

using namespace endpoint;
using informer::KeyOf;
using informer::SplitKey;

namespace {

constexpr const char* kServiceNameLabel = "kubernetes.io/service-name";
constexpr const char* kManagedByLabel = "endpointslice.kubernetes.io/managed-by";
constexpr const char* kManagedBy = "endpointslice-controller.k8s.io";

api::Value EndpointJson(const PodEndpoint& e, api::Allocator& a) {
  api::Value ep(rapidjson::kObjectType);
  api::Value addrs(rapidjson::kArrayType);
  addrs.PushBack(api::Str(e.ip, a), a);
  ep.AddMember("addresses", std::move(addrs), a);
  api::Value cond(rapidjson::kObjectType);
  cond.AddMember("ready", e.ready, a);
  cond.AddMember("serving", e.serving, a);
  cond.AddMember("terminating", e.terminating, a);
  ep.AddMember("conditions", std::move(cond), a);
  if (!e.hostname.empty()) ep.AddMember("hostname", api::Str(e.hostname, a), a);
  if (!e.node_name.empty()) ep.AddMember("nodeName", api::Str(e.node_name, a), a);
  api::Value ref(rapidjson::kObjectType);
  ref.AddMember("kind", "Pod", a);
  ref.AddMember("namespace", api::Str(e.pod_namespace, a), a);
  ref.AddMember("name", api::Str(e.pod_name, a), a);
  ref.AddMember("uid", api::Str(e.pod_uid, a), a);
  ep.AddMember("targetRef", std::move(ref), a);
  return ep;
}

api::Value PortsJson(const std::vector<Port>& ports, api::Allocator& a) {
  api::Value pl(rapidjson::kArrayType);
  for (const auto& p : ports) {
    api::Value pj(rapidjson::kObjectType);
    pj.AddMember("name", api::Str(p.name, a), a);
    pj.AddMember("port", p.port, a);
    pj.AddMember("protocol", api::Str(p.protocol, a), a);
    if (!p.app_protocol.empty()) pj.AddMember("appProtocol", api::Str(p.app_protocol, a), a);
    pl.PushBack(std::move(pj), a);
  }
  return pl;
}

// The fields of a slice this controller owns.
constexpr const char* kSliceFields[] = {"endpoints", "ports", "addressType", "metadata.labels"};

bool SameContent(const api::Value& actual, const api::Value& desired) {
  static const api::Value kNull;
  for (const char* f : kSliceFields) {
    const api::Value* a = api::Find(actual, f);
    const api::Value* d = api::Find(desired, f);
    if (!SemanticEqual(a ? *a : kNull, d ? *d : kNull)) return false;
  }
  return true;
}

}  // namespace

EndpointSliceController::EndpointSliceController(client::RestClient* client,
                                                 SharedInformers* informers,
                                                 int max_endpoints_per_slice)
    : ServiceControllerBase("endpointslice", client, informers),
      slices_(informers->For(client::kEndpointSlices)),
      max_per_slice_(max_endpoints_per_slice) {
  auto enqueue_owner = [this](const ObjectPtr& slice) {
    auto labels = api::GetStringMap(*slice, "metadata.labels");
    if (labels[kManagedByLabel] != kManagedBy || labels[kServiceNameLabel].empty()) return;
    Enqueue(api::GetString(*slice, "metadata.namespace") + "/" + labels[kServiceNameLabel]);
  };
  slices_.AddEventHandler(
      {nullptr, [enqueue_owner](const ObjectPtr&, const ObjectPtr& s) { enqueue_owner(s); },
       enqueue_owner});
}

Status EndpointSliceController::Sync(const std::string& key) {
  auto [ns, name] = SplitKey(key);
  ObjectPtr svc = services_.Get(key);
  std::vector<ObjectPtr> existing;
  for (const auto& s : slices_.List()) {
    if (api::GetString(*s, "metadata.namespace") != ns) continue;
    auto labels = api::GetStringMap(*s, "metadata.labels");
    if (labels[kServiceNameLabel] == name && labels[kManagedByLabel] == kManagedBy) {
      existing.push_back(s);
    }
  }
  std::sort(existing.begin(), existing.end(), [](const ObjectPtr& a, const ObjectPtr& b) {
    return api::GetString(*a, "metadata.name") < api::GetString(*b, "metadata.name");
  });
  std::optional<ServiceSelector> selector;
  if (svc) selector = ServiceSelector::Of(*svc);

  // Desired slices: endpoints grouped by port list, in chunks.
  std::vector<api::Document> desired;
  if (svc && selector) {
    auto endpoints = ComputeEndpoints(*svc, *selector, PodsIn(ns), true);
    std::map<std::vector<Port>, std::vector<const PodEndpoint*>> groups;
    for (const auto& e : endpoints) groups[e.ports].push_back(&e);
    auto labels = EndpointLabels(*svc);
    labels[kServiceNameLabel] = name;
    labels[kManagedByLabel] = kManagedBy;
    if (groups.empty()) groups[{}];  // a Service with no endpoints still gets one slice
    for (auto& [ports, eps] : groups) {
      for (size_t start = 0; start == 0 || start < eps.size(); start += max_per_slice_) {
        api::Document slice;
        slice.SetObject();
        auto& a = slice.GetAllocator();
        api::SetString(slice, "addressType", "IPv4", a);
        api::Value list(rapidjson::kArrayType);
        for (size_t i = start; i < eps.size() && i < start + max_per_slice_; ++i) {
          list.PushBack(EndpointJson(*eps[i], a), a);
        }
        api::SetValue(slice, "endpoints", std::move(list), a);
        api::SetValue(slice, "ports", PortsJson(ports, a), a);
        api::SetStringMap(slice, "metadata.labels", labels, a);
        desired.push_back(std::move(slice));
        if (eps.empty()) break;
      }
    }
  }

  size_t reuse = std::min(desired.size(), existing.size());
  for (size_t i = 0; i < reuse; ++i) {
    if (SameContent(*existing[i], desired[i])) continue;
    api::Document next = api::Clone(*existing[i]);
    auto& a = next.GetAllocator();
    for (const char* f : kSliceFields) {
      api::SetValue(next, f, api::Value(*api::Find(desired[i], f), a), a);
    }
    RETURN_IF_ERROR(client_->Update(client::kEndpointSlices, ns, next).status());
  }
  for (size_t i = reuse; i < desired.size(); ++i) {
    api::Document& slice = desired[i];
    auto& a = slice.GetAllocator();
    api::SetString(slice, "apiVersion", "discovery.k8s.io/v1", a);
    api::SetString(slice, "kind", "EndpointSlice", a);
    api::SetString(slice, "metadata.generateName", name + "-", a);
    api::SetString(slice, "metadata.namespace", ns, a);
    api::Value refs(rapidjson::kArrayType);
    refs.PushBack(ControllerRefJson(*svc, "v1", "Service", a), a);
    api::SetValue(slice, "metadata.ownerReferences", std::move(refs), a);
    RETURN_IF_ERROR(client_->Create(client::kEndpointSlices, ns, slice).status());
  }
  for (size_t i = reuse; i < existing.size(); ++i) {
    client::DeleteOptions opts;
    opts.precondition_uid = api::GetString(*existing[i], "metadata.uid");
    Status st = client_->Delete(client::kEndpointSlices, ns,
                                api::GetString(*existing[i], "metadata.name"), opts);
    if (!st.ok() && st.code() != Code::kNotFound && st.code() != Code::kConflict) return st;
  }
  return Status::Ok();
}

}  // namespace kubepp::controller
