#include "controller-manager/endpoint/endpoints_controller.h"

#include <map>

#include "controller-manager/endpoint/endpoint_util.h"
#include "controller-manager/framework/canonical.h"
#include "controller-manager/framework/owner.h"

namespace kubepp::controller {

using namespace endpoint;
using informer::KeyOf;
using informer::SplitKey;

EndpointsController::EndpointsController(client::RestClient* client, SharedInformers* informers)
    : ServiceControllerBase("endpoint", client, informers),
      endpoints_(informers->For(client::kEndpoints)) {
  // Someone deleted or edited the Endpoints of a Service we manage: put them back.
  endpoints_.AddEventHandler({
      nullptr,
      [this](const ObjectPtr&, const ObjectPtr& ep) {
        if (services_.Get(KeyOf(*ep))) Enqueue(KeyOf(*ep));
      },
      [this](const ObjectPtr& ep) {
        if (services_.Get(KeyOf(*ep))) Enqueue(KeyOf(*ep));
      },
  });
}

namespace {

api::Value AddressJson(const PodEndpoint& e, api::Allocator& a) {
  api::Value addr(rapidjson::kObjectType);
  addr.AddMember("ip", api::Str(e.ip, a), a);
  if (!e.hostname.empty()) addr.AddMember("hostname", api::Str(e.hostname, a), a);
  if (!e.node_name.empty()) addr.AddMember("nodeName", api::Str(e.node_name, a), a);
  api::Value ref(rapidjson::kObjectType);
  ref.AddMember("kind", "Pod", a);
  ref.AddMember("namespace", api::Str(e.pod_namespace, a), a);
  ref.AddMember("name", api::Str(e.pod_name, a), a);
  ref.AddMember("uid", api::Str(e.pod_uid, a), a);
  addr.AddMember("targetRef", std::move(ref), a);
  return addr;
}

}  // namespace

Status EndpointsController::Sync(const std::string& key) {
  auto [ns, name] = SplitKey(key);
  ObjectPtr svc = services_.Get(key);
  if (!svc) {
    // The Service is gone, and so are its Endpoints (as upstream).
    ObjectPtr ep = endpoints_.Get(key);
    if (!ep) return Status::Ok();
    client::DeleteOptions opts;
    opts.precondition_uid = api::GetString(*ep, "metadata.uid");
    Status st = client_->Delete(client::kEndpoints, ns, name, opts);
    return st.code() == Code::kNotFound || st.code() == Code::kConflict ? Status::Ok() : st;
  }
  auto selector = ServiceSelector::Of(*svc);
  if (!selector) return Status::Ok();  // user-managed Endpoints
  auto endpoints = ComputeEndpoints(*svc, *selector, PodsIn(ns), false);

  api::Document want;
  want.SetObject();
  auto& a = want.GetAllocator();
  // Subsets grouped by identical port lists (upstream RepackSubsets).
  std::map<std::vector<Port>, std::pair<api::Value, api::Value>> groups;
  for (const auto& e : endpoints) {
    auto& g = groups[e.ports];
    if (g.first.IsNull()) {
      g.first.SetArray();
      g.second.SetArray();
    }
    (e.ready ? g.first : g.second).PushBack(AddressJson(e, a), a);
  }
  api::Value subsets(rapidjson::kArrayType);
  for (auto& [ports, addrs] : groups) {
    api::Value subset(rapidjson::kObjectType);
    if (!addrs.first.Empty()) subset.AddMember("addresses", std::move(addrs.first), a);
    if (!addrs.second.Empty()) subset.AddMember("notReadyAddresses", std::move(addrs.second), a);
    if (!ports.empty()) {
      api::Value pl(rapidjson::kArrayType);
      for (const auto& p : ports) {
        api::Value pj(rapidjson::kObjectType);
        if (!p.name.empty()) pj.AddMember("name", api::Str(p.name, a), a);
        pj.AddMember("port", p.port, a);
        pj.AddMember("protocol", api::Str(p.protocol, a), a);
        if (!p.app_protocol.empty()) pj.AddMember("appProtocol", api::Str(p.app_protocol, a), a);
        pl.PushBack(std::move(pj), a);
      }
      subset.AddMember("ports", std::move(pl), a);
    }
    subsets.PushBack(std::move(subset), a);
  }
  want.AddMember("subsets", std::move(subsets), a);
  auto labels = EndpointLabels(*svc);

  ObjectPtr current = endpoints_.Get(key);
  if (current) {
    const api::Value* cur_subsets = api::Find(*current, "subsets");
    api::Value empty(rapidjson::kArrayType);
    if (SemanticEqual(cur_subsets ? *cur_subsets : empty, want["subsets"]) &&
        api::GetStringMap(*current, "metadata.labels") == labels) {
      return Status::Ok();
    }
    api::Document next = api::Clone(*current);
    auto& na = next.GetAllocator();
    api::SetValue(next, "subsets", api::Value(want["subsets"], na), na);
    api::SetStringMap(next, "metadata.labels", labels, na);
    return client_->Update(client::kEndpoints, ns, next).status();
  }
  api::SetString(want, "apiVersion", "v1", a);
  api::SetString(want, "kind", "Endpoints", a);
  api::SetString(want, "metadata.name", name, a);
  api::SetString(want, "metadata.namespace", ns, a);
  api::SetStringMap(want, "metadata.labels", labels, a);
  auto r = client_->Create(client::kEndpoints, ns, want);
  // Already there but not in our cache yet: its event will bring us back.
  if (!r.ok() && r.status().code() == Code::kAlreadyExists) return Status::Ok();
  return std::move(r).take_status();
}

}  // namespace kubepp::controller
