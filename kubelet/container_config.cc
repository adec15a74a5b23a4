#include "kubelet/container_config.h"


#include <filesystem>
#include <fstream>

#include "common/api/quantity.h"
#include "common/util/file.h"
#include "kubelet/volumes.h"

namespace kubepp::kubelet {

namespace fs = std::filesystem;

namespace {

constexpr const char* kEmptyDirPlugin = "kubernetes.io~empty-dir";

std::vector<std::string> Strings(const api::Value& v, std::string_view path) {
  std::vector<std::string> out;
  if (const api::Value* a = api::Find(v, path); a && a->IsArray()) {
    for (auto& s : a->GetArray()) out.emplace_back(api::View(s));
  }
  return out;
}

const api::Value* FindByName(const api::Value& pod, std::string_view list, const std::string& name) {
  if (const api::Value* a = api::Find(pod, list); a && a->IsArray()) {
    for (auto& v : a->GetArray()) {
      if (api::GetString(v, "name") == name) return &v;
    }
  }
  return nullptr;
}


// "metadata.labels['app']" -> the label's value.
std::string MapEntry(const api::Value& pod, const std::string& path, std::string_view map) {
  std::string prefix = std::string(map) + "['";
  std::string key = path.substr(prefix.size(), path.size() - prefix.size() - 2);
  auto m = api::GetStringMap(pod, map);
  auto it = m.find(key);
  return it == m.end() ? "" : it->second;
}

Result<std::string> FieldRef(const api::Value& pod, const std::string& path,
                             const PodContext& ctx) {
  if (path == "metadata.name" || path == "metadata.namespace" || path == "metadata.uid" ||
      path == "spec.serviceAccountName") {
    return api::GetString(pod, path);
  }
  if (path == "spec.nodeName") return ctx.node_name;
  if (path == "status.podIP" || path == "status.podIPs") return ctx.pod_ip;
  if (path == "status.hostIP" || path == "status.hostIPs") return ctx.host_ip;
  if (path.rfind("metadata.labels['", 0) == 0) return MapEntry(pod, path, "metadata.labels");
  if (path.rfind("metadata.annotations['", 0) == 0) {
    return MapEntry(pod, path, "metadata.annotations");
  }
  return BadRequest("unsupported fieldRef fieldPath " + path);
}

Result<std::string> KeyRef(const api::Value& ref, bool secret, const PodContext& ctx) {
  std::string name = api::GetString(ref, "name"), key = api::GetString(ref, "key");
  if (!ctx.lookup) return BadRequest("cannot read " + std::string(secret ? "secret " : "configmap ") + name);
  auto v = ctx.lookup(secret, name, key);
  if (!v.ok() && api::GetBool(ref, "optional")) return std::string();
  return v;
}

void SetEnv(std::vector<std::pair<std::string, std::string>>& env, const std::string& name,
            std::string value) {
  for (auto& [k, v] : env) {
    if (k == name) {
      v = std::move(value);
      return;
    }
  }
  env.emplace_back(name, std::move(value));
}

Result<std::vector<std::pair<std::string, std::string>>> BuildEnv(const api::Value& pod,
                                                                  const api::Value& container,
                                                                  const PodContext& ctx) {
  std::vector<std::pair<std::string, std::string>> env;
  if (const api::Value* from = api::Find(container, "envFrom"); from && from->IsArray()) {
    for (auto& f : from->GetArray()) {
      std::string prefix = api::GetString(f, "prefix");
      for (bool secret : {false, true}) {
        const api::Value* ref = api::Find(f, secret ? "secretRef" : "configMapRef");
        if (ref == nullptr) continue;
        // The empty key asks for the whole object as "k=v\n" lines (see NodeAgent).
        if (!ctx.lookup) return BadRequest("envFrom needs API access");
        auto all = ctx.lookup(secret, api::GetString(*ref, "name"), "");
        if (!all.ok()) {
          if (api::GetBool(*ref, "optional")) continue;
          return std::move(all).take_status();
        }
        std::string_view rest = *all;
        while (!rest.empty()) {
          auto nl = rest.find('\n');
          std::string_view line = rest.substr(0, nl);
          rest = nl == std::string_view::npos ? "" : rest.substr(nl + 1);
          auto eq = line.find('=');
          if (eq == std::string_view::npos) continue;
          SetEnv(env, prefix + std::string(line.substr(0, eq)), std::string(line.substr(eq + 1)));
        }
      }
    }
  }
  if (const api::Value* list = api::Find(container, "env"); list && list->IsArray()) {
    for (auto& e : list->GetArray()) {
      std::string name = api::GetString(e, "name");
      const api::Value* from = api::FindMember(e, "valueFrom");
      if (from == nullptr) {
        // $(VAR) sees the variables declared so far, then the service variables.
        auto visible = env;
        visible.insert(visible.end(), ctx.service_env.begin(), ctx.service_env.end());
        SetEnv(env, name, ExpandVars(api::GetString(e, "value"), visible));
        continue;
      }
      Result<std::string> v = std::string();
      if (const api::Value* r = api::FindMember(*from, "fieldRef")) {
        v = FieldRef(pod, api::GetString(*r, "fieldPath"), ctx);
      } else if (const api::Value* r = api::FindMember(*from, "resourceFieldRef")) {
        v = ResourceFieldValue(container, *r);
      } else if (const api::Value* r = api::FindMember(*from, "configMapKeyRef")) {
        v = KeyRef(*r, false, ctx);
      } else if (const api::Value* r = api::FindMember(*from, "secretKeyRef")) {
        v = KeyRef(*r, true, ctx);
      }
      if (!v.ok()) return std::move(v).take_status();
      SetEnv(env, name, std::move(v).value());
    }
  }
  // Service variables come last and never replace the container's own.
  for (auto& [k, v] : ctx.service_env) {
    bool declared = false;
    for (auto& e : env) declared |= e.first == k;
    if (!declared) env.emplace_back(k, v);
  }
  return env;
}

}  // namespace

Result<std::string> ResourceFieldValue(const api::Value& container, const api::Value& ref) {
  std::string resource = api::GetString(ref, "resource");
  const api::Value* q = api::Find(container, "resources");
  if (q != nullptr) {
    auto dot = resource.find('.');
    if (dot != std::string::npos) {
      q = api::Find(*q, resource.substr(0, dot));
      if (q != nullptr) q = api::FindMember(*q, resource.substr(dot + 1));
    }
  }
  double divisor = 1;
  if (const api::Value* d = api::FindMember(ref, "divisor"); d && d->IsString()) {
    if (auto p = api::ParseQuantity(d->GetString()); p.ok() && *p > 0) divisor = *p;
  }
  double value = 0;
  if (q != nullptr && q->IsString()) {
    if (auto p = api::ParseQuantity(q->GetString()); p.ok()) value = *p;
  }
  // Upstream rounds up to whole divisor units (cpu 250m with divisor 1 -> "1").
  int64_t units = static_cast<int64_t>(value / divisor);
  if (static_cast<double>(units) * divisor < value) ++units;
  return std::to_string(units);
}

PodPaths PathsOf(const std::string& root_dir, const std::string& uid) {
  return PodPaths{root_dir + "/pods/" + uid};
}

std::string ExpandVars(const std::string& in,
                       const std::vector<std::pair<std::string, std::string>>& env) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '$' || i + 1 >= in.size()) {
      out += in[i];
      continue;
    }
    if (in[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (in[i + 1] == '(') {
      auto close = in.find(')', i + 2);
      if (close != std::string::npos) {
        std::string name = in.substr(i + 2, close - i - 2);
        bool found = false;
        for (auto& [k, v] : env) {
          if (k == name) {
            out += v;
            found = true;
            break;
          }
        }
        if (!found) out += in.substr(i, close - i + 1);
        i = close;
        continue;
      }
    }
    out += in[i];
  }
  return out;
}

std::string ResolvConfFor(const api::Value& pod, const PodContext& ctx) {
  std::string policy = api::GetString(pod, "spec.dnsPolicy", "ClusterFirst");
  std::string out;
  if (policy == "ClusterFirst" && !ctx.cluster_dns.empty()) {
    std::string ns = api::GetString(pod, "metadata.namespace", "default");
    const std::string& d = ctx.cluster_domain;
    out = "search " + ns + ".svc." + d + " svc." + d + " " + d + "\nnameserver " +
          ctx.cluster_dns + "\noptions ndots:5\n";
  } else if (policy == "None") {
    const api::Value* cfg = api::Find(pod, "spec.dnsConfig");
    if (cfg != nullptr) {
      auto servers = Strings(*cfg, "nameservers");
      auto searches = Strings(*cfg, "searches");
      if (!searches.empty()) {
        out += "search";
        for (auto& s : searches) out += " " + s;
        out += "\n";
      }
      for (auto& s : servers) out += "nameserver " + s + "\n";
    }
  } else {
    std::ifstream f("/etc/resolv.conf");
    out.assign(std::istreambuf_iterator<char>(f), {});
  }
  return out;
}

std::string HostsFileFor(const api::Value& pod, const PodContext& ctx) {
  std::string name = api::GetString(pod, "spec.hostname", api::GetString(pod, "metadata.name"));
  std::string out =
      "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost "
      "ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\n"
      "fe00::2\tip6-allrouters\n";
  if (!ctx.pod_ip.empty()) {
    std::string sub = api::GetString(pod, "spec.subdomain");
    std::string ns = api::GetString(pod, "metadata.namespace", "default");
    out += ctx.pod_ip + "\t";
    if (!sub.empty()) out += name + "." + sub + "." + ns + ".svc." + ctx.cluster_domain + "\t";
    out += name + "\n";
  }
  if (const api::Value* ha = api::Find(pod, "spec.hostAliases"); ha && ha->IsArray()) {
    out += "\n# Entries added by HostAliases.\n";
    for (auto& a : ha->GetArray()) {
      out += api::GetString(a, "ip");
      for (auto& h : Strings(a, "hostnames")) out += "\t" + h;
      out += "\n";
    }
  }
  return out;
}

Status PreparePodFiles(const api::Value& pod, const PodContext& ctx) {
  std::error_code ec;
  fs::create_directories(ctx.paths.root + "/logs", ec);
  if (ec) return Internal("creating " + ctx.paths.root + ": " + ec.message());
  if (const api::Value* vols = api::Find(pod, "spec.volumes"); vols && vols->IsArray()) {
    for (auto& v : vols->GetArray()) {
      std::string name = api::GetString(v, "name");
      if (api::Has(v, "emptyDir")) {
        fs::create_directories(ctx.paths.VolumeDir(kEmptyDirPlugin, name), ec);
        // World-writable as upstream's emptyDir, so non-root containers can use it.
        fs::permissions(ctx.paths.VolumeDir(kEmptyDirPlugin, name), fs::perms::all, ec);
      } else if (const api::Value* hp = api::FindMember(v, "hostPath")) {
        std::string type = api::GetString(*hp, "type");
        if (type == "DirectoryOrCreate") fs::create_directories(api::GetString(*hp, "path"), ec);
      }
    }
  }
  RETURN_IF_ERROR(util::WriteFileAtomic(ctx.paths.HostsFile(), HostsFileFor(pod, ctx)));
  return util::WriteFileAtomic(ctx.paths.ResolvConf(), ResolvConfFor(pod, ctx));
}

Result<ContainerConfig> BuildContainerConfig(const api::Value& pod, const api::Value& container,
                                             uint32_t attempt, const PodContext& ctx) {
  ContainerConfig c;
  c.name = api::GetString(container, "name");
  c.attempt = attempt;
  c.image = api::GetString(container, "image");
  c.working_dir = api::GetString(container, "workingDir");
  c.log_path = ctx.paths.LogPath(c.name, attempt);
  c.annotations = api::GetStringMap(pod, "metadata.annotations");
  ASSIGN_OR_RETURN(c.env, BuildEnv(pod, container, ctx));
  for (auto& s : Strings(container, "command")) c.command.push_back(ExpandVars(s, c.env));
  for (auto& s : Strings(container, "args")) c.args.push_back(ExpandVars(s, c.env));

  if (const api::Value* mounts = api::Find(container, "volumeMounts"); mounts && mounts->IsArray()) {
    for (auto& m : mounts->GetArray()) {
      std::string vol_name = api::GetString(m, "name");
      const api::Value* vol = FindByName(pod, "spec.volumes", vol_name);
      if (vol == nullptr) return BadRequest("volume " + vol_name + " not found in the pod spec");
      Mount mount;
      mount.container_path = api::GetString(m, "mountPath");
      mount.read_only = api::GetBool(m, "readOnly");
      std::string api_plugin = ApiVolumePlugin(*vol);
      if (api::Has(*vol, "emptyDir")) {
        mount.host_path = ctx.paths.VolumeDir(kEmptyDirPlugin, vol_name);
      } else if (api::Has(*vol, "hostPath")) {
        mount.host_path = api::GetString(*vol, "hostPath.path");
      } else if (!api_plugin.empty()) {
        // Filled by SetUpApiVolumes before any container starts; always read-only.
        mount.host_path = ctx.paths.VolumeDir(api_plugin, vol_name);
        mount.read_only = true;
        std::error_code ec;
        if (!fs::is_directory(mount.host_path, ec)) {
          return Unavailable("volume " + vol_name + " is not set up yet");
        }
      } else {
        return BadRequest("volume " + vol_name +
                          ": only emptyDir, hostPath, configMap, secret, downwardAPI and "
                          "projected volumes are supported so far");
      }
      std::string sub = api::GetString(m, "subPath");
      if (!sub.empty()) {
        if (sub.find("..") != std::string::npos || sub[0] == '/') {
          return BadRequest("invalid subPath " + sub);
        }
        mount.host_path += "/" + sub;
        std::error_code ec;
        if (!api_plugin.empty()) {
          // As upstream, a subPath of these volumes is the file of the moment: bound by
          // its resolved path, it does not follow later updates.
          auto real = fs::canonical(mount.host_path, ec);
          if (ec) return BadRequest("subPath " + sub + " does not exist in volume " + vol_name);
          mount.host_path = real.string();
        } else {
          fs::create_directories(mount.host_path, ec);
        }
      }
      c.mounts.push_back(std::move(mount));
    }
  }
  if (!api::GetBool(pod, "spec.hostNetwork")) {
    c.mounts.push_back(Mount{"/etc/hosts", ctx.paths.HostsFile(), false});
  }
  c.mounts.push_back(Mount{"/etc/resolv.conf", ctx.paths.ResolvConf(), false});

  if (const api::Value* lim = api::Find(container, "resources.limits")) {
    if (const api::Value* cpu = api::FindMember(*lim, "cpu")) c.cpu_limit_millis = api::MilliValueOf(*cpu);
    if (const api::Value* mem = api::FindMember(*lim, "memory")) c.memory_limit_bytes = api::WholeValueOf(*mem);
  }
  if (const api::Value* cpu = api::Find(container, "resources.requests.cpu")) {
    c.cpu_request_millis = api::MilliValueOf(*cpu);
  }

  const api::Value* psc = api::Find(pod, "spec.securityContext");
  const api::Value* sc = api::Find(container, "securityContext");
  for (const api::Value* ctx_sc : {psc, sc}) {  // the container's settings win
    if (ctx_sc == nullptr) continue;
    if (api::Has(*ctx_sc, "runAsUser")) c.run_as_user = api::GetInt(*ctx_sc, "runAsUser");
    if (api::Has(*ctx_sc, "runAsGroup")) c.run_as_group = api::GetInt(*ctx_sc, "runAsGroup");
  }
  if (sc != nullptr) {
    c.privileged = api::GetBool(*sc, "privileged");
    c.read_only_rootfs = api::GetBool(*sc, "readOnlyRootFilesystem");
    c.allow_privilege_escalation = api::GetBool(*sc, "allowPrivilegeEscalation", true);
    c.cap_add = Strings(*sc, "capabilities.add");
    c.cap_drop = Strings(*sc, "capabilities.drop");
  }
  return c;
}

}  // namespace kubepp::kubelet
