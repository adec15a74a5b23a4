#include "kubelet/pod_status.h"

#include <algorithm>

#include "common/util/time.h"

namespace kubepp::kubelet {

namespace {

using api::Allocator;
using api::Value;

std::string Rfc3339Micros(int64_t micros) { return util::FormatRfc3339(micros / 1'000'000); }

Value Terminated(const ContainerStatus& c, const std::string& runtime, Allocator& a) {
  Value t(rapidjson::kObjectType);
  t.AddMember("exitCode", c.exit_code, a);
  t.AddMember("reason", api::Str(c.reason.empty() ? (c.exit_code ? "Error" : "Completed") : c.reason, a), a);
  if (!c.message.empty()) t.AddMember("message", api::Str(c.message, a), a);
  if (c.started_at) t.AddMember("startedAt", api::Str(Rfc3339Micros(c.started_at), a), a);
  t.AddMember("finishedAt", api::Str(Rfc3339Micros(c.finished_at ? c.finished_at : c.created_at), a), a);
  t.AddMember("containerID", api::Str(runtime + "://" + c.id, a), a);
  Value s(rapidjson::kObjectType);
  s.AddMember("terminated", t, a);
  return s;
}

Value Waiting(const std::string& reason, const std::string& message, Allocator& a) {
  Value w(rapidjson::kObjectType);
  w.AddMember("reason", api::Str(reason, a), a);
  if (!message.empty()) w.AddMember("message", api::Str(message, a), a);
  Value s(rapidjson::kObjectType);
  s.AddMember("waiting", w, a);
  return s;
}

// One element of containerStatuses / initContainerStatuses.
Value ContainerStatusJson(const StatusInputs& in, const Value& spec, bool init_pending,
                          Allocator& a) {
  std::string name = api::GetString(spec, "name");
  auto attempts = AttemptsOf(in.containers, name);
  const ContainerStatus* latest = attempts.empty() ? nullptr : attempts[0];
  Value cs(rapidjson::kObjectType);
  cs.AddMember("name", api::Str(name, a), a);
  bool ready = false, started = false;
  Value state(rapidjson::kObjectType), last(rapidjson::kObjectType);
  auto waiting = in.waiting.find(name);
  if (waiting != in.waiting.end()) {
    state = Waiting(waiting->second.first, waiting->second.second, a);
    if (latest && latest->state == ContainerState::kExited) {
      last = Terminated(*latest, in.runtime_name, a);
    }
  } else if (latest == nullptr || latest->state == ContainerState::kCreated ||
             latest->state == ContainerState::kUnknown) {
    state = Waiting(init_pending ? "PodInitializing" : "ContainerCreating", "", a);
  } else if (latest->state == ContainerState::kRunning) {
    Value r(rapidjson::kObjectType);
    r.AddMember("startedAt", api::Str(Rfc3339Micros(latest->started_at), a), a);
    state.AddMember("running", r, a);
    started = !in.started || in.started(*latest);
    ready = started && (!in.ready || in.ready(*latest));
  } else {
    state = Terminated(*latest, in.runtime_name, a);
  }
  if (last.ObjectEmpty() && attempts.size() > 1 && waiting == in.waiting.end()) {
    last = Terminated(*attempts[1], in.runtime_name, a);
  }
  cs.AddMember("state", state, a);
  cs.AddMember("lastState", last, a);
  cs.AddMember("ready", ready, a);
  cs.AddMember("restartCount", latest ? static_cast<int64_t>(latest->attempt) : 0, a);
  cs.AddMember("image", api::Str(api::GetString(spec, "image"), a), a);
  cs.AddMember("imageID", api::Str(latest ? latest->image_ref : "", a), a);
  if (latest) cs.AddMember("containerID", api::Str(in.runtime_name + "://" + latest->id, a), a);
  cs.AddMember("started", started, a);
  return cs;
}

bool Succeeded(const Value& cs) {
  const Value* t = api::Find(cs, "state.terminated");
  return t != nullptr && api::GetInt(*t, "exitCode", -1) == 0;
}

}  // namespace

std::vector<const ContainerStatus*> AttemptsOf(const std::vector<ContainerStatus>& all,
                                               const std::string& name) {
  std::vector<const ContainerStatus*> out;
  for (auto& c : all) {
    if (c.name == name) out.push_back(&c);
  }
  std::sort(out.begin(), out.end(), [](auto* x, auto* y) {
    return x->attempt != y->attempt ? x->attempt > y->attempt : x->created_at > y->created_at;
  });
  return out;
}

std::string PodPhase(const Value& pod, const Value& status) {
  std::string policy = api::GetString(pod, "spec.restartPolicy", "Always");
  if (const Value* inits = api::Find(status, "initContainerStatuses"); inits && inits->IsArray()) {
    for (auto& cs : inits->GetArray()) {
      if (Succeeded(cs)) continue;
      if (policy == "Never" && api::Has(cs, "state.terminated")) return "Failed";
      return "Pending";
    }
  }
  int running = 0, waiting = 0, stopped = 0, succeeded = 0;
  const Value* list = api::Find(status, "containerStatuses");
  if (list == nullptr || !list->IsArray() || list->Empty()) return "Pending";
  for (auto& cs : list->GetArray()) {
    if (api::Has(cs, "state.running")) {
      ++running;
    } else if (api::Has(cs, "state.terminated")) {
      ++stopped;
      if (Succeeded(cs)) ++succeeded;
    } else if (api::Has(cs, "lastState.terminated")) {
      ++stopped;  // waiting to restart after having run: still "running" for the phase
    } else {
      ++waiting;
    }
  }
  if (waiting > 0) return "Pending";
  if (running > 0) return "Running";
  if (stopped > 0) {
    if (policy == "Always") return "Running";
    if (stopped == succeeded) return "Succeeded";
    return policy == "OnFailure" ? "Running" : "Failed";
  }
  return "Pending";
}

api::Document ComputePodStatus(const StatusInputs& in) {
  const Value& pod = *in.pod;
  api::Document doc(rapidjson::kObjectType);
  auto& a = doc.GetAllocator();

  Value inits(rapidjson::kArrayType);
  bool initialized = true;
  std::string incomplete;
  if (const Value* list = api::Find(pod, "spec.initContainers"); list && list->IsArray()) {
    for (auto& spec : list->GetArray()) {
      Value cs = ContainerStatusJson(in, spec, false, a);
      if (!Succeeded(cs)) {
        initialized = false;
        incomplete += (incomplete.empty() ? "" : " ") + api::GetString(cs, "name");
      }
      inits.PushBack(cs, a);
    }
  }
  Value mains(rapidjson::kArrayType);
  std::vector<std::string> unready;
  if (const Value* list = api::Find(pod, "spec.containers"); list && list->IsArray()) {
    for (auto& spec : list->GetArray()) {
      Value cs = ContainerStatusJson(in, spec, !initialized, a);
      if (!api::GetBool(cs, "ready")) unready.push_back(api::GetString(cs, "name"));
      mains.PushBack(cs, a);
    }
  }
  doc.AddMember("initContainerStatuses", inits, a);
  doc.AddMember("containerStatuses", mains, a);
  std::string phase = PodPhase(pod, doc);
  doc.AddMember("phase", api::Str(phase, a), a);
  if (!in.host_ip.empty()) {
    doc.AddMember("hostIP", api::Str(in.host_ip, a), a);
    Value ips(rapidjson::kArrayType);
    Value ip(rapidjson::kObjectType);
    ip.AddMember("ip", api::Str(in.host_ip, a), a);
    ips.PushBack(ip, a);
    doc.AddMember("hostIPs", ips, a);
  }
  if (!in.pod_ip.empty()) {
    doc.AddMember("podIP", api::Str(in.pod_ip, a), a);
    Value ips(rapidjson::kArrayType);
    Value ip(rapidjson::kObjectType);
    ip.AddMember("ip", api::Str(in.pod_ip, a), a);
    ips.PushBack(ip, a);
    doc.AddMember("podIPs", ips, a);
  }
  if (!in.start_time.empty()) doc.AddMember("startTime", api::Str(in.start_time, a), a);
  doc.AddMember("qosClass", api::Str(api::GetString(pod, "status.qosClass", "BestEffort"), a), a);

  // Conditions keep their lastTransitionTime while their status stays the same.
  auto previous = [&](const std::string& type) -> std::pair<std::string, std::string> {
    if (const Value* cs = api::Find(pod, "status.conditions"); cs && cs->IsArray()) {
      for (auto& c : cs->GetArray()) {
        if (api::GetString(c, "type") == type) {
          return {api::GetString(c, "status"), api::GetString(c, "lastTransitionTime")};
        }
      }
    }
    return {"", ""};
  };
  Value conditions(rapidjson::kArrayType);
  auto add = [&](const std::string& type, bool ok, const std::string& reason,
                 const std::string& message) {
    std::string st = ok ? "True" : "False";
    auto [prev_status, prev_time] = previous(type);
    Value c(rapidjson::kObjectType);
    c.AddMember("type", api::Str(type, a), a);
    c.AddMember("status", api::Str(st, a), a);
    c.AddMember("lastProbeTime", Value(rapidjson::kNullType), a);
    c.AddMember("lastTransitionTime",
                api::Str(prev_status == st && !prev_time.empty() ? prev_time : in.now, a), a);
    if (!ok && !reason.empty()) c.AddMember("reason", api::Str(reason, a), a);
    if (!ok && !message.empty()) c.AddMember("message", api::Str(message, a), a);
    conditions.PushBack(c, a);
  };
  std::string not_ready_msg;
  for (auto& n : unready) not_ready_msg += (not_ready_msg.empty() ? "" : " ") + n;
  not_ready_msg = "containers with unready status: [" + not_ready_msg + "]";
  bool done = phase == "Succeeded" || phase == "Failed";
  std::string not_ready_reason = done ? "PodCompleted" : "ContainersNotReady";
  add("Initialized", initialized, done ? "PodCompleted" : "ContainersNotInitialized",
      "containers with incomplete status: [" + incomplete + "]");
  add("Ready", unready.empty() && !done, not_ready_reason, done ? "" : not_ready_msg);
  add("ContainersReady", unready.empty() && !done, not_ready_reason, done ? "" : not_ready_msg);
  add("PodScheduled", true, "", "");
  doc.AddMember("conditions", conditions, a);
  return doc;
}

}  // namespace kubepp::kubelet
