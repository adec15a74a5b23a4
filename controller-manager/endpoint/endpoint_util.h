// What both the Endpoints and the EndpointSlice controllers compute for a Service: which
// pods back it, at which address and ports, and in which state, following upstream's
// endpoints controller (pods need an IP, terminal pods are left out, named targetPorts
// are resolved per pod, publishNotReadyAddresses makes every pod ready).
// Thread safety: stateless functions.
#pragma once

#include <optional>
#include <map>
#include <utility>
#include <string>
#include <vector>

#include "common/api/json.h"
#include "common/informer/informer.h"

namespace kubepp::controller::endpoint {

using informer::ObjectPtr;

struct Port {
  std::string name;
  int64_t port = 0;
  std::string protocol;
  std::string app_protocol;
  bool operator<(const Port& o) const {
    return std::tie(name, port, protocol) < std::tie(o.name, o.port, o.protocol);
  }
  bool operator==(const Port& o) const {
    return name == o.name && port == o.port && protocol == o.protocol &&
           app_protocol == o.app_protocol;
  }
};

struct PodEndpoint {
  std::string ip;
  std::string node_name;
  std::string hostname;  // set when the pod's hostname/subdomain make it addressable
  std::string pod_name, pod_namespace, pod_uid;
  bool ready = false;        // counts as a ready address
  bool serving = false;      // the pod is ready (whether or not terminating)
  bool terminating = false;
  std::vector<Port> ports;   // sorted; empty for a headless Service without ports
};

// A Service's spec.selector: label equalities, matched against a pod's labels in place
// (this runs for every pod on every sync, so it allocates nothing).
class ServiceSelector {
 public:
  // nullopt when the Service has no selector (user-managed endpoints).
  static std::optional<ServiceSelector> Of(const api::Value& svc);
  bool Matches(const api::Value& pod) const;

 private:
  std::vector<std::pair<std::string, std::string>> equals_;
};
// The endpoints of `svc` among `pods` (already the Service's namespace). Terminating
// pods are included only when `include_terminating` (EndpointSlices show them).
std::vector<PodEndpoint> ComputeEndpoints(const api::Value& svc, const ServiceSelector& selector,
                                          const std::vector<ObjectPtr>& pods,
                                          bool include_terminating);
// The fields of a pod that endpoints depend on, for skipping irrelevant pod updates.
std::string EndpointFingerprint(const api::Value& pod);
// Labels an Endpoints object or slice of `svc` carries: the Service's own labels, plus
// service.kubernetes.io/headless for a headless Service.
std::map<std::string, std::string> EndpointLabels(const api::Value& svc);

}  // namespace kubepp::controller::endpoint
