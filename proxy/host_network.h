// Host settings the service proxy needs besides its nftables table:
//   - a bridge with no ports (`kubepp-svc0`; `dummy` links are unavailable here) that the
//     service CIDR (and the LoadBalancer range, when it is a CIDR) is routed to, so that a
//     packet for a service address that no rule catches stays on this machine; it also
//     holds the addresses this process serves itself (the cluster DNS address);
//   - net.ipv4.conf.all.route_localnet=1, for NodePorts on 127.0.0.1;
//   - ACCEPT rules at the top of iptables' filter FORWARD chain for the cluster and
//     service CIDRs: an accept in our own nftables table cannot override another table's
//     drop (Docker sets FORWARD's policy to DROP), so they go where the drop is.
// Every step is idempotent; Cleanup undoes them (route_localnet is left as is, as
// kube-proxy leaves it).
// Thread safety: call from one thread.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace kubepp::proxy {

struct HostNetworkConfig {
  std::string bridge = "kubepp-svc0";
  std::vector<std::string> routed_cidrs;     // service CIDR, LoadBalancer range
  std::vector<std::string> forward_cidrs;    // cluster CIDR, service CIDR
  std::vector<std::string> local_addresses;  // put on the bridge (/32)
  bool route_localnet = true;
};

Status EnsureHostNetwork(const HostNetworkConfig& config);
Status CleanupHostNetwork(const HostNetworkConfig& config);

}  // namespace kubepp::proxy
