#include "kubelet/node_agent.h"

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <set>

#include "common/log.h"
#include "common/util/time.h"
#include "kubelet/container_config.h"
#include "kubelet/pod_status.h"
#include "kubelet/runtime/image_reference.h"
#include "kubelet/runtime/registry.h"
#include "kubelet/volumes.h"

namespace kubepp::kubelet {

namespace {

using api::Value;
using std::chrono::milliseconds;

bool IsTerminalPhase(const std::string& phase) {
  return phase == "Succeeded" || phase == "Failed";
}

const SandboxStatus* NewestSandbox(const std::vector<SandboxStatus>& sandboxes, bool ready_only) {
  const SandboxStatus* best = nullptr;
  for (auto& s : sandboxes) {
    if (ready_only && !s.ready) continue;
    if (best == nullptr || s.created_at > best->created_at) best = &s;
  }
  return best;
}

std::string StateName(ContainerState s) {
  switch (s) {
    case ContainerState::kCreated: return "created";
    case ContainerState::kRunning: return "running";
    case ContainerState::kExited: return "exited";
    case ContainerState::kUnknown: return "unknown";
  }
  return "";
}

}  // namespace

// --- pods: informer, PLEG, housekeeping -----------------------------------------------

void NodeAgent::StartPodInformer() {
  informer::InformerOptions o;
  o.field_selector = "spec.nodeName=" + config_.node_name;
  pods_ = std::make_unique<informer::Informer>(client_, client::kPods, o);
  pods_->AddEventHandler(
      {.on_add = [this](const informer::ObjectPtr& p) { enqueue_(informer::KeyOf(*p), milliseconds(0)); },
       .on_update = [this](const informer::ObjectPtr&,
                           const informer::ObjectPtr& p) { enqueue_(informer::KeyOf(*p), milliseconds(0)); },
       .on_delete = [this](const informer::ObjectPtr& p) { enqueue_(informer::KeyOf(*p), milliseconds(0)); }});
  pods_->Start();
}

void NodeAgent::StopPodInformer() {
  if (pods_) pods_->Stop();
}

bool NodeAgent::PodsSynced() const { return pods_ && pods_->HasSynced(); }

std::vector<informer::ObjectPtr> NodeAgent::Pods() const {
  return pods_ ? pods_->List() : std::vector<informer::ObjectPtr>{};
}

void NodeAgent::Relist() {
  auto sandboxes = runtime_->ListPodSandboxes();
  auto containers = runtime_->ListContainers();
  if (!sandboxes.ok() || !containers.ok()) return;
  std::map<std::string, std::string> now;
  for (auto& s : *sandboxes) now[s.id] = s.pod.Key() + "|" + (s.ready ? "ready" : "notready");
  for (auto& c : *containers) now[c.id] = c.pod.Key() + "|" + StateName(c.state);
  std::set<std::string> changed;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, v] : now) {
      auto it = relist_.find(id);
      if (it == relist_.end() || it->second != v) changed.insert(v.substr(0, v.find('|')));
    }
    for (auto& [id, v] : relist_) {
      if (!now.count(id)) changed.insert(v.substr(0, v.find('|')));
    }
    relist_ = std::move(now);
  }
  for (auto& key : changed) enqueue_(key, milliseconds(0));
}

void NodeAgent::Housekeeping() {
  if (!PodsSynced()) return;  // an empty cache would make every pod an orphan
  auto sandboxes = runtime_->ListPodSandboxes();
  if (!sandboxes.ok()) return;
  std::set<std::string> orphans;
  for (auto& s : *sandboxes) {
    auto pod = pods_->Get(s.pod.Key());
    if (pod == nullptr || api::GetString(*pod, "metadata.uid") != s.pod.uid) {
      orphans.insert(s.pod.Key());
    }
  }
  for (auto& key : orphans) enqueue_(key, milliseconds(0));
}

// --- pod sync -----------------------------------------------------------------------------

NodeAgent::PodRecord& NodeAgent::RecordOf(const std::string& key, const std::string& uid) {
  std::lock_guard lock(mu_);
  auto& r = records_[key];
  if (r.uid != uid) r = PodRecord{uid, "", "", {}, {}};
  return r;
}

Result<NodeAgent::RuntimeView> NodeAgent::ViewOf(const std::string& key) {
  RuntimeView view;
  ASSIGN_OR_RETURN(auto sandboxes, runtime_->ListPodSandboxes());
  ASSIGN_OR_RETURN(auto containers, runtime_->ListContainers());
  for (auto& s : sandboxes) {
    if (s.pod.Key() == key) view.sandboxes.push_back(std::move(s));
  }
  for (auto& c : containers) {
    if (c.pod.Key() == key) view.containers.push_back(std::move(c));
  }
  return view;
}

Status NodeAgent::RemoveOthers(const std::string& key, const std::string& keep_uid,
                               RuntimeView& view) {
  std::set<std::string> gone_uids;
  for (auto& c : view.containers) {
    if (c.pod.uid == keep_uid) continue;
    gone_uids.insert(c.pod.uid);
    if (c.state == ContainerState::kRunning) (void)runtime_->SignalContainer(c.id, SIGKILL);
    RETURN_IF_ERROR(runtime_->RemoveContainer(c.id));
  }
  for (auto& s : view.sandboxes) {
    if (s.pod.uid == keep_uid) continue;
    gone_uids.insert(s.pod.uid);
    RETURN_IF_ERROR(runtime_->StopPodSandbox(s.id));
    RETURN_IF_ERROR(runtime_->RemovePodSandbox(s.id));
  }
  for (auto& uid : gone_uids) {
    LOG(INFO) << "pod " << key << " (uid " << uid << ") is gone: removed its containers";
    probes_->RemovePod(uid);
    backoff_.ForgetPrefix(uid + "/");
    tokens_.ForgetPod(uid);
    std::error_code ec;
    std::filesystem::remove_all(PathsOf(config_.root_dir, uid).root, ec);
  }
  std::erase_if(view.containers, [&](auto& c) { return c.pod.uid != keep_uid; });
  std::erase_if(view.sandboxes, [&](auto& s) { return s.pod.uid != keep_uid; });
  return Status::Ok();
}

bool NodeAgent::KillContainer(PodRecord& record, const ContainerStatus& c, int64_t grace_seconds) {
  if (c.state != ContainerState::kRunning && c.state != ContainerState::kCreated) return false;
  int64_t now = clock_();
  auto it = record.sigterm_at.find(c.id);
  if (it == record.sigterm_at.end()) {
    LOG(INFO) << "killing container " << c.pod.Key() << "/" << c.name << " (grace "
              << grace_seconds << "s)";
    if (auto pod = pods_ ? pods_->Get(c.pod.Key()) : nullptr) {
      Event(*pod, "Normal", "Killing", "Stopping container " + c.name);
    }
    record.sigterm_at[c.id] = now;
    (void)runtime_->SignalContainer(c.id, grace_seconds > 0 ? SIGTERM : SIGKILL);
  } else if (now - it->second >= grace_seconds * 1'000'000) {
    (void)runtime_->SignalContainer(c.id, SIGKILL);
  }
  return true;
}

Status NodeAgent::TerminatePod(const Value& pod, RuntimeView& view, milliseconds* requeue_after) {
  std::string key = informer::KeyOf(pod), uid = api::GetString(pod, "metadata.uid");
  PodRecord& record = RecordOf(key, uid);
  int64_t grace = api::GetInt(pod, "metadata.deletionGracePeriodSeconds",
                              api::GetInt(pod, "spec.terminationGracePeriodSeconds", 30));
  bool running = false;
  for (auto& c : view.containers) running |= KillContainer(record, c, grace);
  if (running) {
    *requeue_after = milliseconds(std::min<int64_t>(1000, std::max<int64_t>(grace * 1000, 100)));
    return Status::Ok();
  }
  for (auto& s : view.sandboxes) {
    RETURN_IF_ERROR(runtime_->StopPodSandbox(s.id));
  }
  client::DeleteOptions o;
  o.grace_period_seconds = 0;
  o.precondition_uid = uid;
  Status st = client_->Delete(client::kPods, api::GetString(pod, "metadata.namespace"),
                              api::GetString(pod, "metadata.name"), o);
  if (!st.ok() && st.code() != Code::kNotFound && st.code() != Code::kConflict) return st;
  LOG(INFO) << "pod " << key << " terminated and deleted";
  // The informer's DELETED event brings us back to remove the containers and sandbox.
  return Status::Ok();
}

void NodeAgent::Event(const Value& pod, std::string_view type, std::string_view reason,
                      const std::string& message) {
  if (events_ == nullptr) return;
  client::ObjectReference ref = client::ObjectReferenceOf(pod);
  if (ref.kind.empty()) ref.kind = "Pod";
  if (ref.api_version.empty()) ref.api_version = "v1";
  events_->Record(ref, type, reason, message);
}

Result<std::string> NodeAgent::LookupKey(const std::string& ns, bool secret,
                                         const std::string& name, const std::string& key) {
  ASSIGN_OR_RETURN(auto obj, client_->Get(secret ? client::kSecrets : client::kConfigMaps, ns, name));
  auto values = api::GetStringMap(obj, "data");
  auto decode = [&](const std::string& v) -> Result<std::string> {
    return secret ? DecodeBase64(v) : Result<std::string>(v);
  };
  if (key.empty()) {  // every entry as "k=v\n" lines (envFrom)
    std::string out;
    for (auto& [k, v] : values) {
      ASSIGN_OR_RETURN(auto d, decode(v));
      out += k + "=" + d + "\n";
    }
    return out;
  }
  auto it = values.find(key);
  if (it == values.end()) {
    return NotFound("couldn't find key " + key + " in " + (secret ? "Secret " : "ConfigMap ") +
                    ns + "/" + name);
  }
  return decode(it->second);
}

Result<EnvList> NodeAgent::ServiceEnvFor(const Value& pod) {
  std::string ns = api::GetString(pod, "metadata.namespace");
  bool links = api::GetBool(pod, "spec.enableServiceLinks", true);
  std::vector<const Value*> services;
  if (services_ != nullptr) {
    if (!services_->HasSynced()) {
      return Unavailable("services have not yet been read at least once, cannot construct envvars");
    }
    auto all = services_->List();  // keeps the objects alive while we read them
    for (auto& s : all) services.push_back(s.get());
    return ServiceEnvVars(ns, links, services);
  }
  api::Document list;
  if (links) {
    ASSIGN_OR_RETURN(list, client_->List(client::kServices, ns));
    if (const Value* items = api::Find(list, "items"); items && items->IsArray()) {
      for (auto& s : items->GetArray()) services.push_back(&s);
    }
  }
  auto master = client_->Get(client::kServices, "default", "kubernetes");
  if (master.ok()) {
    services.push_back(&*master);
  } else if (master.status().code() != Code::kNotFound) {
    return master.status();
  }
  return ServiceEnvVars(ns, links, services);
}

Status NodeAgent::SetUpVolumes(const Value& pod, PodRecord& record) {
  std::string ns = api::GetString(pod, "metadata.namespace");
  ObjectGetter get = [this, ns](bool secret, const std::string& name) {
    return client_->Get(secret ? client::kSecrets : client::kConfigMaps, ns, name);
  };
  TokenGetter token = [this](const Value& p, const std::string& audience, int64_t expiration) {
    return tokens_.Get({api::GetString(p, "metadata.namespace"),
                        api::GetString(p, "spec.serviceAccountName"), audience, expiration,
                        api::GetString(p, "metadata.name"), api::GetString(p, "metadata.uid")});
  };
  std::vector<std::string> notes;
  Status st = SetUpApiVolumes(pod, PathsOf(config_.root_dir, api::GetString(pod, "metadata.uid")),
                              get, &notes, token);
  if (!st.ok()) notes.push_back(st.message());
  std::vector<std::string> fresh;
  {
    std::lock_guard lock(mu_);
    // Forgotten once all is well, so that a problem coming back is reported again.
    if (notes.empty()) record.volume_reports.clear();
    for (auto& n : notes) {
      if (record.volume_reports.insert(n).second) fresh.push_back(n);
    }
  }
  for (auto& n : fresh) {
    LOG(WARNING) << "pod " << informer::KeyOf(pod) << ": " << n;
    Event(pod, "Warning", "FailedMount", n);
  }
  return st;
}

Status NodeAgent::WaitForClaims(const Value& pod, PodRecord& record, const RuntimeView& view,
                                const Status& why, milliseconds* requeue_after) {
  std::vector<std::string> names;
  if (const Value* vols = api::Find(pod, "spec.volumes"); vols != nullptr && vols->IsArray()) {
    for (auto& v : vols->GetArray()) {
      if (api::FindMember(v, "persistentVolumeClaim")) names.push_back(api::GetString(v, "name"));
    }
  }
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : " ") + n;
  // Upstream's WaitForAttachAndMount failure, as the FailedMount event shows it.
  std::string msg = "Unable to attach or mount volumes: unmounted volumes=[" + list +
                    "], unattached volumes=[" + list + "], failed to process volumes=[" + list +
                    "]: " + why.message();
  bool fresh;
  {
    std::lock_guard lock(mu_);
    fresh = record.volume_reports.insert(msg).second;
  }
  if (fresh) {
    LOG(WARNING) << "pod " << informer::KeyOf(pod) << ": " << msg;
    Event(pod, "Warning", "FailedMount", msg);
  }
  std::map<std::string, std::pair<std::string, std::string>> waiting;
  for (const char* l : {"spec.initContainers", "spec.containers"}) {
    const Value* cs = api::Find(pod, l);
    if (cs == nullptr || !cs->IsArray()) continue;
    for (auto& c : cs->GetArray()) {
      std::string name = api::GetString(c, "name");
      if (AttemptsOf(view.containers, name).empty()) waiting[name] = {"ContainerCreating", ""};
    }
  }
  const SandboxStatus* s = NewestSandbox(view.sandboxes, false);
  RETURN_IF_ERROR(WriteStatus(pod, record, view, s ? s->ip : "", waiting));
  // Claims are bound within moments of their creation: look again soon.
  *requeue_after = milliseconds(1000);
  return Status::Ok();
}

std::vector<PullCredential> NodeAgent::PullCredentialsOf(const Value& pod) {
  std::vector<PullCredential> out;
  const Value* refs = api::Find(pod, "spec.imagePullSecrets");
  if (refs == nullptr || !refs->IsArray()) return out;
  std::string ns = api::GetString(pod, "metadata.namespace");
  for (auto& r : refs->GetArray()) {
    std::string secret_name = api::GetString(r, "name");
    if (secret_name.empty()) continue;
    // As upstream, a secret that cannot be read or used is skipped: the pull may still work.
    auto secret = client_->Get(client::kSecrets, ns, secret_name);
    if (!secret.ok()) {
      LOG(WARNING) << "pod " << informer::KeyOf(pod) << ": unable to retrieve image pull secret " << secret_name
                   << ": " << secret.status().message();
      continue;
    }
    std::string type = api::GetString(*secret, "type");
    bool legacy = type == "kubernetes.io/dockercfg";
    if (!legacy && type != "kubernetes.io/dockerconfigjson") continue;
    const Value* data = api::Find(*secret, "data");
    const Value* blob = data ? api::FindMember(*data, legacy ? ".dockercfg" : ".dockerconfigjson") : nullptr;
    if (blob == nullptr || !blob->IsString()) continue;
    auto decoded = DecodeBase64(std::string(api::View(*blob)));
    auto creds = decoded.ok() ? ParseDockerConfig(*decoded, legacy)
                              : Result<std::vector<RegistryCredential>>(decoded.status());
    if (!creds.ok()) {
      LOG(WARNING) << "pod " << informer::KeyOf(pod) << ": image pull secret " << secret_name
                   << " is unusable: " << creds.status().message();
      continue;
    }
    out.insert(out.end(), creds->begin(), creds->end());
  }
  return out;
}

void NodeAgent::StartContainer(const Value& pod, const Value& spec, uint32_t attempt,
                               const SandboxStatus& sandbox,
                               std::map<std::string, std::pair<std::string, std::string>>& waiting,
                               int64_t* requeue_micros) {
  std::string name = api::GetString(spec, "name");
  std::string uid = api::GetString(pod, "metadata.uid");
  std::string image = api::GetString(spec, "image");
  std::string pull_key = uid + "/" + name + "#pull";
  std::string policy_name = api::GetString(spec, "imagePullPolicy");
  if (policy_name.empty()) policy_name = DefaultPullPolicy(image);
  PullPolicy policy = policy_name == "Never"  ? PullPolicy::kNever
                      : policy_name == "Always" ? PullPolicy::kAlways
                                                : PullPolicy::kIfNotPresent;
  if (policy == PullPolicy::kNever) {
    auto img = runtime_->EnsureImage(image, policy, {});
    if (!img.ok()) {
      // As upstream: no pull, no backoff; the pod is looked at again on the next resync.
      std::string msg = "Container image \"" + image + "\" is not present with pull policy of Never";
      Event(pod, "Warning", "ErrImageNeverPull", msg);
      waiting[name] = {"ErrImageNeverPull", msg};
      *requeue_micros = std::min<int64_t>(*requeue_micros, 10'000'000);
      return;
    }
  } else {
    if (int64_t wait = backoff_.Remaining(pull_key, clock_()); wait > 0) {
      waiting[name] = {"ImagePullBackOff", "Back-off pulling image \"" + image + "\""};
      *requeue_micros = std::min(*requeue_micros, wait);
      return;
    }
    if (policy == PullPolicy::kAlways) Event(pod, "Normal", "Pulling", "Pulling image \"" + image + "\"");
    auto img = runtime_->EnsureImage(image, policy, PullCredentialsOf(pod));
    if (!img.ok()) {
      Event(pod, "Warning", "Failed", "Failed to pull image \"" + image + "\": " + img.status().message());
      backoff_.Next(pull_key);
      waiting[name] = {"ErrImagePull", img.status().message()};
      *requeue_micros = std::min(*requeue_micros, backoff_.Current(pull_key));
      return;
    }
  }
  backoff_.ForgetPrefix(pull_key);
  PodContext ctx;
  ctx.node_name = config_.node_name;
  ctx.pod_ip = sandbox.ip;
  ctx.host_ip = config_.node_ip;
  ctx.cluster_dns = config_.cluster_dns;
  ctx.cluster_domain = config_.cluster_domain;
  ctx.paths = PathsOf(config_.root_dir, uid);
  std::string ns = api::GetString(pod, "metadata.namespace");
  ctx.lookup = [this, ns](bool secret, const std::string& n, const std::string& k) {
    return LookupKey(ns, secret, n, k);
  };
  Status st = PreparePodFiles(pod, ctx);
  if (st.ok()) {
    auto service_env = ServiceEnvFor(pod);
    if (service_env.ok()) {
      ctx.service_env = std::move(service_env).value();
    } else {
      st = service_env.status();
    }
  }
  auto config = st.ok() ? BuildContainerConfig(pod, spec, attempt, ctx) : Result<ContainerConfig>(st);
  if (!config.ok()) {
    waiting[name] = {"CreateContainerConfigError", config.status().message()};
    *requeue_micros = std::min<int64_t>(*requeue_micros, 10'000'000);
    return;
  }
  auto id = runtime_->CreateContainer(sandbox.id, *config);
  if (!id.ok()) {
    waiting[name] = {"CreateContainerError", id.status().message()};
    *requeue_micros = std::min<int64_t>(*requeue_micros, 10'000'000);
    return;
  }
  Event(pod, "Normal", "Created", "Created container " + name);
  if (Status s = runtime_->StartContainer(*id); !s.ok()) {
    Event(pod, "Warning", "Failed", "Error: " + s.message());
    waiting[name] = {"RunContainerError", s.message()};
    *requeue_micros = std::min<int64_t>(*requeue_micros, 10'000'000);
    return;
  }
  Event(pod, "Normal", "Started", "Started container " + name);
  VLOG(1) << "started container " << informer::KeyOf(pod) << "/" << name << " attempt " << attempt;
}

Status NodeAgent::SyncPod(const std::string& key, milliseconds* requeue_after) {
  *requeue_after = milliseconds(0);
  if (!PodsSynced()) {
    // Before the first list an absent pod proves nothing: acting now would remove the
    // containers a restarted kubelet is about to adopt.
    *requeue_after = milliseconds(200);
    return Status::Ok();
  }
  informer::ObjectPtr pod_ptr = pods_ ? pods_->Get(key) : nullptr;
  std::string uid = pod_ptr ? api::GetString(*pod_ptr, "metadata.uid") : "";
  ASSIGN_OR_RETURN(RuntimeView view, ViewOf(key));
  RETURN_IF_ERROR(RemoveOthers(key, uid, view));
  if (pod_ptr == nullptr) {
    std::lock_guard lock(mu_);
    records_.erase(key);
    return Status::Ok();
  }
  if (!api::Has(*pod_ptr, "metadata.deletionTimestamp") && HasClaimVolumes(*pod_ptr) &&
      !IsTerminalPhase(api::GetString(*pod_ptr, "status.phase"))) {
    // persistentVolumeClaim volumes become the hostPaths of their bound volumes before
    // anything else reads the pod's volumes; until then the pod waits, as upstream's
    // volume manager makes it.
    auto resolved = ResolveClaimVolumes(*pod_ptr, [this, &pod_ptr](bool volume, const std::string& n) {
      if (volume) return client_->Get(client::kPersistentVolumes, "", n);
      return client_->Get(client::kPersistentVolumeClaims,
                          api::GetString(*pod_ptr, "metadata.namespace"), n);
    });
    if (!resolved.ok()) return WaitForClaims(*pod_ptr, RecordOf(key, uid), view,
                                             resolved.status(), requeue_after);
    pod_ptr = std::make_shared<const api::Document>(std::move(resolved).value());
  }
  const Value& pod = *pod_ptr;
  if (api::Has(pod, "metadata.deletionTimestamp")) return TerminatePod(pod, view, requeue_after);

  PodRecord& record = RecordOf(key, uid);
  std::string policy = api::GetString(pod, "spec.restartPolicy", "Always");
  std::map<std::string, std::pair<std::string, std::string>> waiting;
  int64_t requeue = INT64_MAX;
  int64_t grace = api::GetInt(pod, "spec.terminationGracePeriodSeconds", 30);

  if (IsTerminalPhase(api::GetString(pod, "status.phase"))) {
    // Finished for good: nothing restarts; free the IP.
    bool running = false;
    for (auto& c : view.containers) running |= KillContainer(record, c, grace);
    if (running) {
      *requeue_after = milliseconds(1000);
      return Status::Ok();
    }
    for (auto& s : view.sandboxes) {
      if (s.ready) RETURN_IF_ERROR(runtime_->StopPodSandbox(s.id));
    }
    return Status::Ok();
  }

  // 0. Volumes filled from the API, rewritten on every sync (and at least every
  // api_volume_resync) so that changes of their objects reach running containers. Until
  // they can be set up, containers wait in ContainerCreating and the sync is retried.
  if (HasApiVolumes(pod)) {
    if (Status vst = SetUpVolumes(pod, record); !vst.ok()) {
      for (const char* list : {"spec.initContainers", "spec.containers"}) {
        const Value* cs = api::Find(pod, list);
        if (cs == nullptr || !cs->IsArray()) continue;
        for (auto& c : cs->GetArray()) {
          std::string name = api::GetString(c, "name");
          if (AttemptsOf(view.containers, name).empty()) waiting[name] = {"ContainerCreating", vst.message()};
        }
      }
      const SandboxStatus* s = NewestSandbox(view.sandboxes, false);
      RETURN_IF_ERROR(WriteStatus(pod, record, view, s ? s->ip : "", waiting));
      *requeue_after = config_.api_volume_resync;
      return Status::Ok();
    }
    requeue = std::min<int64_t>(
        requeue, std::chrono::duration_cast<std::chrono::microseconds>(config_.api_volume_resync).count());
  }

  // 1. The sandbox.
  const SandboxStatus* sandbox = NewestSandbox(view.sandboxes, true);
  if (sandbox == nullptr) {
    if (!view.sandboxes.empty() && policy == "Never") {
      // The sandbox died under containers that must not restart: they stay as they are.
    } else {
      for (auto& c : view.containers) {
        if (c.state == ContainerState::kRunning) (void)runtime_->SignalContainer(c.id, SIGKILL);
      }
      SandboxConfig sc;
      sc.pod = PodRef{api::GetString(pod, "metadata.namespace"), api::GetString(pod, "metadata.name"), uid};
      sc.attempt = static_cast<uint32_t>(view.sandboxes.size());
      sc.hostname = api::GetString(pod, "spec.hostname", sc.pod.name);
      sc.host_network = api::GetBool(pod, "spec.hostNetwork");
      sc.annotations = api::GetStringMap(pod, "metadata.annotations");
      for (const char* list : {"spec.initContainers", "spec.containers"}) {
        const Value* cs = api::Find(pod, list);
        if (cs == nullptr || !cs->IsArray()) continue;
        for (auto& c : cs->GetArray()) {
          const Value* ports = api::FindMember(c, "ports");
          if (ports == nullptr || !ports->IsArray()) continue;
          for (auto& p : ports->GetArray()) {
            if (api::GetInt(p, "hostPort") <= 0) continue;
            sc.port_mappings.push_back(PortMapping{api::GetString(p, "protocol", "TCP"),
                                                   static_cast<int>(api::GetInt(p, "containerPort")),
                                                   static_cast<int>(api::GetInt(p, "hostPort")),
                                                   api::GetString(p, "hostIP")});
          }
        }
      }
      auto id = runtime_->RunPodSandbox(sc);
      if (!id.ok()) {
        LOG(WARNING) << "pod " << key << ": creating the sandbox failed: " << id.status().message();
        return id.status();
      }
      ASSIGN_OR_RETURN(view, ViewOf(key));
      RETURN_IF_ERROR(RemoveOthers(key, uid, view));
      sandbox = NewestSandbox(view.sandboxes, true);
      if (sandbox == nullptr) return Internal("sandbox " + *id + " vanished");
    }
  }
  const SandboxStatus* ip_sandbox = sandbox ? sandbox : NewestSandbox(view.sandboxes, false);
  std::string pod_ip = ip_sandbox ? ip_sandbox->ip : "";
  if (api::GetBool(pod, "spec.hostNetwork")) pod_ip = config_.node_ip;

  // 2. Containers: init containers in order, then the app containers.
  auto latest_of = [&](const std::string& name) -> const ContainerStatus* {
    auto attempts = AttemptsOf(view.containers, name);
    return attempts.empty() ? nullptr : attempts[0];
  };
  // Restarts a dead container when its policy says so and its backoff allows.
  auto restart = [&](const Value& spec, const ContainerStatus& dead) {
    std::string name = api::GetString(spec, "name");
    std::string bkey = uid + "/" + name;
    int64_t wait = backoff_.Remaining(bkey, dead.finished_at);
    if (wait > 0) {
      waiting[name] = {"CrashLoopBackOff",
                       "back-off " + std::to_string(backoff_.Current(bkey) / 1'000'000) +
                           "s restarting failed container=" + name + " pod=" +
                           api::GetString(pod, "metadata.name") + "_" +
                           api::GetString(pod, "metadata.namespace") + "(" + uid + ")"};
      requeue = std::min(requeue, wait);
      Event(pod, "Warning", "BackOff", "Back-off restarting failed container " + name);
      return;
    }
    backoff_.Next(bkey);
    StartContainer(pod, spec, dead.attempt + 1, *sandbox, waiting, &requeue);
  };
  bool initialized = true;
  if (sandbox != nullptr) {
    if (const Value* inits = api::Find(pod, "spec.initContainers"); inits && inits->IsArray()) {
      for (auto& spec : inits->GetArray()) {
        const ContainerStatus* c = latest_of(api::GetString(spec, "name"));
        if (c && c->state == ContainerState::kExited && c->exit_code == 0) continue;
        initialized = false;
        if (c == nullptr) {
          StartContainer(pod, spec, 0, *sandbox, waiting, &requeue);
        } else if (c->state == ContainerState::kCreated) {
          (void)runtime_->StartContainer(c->id);
        } else if (c->state == ContainerState::kExited && policy != "Never") {
          restart(spec, *c);
        }
        break;
      }
    }
  }
  if (sandbox != nullptr && initialized) {
    if (const Value* mains = api::Find(pod, "spec.containers"); mains && mains->IsArray()) {
      for (auto& spec : mains->GetArray()) {
        std::string name = api::GetString(spec, "name");
        const ContainerStatus* c = latest_of(name);
        if (c == nullptr) {
          StartContainer(pod, spec, 0, *sandbox, waiting, &requeue);
        } else if (c->sandbox_id != sandbox->id &&
                   (policy == "Always" || c->state != ContainerState::kExited)) {
          // Left over from a dead sandbox: runs again in the new one.
          if (c->state == ContainerState::kRunning) (void)runtime_->SignalContainer(c->id, SIGKILL);
          StartContainer(pod, spec, c->attempt + 1, *sandbox, waiting, &requeue);
        } else if (c->state == ContainerState::kRunning) {
          bool dead = probes_->Result(uid, c->id, ProbeType::kLiveness) == ProbeResult::kFailure ||
                      probes_->Result(uid, c->id, ProbeType::kStartup) == ProbeResult::kFailure;
          if (dead && KillContainer(record, *c, grace)) {
            requeue = std::min<int64_t>(requeue, 1'000'000);
          }
        } else if (c->state == ContainerState::kCreated) {
          (void)runtime_->StartContainer(c->id);
        } else if (c->state == ContainerState::kExited) {
          bool again = policy == "Always" || (policy == "OnFailure" && c->exit_code != 0);
          if (again) restart(spec, *c);
        }
      }
    }
  }

  // 3. Garbage: exited containers older than the previous attempt.
  ASSIGN_OR_RETURN(view, ViewOf(key));
  RETURN_IF_ERROR(RemoveOthers(key, uid, view));
  std::set<std::string> removed;
  for (auto& c : view.containers) {
    auto attempts = AttemptsOf(view.containers, c.name);
    for (size_t i = 2; i < attempts.size(); ++i) {
      if (attempts[i]->state == ContainerState::kExited && removed.insert(attempts[i]->id).second) {
        (void)runtime_->RemoveContainer(attempts[i]->id);
        std::error_code ec;
        if (!attempts[i]->log_path.empty()) std::filesystem::remove(attempts[i]->log_path, ec);
      }
    }
  }
  std::erase_if(view.containers, [&](auto& c) { return removed.count(c.id) > 0; });
  {
    std::lock_guard lock(mu_);
    std::erase_if(record.sigterm_at, [&](auto& kv) {
      for (auto& c : view.containers) {
        if (c.id == kv.first && c.state == ContainerState::kRunning) return false;
      }
      return true;
    });
  }

  // 4. Probes for the running containers.
  std::vector<ProbeManager::Target> running;
  for (const char* list : {"spec.initContainers", "spec.containers"}) {
    const Value* specs = api::Find(pod, list);
    if (specs == nullptr || !specs->IsArray()) continue;
    for (auto& spec : specs->GetArray()) {
      const ContainerStatus* c = latest_of(api::GetString(spec, "name"));
      if (c && c->state == ContainerState::kRunning) {
        running.push_back({c->name, c->id, c->started_at, &spec});
      }
    }
  }
  probes_->SyncPod(uid, [this, key] { enqueue_(key, milliseconds(0)); }, pod_ip, prober_, running);

  // 5. Status.
  RETURN_IF_ERROR(WriteStatus(pod, record, view, pod_ip, waiting));
  if (requeue != INT64_MAX) *requeue_after = milliseconds(std::max<int64_t>(requeue / 1000, 1));
  return Status::Ok();
}

Status NodeAgent::WriteStatus(const Value& pod, PodRecord& record, const RuntimeView& view,
                              const std::string& pod_ip,
                              const std::map<std::string, std::pair<std::string, std::string>>& waiting) {
  std::string uid = api::GetString(pod, "metadata.uid");
  StatusInputs in;
  in.pod = &pod;
  in.pod_ip = pod_ip;
  in.host_ip = config_.node_ip;
  in.runtime_name = runtime_->Name();
  in.containers = view.containers;
  in.waiting = waiting;
  in.ready = [&](const ContainerStatus& c) {
    return probes_->Result(uid, c.id, ProbeType::kReadiness) == ProbeResult::kSuccess;
  };
  in.started = [&](const ContainerStatus& c) {
    return probes_->Result(uid, c.id, ProbeType::kStartup) == ProbeResult::kSuccess;
  };
  {
    std::lock_guard lock(mu_);
    if (record.start_time.empty()) {
      record.start_time = api::GetString(pod, "status.startTime");
      if (record.start_time.empty()) record.start_time = util::FormatRfc3339(clock_() / 1'000'000);
    }
    in.start_time = record.start_time;
  }
  in.now = util::FormatRfc3339(clock_() / 1'000'000);
  api::Document status = ComputePodStatus(in);
  std::string json = api::ToJson(status);
  {
    std::lock_guard lock(mu_);
    if (json == record.last_status) return Status::Ok();
  }
  std::string patch = "{\"status\":" + json + "}";
  auto res = client_->Patch(client::kPods, api::GetString(pod, "metadata.namespace"),
                            api::GetString(pod, "metadata.name"), client::PatchType::kMerge, patch,
                            "status");
  if (!res.ok()) {
    if (res.status().code() == Code::kNotFound) return Status::Ok();  // deleted meanwhile
    return res.status();
  }
  std::lock_guard lock(mu_);
  record.last_status = std::move(json);
  return Status::Ok();
}

Result<std::string> NodeAgent::LogPath(const std::string& ns, const std::string& pod,
                                       const std::string& container, bool previous) {
  std::string key = ns + "/" + pod;
  auto p = pods_ ? pods_->Get(key) : nullptr;
  if (p == nullptr) return NotFound("pod " + key + " is not on node " + config_.node_name);
  ASSIGN_OR_RETURN(auto view, ViewOf(key));
  std::string uid = api::GetString(*p, "metadata.uid");
  std::erase_if(view.containers, [&](auto& c) { return c.pod.uid != uid; });
  auto attempts = AttemptsOf(view.containers, container);
  size_t index = previous ? 1 : 0;
  if (attempts.size() <= index) {
    return BadRequest(previous ? "previous terminated container \"" + container +
                                     "\" in pod \"" + pod + "\" not found"
                               : "container \"" + container + "\" in pod \"" + pod +
                                     "\" is waiting to start");
  }
  return attempts[index]->log_path;
}

}  // namespace kubepp::kubelet
