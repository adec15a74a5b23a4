#include "proxy/iptables/render.h"

#include <cctype>
#include <cstdio>
#include <string_view>

namespace kubepp::proxy::ipt {
namespace {

constexpr const char* kMasqMark = "0x4000";  // kube-proxy's masquerade bit (14)
constexpr size_t kMaxChainName = 28;          // iptables' limit
constexpr size_t kHashChars = 12;

// 12 characters of base32 (60 bits): short enough for iptables' chain names.
std::string Hash(const std::string& s) {
  return ShortHash(s) + ShortHash(s + "#").substr(0, kHashChars - 8);
}


std::string Probability(size_t remaining) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0.10f", 1.0 / static_cast<double>(remaining));
  return buf;
}

class Builder {
 public:
  Builder(const RenderConfig& c, Tables& t) : c_(c), t_(t), p_(c.prefix + "-") {}

  void Base() {
    t_.nat[p_ + "SERVICES"];
    t_.nat[p_ + "NODEPORTS"];
    t_.nat[p_ + "MARK-MASQ"] = {std::string("-j MARK --or-mark ") + kMasqMark};
    t_.nat[p_ + "POSTROUTING"] = {
        std::string("-m mark ! --mark ") + kMasqMark + "/" + kMasqMark + " -j RETURN",
        std::string("-j MARK --xor-mark ") + kMasqMark, "-j MASQUERADE --random-fully"};
    t_.filter[p_ + "SERVICES"];
    if (c_.localhost_nodeports) {
      t_.filter[p_ + "FIREWALL"] = {"! -i lo -d 127.0.0.0/8 -m conntrack ! --ctstate DNAT -j DROP"};
    }
  }

  // After every port: NodePorts are matched last, as upstream.
  void Finish() { t_.nat[p_ + "SERVICES"].push_back("-m addrtype --dst-type LOCAL -j " + p_ + "NODEPORTS"); }

  void Port(const ServicePort& sp) {
    const std::string id = sp.Id();
    const std::string h = Hash(id);
    const std::string svc_chain = p_ + "SVC-" + h;
    const std::string ext_chain = p_ + "EXT-" + h;
    const std::string& proto = sp.protocol;
    const std::string match = " -p " + proto + " -m " + proto + " --dport ";
    const std::string l4 = match + std::to_string(sp.port);
    const bool external = sp.node_port > 0 || sp.HasExternalAddresses();
    const bool affinity = sp.affinity_timeout_seconds > 0;
    const std::string reject =
        " -j REJECT --reject-with " + std::string(proto == "tcp" ? "tcp-reset" : "icmp-port-unreachable");

    auto cluster_eps = ServingEndpoints(sp, sp.internal_policy_local, c_.node_name);
    auto local_eps = ServingEndpoints(sp, true, c_.node_name);
    auto sep = [&](const Endpoint& e) {
      return p_ + "SEP-" + Hash(id + "__" + e.ip() + ":" + std::to_string(e.port));
    };
    auto endpoint_chain = [&](const Endpoint& e) {
      std::string name = sep(e);
      auto& rules = t_.nat[name];
      if (!rules.empty()) return name;
      // Hairpin: a pod that reaches itself through the Service must see the reply come
      // from the node, not from itself.
      rules.push_back("-s " + e.ip() + "/32 -j " + p_ + "MARK-MASQ");
      if (affinity) rules.push_back("-m recent --name " + name + " --mask 255.255.255.255 --rsource --set");
      rules.push_back("-p " + proto + " -m " + proto + " -j DNAT --to-destination " + e.ip() + ":" +
                      std::to_string(e.port));
      return name;
    };
    // Affinity lookups first, then a uniform random endpoint.
    auto balance = [&](const std::vector<const Endpoint*>& eps, std::vector<std::string>& rules) {
      if (affinity) {
        for (const Endpoint* e : eps) {
          std::string name = endpoint_chain(*e);
          rules.push_back("-m recent --name " + name +
                          " --mask 255.255.255.255 --rsource --rcheck --seconds " +
                          std::to_string(sp.affinity_timeout_seconds) + " --reap -j " + name);
        }
      }
      for (size_t i = 0; i < eps.size(); ++i) {
        std::string name = endpoint_chain(*eps[i]);
        if (i + 1 < eps.size()) {
          rules.push_back("-m statistic --mode random --probability " +
                          Probability(eps.size() - i) + " -j " + name);
        } else {
          rules.push_back("-j " + name);
        }
      }
    };

    auto& services = t_.nat[p_ + "SERVICES"];
    auto& rejects = t_.filter[p_ + "SERVICES"];
    // ClusterIP.
    if (cluster_eps.empty()) {
      rejects.push_back("-d " + sp.cluster_ip + "/32" + l4 + reject);
    } else {
      std::vector<std::string> rules;
      rules.push_back(c_.cluster_cidr.empty() ? "-j " + p_ + "MARK-MASQ"
                                              : "! -s " + c_.cluster_cidr + " -j " + p_ + "MARK-MASQ");
      balance(cluster_eps, rules);
      t_.nat[svc_chain] = std::move(rules);
      services.push_back("-d " + sp.cluster_ip + "/32" + l4 + " -j " + svc_chain);
    }
    if (!external) return;

    // NodePort, externalIPs, LoadBalancer ingress.
    std::vector<std::string> ext_ips = sp.external_ips;
    ext_ips.insert(ext_ips.end(), sp.load_balancer_ips.begin(), sp.load_balancer_ips.end());
    const std::string np = match + std::to_string(sp.node_port);
    bool usable = sp.external_policy_local ? !sp.endpoints.empty() : !cluster_eps.empty();
    if (!usable) {
      for (const auto& ip : ext_ips) rejects.push_back("-d " + ip + "/32" + l4 + reject);
      if (sp.node_port > 0) rejects.push_back("-m addrtype --dst-type LOCAL" + np + reject);
      return;
    }
    std::vector<std::string> rules;
    if (!sp.external_policy_local) {
      rules = {"-j " + p_ + "MARK-MASQ", "-j " + svc_chain};
    } else {
      // Pods and the node itself use the cluster-wide endpoints (as upstream does); real
      // external clients keep their source address and reach this node's endpoints only.
      if (!c_.cluster_cidr.empty()) rules.push_back("-s " + c_.cluster_cidr + " -j " + svc_chain);
      rules.push_back("-m addrtype --src-type LOCAL -j " + p_ + "MARK-MASQ");
      rules.push_back("-m addrtype --src-type LOCAL -j " + svc_chain);
      if (local_eps.empty()) {
        rules.push_back("-j DROP");
      } else {
        balance(local_eps, rules);
      }
      // Pods and the node reach no endpoint (a Local internal policy with none here).
      if (cluster_eps.empty()) t_.nat[svc_chain] = {"-j DROP"};
    }
    t_.nat[ext_chain] = std::move(rules);
    for (const auto& ip : ext_ips) services.push_back("-d " + ip + "/32" + l4 + " -j " + ext_chain);
    if (sp.node_port > 0) t_.nat[p_ + "NODEPORTS"].push_back(np.substr(1) + " -j " + ext_chain);
  }

 private:
  const RenderConfig& c_;
  Tables& t_;
  const std::string p_;
};

void Declare(std::string& out, const Chains& chains, const std::set<std::string>& stale) {
  for (const auto& [name, rules] : chains) out += ":" + name + " - [0:0]\n";
  for (const auto& name : stale) {
    if (!chains.count(name)) out += ":" + name + " - [0:0]\n";
  }
  for (const auto& [name, rules] : chains) {
    for (const auto& r : rules) out += "-A " + name + " " + r + "\n";
  }
  for (const auto& name : stale) {
    if (!chains.count(name)) out += "-X " + name + "\n";
  }
}

}  // namespace

Status ValidatePrefix(const std::string& prefix) {
  size_t longest = prefix.size() + std::string("-SVC-").size() + kHashChars;
  if (prefix.empty() || longest > kMaxChainName) {
    return BadRequest("iptables chain prefix \"" + prefix + "\" must have 1 to " +
                      std::to_string(kMaxChainName - 5 - kHashChars) + " characters");
  }
  for (char ch : prefix) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_') {
      return BadRequest("iptables chain prefix \"" + prefix +
                        "\" may only hold letters, digits, '-' and '_'");
    }
  }
  return Status::Ok();
}

Tables Render(const Snapshot& snapshot, const RenderConfig& config) {
  Tables t;
  Builder b(config, t);
  b.Base();
  for (const auto& sp : snapshot.ports) b.Port(*sp);
  b.Finish();
  return t;
}

std::string RestoreInput(const Tables& t, const std::set<std::string>& stale_nat,
                         const std::set<std::string>& stale_filter) {
  std::string out = "*nat\n";
  Declare(out, t.nat, stale_nat);
  out += "COMMIT\n*filter\n";
  Declare(out, t.filter, stale_filter);
  out += "COMMIT\n";
  return out;
}

std::vector<Jump> Jumps(const RenderConfig& config) {
  const std::string p = config.prefix + "-";
  std::vector<std::string> new_conn = {"-m", "conntrack", "--ctstate", "NEW", "-j", p + "SERVICES"};
  std::vector<Jump> out = {
      {"nat", "PREROUTING", {"-j", p + "SERVICES"}},
      {"nat", "OUTPUT", {"-j", p + "SERVICES"}},
      {"nat", "POSTROUTING", {"-j", p + "POSTROUTING"}},
      {"filter", "INPUT", new_conn},
      {"filter", "FORWARD", new_conn},
      {"filter", "OUTPUT", new_conn},
  };
  if (config.localhost_nodeports) out.push_back({"filter", "INPUT", {"-j", p + "FIREWALL"}});
  return out;
}

std::set<std::string> ChainsWithPrefix(const std::string& save_output, const std::string& table,
                                       const std::string& prefix) {
  std::set<std::string> out;
  bool in_table = false;
  size_t pos = 0;
  while (pos < save_output.size()) {
    size_t eol = save_output.find('\n', pos);
    if (eol == std::string::npos) eol = save_output.size();
    std::string_view line(save_output.data() + pos, eol - pos);
    pos = eol + 1;
    if (!line.empty() && line[0] == '*') in_table = line.substr(1) == table;
    if (!in_table || line.empty() || line[0] != ':') continue;
    std::string_view name = line.substr(1, line.find(' ') - 1);
    if (name.substr(0, prefix.size() + 1) == prefix + "-") out.insert(std::string(name));
  }
  return out;
}

}  // namespace kubepp::proxy::ipt
