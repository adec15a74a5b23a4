// NodeAgent's node half: the Node object (registration, status, conditions), its Lease,
// and the machine facts they report. The pod half is in node_agent.cc.
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "common/log.h"
#include "common/util/time.h"
#include "kubelet/node_agent.h"

namespace kubepp::kubelet {

namespace {

using api::Value;

constexpr const char* kLeaseNamespace = "kube-node-lease";

std::string Trim(std::string s) {
  while (!s.empty() && isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, sep)) {
    part = Trim(part);
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

std::string ReadFirstLine(const std::string& path) {
  std::ifstream f(path);
  std::string line;
  std::getline(f, line);
  return Trim(line);
}

}  // namespace

Result<std::map<std::string, std::string>> ParseLabels(const std::string& text) {
  std::map<std::string, std::string> out;
  for (auto& kv : Split(text, ',')) {
    auto eq = kv.find('=');
    if (eq == std::string::npos) return BadRequest("label " + kv + " is not key=value");
    out[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return out;
}

Result<std::vector<Taint>> ParseTaints(const std::string& text) {
  std::vector<Taint> out;
  for (auto& t : Split(text, ',')) {
    auto colon = t.rfind(':');
    if (colon == std::string::npos) return BadRequest("taint " + t + " has no :effect");
    Taint taint;
    taint.effect = t.substr(colon + 1);
    if (taint.effect != "NoSchedule" && taint.effect != "PreferNoSchedule" &&
        taint.effect != "NoExecute") {
      return BadRequest("taint " + t + ": unknown effect " + taint.effect);
    }
    std::string kv = t.substr(0, colon);
    auto eq = kv.find('=');
    taint.key = kv.substr(0, eq);
    if (eq != std::string::npos) taint.value = kv.substr(eq + 1);
    out.push_back(std::move(taint));
  }
  return out;
}

void DetectMachine(NodeConfig& c) {
  c.cpu_millis = 1000 * std::max<long>(1, sysconf(_SC_NPROCESSORS_ONLN));
  c.memory_bytes = static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE);
  struct statvfs vfs {};
  std::string dir = c.root_dir;
  while (!dir.empty() && statvfs(dir.c_str(), &vfs) != 0) {
    auto slash = dir.rfind('/');
    dir = slash == 0 || slash == std::string::npos ? "/" : dir.substr(0, slash);
    if (dir == "/") {
      statvfs("/", &vfs);
      break;
    }
  }
  c.ephemeral_storage_bytes = static_cast<int64_t>(vfs.f_blocks) * vfs.f_frsize;
  utsname u{};
  uname(&u);
  c.kernel_version = u.release;
  c.os_image = "Linux";
  std::ifstream os("/etc/os-release");
  std::string line;
  while (std::getline(os, line)) {
    if (line.rfind("PRETTY_NAME=", 0) == 0) {
      c.os_image = line.substr(12);
      if (c.os_image.size() >= 2 && c.os_image.front() == '"') {
        c.os_image = c.os_image.substr(1, c.os_image.size() - 2);
      }
    }
  }
  c.machine_id = ReadFirstLine("/etc/machine-id");
  c.boot_id = ReadFirstLine("/proc/sys/kernel/random/boot_id");
}

NodeAgent::NodeAgent(NodeConfig config, client::RestClient* client, ContainerRuntime* runtime,
                     Prober* prober, ProbeManager* probes, Clock clock, Enqueue enqueue,
                     client::EventRecorder* events)
    : config_(std::move(config)),
      client_(client),
      runtime_(runtime),
      prober_(prober),
      probes_(probes),
      clock_(std::move(clock)),
      enqueue_(std::move(enqueue)),
      events_(events),
      backoff_(clock_),
      tokens_(
          [client](const std::string& ns, const std::string& name, const api::Value& request) {
            return client->CreateSubresource(client::kServiceAccounts, ns, name, "token", request);
          },
          clock_) {
  if (!config_.pod_cidr.empty()) {
    pod_cidr_ = config_.pod_cidr;
    runtime_->SetPodCidr(pod_cidr_);
  }
}

NodeAgent::~NodeAgent() { StopPodInformer(); }

// --- node and lease ---------------------------------------------------------------------

void NodeAgent::LearnPodCidr(const Value& node) {
  std::string cidr = api::GetString(node, "spec.podCIDR");
  std::string uid = api::GetString(node, "metadata.uid");
  std::lock_guard lock(mu_);
  if (!uid.empty()) node_uid_ = uid;
  if (cidr.empty() || cidr == pod_cidr_) return;
  LOG(INFO) << "node " << config_.node_name << ": pod CIDR " << cidr;
  pod_cidr_ = cidr;
  runtime_->SetPodCidr(cidr);
}

api::Document NodeAgent::NodeStatus(bool* ready) {
  api::Document st(rapidjson::kObjectType);
  auto& a = st.GetAllocator();
  auto quantities = [&](bool allocatable) {
    Value q(rapidjson::kObjectType);
    int64_t cpu = config_.cpu_millis - (allocatable ? config_.reserved_cpu_millis : 0);
    int64_t mem = config_.memory_bytes - (allocatable ? config_.reserved_memory_bytes : 0);
    std::string cpu_s = cpu % 1000 == 0 ? std::to_string(cpu / 1000) : std::to_string(cpu) + "m";
    q.AddMember("cpu", api::Str(cpu_s, a), a);
    q.AddMember("memory", api::Str(std::to_string(std::max<int64_t>(0, mem) / 1024) + "Ki", a), a);
    q.AddMember("pods", api::Str(std::to_string(config_.max_pods), a), a);
    q.AddMember("ephemeral-storage",
                api::Str(std::to_string(config_.ephemeral_storage_bytes / 1024) + "Ki", a), a);
    return q;
  };
  st.AddMember("capacity", quantities(false), a);
  st.AddMember("allocatable", quantities(true), a);

  Status health = runtime_->Healthy();
  *ready = health.ok();
  Value conds(rapidjson::kArrayType);
  auto cond = [&](const char* type, bool value, const std::string& reason,
                  const std::string& message) {
    Value c(rapidjson::kObjectType);
    c.AddMember("type", rapidjson::StringRef(type), a);
    c.AddMember("status", rapidjson::StringRef(value ? "True" : "False"), a);
    c.AddMember("reason", api::Str(reason, a), a);
    c.AddMember("message", api::Str(message, a), a);
    conds.PushBack(c, a);
  };
  cond("MemoryPressure", false, "KubeletHasSufficientMemory", "kubelet has sufficient memory available");
  cond("DiskPressure", false, "KubeletHasNoDiskPressure", "kubelet has no disk pressure");
  cond("PIDPressure", false, "KubeletHasSufficientPID", "kubelet has sufficient PID available");
  cond("Ready", health.ok(), health.ok() ? "KubeletReady" : "KubeletNotReady",
       health.ok() ? "kubelet is posting ready status" : health.message());
  st.AddMember("conditions", conds, a);

  Value addrs(rapidjson::kArrayType);
  for (auto [type, address] : {std::pair<const char*, std::string>{"InternalIP", config_.node_ip},
                               {"Hostname", config_.node_name}}) {
    Value ad(rapidjson::kObjectType);
    ad.AddMember("type", rapidjson::StringRef(type), a);
    ad.AddMember("address", api::Str(address, a), a);
    addrs.PushBack(ad, a);
  }
  st.AddMember("addresses", addrs, a);
  api::SetInt(st, "daemonEndpoints.kubeletEndpoint.Port", config_.kubelet_port, a);

  Value info(rapidjson::kObjectType);
  auto put = [&](const char* k, const std::string& v) { info.AddMember(rapidjson::StringRef(k), api::Str(v, a), a); };
  put("machineID", config_.machine_id);
  put("systemUUID", config_.machine_id);
  put("bootID", config_.boot_id);
  put("kernelVersion", config_.kernel_version);
  put("osImage", config_.os_image);
  put("containerRuntimeVersion", runtime_->Name() + "://" + runtime_->Version());
  put("kubeletVersion", config_.kubelet_version);
  put("kubeProxyVersion", config_.kubelet_version);
  put("operatingSystem", "linux");
  put("architecture", "amd64");
  st.AddMember("nodeInfo", info, a);

  Value images(rapidjson::kArrayType);
  for (auto& img : runtime_->ListImages()) {
    Value i(rapidjson::kObjectType);
    Value names(rapidjson::kArrayType);
    names.PushBack(api::Str(img.id, a), a);
    for (auto& d : img.repo_digests) names.PushBack(api::Str(d, a), a);
    for (auto& t : img.repo_tags) names.PushBack(api::Str(t, a), a);
    i.AddMember("names", names, a);
    i.AddMember("sizeBytes", img.size_bytes, a);
    images.PushBack(i, a);
  }
  st.AddMember("images", images, a);
  return st;
}

Status NodeAgent::RegisterNode() {
  api::Document node(rapidjson::kObjectType);
  auto& a = node.GetAllocator();
  node.AddMember("apiVersion", "v1", a);
  node.AddMember("kind", "Node", a);
  api::SetString(node, "metadata.name", config_.node_name, a);
  std::map<std::string, std::string> labels = {
      {"kubernetes.io/hostname", config_.node_name},
      {"kubernetes.io/os", "linux"},
      {"kubernetes.io/arch", "amd64"},
      {"beta.kubernetes.io/os", "linux"},
      {"beta.kubernetes.io/arch", "amd64"}};
  for (auto& [k, v] : config_.labels) labels[k] = v;
  api::SetStringMap(node, "metadata.labels", labels, a);
  if (!config_.taints.empty()) {
    Value taints(rapidjson::kArrayType);
    for (auto& t : config_.taints) {
      Value tv(rapidjson::kObjectType);
      tv.AddMember("key", api::Str(t.key, a), a);
      if (!t.value.empty()) tv.AddMember("value", api::Str(t.value, a), a);
      tv.AddMember("effect", api::Str(t.effect, a), a);
      taints.PushBack(tv, a);
    }
    api::SetValue(node, "spec.taints", std::move(taints), a);
  }
  if (!config_.pod_cidr.empty()) api::SetString(node, "spec.podCIDR", config_.pod_cidr, a);
  bool ready = false;
  api::Document st = NodeStatus(&ready);
  ready_ = ready;
  node.AddMember("status", Value(st, a), a);

  auto created = client_->Create(client::kNodes, "", node);
  if (created.ok()) {
    LearnPodCidr(*created);
  } else if (created.status().code() == Code::kAlreadyExists) {
    // Adopt the existing Node (a kubelet restart): make sure our labels are on it.
    std::string patch = "{\"metadata\":{\"labels\":" + api::ToJson(*api::Find(node, "metadata.labels")) + "}}";
    ASSIGN_OR_RETURN(auto existing, client_->Patch(client::kNodes, "", config_.node_name,
                                                   client::PatchType::kMerge, patch));
    LearnPodCidr(existing);
  } else {
    return created.status();
  }
  {
    std::lock_guard lock(mu_);
    last_node_status_.clear();  // send the status right away
  }
  RETURN_IF_ERROR(UpdateNodeStatus());
  LOG(INFO) << "node " << config_.node_name << " registered";
  return Status::Ok();
}

Status NodeAgent::UpdateNodeStatus() {
  bool ready = false;
  api::Document st = NodeStatus(&ready);
  ready_ = ready;
  // Compare without heartbeat times; stamp them only on what we send.
  std::string fingerprint = api::ToJson(st);
  int64_t now = clock_();
  std::string ts = util::FormatRfc3339(now / 1'000'000);
  bool send, check_cidr;
  std::map<std::string, std::pair<std::string, std::string>> transitions;
  {
    std::lock_guard lock(mu_);
    send = fingerprint != last_node_status_ ||
           now - last_node_report_ >= int64_t{config_.node_status_report_seconds} * 1'000'000;
    // Until the node has a pod CIDR, look for one: on every update while the runtime
    // cannot work without it, else once a minute (hollow nodes do fine without).
    check_cidr = pod_cidr_.empty() && (!ready || now - last_cidr_check_ >= 60'000'000);
    if (check_cidr) last_cidr_check_ = now;
    transitions = condition_transitions_;
  }
  if (!send) {
    if (!check_cidr) return Status::Ok();
    ASSIGN_OR_RETURN(auto node, client_->Get(client::kNodes, "", config_.node_name));
    LearnPodCidr(node);
    return Status::Ok();
  }
  auto& a = st.GetAllocator();
  for (auto& c : st["conditions"].GetArray()) {
    std::string type = api::GetString(c, "type"), status = api::GetString(c, "status");
    auto& [last_status, since] = transitions[type];
    if (last_status != status) {
      last_status = status;
      since = ts;
    }
    c.AddMember("lastHeartbeatTime", api::Str(ts, a), a);
    c.AddMember("lastTransitionTime", api::Str(since, a), a);
  }
  api::Document patch(rapidjson::kObjectType);
  patch.AddMember("status", Value(st, patch.GetAllocator()), patch.GetAllocator());
  auto res = client_->Patch(client::kNodes, "", config_.node_name, client::PatchType::kStrategic,
                            api::ToJson(patch), "status");
  if (!res.ok()) {
    if (res.status().code() == Code::kNotFound) return RegisterNode();  // deleted: again
    return res.status();
  }
  LearnPodCidr(*res);
  std::lock_guard lock(mu_);
  last_node_status_ = fingerprint;
  last_node_report_ = now;
  condition_transitions_ = std::move(transitions);
  return Status::Ok();
}

Status NodeAgent::RenewLease() {
  std::string now = util::NowRfc3339Micro();
  api::Document lease;
  {
    std::lock_guard lock(mu_);
    lease = api::Clone(lease_);
  }
  auto& a = lease.GetAllocator();
  if (lease.IsObject() && lease.HasMember("metadata")) {
    api::SetString(lease, "spec.renewTime", now, a);
    auto res = client_->Update(client::kLeases, kLeaseNamespace, lease);
    if (res.ok()) {
      std::lock_guard lock(mu_);
      lease_ = std::move(res).value();
      return Status::Ok();
    }
    if (res.status().code() != Code::kConflict && res.status().code() != Code::kNotFound) {
      return res.status();
    }
  }
  // No lease known or ours is stale: read it, or create it.
  auto got = client_->Get(client::kLeases, kLeaseNamespace, config_.node_name);
  if (got.ok()) {
    lease = std::move(got).value();
  } else if (got.status().code() == Code::kNotFound) {
    lease = api::Document(rapidjson::kObjectType);
    auto& al = lease.GetAllocator();
    lease.AddMember("apiVersion", "coordination.k8s.io/v1", al);
    lease.AddMember("kind", "Lease", al);
    api::SetString(lease, "metadata.name", config_.node_name, al);
    api::SetString(lease, "metadata.namespace", kLeaseNamespace, al);
    std::string node_uid;
    {
      std::lock_guard lock(mu_);
      node_uid = node_uid_;
    }
    if (!node_uid.empty()) {
      Value owners(rapidjson::kArrayType);
      Value o(rapidjson::kObjectType);
      o.AddMember("apiVersion", "v1", al);
      o.AddMember("kind", "Node", al);
      o.AddMember("name", api::Str(config_.node_name, al), al);
      o.AddMember("uid", api::Str(node_uid, al), al);
      owners.PushBack(o, al);
      api::SetValue(lease, "metadata.ownerReferences", std::move(owners), al);
    }
    api::SetString(lease, "spec.holderIdentity", config_.node_name, al);
    api::SetInt(lease, "spec.leaseDurationSeconds", config_.lease_duration_seconds, al);
    api::SetString(lease, "spec.renewTime", now, al);
    ASSIGN_OR_RETURN(auto created, client_->Create(client::kLeases, kLeaseNamespace, lease));
    std::lock_guard lock(mu_);
    lease_ = std::move(created);
    return Status::Ok();
  } else {
    return got.status();
  }
  auto& al = lease.GetAllocator();
  api::SetString(lease, "spec.holderIdentity", config_.node_name, al);
  api::SetInt(lease, "spec.leaseDurationSeconds", config_.lease_duration_seconds, al);
  api::SetString(lease, "spec.renewTime", now, al);
  ASSIGN_OR_RETURN(auto updated, client_->Update(client::kLeases, kLeaseNamespace, lease));
  std::lock_guard lock(mu_);
  lease_ = std::move(updated);
  return Status::Ok();
}

}  // namespace kubepp::kubelet
