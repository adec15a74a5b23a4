#include "kubelet/network/cni.h"

#include <filesystem>

#include "common/log.h"
#include "common/util/exec.h"
#include "common/util/file.h"

namespace kubepp::kubelet {

namespace fs = std::filesystem;

namespace {

constexpr const char* kIfName = "eth0";


}  // namespace

std::string DefaultConfList(const CniOptions& o, const std::string& pod_cidr) {
  std::string data_dir = o.state_dir + "/networks";
  return R"({"cniVersion":"0.4.0","name":"kubepp-)" + o.bridge + R"(","plugins":[)"
         R"({"type":"bridge","bridge":")" + o.bridge +
         R"(","isGateway":true,"ipMasq":true,"hairpinMode":true,)"
         R"("ipam":{"type":"host-local","dataDir":")" + data_dir +
         R"(","ranges":[[{"subnet":")" + pod_cidr + R"("}]],"routes":[{"dst":"0.0.0.0/0"}]}},)"
         R"({"type":"portmap","capabilities":{"portMappings":true}},)"
         R"({"type":"firewall"}]})";
}

CniNetwork::CniNetwork(CniOptions options) : options_(std::move(options)) {
  std::error_code ec;
  fs::create_directories(options_.state_dir + "/results", ec);
}

void CniNetwork::SetPodCidr(const std::string& cidr) {
  std::lock_guard lock(mu_);
  pod_cidr_ = cidr;
}

Result<api::Document> CniNetwork::ConfList() {
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
  return api::ParseJson(DefaultConfList(options_, cidr));
}

Status CniNetwork::Ready() {
  for (const char* p : {"bridge", "host-local", "loopback", "portmap", "firewall"}) {
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
  ASSIGN_OR_RETURN(auto net, ConfList());
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
