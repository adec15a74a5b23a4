#include "proxy/services.h"

#include "common/util/strings.h"

namespace kubepp::proxy {
namespace {

// Upstream's default ClientIP affinity timeout (3 hours).
constexpr int kDefaultAffinityTimeout = 10800;

Service::Type TypeOf(const std::string& type) {
  if (type == "NodePort") return Service::Type::kNodePort;
  if (type == "LoadBalancer") return Service::Type::kLoadBalancer;
  if (type == "ExternalName") return Service::Type::kExternalName;
  return Service::Type::kClusterIP;
}

}  // namespace

client::ObjectReference Service::Reference() const {
  return {"Service", "v1", ns, name, uid, resource_version};
}

ServicePtr ServiceOf(const api::Value& svc) {
  auto out = std::make_shared<Service>();
  out->ns = api::GetString(svc, "metadata.namespace");
  out->name = api::GetString(svc, "metadata.name");
  out->uid = api::GetString(svc, "metadata.uid");
  out->resource_version = api::GetString(svc, "metadata.resourceVersion");
  out->type = TypeOf(api::GetString(svc, "spec.type", "ClusterIP"));
  out->cluster_ip = api::GetString(svc, "spec.clusterIP");
  out->external_name = api::GetString(svc, "spec.externalName");
  if (const api::Value* ports = api::Find(svc, "spec.ports"); ports && ports->IsArray()) {
    out->ports.reserve(ports->Size());
    for (const auto& p : ports->GetArray()) {
      out->ports.push_back({api::GetString(p, "name"),
                            util::AsciiLower(api::GetString(p, "protocol", "TCP")),
                            NonNegativeInt(p, "port"), NonNegativeInt(p, "nodePort")});
    }
  }
  if (const api::Value* ips = api::Find(svc, "spec.externalIPs"); ips && ips->IsArray()) {
    for (const auto& ip : ips->GetArray()) {
      if (ip.IsString()) out->external_ips.emplace_back(api::View(ip));
    }
  }
  if (const api::Value* ing = api::Find(svc, "status.loadBalancer.ingress"); ing && ing->IsArray()) {
    for (const auto& i : ing->GetArray()) {
      std::string ip = api::GetString(i, "ip");
      if (!ip.empty()) out->load_balancer_ips.push_back(std::move(ip));
    }
  }
  if (api::GetString(svc, "spec.sessionAffinity") == "ClientIP") {
    out->affinity_timeout_seconds = NonNegativeInt(
        svc, "spec.sessionAffinityConfig.clientIP.timeoutSeconds", kDefaultAffinityTimeout);
    if (out->affinity_timeout_seconds <= 0) out->affinity_timeout_seconds = kDefaultAffinityTimeout;
  }
  out->external_policy_local = api::GetString(svc, "spec.externalTrafficPolicy") == "Local";
  out->internal_policy_local = api::GetString(svc, "spec.internalTrafficPolicy") == "Local";
  return out;
}

Services::Services(client::RestClient* client) : ObjectStore(client, client::kServices, ServiceOf) {}

}  // namespace kubepp::proxy
