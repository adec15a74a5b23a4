#include "controller-manager/nodelifecycle/nodelifecycle_controller.h"

#include <algorithm>
#include <climits>
#include <set>

#include "common/log.h"
#include "common/util/time.h"
#include "controller-manager/framework/owner.h"
#include "controller-manager/framework/pods.h"

namespace kubepp::controller {

namespace {

const api::Value* FindByType(const api::Value* list, std::string_view type) {
  if (list == nullptr || !list->IsArray()) return nullptr;
  for (const auto& c : list->GetArray()) {
    if (api::GetString(c, "type") == type) return &c;
  }
  return nullptr;
}

}  // namespace

NodeLifecycleController::NodeLifecycleController(client::RestClient* client,
                                                 SharedInformers* informers, const Clock* clock,
                                                 EventRecorder* events,
                                                 NodeLifecycleOptions options)
    : QueueController("nodelifecycle"),
      client_(client),
      nodes_(informers->For(client::kNodes)),
      leases_(informers->For(client::kLeases)),
      pods_(informers->For(client::kPods)),
      clock_(clock),
      events_(events),
      options_(options) {
  // A node whose Ready condition changed gets its taints right away, not at the next
  // monitor pass: a new node must become schedulable as soon as it reports Ready.
  auto ready_of = [](const ObjectPtr& node) {
    const api::Value* ready = FindByType(api::Find(*node, "status.conditions"), "Ready");
    return ready ? api::GetString(*ready, "status") : std::string();
  };
  nodes_.AddEventHandler({
      [this](const ObjectPtr&) { Enqueue(kMonitorKey); },
      [this, ready_of](const ObjectPtr& old_node, const ObjectPtr& node) {
        if (ready_of(old_node) != ready_of(node)) Enqueue(kMonitorKey);
      },
      nullptr,
  });
}

Status NodeLifecycleController::Sync(const std::string& key) {
  if (key != kMonitorKey) return Status::Ok();
  int64_t now = clock_->NowUnix();
  Status first_error;
  auto note = [&](Status st) {
    if (!st.ok() && first_error.ok()) first_error = std::move(st);
  };
  std::vector<ObjectPtr> nodes = nodes_.List();
  std::set<std::string> names;
  int ready = 0, not_ready = 0;
  for (auto& node : nodes) {
    std::string name = api::GetString(*node, "metadata.name");
    names.insert(name);
    auto state = MonitorHealth(node, now);
    if (!state.ok()) {
      note(std::move(state).take_status());
      continue;
    }
    if (*state == "True") {
      ++ready;
    } else {
      ++not_ready;
    }
    if (!state->empty()) note(SyncTaints(*node, *state, now));
  }
  for (auto it = health_.begin(); it != health_.end();) {
    it = names.count(it->first) ? std::next(it) : health_.erase(it);
  }
  int total = ready + not_ready;
  bool disrupted = (ready == 0 && not_ready > 0) ||
                   (not_ready > 2 && not_ready >= options_.unhealthy_zone_threshold * total);
  if (disrupted != disrupted_) {
    LOG(WARNING) << "nodelifecycle: " << not_ready << " of " << total << " nodes not ready: "
                 << (disrupted ? "disruption, evictions stopped" : "disruption over, evicting again");
    disrupted_ = disrupted;
  }
  int64_t next_check = 0;
  if (!disrupted) {
    for (const auto& node : nodes) note(EvictPods(*node, now, &next_check));
  }
  int64_t delay = options_.monitor_period_seconds;
  if (next_check > 0) delay = std::clamp<int64_t>(next_check - now, 1, delay);
  EnqueueAfter(kMonitorKey, std::chrono::seconds(delay));
  return first_error;
}

Result<std::string> NodeLifecycleController::MonitorHealth(ObjectPtr& node_ptr, int64_t now) {
  const api::Value& node = *node_ptr;
  std::string name = api::GetString(node, "metadata.name");
  ObjectPtr lease = leases_.Get("kube-node-lease/" + name);
  std::string renew = lease ? api::GetString(*lease, "spec.renewTime") : "";
  const api::Value* conditions = api::Find(node, "status.conditions");
  const api::Value* ready = FindByType(conditions, "Ready");
  std::string heartbeat = ready ? api::GetString(*ready, "lastHeartbeatTime") : "";
  Health& h = health_[name];
  if (h.probe_time == 0 || renew != h.lease_renew || heartbeat != h.heartbeat) {
    h = {renew, heartbeat, now};
  }
  std::string status = ready ? api::GetString(*ready, "status", "Unknown") : "";
  if (now - h.probe_time <= options_.grace_period_seconds) return status;
  if (ready != nullptr && status == "Unknown") return status;  // marked already

  api::Document next = api::Clone(node);
  auto& a = next.GetAllocator();
  std::string stamp = util::FormatRfc3339(now);
  api::Value& st = api::Ensure(next, "status", a);
  if (!st.HasMember("conditions") || !st["conditions"].IsArray()) {
    st.RemoveMember("conditions");
    st.AddMember("conditions", api::Value(rapidjson::kArrayType), a);
  }
  api::Value& conds = st["conditions"];
  if (ready == nullptr) {
    api::Value c(rapidjson::kObjectType);
    c.AddMember("type", "Ready", a);
    c.AddMember("status", "Unknown", a);
    c.AddMember("reason", "NodeStatusNeverUpdated", a);
    c.AddMember("message", "Kubelet never posted node status.", a);
    c.AddMember("lastHeartbeatTime",
                api::Str(api::GetString(node, "metadata.creationTimestamp", stamp), a), a);
    c.AddMember("lastTransitionTime", api::Str(stamp, a), a);
    conds.PushBack(std::move(c), a);
  }
  for (auto& c : conds.GetArray()) {
    std::string type = api::GetString(c, "type");
    if (type != "Ready" && type != "MemoryPressure" && type != "DiskPressure" &&
        type != "PIDPressure") {
      continue;
    }
    if (api::GetString(c, "status") == "Unknown") continue;
    api::SetString(c, "status", "Unknown", a);
    api::SetString(c, "reason", "NodeStatusUnknown", a);
    api::SetString(c, "message", "Kubelet stopped posting node status.", a);
    api::SetString(c, "lastTransitionTime", stamp, a);
  }
  ASSIGN_OR_RETURN(api::Document written, client_->UpdateStatus(client::kNodes, "", next));
  node_ptr = std::make_shared<const api::Document>(std::move(written));
  LOG(WARNING) << "nodelifecycle: node " << name << " silent for " << now - h.probe_time
               << "s: marked Unknown";
  events_->Event(*node_ptr, "Normal", "NodeNotReady",
                 "Node " + name + " status is now: NodeNotReady");
  RETURN_IF_ERROR(MarkPodsNotReady(name));
  return std::string("Unknown");
}

Status NodeLifecycleController::MarkPodsNotReady(const std::string& node_name) {
  for (const auto& pod : pods_.List()) {
    if (api::GetString(*pod, "spec.nodeName") != node_name || !IsPodReady(*pod)) continue;
    api::Document next = api::Clone(*pod);
    auto& a = next.GetAllocator();
    for (auto& c : api::FindMutable(next, "status.conditions")->GetArray()) {
      if (api::GetString(c, "type") != "Ready") continue;
      api::SetString(c, "status", "False", a);
      api::SetString(c, "lastTransitionTime", util::FormatRfc3339(clock_->NowUnix()), a);
    }
    auto r = client_->UpdateStatus(client::kPods, "", next);
    if (!r.ok() && r.status().code() != Code::kNotFound) return std::move(r).take_status();
  }
  return Status::Ok();
}

Status NodeLifecycleController::SyncTaints(const api::Value& node, const std::string& ready,
                                           int64_t now) {
  const char* want = ready == "Unknown" ? kUnreachableTaint
                     : ready == "False" ? kNotReadyTaint
                                        : nullptr;
  api::Document patch;
  patch.SetObject();
  auto& a = patch.GetAllocator();
  api::Value taints(rapidjson::kArrayType);
  bool have_noschedule = false, have_noexecute = false, removed = false;
  if (const api::Value* cur = api::Find(node, "spec.taints"); cur && cur->IsArray()) {
    for (const auto& t : cur->GetArray()) {
      std::string key = api::GetString(t, "key");
      if (key == kUnreachableTaint || key == kNotReadyTaint) {
        if (want == nullptr || key != want) {
          removed = true;
          continue;
        }
        std::string effect = api::GetString(t, "effect");
        have_noschedule |= effect == "NoSchedule";
        have_noexecute |= effect == "NoExecute";
      }
      taints.PushBack(api::Value(t, a), a);
    }
  }
  if (want != nullptr && !have_noschedule) {
    api::Value t(rapidjson::kObjectType);
    t.AddMember("key", api::Str(want, a), a);
    t.AddMember("effect", "NoSchedule", a);
    taints.PushBack(std::move(t), a);
  }
  if (want != nullptr && !have_noexecute) {
    api::Value t(rapidjson::kObjectType);
    t.AddMember("key", api::Str(want, a), a);
    t.AddMember("effect", "NoExecute", a);
    t.AddMember("timeAdded", api::Str(util::FormatRfc3339(now), a), a);
    taints.PushBack(std::move(t), a);
  }
  if (!removed && (want == nullptr || (have_noschedule && have_noexecute))) return Status::Ok();
  api::SetValue(patch, "spec.taints", std::move(taints), a);
  api::SetString(patch, "metadata.resourceVersion", api::GetString(node, "metadata.resourceVersion"), a);
  auto r = client_->Patch(client::kNodes, "", api::GetString(node, "metadata.name"),
                          client::PatchType::kMerge, api::ToJson(patch));
  return r.ok() || r.status().code() == Code::kNotFound ? Status::Ok() : r.status();
}

Status NodeLifecycleController::EvictPods(const api::Value& node, int64_t now, int64_t* next_check) {
  std::vector<const api::Value*> noexec;
  if (const api::Value* cur = api::Find(node, "spec.taints"); cur && cur->IsArray()) {
    for (const auto& t : cur->GetArray()) {
      if (api::GetString(t, "effect") == "NoExecute") noexec.push_back(&t);
    }
  }
  if (noexec.empty()) return Status::Ok();
  std::string name = api::GetString(node, "metadata.name");
  for (const auto& pod : pods_.List()) {
    if (api::GetString(*pod, "spec.nodeName") != name || IsBeingDeleted(*pod)) continue;
    const api::Value* tolerations = api::Find(*pod, "spec.tolerations");
    int64_t deadline = INT64_MAX;  // tolerated forever
    for (const api::Value* taint : noexec) {
      const api::Value* match = nullptr;
      if (tolerations != nullptr && tolerations->IsArray()) {
        for (const auto& t : tolerations->GetArray()) {
          if (Tolerates(t, *taint)) {
            // Several matching tolerations: the shortest tolerationSeconds wins.
            if (match == nullptr || (api::Has(t, "tolerationSeconds") &&
                                     (!api::Has(*match, "tolerationSeconds") ||
                                      api::GetInt(t, "tolerationSeconds") <
                                          api::GetInt(*match, "tolerationSeconds")))) {
              match = &t;
            }
          }
        }
      }
      if (match == nullptr) {
        deadline = now;
        break;
      }
      if (api::Has(*match, "tolerationSeconds")) {
        int64_t added = TimeField(*taint, "timeAdded");
        if (added == 0) added = now;
        deadline = std::min(deadline, added + std::max<int64_t>(api::GetInt(*match, "tolerationSeconds"), 0));
      }
    }
    if (deadline == INT64_MAX) continue;
    if (deadline > now) {
      if (*next_check == 0 || deadline < *next_check) *next_check = deadline;
      continue;
    }
    std::string pod_ns = api::GetString(*pod, "metadata.namespace");
    std::string pod_name = api::GetString(*pod, "metadata.name");
    client::DeleteOptions opts;
    opts.precondition_uid = api::GetString(*pod, "metadata.uid");
    Status st = client_->Delete(client::kPods, pod_ns, pod_name, opts);
    if (!st.ok() && st.code() != Code::kNotFound && st.code() != Code::kConflict) return st;
    LOG(INFO) << "nodelifecycle: evicted pod " << pod_ns << "/" << pod_name << " from node " << name;
    events_->Event(*pod, "Normal", "TaintManagerEviction",
                   "Marking for deletion Pod " + pod_ns + "/" + pod_name);
  }
  return Status::Ok();
}

}  // namespace kubepp::controller
