// LoadBalancer Services without a cloud: each one gets an address from
// --loadbalancer-ip-range (by default the node's own address, shared by every such Service
// as k3s's servicelb does), written to status.loadBalancer.ingress through
// services/<name>/status; the nftables rules then serve it like an external IP.
//
// Only a Service with no ingress address yet is assigned one, so proxies on several nodes
// never fight over it: the first writer wins and the others see its choice.
// Thread safety: the controller's methods from one thread; the functions are pure.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/client/event_recorder.h"
#include "common/client/rest_client.h"
#include "common/informer/workqueue.h"
#include "common/status.h"
#include "proxy/services.h"

namespace kubepp::proxy {

struct IpRange {
  uint32_t first = 0, last = 0;  // host byte order, inclusive
  // The range as a CIDR when it is exactly one ("10.1.0.0/24"), else "".
  std::string Cidr() const;
};

// "a.b.c.d", "a.b.c.d-e.f.g.h" or "a.b.c.d/nn" (network and broadcast addresses of a /30
// or larger block are left out).
Result<IpRange> ParseIpRange(const std::string& spec);

// The lowest address of `range` not in `used`. A one-address range is shared by every
// Service. Unavailable when every address is taken.
Result<std::string> PickAddress(const IpRange& range, const std::set<std::string>& used);

class LoadBalancerController {
 public:
  // `client`, `services` and `events` must outlive the controller.
  LoadBalancerController(client::RestClient* client, Services* services,
                         client::EventRecorder* events, IpRange range);
  ~LoadBalancerController();  // Stop()
  void Start();
  void Stop();
  // Assigns an address to the Service `key` ("ns/name") if it needs one. Idempotent.
  Status Sync(const std::string& key);

 private:
  client::RestClient* client_;
  Services* services_;
  client::EventRecorder* events_;
  IpRange range_;
  informer::WorkQueue queue_;
  std::thread worker_;
};

}  // namespace kubepp::proxy
