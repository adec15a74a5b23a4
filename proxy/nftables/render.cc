#include "proxy/nftables/render.h"

#include <cstdint>

namespace kubepp::proxy::nft {
namespace {

constexpr const char* kMasqMark = "0x4000";  // kube-proxy's masquerade bit (14)
constexpr const char* kProtocols[] = {"tcp", "udp", "sctp"};

// Why a traffic path DNATs: from a ClusterIP, from an external address (externalIPs,
// LoadBalancer ingress), from a NodePort.
enum class Entry { kCluster, kExternal, kNodePort };

// " . <protocol> . <port>": what follows an address in the keys of a port's entries.
std::string L4(const ServicePort& sp) { return " . " + sp.protocol + " . " + std::to_string(sp.port); }

// The service-ips keys of a port's external addresses (externalIPs, LoadBalancer ingress).
std::vector<std::string> ExternalKeys(const ServicePort& sp) {
  std::vector<std::string> keys;
  for (const auto& ip : sp.external_ips) keys.push_back(ip + L4(sp));
  for (const auto& ip : sp.load_balancer_ips) keys.push_back(ip + L4(sp));
  return keys;
}

std::string NodePortKey(const ServicePort& sp) { return sp.protocol + " . " + std::to_string(sp.node_port); }

// Writes into a Ruleset it does not own: the base table, or one port's part of it.
class Builder {
 public:
  Builder(const RenderConfig& c, Ruleset& rs) : c_(c), rs_(rs) {}

  void Base() {
    rs_.table = c_.table;
    auto& sets = rs_.sets;
    sets["service-ips"].decl = "type ipv4_addr . inet_proto . inet_service : verdict ;";
    sets["service-nodeports"].decl = "type inet_proto . inet_service : verdict ;";
    sets["no-endpoint-services"].decl = "type ipv4_addr . inet_proto . inet_service : verdict ;";
    sets["no-endpoint-nodeports"].decl = "type inet_proto . inet_service : verdict ;";
    // The endpoints of each address . port (or NodePort) by slot, for the pick- chains'
    // `numgen` (see PickChain).
    for (std::string p : kProtocols) {
      const std::string slot = p + " dport . numgen random mod 1 : ip daddr . " + p + " dport ;";
      sets["service-endpoints-" + p + c_.large_set_suffix].decl = "typeof ip daddr . " + slot;
      sets["nodeport-endpoints-" + p + c_.large_set_suffix].decl = "typeof " + slot;
    }

    auto& ch = rs_.chains;
    ch["nat-prerouting"] = {"type nat hook prerouting priority dstnat ; policy accept ;",
                            {"jump services"}};
    // `priority dstnat` is only valid on prerouting; -100 is its value.
    ch["nat-output"] = {"type nat hook output priority -100 ; policy accept ;", {"jump services"}};
    ch["nat-postrouting"] = {"type nat hook postrouting priority srcnat ; policy accept ;",
                             {"jump masquerading"}};
    ch["services"].rules = {
        "ip daddr . meta l4proto . th dport vmap @service-ips",
        "fib daddr type local meta l4proto . th dport vmap @service-nodeports"};
    ch["mark-for-masquerade"].rules = {std::string("meta mark set meta mark | ") + kMasqMark};
    sets["hairpin-endpoints" + c_.large_set_suffix].decl = "typeof ip saddr . ip daddr ;";
    ch["masquerading"].rules = {"ct status dnat ip saddr . ip daddr @hairpin-endpoints" +
                                    c_.large_set_suffix + " masquerade",
                                std::string("meta mark & ") + kMasqMark + " == 0 return",
                                std::string("meta mark set meta mark ^ ") + kMasqMark,
                                "masquerade fully-random"};
    // Filter chains run before NAT (priority -110) so that a port without endpoints is
    // rejected at once rather than routed nowhere.
    std::vector<std::string> check = {"ct state new jump no-endpoint-check"};
    ch["filter-forward"] = {"type filter hook forward priority -110 ; policy accept ;", check};
    ch["filter-output"] = {"type filter hook output priority -110 ; policy accept ;", check};
    auto input = check;
    if (c_.localhost_nodeports) {
      input.push_back("iif != \"lo\" ip daddr 127.0.0.0/8 ct status & dnat == 0 drop");
    }
    ch["filter-input"] = {"type filter hook input priority -110 ; policy accept ;", input};
    ch["no-endpoint-check"].rules = {
        "ip daddr . meta l4proto . th dport vmap @no-endpoint-services",
        "fib daddr type local meta l4proto . th dport vmap @no-endpoint-nodeports"};
    ch["reject-chain"].rules = {"meta l4proto tcp reject with tcp reset", "reject"};
  }

 private:
  // A uniform random choice among endpoints without an anonymous map: rule i takes
  // action i with probability 1/(N-i) (`numgen random mod N-i == 0`), the last rule takes
  // what is left. kube-proxy writes `numgen random mod N vmap { ... }` to per-endpoint
  // chains, but every such map is an anonymous set, and the kernel names each one by
  // scanning all sets of the table: 10,000 Services took minutes to load here.
  static void Spread(const std::vector<std::string>& actions, std::vector<std::string>& rules) {
    for (size_t i = 0; i + 1 < actions.size(); ++i) {
      rules.push_back("numgen random mod " + std::to_string(actions.size() - i) + " == 0 " +
                      actions[i]);
    }
    rules.push_back(actions.back());
  }

 public:
  // A port without ClientIP affinity and without externalTrafficPolicy Local needs no chain
  // of its own: each of its entries (ClusterIP, external addresses, NodePort) jumps to the
  // shared chain for its kind, protocol and endpoint count, which DNATs to the endpoint in
  // slot `numgen random mod N` of the entry's key. An endpoint change is then a change of
  // map elements only: nft does not list thousands of chains before applying it, and the
  // kernel re-validates nothing (the elements are addresses, not verdicts).
  void SimplePort(const ServicePort& sp, const std::vector<const Endpoint*>& eps) {
    const size_t n = eps.size();
    Hairpin(sp);
    if (n == 0) {
      Reject(sp.cluster_ip + L4(sp));
      RejectExternal(sp);
      return;
    }
    auto entry = [&](Entry kind, const std::string& key) {
      const char* owner = kind == Entry::kNodePort ? "service-nodeports" : "service-ips";
      rs_.sets[owner].elements[key] = "goto " + PickChain(kind, sp.protocol, n);
      Slots slots = EraseSlots(owner, key);  // an earlier port's, for the same key
      auto& elements = rs_.sets[slots.map].elements;
      for (size_t k = 0; k < n; ++k) {
        elements[slots.prefix + std::to_string(k)] = eps[k]->ip() + " . " + std::to_string(eps[k]->port);
      }
    };
    entry(Entry::kCluster, sp.cluster_ip + L4(sp));
    for (const auto& key : ExternalKeys(sp)) entry(Entry::kExternal, key);
    if (sp.node_port > 0) entry(Entry::kNodePort, NodePortKey(sp));
  }

  // Hairpin: a pod that reaches itself through the Service must see the reply come from
  // the node, not from itself. Its connection is DNATed on its own node, so only this
  // node's endpoints (and those whose node is not known) can be hairpin ones here: in a
  // cluster of many nodes that is a small part of the set, which every full sync loads.
  void Hairpin(const ServicePort& sp) {
    for (const auto& e : sp.endpoints) {
      if (c_.node_name.empty() || e.node_name().empty() || e.node_name() == c_.node_name) {
        std::string ip = e.ip();
        rs_.sets["hairpin-endpoints" + c_.large_set_suffix].elements[ip + " . " + ip] = "";
      }
    }
  }

  // A new connection to `key` (a service-ips key) is rejected: no usable endpoint.
  void Reject(const std::string& key) { rs_.sets["no-endpoint-services"].elements[key] = "goto reject-chain"; }
  void RejectExternal(const ServicePort& sp) {
    for (const auto& key : ExternalKeys(sp)) Reject(key);
    if (sp.node_port > 0) rs_.sets["no-endpoint-nodeports"].elements[NodePortKey(sp)] = "goto reject-chain";
  }

  // The shared chain that DNATs entries of `kind` with `n` endpoints: traffic that came
  // in from outside the cluster is masqueraded (an external entry always, as upstream with
  // externalTrafficPolicy Cluster), then the endpoint of slot `numgen random mod n`.
  std::string PickChain(Entry kind, const std::string& protocol, size_t n) {
    static constexpr const char* kKind[] = {"cluster", "external", "nodeport"};
    std::string name = std::string(kSharedChainPrefix) + kKind[static_cast<int>(kind)] + "-" +
                       protocol + "-" + std::to_string(n);
    auto [it, added] = rs_.chains.try_emplace(name);
    if (!added) return name;
    auto& rules = it->second.rules;
    if (kind != Entry::kCluster || c_.cluster_cidr.empty()) {
      rules.push_back("jump mark-for-masquerade");
    } else {
      rules.push_back("ip saddr != " + c_.cluster_cidr + " jump mark-for-masquerade");
    }
    const std::string key = protocol + " dport . numgen random mod " + std::to_string(n);
    rules.push_back("meta l4proto " + protocol + " dnat ip to " +
                    (kind == Entry::kNodePort
                         ? key + " map @nodeport-endpoints-" + protocol + c_.large_set_suffix
                         : "ip daddr . " + key + " map @service-endpoints-" + protocol + c_.large_set_suffix));
    return name;
  }

  // Removes the slots of `key` of map `owner` (what an earlier port put there); returns them.
  Slots EraseSlots(const std::string& owner, const std::string& key) {
    Slots slots = SlotsOf(owner, key, c_.large_set_suffix);
    auto& m = rs_.sets[slots.map].elements;
    auto it = m.lower_bound(slots.prefix);
    while (it != m.end() && it->first.compare(0, slots.prefix.size(), slots.prefix) == 0) it = m.erase(it);
    return slots;
  }

  void Port(const ServicePort& sp) {
    auto cluster_eps = ServingEndpoints(sp, sp.internal_policy_local, c_.node_name);
    if (sp.affinity_timeout_seconds <= 0 && !sp.external_policy_local) {
      return SimplePort(sp, cluster_eps);
    }
    const std::string id = sp.Id();
    const std::string h = ShortHash(id);
    const std::string svc_chain = "service-" + h + "-" + id;
    const std::string ext_chain = "external-" + h + "-" + id;
    const bool external = sp.node_port > 0 || sp.HasExternalAddresses();
    const std::string cluster_key = sp.cluster_ip + L4(sp);

    auto local_eps = ServingEndpoints(sp, true, c_.node_name);
    auto ep_chain = [&](const Endpoint& e) {
      return "endpoint-" + h + "-" + id + "__" + e.ip() + "/" + std::to_string(e.port);
    };

    const bool affinity = sp.affinity_timeout_seconds > 0;
    const std::string dnat_prefix = "meta l4proto " + sp.protocol + " dnat to ";
    auto dnat = [&](const Endpoint& e) { return dnat_prefix + e.ip() + ":" + std::to_string(e.port); };
    auto affinity_set = [&](const Endpoint& e) {
      return "affinity-" + h + "-" + id + "__" + e.ip() + "/" + std::to_string(e.port);
    };
    Hairpin(sp);
    // With ClientIP affinity each endpoint has a chain that remembers the client.
    if (affinity) {
      for (const auto& e : sp.endpoints) {
        rs_.sets[affinity_set(e)].decl = "type ipv4_addr ; flags dynamic,timeout ; timeout " +
                                         std::to_string(sp.affinity_timeout_seconds) + "s ;";
        rs_.chains[ep_chain(e)].rules = {"update @" + affinity_set(e) + " { ip saddr }", dnat(e)};
      }
    }
    // Affinity lookups first, then a random endpoint: DNAT right there, or (affinity) its chain.
    auto balance = [&](const std::vector<const Endpoint*>& eps, std::vector<std::string>& rules) {
      std::vector<std::string> actions;
      for (const Endpoint* e : eps) {
        if (affinity) {
          rules.push_back("ip saddr @" + affinity_set(*e) + " goto " + ep_chain(*e));
          actions.push_back("goto " + ep_chain(*e));
        } else {
          actions.push_back(dnat(*e));
        }
      }
      Spread(actions, rules);
    };

    // ClusterIP.
    if (cluster_eps.empty()) {
      Reject(cluster_key);
    } else {
      Chain c;
      c.rules.push_back(c_.cluster_cidr.empty()
                            ? "jump mark-for-masquerade"
                            : "ip saddr != " + c_.cluster_cidr + " jump mark-for-masquerade");
      balance(cluster_eps, c.rules);
      rs_.chains[svc_chain] = std::move(c);
      rs_.sets["service-ips"].elements[cluster_key] = "goto " + svc_chain;
      EraseSlots("service-ips", cluster_key);
    }
    if (!external) return;

    // NodePort, externalIPs, LoadBalancer ingress.
    bool usable = sp.external_policy_local ? !sp.endpoints.empty() : !cluster_eps.empty();
    if (!usable) return RejectExternal(sp);
    Chain c;
    if (!sp.external_policy_local) {
      c.rules = {"jump mark-for-masquerade", "goto " + svc_chain};
    } else {
      // Pods and the node itself use the cluster-wide endpoints (as upstream does); real
      // external clients keep their source address and reach this node's endpoints only.
      if (!c_.cluster_cidr.empty()) c.rules.push_back("ip saddr " + c_.cluster_cidr + " goto " + svc_chain);
      c.rules.push_back("fib saddr type local jump mark-for-masquerade");
      c.rules.push_back("fib saddr type local goto " + svc_chain);
      if (local_eps.empty()) {
        c.rules.push_back("drop");
      } else {
        balance(local_eps, c.rules);
      }
      if (cluster_eps.empty()) {
        // Pods and the node reach no endpoint (a Local internal policy with none here);
        // reject is not allowed in NAT chains, so they are dropped.
        rs_.chains[svc_chain].rules = {"drop"};
      }
    }
    rs_.chains[ext_chain] = std::move(c);
    for (const auto& k : ExternalKeys(sp)) {
      rs_.sets["service-ips"].elements[k] = "goto " + ext_chain;
      EraseSlots("service-ips", k);
    }
    if (sp.node_port > 0) {
      rs_.sets["service-nodeports"].elements[NodePortKey(sp)] = "goto " + ext_chain;
      EraseSlots("service-nodeports", NodePortKey(sp));
    }
  }

 private:
  const RenderConfig& c_;
  Ruleset& rs_;
};

}  // namespace

Slots SlotsOf(const std::string& owner, const std::string& entry_key, const std::string& suffix) {
  // service-ips: "<address> . <protocol> . <port>"; service-nodeports: "<protocol> . <port>".
  const bool nodeport = owner == "service-nodeports";
  size_t a = nodeport ? 0 : entry_key.find(" . ") + 3;
  size_t b = entry_key.find(" . ", a);
  std::string protocol = entry_key.substr(a, b - a);
  return {(nodeport ? "nodeport-endpoints-" : "service-endpoints-") + protocol + suffix,
          entry_key.substr(0, a) + entry_key.substr(b + 3) + " . "};
}

bool LargeSet(const std::string& name) {
  return !SlotOwner(name).empty() || name.rfind("hairpin-endpoints", 0) == 0;
}

std::string SlotOwner(const std::string& map) {
  if (map.rfind("service-endpoints-", 0) == 0) return "service-ips";
  if (map.rfind("nodeport-endpoints-", 0) == 0) return "service-nodeports";
  return "";
}

Ruleset BaseRuleset(const RenderConfig& config) {
  Ruleset rs;
  Builder(config, rs).Base();
  return rs;
}

void RenderPort(const ServicePort& sp, const RenderConfig& config, Ruleset& rs) {
  Builder(config, rs).Port(sp);
}

Ruleset BuildRuleset(const Snapshot& snapshot, const RenderConfig& config) {
  Ruleset rs = BaseRuleset(config);
  Builder b(config, rs);
  for (const auto& sp : snapshot.ports) b.Port(*sp);
  return rs;
}

}  // namespace kubepp::proxy::nft
