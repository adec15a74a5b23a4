#include "kubelet/envvars.h"

#include <algorithm>
#include <map>

#include "common/util/strings.h"

namespace kubepp::kubelet {

namespace {

// "my-svc" -> "MY_SVC".
std::string EnvName(std::string_view s) {
  std::string out(s);
  for (auto& ch : out) {
    ch = ch == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  }
  return out;
}

bool HasClusterIP(const api::Value& service) {
  std::string ip = api::GetString(service, "spec.clusterIP");
  return !ip.empty() && ip != "None";
}

// net.JoinHostPort: IPv6 addresses in brackets.
std::string HostPort(const std::string& host, int64_t port) {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

}  // namespace

EnvList EnvVarsOfService(const api::Value& service) {
  EnvList out;
  const api::Value* ports = api::Find(service, "spec.ports");
  if (!HasClusterIP(service) || ports == nullptr || !ports->IsArray() || ports->Empty()) {
    return out;
  }
  std::string prefix = EnvName(api::GetString(service, "metadata.name"));
  std::string ip = api::GetString(service, "spec.clusterIP");
  out.emplace_back(prefix + "_SERVICE_HOST", ip);
  out.emplace_back(prefix + "_SERVICE_PORT", std::to_string(api::GetInt((*ports)[0], "port")));
  for (auto& p : ports->GetArray()) {
    std::string name = api::GetString(p, "name");
    if (!name.empty()) {
      out.emplace_back(prefix + "_SERVICE_PORT_" + EnvName(name),
                       std::to_string(api::GetInt(p, "port")));
    }
  }
  bool first = true;
  for (auto& p : ports->GetArray()) {
    std::string proto = api::GetString(p, "protocol", "TCP");
    if (proto.empty()) proto = "TCP";
    int64_t port = api::GetInt(p, "port");
    std::string url = util::AsciiLower(proto) + "://" + HostPort(ip, port);
    if (first) out.emplace_back(prefix + "_PORT", url);  // Docker special-cases the first port
    first = false;
    std::string port_prefix = prefix + "_PORT_" + std::to_string(port) + "_" + EnvName(proto);
    out.emplace_back(port_prefix, url);
    out.emplace_back(port_prefix + "_PROTO", util::AsciiLower(proto));
    out.emplace_back(port_prefix + "_PORT", std::to_string(port));
    out.emplace_back(port_prefix + "_ADDR", ip);
  }
  return out;
}

EnvList ServiceEnvVars(const std::string& ns, bool enable_service_links,
                       const std::vector<const api::Value*>& services) {
  std::map<std::string, const api::Value*> by_name;
  for (const api::Value* s : services) {
    if (!HasClusterIP(*s)) continue;
    std::string name = api::GetString(*s, "metadata.name");
    std::string sns = api::GetString(*s, "metadata.namespace");
    if (sns == "default" && name == "kubernetes") {
      by_name.emplace(name, s);  // a service of the pod's own namespace wins
    } else if (sns == ns && enable_service_links) {
      by_name[name] = s;
    }
  }
  std::map<std::string, std::string> vars;
  for (auto& [name, s] : by_name) {
    for (auto& [k, v] : EnvVarsOfService(*s)) vars[k] = v;
  }
  return EnvList(vars.begin(), vars.end());
}

}  // namespace kubepp::kubelet
