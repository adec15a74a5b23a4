// The proxy's view of the cluster: every Service port with the endpoints that serve it,
// built from Service and EndpointSlice objects by a pure function, so that everything
// downstream (nftables rendering, DNS answers) is testable without an apiserver.
//
// Semantics follow kube-proxy:
//   - a Service port is proxied when its Service has a ClusterIP (not "None"/empty) and is
//     not ExternalName; headless Services only matter to DNS;
//   - endpoints come from the EndpointSlices labelled kubernetes.io/service-name=<svc> in
//     the Service's namespace (IPv4 address type), matched to the port by name and
//     protocol; an endpoint is used when ready (a missing condition means ready); when no
//     endpoint of the port is ready, serving+terminating ones are used instead (upstream's
//     graceful termination fallback);
//   - the same address listed by two slices counts once.
// Thread safety: values.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/api/json.h"

namespace kubepp::proxy {

using ObjectPtr = std::shared_ptr<const api::Document>;

struct Endpoint {
  std::string ip;
  int port = 0;
  std::string node_name;  // "" when the slice does not say
  bool operator==(const Endpoint&) const = default;
};

struct ServicePort {
  std::string ns, name;
  std::string port_name;  // "" for an unnamed port
  std::string protocol;   // "tcp", "udp" or "sctp"
  std::string cluster_ip;
  int port = 0;
  int node_port = 0;  // 0: none
  std::vector<std::string> external_ips;        // spec.externalIPs
  std::vector<std::string> load_balancer_ips;   // status.loadBalancer.ingress[].ip
  int affinity_timeout_seconds = 0;             // ClientIP affinity; 0: none
  bool external_policy_local = false;           // externalTrafficPolicy: Local
  bool internal_policy_local = false;           // internalTrafficPolicy: Local
  std::vector<Endpoint> endpoints;              // usable endpoints, sorted, unique

  // "ns/name/tcp/port_name": unique per Service port, the readable part of chain names.
  std::string Id() const;
  // Traffic from outside the cluster arrives on these (NodePort aside).
  bool HasExternalAddresses() const { return !external_ips.empty() || !load_balancer_ips.empty(); }
  bool operator==(const ServicePort&) const = default;
};

struct Snapshot {
  std::vector<ServicePort> ports;  // sorted by Id()
};

// Groups EndpointSlices by "<namespace>/<service name>".
std::map<std::string, std::vector<ObjectPtr>> SlicesByService(const std::vector<ObjectPtr>& slices);

// The ServicePorts of one Service (none for headless/ExternalName Services).
std::vector<ServicePort> ServicePortsOf(const api::Value& service,
                                        const std::vector<ObjectPtr>& slices);

Snapshot BuildSnapshot(const std::vector<ObjectPtr>& services, const std::vector<ObjectPtr>& slices);

}  // namespace kubepp::proxy
