// The cluster DNS zone (the Kubernetes DNS-Based Service Discovery spec, as CoreDNS's
// kubernetes plugin answers it) and the answers to queries in it:
//   <svc>.<ns>.svc.<domain>         A: the ClusterIP; headless: every ready endpoint IP;
//                                   ExternalName: a CNAME to spec.externalName
//   <ep>.<svc>.<ns>.svc.<domain>    A of one headless endpoint (by hostname or a-b-c-d IP)
//   _<port>._<proto>.<svc>.<ns>.svc.<domain>  SRV for a named port (+ A in additional)
//   <a-b-c-d>.<ns>.pod.<domain>     A (not checked against the pod, as CoreDNS's "pods insecure")
// A name that does not exist is NXDOMAIN; one that exists without records of the asked type
// is NODATA (NOERROR, no answers); both carry the zone's SOA in the authority section.
// Names outside the domain are not answered here (Answer says to forward them).
// Thread safety: Zone is safe from any thread; the functions are pure.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/api/json.h"
#include "proxy/dns/message.h"
#include "proxy/service_snapshot.h"

namespace kubepp::proxy::dns {

struct ServiceRecords {
  struct Port {
    std::string name, protocol;  // protocol lower-case ("tcp")
    int port = 0;
  };
  struct Backend {
    std::string ip;
    std::string hostname;  // the endpoint's hostname, or the IP with dashes
    std::vector<Port> ports;
  };
  std::string cluster_ip;     // "" for headless and ExternalName Services
  std::string external_name;  // ExternalName target
  std::vector<Port> ports;    // spec.ports
  std::vector<Backend> backends;  // headless only: ready endpoints
};

// From a Service and its EndpointSlices (labelled kubernetes.io/service-name).
ServiceRecords RecordsOf(const Service& service, const std::vector<SlicePtr>& slices);

class Zone {
 public:
  // Sets (or, with nullopt, removes) the records of Service "ns/name".
  void Update(const std::string& ns, const std::string& name, std::optional<ServiceRecords> r);
  std::shared_ptr<const ServiceRecords> Find(const std::string& ns, const std::string& name) const;
  bool HasNamespace(const std::string& ns) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<const ServiceRecords>> services_;  // "ns/name"
  std::map<std::string, int> namespaces_;  // Services per namespace
};

struct AnswerOptions {
  std::string domain = "cluster.local";
  uint32_t ttl = 5;  // CoreDNS's default for cluster records
};

enum class Disposition { kAnswered, kForward };

// Fills `reply` for `query` (one question, standard query), or returns kForward for a
// name outside the domain. Malformed queries get FORMERR, other opcodes NOTIMP.
Disposition Answer(const Message& query, const Zone& zone, const AnswerOptions& options,
                   Message* reply);

}  // namespace kubepp::proxy::dns
