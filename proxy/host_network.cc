#include "proxy/host_network.h"

#include <fstream>

#include "common/log.h"
#include "common/util/exec.h"

namespace kubepp::proxy {
namespace {

constexpr const char* kComment = "kubepp-proxy forward";

// Runs a command that must succeed.
Status Run(const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(util::CommandResult r, util::RunCommand(argv));
  if (r.exit_code != 0) {
    std::string cmd;
    for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    return Internal(cmd + ": " + r.err);
  }
  return Status::Ok();
}

// Whether a command exits 0 (a probe such as `iptables -C`).
bool Succeeds(const std::vector<std::string>& argv) {
  auto r = util::RunCommand(argv);
  return r.ok() && r->exit_code == 0;
}

std::vector<std::vector<std::string>> ForwardRules(const HostNetworkConfig& c) {
  std::vector<std::vector<std::string>> rules;
  for (const auto& cidr : c.forward_cidrs) {
    for (const char* dir : {"-s", "-d"}) {
      rules.push_back({"FORWARD", dir, cidr, "-m", "comment", "--comment", kComment, "-j", "ACCEPT"});
    }
  }
  return rules;
}

std::vector<std::string> Iptables(const char* op, const std::vector<std::string>& rule) {
  std::vector<std::string> argv = {"iptables", "-w", "5", op};
  argv.insert(argv.end(), rule.begin(), rule.end());
  return argv;
}

}  // namespace

Status EnsureHostNetwork(const HostNetworkConfig& c) {
  if (!Succeeds({"ip", "link", "show", "dev", c.bridge})) {
    Status added = Run({"ip", "link", "add", c.bridge, "type", "bridge"});
    // Proxies of nodes sharing this network namespace (kubepp up) share the bridge: one
    // of them may have made it between our look and our add.
    if (!added.ok() && !Succeeds({"ip", "link", "show", "dev", c.bridge})) return added;
  }
  RETURN_IF_ERROR(Run({"ip", "link", "set", c.bridge, "up"}));
  for (const auto& a : c.local_addresses) {
    auto r = util::RunCommand({"ip", "addr", "replace", a + "/32", "dev", c.bridge});
    if (!r.ok() || r->exit_code != 0) {
      return Internal("cannot put " + a + " on " + c.bridge + ": " + (r.ok() ? r->err : r.status().message()));
    }
  }
  for (const auto& cidr : c.routed_cidrs) {
    RETURN_IF_ERROR(Run({"ip", "route", "replace", cidr, "dev", c.bridge}));
  }
  if (c.route_localnet) {
    std::ofstream f("/proc/sys/net/ipv4/conf/all/route_localnet");
    f << "1\n";
    if (!f) return Internal("cannot set net.ipv4.conf.all.route_localnet");
  }
  // A host without iptables (or without a filter table) has no FORWARD drop to undo.
  if (Succeeds({"iptables", "-w", "5", "-S", "FORWARD"})) {
    auto rules = ForwardRules(c);
    for (auto it = rules.rbegin(); it != rules.rend(); ++it) {
      if (!Succeeds(Iptables("-C", *it))) RETURN_IF_ERROR(Run(Iptables("-I", *it)));
    }
  }
  return Status::Ok();
}

Status CleanupHostNetwork(const HostNetworkConfig& c) {
  Status first;
  if (Succeeds({"iptables", "-w", "5", "-S", "FORWARD"})) {
    for (const auto& rule : ForwardRules(c)) {
      while (Succeeds(Iptables("-C", rule))) {
        Status st = Run(Iptables("-D", rule));
        if (!st.ok()) {
          if (first.ok()) first = st;
          break;
        }
      }
    }
  }
  // Deleting the bridge takes its routes and addresses with it.
  if (Succeeds({"ip", "link", "show", "dev", c.bridge})) {
    Status st = Run({"ip", "link", "del", c.bridge});
    if (!st.ok() && first.ok()) first = st;
  }
  return first;
}

}  // namespace kubepp::proxy
