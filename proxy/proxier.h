// The seam between the service proxy's control loop and the kernel: a Proxier programs
// the dataplane (nftables/, or iptables/ where nftables does not work) from a Snapshot.
// Thread safety: implementations are called from one thread at a time.
#pragma once

#include <string>

#include "common/status.h"
#include "proxy/service_snapshot.h"

namespace kubepp::proxy {

// What both modes' rules depend on besides the Snapshot.
struct RuleConfig {
  // Sources outside it are masqueraded when they reach a ClusterIP (off-node clients,
  // the host itself). Empty: masquerade every ClusterIP connection.
  std::string cluster_cidr = "10.244.0.0/16";
  std::string node_name;  // for externalTrafficPolicy/internalTrafficPolicy Local
  // Drop packets for 127.0.0.0/8 arriving from outside (route_localnet makes the kernel
  // accept them, which NodePorts on 127.0.0.1 need), unless they belong to a DNATed flow.
  bool localhost_nodeports = true;
};

class Proxier {
 public:
  virtual ~Proxier() = default;
  // Makes the dataplane match `snapshot`. `full` rewrites everything the proxier owns (at
  // start and periodically, to repair outside changes); otherwise only what differs from
  // the last successful sync is applied. After an error the next sync is full.
  virtual Status Sync(const Snapshot& snapshot, bool full) = 0;
  // Removes every rule and object the proxier made (`--cleanup`).
  virtual Status Cleanup() = 0;
};

}  // namespace kubepp::proxy
