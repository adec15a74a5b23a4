// Routes to the other nodes' pod CIDRs through their InternalIP (--pod-routes): the
// "host-gw" pod network that kindnet and flannel's host-gw backend give nodes sharing one
// L2 segment, such as the docker-compose cluster's node containers. Without it a pod on
// one node reaches pods on another only through Service rules that happen to masquerade.
//
// The routes carry a protocol number of their own (kPodRouteProtocol), so a sync finds
// the stale ones (a node gone, its CIDR or address changed) and never touches a route it
// did not make. A node reached through one of this host's own addresses needs no route:
// every node of `kubepp up` shares one machine, where the CNI bridges already route.
// Thread safety: the controller's methods from one thread; DesiredPodRoutes is pure.
#pragma once

#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "common/informer/informer.h"
#include "common/informer/workqueue.h"
#include "common/status.h"

namespace kubepp::proxy {

inline constexpr int kPodRouteProtocol = 75;  // "proto 75" in `ip route`

struct PodRoute {
  std::string cidr;  // "10.244.1.0/24"
  std::string via;   // the node's InternalIP
  bool operator==(const PodRoute&) const = default;
  auto operator<=>(const PodRoute&) const = default;
};

// The routes this node needs: one per other Node with spec.podCIDR (IPv4) and an
// InternalIP that `is_local` says is not ours, sorted by CIDR.
std::vector<PodRoute> DesiredPodRoutes(const std::vector<informer::ObjectPtr>& nodes,
                                       const std::string& self,
                                       const std::function<bool(const std::string&)>& is_local);

// Parses `ip -4 route show proto 75` output ("10.244.1.0/24 via 172.18.0.3 dev eth0 ...").
std::vector<PodRoute> ParseRoutes(const std::string& ip_route_output);

class PodRouteController {
 public:
  // `nodes` must outlive the controller; `self` is this node's name.
  PodRouteController(informer::Informer* nodes, std::string self);
  ~PodRouteController();  // Stop()
  void Start();
  void Stop();
  // Makes the kernel's tagged routes equal DesiredPodRoutes. Idempotent.
  Status Sync();
  // Removes every route this controller made (--cleanup).
  static Status Cleanup();

 private:
  informer::Informer* nodes_;
  std::string self_;
  informer::WorkQueue queue_;
  std::thread worker_;
};

}  // namespace kubepp::proxy
