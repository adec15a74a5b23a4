#include "controller-manager/endpoint/endpoint_util.h"

#include <algorithm>

#include "controller-manager/framework/owner.h"
#include "controller-manager/framework/pods.h"

namespace kubepp::controller::endpoint {
namespace {

// The container port a Service port targets on `pod` (upstream podutil.FindPort):
// a number is used as is; a name is looked up among the pod's container ports of the
// same protocol. nullopt when the name is not found.
std::optional<int64_t> FindPort(const api::Value& pod, const api::Value& svc_port) {
  const api::Value* target = api::FindMember(svc_port, "targetPort");
  std::string protocol = api::GetString(svc_port, "protocol", "TCP");
  if (target == nullptr || target->IsNull()) return api::GetInt(svc_port, "port");
  if (target->IsInt64()) return target->GetInt64();
  if (!target->IsString()) return std::nullopt;
  std::string name = target->GetString();
  if (!name.empty() && std::all_of(name.begin(), name.end(), ::isdigit)) return std::stoll(name);
  const api::Value* containers = api::Find(pod, "spec.containers");
  if (containers == nullptr || !containers->IsArray()) return std::nullopt;
  for (const auto& c : containers->GetArray()) {
    const api::Value* ports = api::FindMember(c, "ports");
    if (ports == nullptr || !ports->IsArray()) continue;
    for (const auto& p : ports->GetArray()) {
      if (api::GetString(p, "name") == name && api::GetString(p, "protocol", "TCP") == protocol) {
        return api::GetInt(p, "containerPort");
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<ServiceSelector> ServiceSelector::Of(const api::Value& svc) {
  const api::Value* sel = api::Find(svc, "spec.selector");
  if (sel == nullptr || !sel->IsObject() || sel->ObjectEmpty()) return std::nullopt;
  ServiceSelector out;
  for (const auto& m : sel->GetObject()) {
    out.equals_.emplace_back(api::View(m.name), api::View(m.value));
  }
  return out;
}

bool ServiceSelector::Matches(const api::Value& pod) const {
  const api::Value* labels = api::Find(pod, "metadata.labels");
  if (labels == nullptr || !labels->IsObject()) return false;
  for (const auto& [key, value] : equals_) {
    const api::Value* v = api::FindMember(*labels, key);
    if (v == nullptr || api::View(*v) != value) return false;
  }
  return true;
}

std::vector<PodEndpoint> ComputeEndpoints(const api::Value& svc, const ServiceSelector& selector,
                                          const std::vector<ObjectPtr>& pods,
                                          bool include_terminating) {
  bool publish_not_ready = api::GetBool(svc, "spec.publishNotReadyAddresses");
  std::string svc_name = api::GetString(svc, "metadata.name");
  const api::Value* svc_ports = api::Find(svc, "spec.ports");
  std::vector<PodEndpoint> out;
  for (const auto& pod : pods) {
    if (!selector.Matches(*pod)) continue;
    std::string ip = api::GetString(*pod, "status.podIP");
    if (ip.empty() || IsPodTerminal(*pod)) continue;
    bool terminating = IsBeingDeleted(*pod);
    if (terminating && !include_terminating && !publish_not_ready) continue;
    PodEndpoint e;
    e.ip = ip;
    e.node_name = api::GetString(*pod, "spec.nodeName");
    e.pod_name = api::GetString(*pod, "metadata.name");
    e.pod_namespace = api::GetString(*pod, "metadata.namespace");
    e.pod_uid = api::GetString(*pod, "metadata.uid");
    std::string hostname = api::GetString(*pod, "spec.hostname");
    if (!hostname.empty() && api::GetString(*pod, "spec.subdomain") == svc_name) e.hostname = hostname;
    e.serving = IsPodReady(*pod);
    e.terminating = terminating;
    e.ready = publish_not_ready || (e.serving && !terminating);
    if (svc_ports != nullptr && svc_ports->IsArray()) {
      for (const auto& sp : svc_ports->GetArray()) {
        auto port = FindPort(*pod, sp);
        if (!port) continue;  // this pod does not expose the named port
        e.ports.push_back({api::GetString(sp, "name"), *port, api::GetString(sp, "protocol", "TCP"),
                           api::GetString(sp, "appProtocol")});
      }
      // A Service with ports that this pod serves none of: no endpoint.
      if (e.ports.empty() && !svc_ports->Empty()) continue;
    }
    std::sort(e.ports.begin(), e.ports.end());
    out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(), [](const PodEndpoint& a, const PodEndpoint& b) {
    return std::tie(a.ip, a.pod_name) < std::tie(b.ip, b.pod_name);
  });
  return out;
}

std::string EndpointFingerprint(const api::Value& pod) {
  std::string f = api::GetString(pod, "status.podIP") + "|" + api::GetString(pod, "spec.nodeName") +
                  "|" + api::GetString(pod, "status.phase") + "|" +
                  (IsPodReady(pod) ? "R" : "-") + (IsBeingDeleted(pod) ? "D" : "-") + "|" +
                  api::GetString(pod, "spec.hostname") + "|" + api::GetString(pod, "spec.subdomain");
  for (const auto& [k, v] : api::GetStringMap(pod, "metadata.labels")) f += "|" + k + "=" + v;
  return f;
}

std::map<std::string, std::string> EndpointLabels(const api::Value& svc) {
  auto labels = api::GetStringMap(svc, "metadata.labels");
  if (api::GetString(svc, "spec.clusterIP") == "None") labels["service.kubernetes.io/headless"] = "";
  return labels;
}

}  // namespace kubepp::controller::endpoint
