#include "kubelet/network/cni.h"

#include <filesystem>
#include <sstream>

#include "common/log.h"
#include "common/util/exec.h"
#include "common/util/file.h"

namespace kubepp::kubelet {

namespace fs = std::filesystem;

namespace {

constexpr const char* kIfName = "eth0";

// iptables, waiting up to 5 s for the xtables lock.
Result<util::CommandResult> Iptables(std::vector<std::string> args) {
  args.insert(args.begin(), {"iptables", "-w", "5"});
  return util::RunCommand(args);
}

bool IptablesOk(const std::vector<std::string>& args) {
  auto r = Iptables(args);
  return r.ok() && r->exit_code == 0;
}

Status IptablesMust(const std::vector<std::string>& args) {
  ASSIGN_OR_RETURN(util::CommandResult r, Iptables(args));
  if (r.exit_code == 0) return Status::Ok();
  std::string cmd = "iptables";
  for (const auto& a : args) cmd += " " + a;
  return Internal(cmd + ": " + r.err);
}

// One chain of the node rules and the jump to it from a built-in chain.
struct NodeChain {
  const char* table;
  std::string name;
  const char* from;    // the built-in chain that jumps here
  bool jump_first;     // inserted first in `from` (else appended)
  std::vector<std::string> rules;  // as `iptables -S` prints them, after "-A <name> "
};

// For `cidr` on `bridge`: what the bridge plugin's ipMasq (a chain per pod: traffic to
// the pod subnet accepted, the rest but multicast masqueraded) and the firewall plugin
// (FORWARD accepts from the pod and replies to it, ahead of Docker's DROP policy) did
// per pod, once per node.
std::vector<NodeChain> NodeChains(const std::string& bridge, const std::string& cidr) {
  return {
      {"nat", "KUBEPP-MASQ-" + bridge, "POSTROUTING", false,
       {"! -s " + cidr + " -j RETURN", "-d " + cidr + " -j ACCEPT",
        "! -d 224.0.0.0/4 -j MASQUERADE"}},
      {"filter", "KUBEPP-FWD-" + bridge, "FORWARD", true,
       {"-s " + cidr + " -j ACCEPT",
        "-d " + cidr + " -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"}},
  };
}

std::vector<std::string> Words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

}  // namespace

std::string DefaultConfList(const CniOptions& o, const std::string& pod_cidr) {
  std::string data_dir = o.state_dir + "/networks";
  // No ipMasq and no firewall plugin: their iptables rules per pod serialized pod starts
  // on the xtables lock; EnsureNodeRules puts the same in place once per node.
  return R"({"cniVersion":"0.4.0","name":"kubepp-)" + o.bridge + R"(","plugins":[)"
         R"({"type":"bridge","bridge":")" + o.bridge +
         R"(","isGateway":true,"ipMasq":false,"hairpinMode":true,)"
         R"("ipam":{"type":"host-local","dataDir":")" + data_dir +
         R"(","ranges":[[{"subnet":")" + pod_cidr + R"("}]],"routes":[{"dst":"0.0.0.0/0"}]}},)"
         R"({"type":"portmap","capabilities":{"portMappings":true}}]})";
}

Status EnsureNodeRules(const std::string& bridge, const std::string& cidr) {
  for (const NodeChain& c : NodeChains(bridge, cidr)) {
    // Complete already (a kubelet restart): leave it, so running pods see no gap.
    std::string want = "-N " + c.name + "\n";
    for (const auto& r : c.rules) want += "-A " + c.name + " " + r + "\n";
    auto listed = Iptables({"-t", c.table, "-S", c.name});
    bool complete = listed.ok() && listed->exit_code == 0 && listed->out == want;
    if (!complete) {
      (void)IptablesOk({"-t", c.table, "-N", c.name});  // exists already: fine
      RETURN_IF_ERROR(IptablesMust({"-t", c.table, "-F", c.name}));
      for (const auto& r : c.rules) {
        std::vector<std::string> args = {"-t", c.table, "-A", c.name};
        for (auto& w : Words(r)) args.push_back(std::move(w));
        RETURN_IF_ERROR(IptablesMust(args));
      }
    }
    if (!IptablesOk({"-t", c.table, "-C", c.from, "-j", c.name})) {
      RETURN_IF_ERROR(IptablesMust(c.jump_first
                                       ? std::vector<std::string>{"-t", c.table, "-I", c.from, "1", "-j", c.name}
                                       : std::vector<std::string>{"-t", c.table, "-A", c.from, "-j", c.name}));
    }
  }
  return Status::Ok();
}

void RemoveNodeRules(const std::string& bridge) {
  for (const NodeChain& c : NodeChains(bridge, "0.0.0.0/32")) {
    while (IptablesOk({"-t", c.table, "-D", c.from, "-j", c.name})) {
    }
    (void)IptablesOk({"-t", c.table, "-F", c.name});
    (void)IptablesOk({"-t", c.table, "-X", c.name});
  }
}

CniNetwork::CniNetwork(CniOptions options) : options_(std::move(options)) {
  std::error_code ec;
  fs::create_directories(options_.state_dir + "/results", ec);
}

void CniNetwork::SetPodCidr(const std::string& cidr) {
  std::lock_guard lock(mu_);
  pod_cidr_ = cidr;
}

Result<api::Document> CniNetwork::ConfList(std::string* default_cidr) {
  std::error_code ec;
  if (fs::is_directory(options_.conf_dir, ec)) {
    std::vector<std::string> files;
    for (auto& e : fs::directory_iterator(options_.conf_dir, ec)) {
      if (e.path().extension() == ".conflist") files.push_back(e.path().string());
    }
    std::sort(files.begin(), files.end());
    if (!files.empty()) {
      ASSIGN_OR_RETURN(auto text, util::ReadFile(files[0]));
      return api::ParseJson(text);
    }
  }
  std::string cidr;
  {
    std::lock_guard lock(mu_);
    cidr = pod_cidr_;
  }
  if (cidr.empty()) {
    return Unavailable("network not ready: no CNI config in " + options_.conf_dir +
                       " and the node has no pod CIDR yet");
  }
  if (default_cidr != nullptr) *default_cidr = cidr;
  return api::ParseJson(DefaultConfList(options_, cidr));
}

Status CniNetwork::Ready() {
  for (const char* p : {"bridge", "host-local", "loopback", "portmap"}) {
    if (!fs::exists(options_.bin_dir + "/" + p)) {
      return Unavailable("network not ready: CNI plugin " + std::string(p) + " missing in " +
                         options_.bin_dir);
    }
  }
  return ConfList().status();
}

Result<std::string> CniNetwork::Invoke(const std::string& command, const api::Value& net_conf,
                                       const api::Value& plugin, const std::string& container_id,
                                       const std::string& netns_path, const api::Value* prev_result,
                                       const std::vector<PortMapping>& ports) {
  // The plugin's config as libcni builds it: name and cniVersion from the list,
  // prevResult, and runtimeConfig for the capabilities it declares.
  api::Document conf = api::Clone(plugin);
  auto& a = conf.GetAllocator();
  conf.RemoveMember("name");
  conf.RemoveMember("cniVersion");
  conf.AddMember("name", api::Str(api::GetString(net_conf, "name"), a), a);
  conf.AddMember("cniVersion", api::Str(api::GetString(net_conf, "cniVersion", "0.4.0"), a), a);
  if (prev_result != nullptr) conf.AddMember("prevResult", api::Value(*prev_result, a), a);
  if (api::GetBool(plugin, "capabilities.portMappings")) {
    api::Value pm(rapidjson::kArrayType);
    for (auto& p : ports) {
      api::Value m(rapidjson::kObjectType);
      m.AddMember("hostPort", p.host_port, a);
      m.AddMember("containerPort", p.container_port, a);
      std::string proto = p.protocol;
      std::transform(proto.begin(), proto.end(), proto.begin(), ::tolower);
      m.AddMember("protocol", api::Str(proto, a), a);
      if (!p.host_ip.empty()) m.AddMember("hostIP", api::Str(p.host_ip, a), a);
      pm.PushBack(m, a);
    }
    api::Value rc(rapidjson::kObjectType);
    rc.AddMember("portMappings", pm, a);
    conf.AddMember("runtimeConfig", rc, a);
  }
  std::string type = api::GetString(plugin, "type");
  // The plugin protocol passes its parameters in the environment: set them through env(1).
  std::vector<std::string> argv = {"env",
                                   "CNI_COMMAND=" + command,
                                   "CNI_CONTAINERID=" + container_id,
                                   "CNI_NETNS=" + netns_path,
                                   std::string("CNI_IFNAME=") + (type == "loopback" ? "lo" : kIfName),
                                   "CNI_PATH=" + options_.bin_dir,
                                   options_.bin_dir + "/" + type};
  ASSIGN_OR_RETURN(auto r, util::RunCommand(argv, api::ToJson(conf), std::chrono::seconds(60)));
  if (r.exit_code != 0) {
    // Errors are a JSON {code, msg, details} on stdout.
    std::string msg = r.out.empty() ? r.err : r.out;
    if (auto e = api::ParseJson(r.out); e.ok() && e->IsObject()) {
      msg = api::GetString(*e, "msg") + " " + api::GetString(*e, "details");
    }
    return Internal("CNI " + type + " " + command + ": " + msg);
  }
  return r.out;
}

Result<std::string> CniNetwork::Add(const std::string& container_id, const std::string& netns_path,
                                    const std::vector<PortMapping>& ports) {
  std::string default_cidr;
  ASSIGN_OR_RETURN(auto net, ConfList(&default_cidr));
  if (!default_cidr.empty()) {
    std::lock_guard lock(mu_);
    if (node_rules_cidr_ != default_cidr) {
      RETURN_IF_ERROR(EnsureNodeRules(options_.bridge, default_cidr));
      node_rules_cidr_ = default_cidr;
    }
  }
  api::Document lo(rapidjson::kObjectType);
  lo.AddMember("type", "loopback", lo.GetAllocator());
  api::Document lo_net(rapidjson::kObjectType);
  lo_net.AddMember("name", "cni-loopback", lo_net.GetAllocator());
  lo_net.AddMember("cniVersion", "0.4.0", lo_net.GetAllocator());
  RETURN_IF_ERROR(Invoke("ADD", lo_net, lo, container_id, netns_path, nullptr, {}).status());

  const api::Value* plugins = api::Find(net, "plugins");
  if (plugins == nullptr || !plugins->IsArray()) return BadRequest("CNI conflist without plugins");
  api::Document result(rapidjson::kNullType);
  for (auto& p : plugins->GetArray()) {
    auto out = Invoke("ADD", net, p, container_id, netns_path, result.IsNull() ? nullptr : &result, ports);
    if (!out.ok()) {
      (void)Del(container_id, netns_path);
      return out.status();
    }
    auto parsed = api::ParseJson(*out);
    if (parsed.ok()) result = std::move(parsed).value();
  }
  // Cache the network config and result for DEL (prevResult), as libcni does: DEL then
  // undoes exactly what ADD did even if the pod CIDR or the conflist changed meanwhile.
  api::Document cache(rapidjson::kObjectType);
  cache.AddMember("config", api::Value(net, cache.GetAllocator()), cache.GetAllocator());
  cache.AddMember("result", api::Value(result, cache.GetAllocator()), cache.GetAllocator());
  RETURN_IF_ERROR(util::WriteFileAtomic(options_.state_dir + "/results/" + container_id, api::ToJson(cache)));
  if (const api::Value* ips = api::Find(result, "ips"); ips && ips->IsArray()) {
    for (auto& ip : ips->GetArray()) {
      std::string addr = api::GetString(ip, "address");
      auto slash = addr.find('/');
      if (!addr.empty()) return addr.substr(0, slash);
    }
  }
  return Internal("CNI ADD returned no IP address");
}

Status CniNetwork::Del(const std::string& container_id, const std::string& netns_path) {
  std::string cache_path = options_.state_dir + "/results/" + container_id;
  api::Document net(rapidjson::kNullType), cached(rapidjson::kNullType);
  if (auto text = util::ReadFile(cache_path); text.ok()) {
    if (auto d = api::ParseJson(*text); d.ok() && d->IsObject()) {
      if (const api::Value* c = api::FindMember(*d, "config")) net.CopyFrom(*c, net.GetAllocator());
      if (const api::Value* r = api::FindMember(*d, "result")) cached.CopyFrom(*r, cached.GetAllocator());
    }
  }
  if (net.IsNull()) {
    auto current = ConfList();
    if (!current.ok()) {
      // No network config at all: release at least our IPAM state.
      ReleaseIf([&](const std::string& owner) { return owner == container_id; });
      return Status::Ok();
    }
    net = std::move(current).value();
  }
  std::string ns = fs::exists(netns_path) ? netns_path : "";
  Status first;
  if (const api::Value* plugins = api::Find(net, "plugins"); plugins && plugins->IsArray()) {
    for (int i = static_cast<int>(plugins->Size()) - 1; i >= 0; --i) {
      auto r = Invoke("DEL", net, (*plugins)[static_cast<rapidjson::SizeType>(i)], container_id, ns,
                      cached.IsNull() ? nullptr : &cached, {});
      if (!r.ok() && first.ok()) first = r.status();
    }
  }
  if (!first.ok()) {
    LOG(WARNING) << "CNI DEL of " << container_id << ": " << first.message();
    return first;
  }
  std::error_code ec;
  fs::remove(cache_path, ec);
  return Status::Ok();
}

int CniNetwork::ReleaseLeaked(const std::set<std::string>& live) {
  return ReleaseIf([&](const std::string& owner) { return !live.count(owner); });
}

int CniNetwork::ReleaseIf(const std::function<bool(const std::string&)>& match) {
  int released = 0;
  std::error_code ec;
  std::string networks = options_.state_dir + "/networks";
  if (!fs::is_directory(networks, ec)) return 0;
  for (auto& net : fs::directory_iterator(networks, ec)) {
    if (!net.is_directory()) continue;
    for (auto& f : fs::directory_iterator(net.path(), ec)) {
      std::string name = f.path().filename().string();
      if (name.rfind("last_reserved_ip", 0) == 0 || name == "lock") continue;
      auto text = util::ReadFile(f.path().string());
      if (!text.ok()) continue;
      std::string owner = text->substr(0, text->find_first_of("\r\n"));
      if (!owner.empty() && match(owner)) {
        fs::remove(f.path(), ec);
        fs::remove(options_.state_dir + "/results/" + owner, ec);
        ++released;
      }
    }
  }
  return released;
}

}  // namespace kubepp::kubelet
