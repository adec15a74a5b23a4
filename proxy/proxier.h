// The seam between the service proxy's control loop and the kernel: a Proxier programs
// the dataplane (nftables now; iptables is the other upstream mode) from a Snapshot.
// Thread safety: implementations are called from one thread at a time.
#pragma once

#include "common/status.h"
#include "proxy/service_snapshot.h"

namespace kubepp::proxy {

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
