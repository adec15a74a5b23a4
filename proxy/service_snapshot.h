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
// Thread safety: values and pure functions; SnapshotBuilder is synchronized.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/endpoint_slices.h"
#include "proxy/services.h"

namespace kubepp::proxy {

// One endpoint of a Service port, in 16 bytes: a snapshot holds one per endpoint of every
// Service (100,000s), where two strings would take 72.
struct Endpoint {
  // `ip` must be an IPv4 address (ParseIpv4); `node_name` is interned (InternNodeName).
  static Endpoint Of(std::string_view ip, int port, std::string_view node_name = "");

  uint32_t address = 0;  // IPv4, host byte order
  uint16_t port = 0;
  const std::string* node = nullptr;  // interned; never null in an Endpoint made by Of

  std::string ip() const;  // dotted quad
  const std::string& node_name() const { return *node; }  // "" when the slice does not say
  // Interned node names compare by address.
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

using ServicePortPtr = std::shared_ptr<const ServicePort>;

struct Snapshot {
  // Sorted by Id(), never null. Immutable and shared: a port of a Service that did not
  // change is the same object in consecutive snapshots of a SnapshotBuilder.
  std::vector<ServicePortPtr> ports;
};

// The endpoints of `sp` that serve traffic of one kind: all, or (`local_only`, a Local
// traffic policy) those on node `node`.
std::vector<const Endpoint*> ServingEndpoints(const ServicePort& sp, bool local_only,
                                              const std::string& node);

// 8 characters of base32 over a stable 64-bit hash of `s` (rule and chain names).
std::string ShortHash(const std::string& s);

// Groups EndpointSlices by "<namespace>/<service name>".
std::map<std::string, std::vector<SlicePtr>> SlicesByService(const std::vector<SlicePtr>& slices);

// The addresses of `service` that its ports' rules leave out because they are not IPv4
// addresses (the rules are IPv4 ones): its clusterIP, externalIPs, LoadBalancer ingress IPs.
std::vector<std::string> UnprogrammableAddresses(const Service& service);

// The ServicePorts of one Service (none for headless/ExternalName Services).
std::vector<ServicePort> ServicePortsOf(const Service& service, const std::vector<SlicePtr>& slices);

// Where a SnapshotBuilder reads the Services and their EndpointSlices as they are now.
// Thread safety: any thread.
class SnapshotSource {
 public:
  virtual ~SnapshotSource() = default;
  virtual std::vector<ServicePtr> AllServices() const = 0;
  virtual ServicePtr ServiceOfKey(const std::string& key) const = 0;  // null when absent
  // The slices labelled with Service `service_key`, in slice key order.
  virtual std::vector<SlicePtr> SlicesOf(const std::string& service_key) const = 0;
};

// The Snapshot of a source, kept current: Build() recomputes only the ports of the
// Services marked Changed since the last Build() (reading them and their slices from the
// source) and shares the others' ServicePort objects, so a sync after one change costs one
// Service, not all of them. Holds nothing but the ports themselves.
// Thread safety: all methods may be called from any thread.
class SnapshotBuilder {
 public:
  explicit SnapshotBuilder(const SnapshotSource* source) : source_(source) {}
  // Service `service_key` ("ns/name") or its slices changed, came or went.
  void Changed(const std::string& service_key);
  // Every Service is to be computed anew by the next Build().
  void Reset();

  Snapshot Build();

 private:
  void Recompute(const std::string& service_key);  // mu_ held

  const SnapshotSource* source_;
  std::mutex mu_;
  bool reset_ = true;
  std::set<std::string> dirty_;  // service keys
  // Each Service's ports by "ns/name/", their Ids' prefix, so that the map's order is
  // the ports' Id order; a Service's ports sorted by Id and unique.
  std::map<std::string, std::vector<ServicePortPtr>> ports_;
};

// A SnapshotSource of objects given one by one, with its SnapshotBuilder (tests,
// benchmarks, BuildSnapshot). Thread safety: one thread.
class SnapshotInputs : public SnapshotSource {
 public:
  SnapshotInputs() : builder_(this) {}
  // Replaces every object known with these.
  void Reset(const std::vector<ServicePtr>& services, const std::vector<SlicePtr>& slices);
  void SetService(const ServicePtr& service);
  void DeleteService(const std::string& service_key);
  void SetSlice(const SlicePtr& slice);
  void DeleteSlice(const std::string& slice_key);
  Snapshot Build() { return builder_.Build(); }

  std::vector<ServicePtr> AllServices() const override;
  ServicePtr ServiceOfKey(const std::string& key) const override;
  std::vector<SlicePtr> SlicesOf(const std::string& service_key) const override;

 private:
  std::map<std::string, ServicePtr> services_;                      // "ns/name"
  std::map<std::string, std::map<std::string, SlicePtr>> slices_;  // service key -> slice key -> slice
  std::map<std::string, std::string> slice_service_;                // slice key -> service key
  SnapshotBuilder builder_;
};

// The Snapshot of these objects: every Service port, sorted by Id; of two ports with one
// Id (a Service with a repeated port name) the first counts.
Snapshot BuildSnapshot(const std::vector<ServicePtr>& services, const std::vector<SlicePtr>& slices);

}  // namespace kubepp::proxy
