// The proxy's Services, held once, typed and compact (object_store.h), for every part of
// the proxy that reads them (the Service proxy, the LoadBalancer controller, DNS, the
// Ingress controller): ~0.4 KB each where the cached document took ~1.2 KB.
//
// What is kept of a Service: its identity (for Events), type, clusterIP, externalName,
// ports, externalIPs, status.loadBalancer.ingress[].ip, ClientIP affinity and the traffic
// policies, as the object gives them (addresses are not checked here).
//
// Thread safety: as ObjectStore's.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/api/json.h"
#include "common/client/event_recorder.h"
#include "common/client/rest_client.h"
#include "proxy/object_store.h"

namespace kubepp::proxy {

struct Service {
  enum class Type : uint8_t { kClusterIP, kNodePort, kLoadBalancer, kExternalName };
  struct Port {
    std::string name;      // "" for an unnamed port
    std::string protocol;  // lower case: "tcp" (the default), "udp" or "sctp"
    int port = 0;          // 0 when not given, -1 when out of range (NonNegativeInt)
    int node_port = 0;     // 0 when none
  };

  std::string ns, name, uid, resource_version;
  Type type = Type::kClusterIP;  // an unknown type reads as ClusterIP
  std::string cluster_ip;        // spec.clusterIP: "None" for a headless Service
  std::string external_name;     // spec.externalName
  std::vector<Port> ports;
  std::vector<std::string> external_ips;       // spec.externalIPs
  std::vector<std::string> load_balancer_ips;  // status.loadBalancer.ingress[].ip, non-empty ones
  int affinity_timeout_seconds = 0;  // ClientIP affinity (upstream's default when not given); 0: none
  bool external_policy_local = false;  // externalTrafficPolicy: Local
  bool internal_policy_local = false;  // internalTrafficPolicy: Local

  std::string Key() const { return ns + "/" + name; }
  // Has node ports (NodePort and LoadBalancer Services).
  bool HasNodePorts() const { return type == Type::kNodePort || type == Type::kLoadBalancer; }
  // The Service as the object an Event is about.
  client::ObjectReference Reference() const;
};

using ServicePtr = std::shared_ptr<const Service>;

// A Service object in that form.
ServicePtr ServiceOf(const api::Value& service);

// The Services store (object_store.h).
class Services : public ObjectStore<Service> {
 public:
  // Watches every namespace's Services through `client`, which must outlive it.
  explicit Services(client::RestClient* client);
};

}  // namespace kubepp::proxy
