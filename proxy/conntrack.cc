#include "proxy/conntrack.h"

#include <map>
#include <set>

#include "common/log.h"
#include "common/util/exec.h"

namespace kubepp::proxy {
namespace {

// Every address a client can reach the port on (not the NodePort).
std::vector<std::string> Addresses(const ServicePort& p) {
  std::vector<std::string> out;
  if (!p.cluster_ip.empty() && p.cluster_ip != "None") out.push_back(p.cluster_ip);
  out.insert(out.end(), p.external_ips.begin(), p.external_ips.end());
  out.insert(out.end(), p.load_balancer_ips.begin(), p.load_balancer_ips.end());
  return out;
}

std::vector<std::string> Delete(std::vector<std::string> match) {
  std::vector<std::string> argv = {"conntrack", "-D", "-p", "udp"};
  argv.insert(argv.end(), match.begin(), match.end());
  return argv;
}

std::map<std::string, const ServicePort*> UdpPorts(const Snapshot& s) {
  std::map<std::string, const ServicePort*> out;
  for (const auto& p : s.ports) {
    if (p->protocol == "udp") out[p->Id()] = p.get();
  }
  return out;
}

}  // namespace

std::vector<std::vector<std::string>> StaleUdpFlows(const Snapshot& before, const Snapshot& after) {
  std::set<std::vector<std::string>> out;  // sorted, unique
  auto old_ports = UdpPorts(before);
  auto new_ports = UdpPorts(after);
  for (const auto& [id, old] : old_ports) {
    auto it = new_ports.find(id);
    std::set<std::string> kept;
    if (it != new_ports.end()) {
      for (const auto& e : it->second->endpoints) kept.insert(e.ip());
    }
    for (const auto& e : old->endpoints) {
      if (kept.count(e.ip())) continue;
      for (const auto& addr : Addresses(*old)) out.insert(Delete({"--orig-dst", addr, "--dst-nat", e.ip()}));
      if (old->node_port > 0) {
        out.insert(Delete({"--dport", std::to_string(old->node_port), "--dst-nat", e.ip()}));
      }
    }
  }
  for (const auto& [id, now] : new_ports) {
    if (now->endpoints.empty()) continue;
    auto it = old_ports.find(id);
    if (it != old_ports.end() && !it->second->endpoints.empty()) continue;
    for (const auto& addr : Addresses(*now)) out.insert(Delete({"--orig-dst", addr}));
    if (now->node_port > 0) out.insert(Delete({"--dport", std::to_string(now->node_port)}));
  }
  return {out.begin(), out.end()};
}

void RunConntrack(const std::vector<std::vector<std::string>>& commands) {
  for (const auto& argv : commands) {
    auto r = util::RunCommand(argv);
    if (!r.ok()) {
      LOG(WARNING) << "proxy: conntrack: " << r.status().ToString();
      return;  // no conntrack tool: nothing else will work either
    }
    if (r->exit_code != 0 && r->err.find("0 flow entries") == std::string::npos) {
      LOG(WARNING) << "proxy: conntrack " << argv[4] << " " << argv[5] << ": " << r->err;
    }
  }
}

}  // namespace kubepp::proxy
