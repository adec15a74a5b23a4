// UDP has no connection to end: the kernel's conntrack entry of a flow keeps sending a
// client's datagrams to the endpoint it was NATed to, even after that endpoint is gone,
// and a flow that met a Service with no endpoint keeps its un-NATed entry after one
// appears. As kube-proxy does, after each successful sync the proxy deletes those
// entries with the conntrack tool:
//  - an endpoint removed from a UDP Service port: entries to its cluster IP, external
//    and load-balancer IPs (--orig-dst) and NodePort (--dport) NATed to that endpoint;
//  - a UDP Service port that goes from no endpoint (or not existing) to some: every
//    entry to its addresses and NodePort.
// Thread safety: pure functions; RunConntrack runs processes.
#pragma once

#include <string>
#include <vector>

#include "proxy/service_snapshot.h"

namespace kubepp::proxy {

// The `conntrack` command lines (argv) that remove the stale UDP entries of the change
// from `before` to `after` (the snapshots of two successful syncs), in a stable order.
std::vector<std::vector<std::string>> StaleUdpFlows(const Snapshot& before, const Snapshot& after);

// Runs each command; "0 flow entries" is success. Failures are logged, not returned:
// a stale entry is a nuisance that expires, not a reason to fail a sync.
void RunConntrack(const std::vector<std::vector<std::string>>& commands);

}  // namespace kubepp::proxy
