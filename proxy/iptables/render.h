// The iptables rules for a Snapshot, in the shape of kube-proxy's iptables mode, for
// hosts without nftables (`--proxy-mode=iptables`). Same semantics as the nftables table
// (nftables/render.h), in chains named <prefix>-*:
//
//   nat PREROUTING, OUTPUT -> P-SERVICES:
//     -d <ClusterIP> -p <proto> --dport <port> -j P-SVC-<hash>     (ClusterIP)
//     -d <external/LB IP> ... -j P-EXT-<hash>                       (externalIPs, LB ingress)
//     -m addrtype --dst-type LOCAL -j P-NODEPORTS                   (last)
//   P-NODEPORTS: -p <proto> --dport <nodePort> -j P-EXT-<hash>
//   P-SVC-<hash>: mark off-cluster sources for masquerade; ClientIP affinity (`recent`)
//     lookups; then a uniform random choice among the endpoints (`statistic`, probability
//     1/(n-i) for endpoint i) -> P-SEP-<hash>;
//   P-EXT-<hash>: traffic that came in on a NodePort/external address: masqueraded and
//     sent to P-SVC, or (externalTrafficPolicy: Local) to this node's endpoints only;
//   P-SEP-<hash>: marks hairpin traffic (from the endpoint itself), remembers the client
//     (affinity), DNATs;
//   nat POSTROUTING -> P-POSTROUTING: masquerades marked packets (mark 0x4000);
//   filter INPUT, FORWARD, OUTPUT (new connections) -> P-SERVICES: a Service port
//     without usable endpoints is rejected (TCP reset, ICMP port unreachable otherwise);
//   filter INPUT -> P-FIREWALL: drops packets for 127.0.0.0/8 from outside that are not
//     part of a DNATed flow (route_localnet makes the kernel accept them; NodePorts on
//     127.0.0.1 need it).
// Chain names carry 12 characters of hash of the Service port (and endpoint): iptables
// allows 28 characters, so the prefix may have up to 11.
// Thread safety: pure functions.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "proxy/proxier.h"
#include "proxy/service_snapshot.h"

namespace kubepp::proxy::ipt {

struct RenderConfig : RuleConfig {
  std::string prefix = "KUBEPP";
};

// The prefix must make valid, short enough chain names.
Status ValidatePrefix(const std::string& prefix);

// Our chains of one table: name -> rule specs (without "-A <chain>"), in order.
using Chains = std::map<std::string, std::vector<std::string>>;

struct Tables {
  Chains nat, filter;
  bool operator==(const Tables&) const = default;
};

Tables Render(const Snapshot& snapshot, const RenderConfig& config);

// Input for `iptables-restore --noflush` that makes our chains exactly `t` (each is
// declared, which empties it, then filled) and deletes `stale_nat` / `stale_filter`
// (chains of ours that `t` no longer has), in one transaction per table. Chains of
// others are not touched.
std::string RestoreInput(const Tables& t, const std::set<std::string>& stale_nat,
                         const std::set<std::string>& stale_filter);

// A rule in a built-in chain that sends traffic to ours.
struct Jump {
  std::string table, chain;
  std::vector<std::string> rule;  // e.g. {"-m", "conntrack", "--ctstate", "NEW", "-j", "KUBEPP-SERVICES"}
};
std::vector<Jump> Jumps(const RenderConfig& config);

// The chains of `table` in `iptables-save` output whose names start with "<prefix>-".
std::set<std::string> ChainsWithPrefix(const std::string& save_output, const std::string& table,
                                       const std::string& prefix);

}  // namespace kubepp::proxy::ipt
