// The desired nftables table for a Snapshot, in the shape of kube-proxy's nftables mode:
//
//   nat hooks (prerouting, output) -> chain services:
//     ip daddr . meta l4proto . th dport vmap @service-ips        (ClusterIP, externalIPs,
//                                                                  LoadBalancer ingress IPs)
//     fib daddr type local  meta l4proto . th dport vmap @service-nodeports
//   Most ports (no ClientIP affinity, no externalTrafficPolicy Local) have no chain of
//   their own: their elements of those maps go to a shared chain
//   pick-<cluster|external|nodeport>-<protocol>-<N> (N: the port's endpoint count) that
//     marks what must be masqueraded and DNATs to
//     `ip daddr . tcp dport . numgen random mod N map @service-endpoints-tcp`
//     (NodePorts: `tcp dport . numgen ...` in @nodeport-endpoints-tcp), a uniform random
//     choice, with the port's endpoints as the elements of slots 0..N-1;
//   the others have chains of their own:
//   service-<hash>-<ns/name/proto/port>: mark off-cluster sources for masquerade, ClientIP
//     affinity lookups, then a uniform random choice among the endpoints (cascaded
//     `numgen random mod k == 0`, see render.cc for why not kube-proxy's vmap) that DNATs;
//   external-<hash>-...: traffic that came in on a NodePort/external address: always
//     masqueraded, or (externalTrafficPolicy: Local) sent to this node's endpoints only;
//   endpoint-<hash>-...__<ip>/<port> (ClientIP affinity only): remember the client, DNAT;
//   filter hooks (input, forward, output) -> chain no-endpoint-check: a new connection to a
//     Service port without usable endpoints is rejected (TCP reset, ICMP otherwise);
//   nat postrouting -> chain masquerading: masquerades marked packets, and hairpin
//     connections (a DNATed packet whose source and destination are the same endpoint,
//     looked up in the set hairpin-endpoints).
// The large sets' names may end with a suffix (RenderConfig::large_set_suffix).
// Few chains keep the table small: loading it, listing it (which `nft` does before every
// transaction) and the kernel's validation of it (whenever a transaction adds a jump or a
// NAT rule) cost per chain and rule, and most endpoint changes touch map elements only.
// The hash keeps chain names unique and stable; the readable tail is for humans.
// Thread safety: pure functions.
#pragma once

#include <string>

#include "proxy/nftables/ruleset.h"
#include "proxy/proxier.h"
#include "proxy/service_snapshot.h"

namespace kubepp::proxy::nft {

// The slot maps, one per protocol (nft 1.0.6 cannot add a rule that maps through a map
// whose typeof names another protocol's header): element "<address> . <port> . <k>" of
// service-endpoints-<protocol> (NodePorts: "<port> . <k>" of nodeport-endpoints-<protocol>)
// is the k-th endpoint of the port whose element has that entry key in service-ips
// ("<address> . <protocol> . <port>") or service-nodeports ("<protocol> . <port>"): the
// slots follow the entry's element.
struct Slots {
  std::string map;     // "service-endpoints-tcp"
  std::string prefix;  // "10.96.0.5 . 80 . ": the keys of the entry's slots start so
};
// The slots of `entry_key` of map `owner` ("service-ips" or "service-nodeports"), in the
// slot maps named with `suffix` (RenderConfig::large_set_suffix).
Slots SlotsOf(const std::string& owner, const std::string& entry_key, const std::string& suffix = "");
// The owner of slot map `map` ("service-ips" or "service-nodeports"), or "" for other sets.
std::string SlotOwner(const std::string& map);
// The sets with an element per endpoint, most of a large table: the slot maps and
// hairpin-endpoints. Their names end with RenderConfig::large_set_suffix.
bool LargeSet(const std::string& name);
// Chains with this prefix are shared by every port that jumps to them.
inline constexpr const char* kSharedChainPrefix = "pick-";

struct RenderConfig : RuleConfig {
  std::string table = "kubepp";
  // Ends the large sets' names (LargeSet): a full sync over an existing table fills the
  // large sets the rules do not use, then switches the rules to them
  // (NftablesProxier::SyncFull).
  std::string large_set_suffix;
};

// The whole table: BaseRuleset plus RenderPort of every port, in the snapshot's order.
Ruleset BuildRuleset(const Snapshot& snapshot, const RenderConfig& config);

// The table without any Service port: base chains, and the shared sets and maps, empty.
Ruleset BaseRuleset(const RenderConfig& config);

// Adds one Service port's part to `rs`, which must hold BaseRuleset's sets: its own chains
// and affinity sets (named after the port, so no two ports share one), and its elements of
// the shared sets and maps. A shared map element already in `rs` is overwritten: when two
// ports claim the same key (an external IP or NodePort given twice), the later port in
// snapshot order wins.
void RenderPort(const ServicePort& sp, const RenderConfig& config, Ruleset& rs);

}  // namespace kubepp::proxy::nft
