#include "controller-manager/framework/pods.h"

#include <cmath>
#include <cstdlib>
#include <tuple>

#include "common/util/time.h"

namespace kubepp::controller {
namespace {

const api::Value* ReadyCondition(const api::Value& pod) {
  const api::Value* conds = api::Find(pod, "status.conditions");
  if (conds == nullptr || !conds->IsArray()) return nullptr;
  for (const auto& c : conds->GetArray()) {
    if (api::GetString(c, "type") == "Ready") return &c;
  }
  return nullptr;
}

int PhaseRank(const api::Value& pod) {
  std::string phase = api::GetString(pod, "status.phase");
  if (phase == "Pending" || phase.empty()) return 0;
  if (phase == "Unknown") return 1;
  if (phase == "Running") return 2;
  return 3;
}

int64_t Restarts(const api::Value& pod) {
  int64_t most = 0;
  const api::Value* statuses = api::Find(pod, "status.containerStatuses");
  if (statuses == nullptr || !statuses->IsArray()) return 0;
  for (const auto& s : statuses->GetArray()) most = std::max(most, api::GetInt(s, "restartCount"));
  return most;
}

}  // namespace

int64_t TimeField(const api::Value& object, std::string_view path) {
  std::string s = api::GetString(object, path);
  if (s.empty()) return 0;
  auto t = util::ParseRfc3339(s);
  return t.ok() ? *t : 0;
}

bool IsPodReady(const api::Value& pod) {
  const api::Value* c = ReadyCondition(pod);
  return c != nullptr && api::GetString(*c, "status") == "True";
}

int64_t PodReadySince(const api::Value& pod) {
  const api::Value* c = ReadyCondition(pod);
  return c == nullptr ? 0 : TimeField(*c, "lastTransitionTime");
}

bool IsPodAvailable(const api::Value& pod, int64_t min_ready_seconds, int64_t now) {
  if (!IsPodReady(pod)) return false;
  if (min_ready_seconds <= 0) return true;
  int64_t since = PodReadySince(pod);
  return since != 0 && since + min_ready_seconds <= now;
}

bool IsPodTerminal(const api::Value& pod) {
  std::string phase = api::GetString(pod, "status.phase");
  return phase == "Succeeded" || phase == "Failed";
}

bool IsPodActive(const api::Value& pod) {
  return !IsPodTerminal(pod) && !api::Has(pod, "metadata.deletionTimestamp");
}

bool DeletePodFirst(const api::Value& a, const api::Value& b) {
  bool a_scheduled = !api::GetString(a, "spec.nodeName").empty();
  bool b_scheduled = !api::GetString(b, "spec.nodeName").empty();
  if (a_scheduled != b_scheduled) return !a_scheduled;
  if (PhaseRank(a) != PhaseRank(b)) return PhaseRank(a) < PhaseRank(b);
  bool a_ready = IsPodReady(a), b_ready = IsPodReady(b);
  if (a_ready != b_ready) return !a_ready;
  if (a_ready) {
    // Ready more recently means ready for less time: delete it first.
    int64_t ra = PodReadySince(a), rb = PodReadySince(b);
    if (ra != rb) return ra > rb;
  }
  if (Restarts(a) != Restarts(b)) return Restarts(a) > Restarts(b);
  int64_t ca = TimeField(a, "metadata.creationTimestamp");
  int64_t cb = TimeField(b, "metadata.creationTimestamp");
  if (ca != cb) return ca > cb;
  // A total order for stable results: by name.
  return api::GetString(a, "metadata.name") > api::GetString(b, "metadata.name");
}

api::Document PodFromTemplate(const api::Value& template_spec, const std::string& ns,
                              const std::string& generate_name, const api::Value& controller_ref) {
  api::Document pod;
  pod.SetObject();
  auto& a = pod.GetAllocator();
  api::SetString(pod, "apiVersion", "v1", a);
  api::SetString(pod, "kind", "Pod", a);
  api::SetString(pod, "metadata.generateName", generate_name, a);
  api::SetString(pod, "metadata.namespace", ns, a);
  for (const char* field : {"labels", "annotations"}) {
    if (const api::Value* v = api::Find(template_spec, std::string("metadata.") + field)) {
      api::SetValue(pod, std::string("metadata.") + field, api::Value(*v, a), a);
    }
  }
  api::Value refs(rapidjson::kArrayType);
  refs.PushBack(api::Value(controller_ref, a), a);
  api::SetValue(pod, "metadata.ownerReferences", std::move(refs), a);
  if (const api::Value* spec = api::Find(template_spec, "spec")) {
    api::SetValue(pod, "spec", api::Value(*spec, a), a);
  }
  return pod;
}

bool Tolerates(const api::Value& toleration, const api::Value& taint) {
  std::string effect = api::GetString(toleration, "effect");
  if (!effect.empty() && effect != api::GetString(taint, "effect")) return false;
  std::string key = api::GetString(toleration, "key");
  std::string op = api::GetString(toleration, "operator", "Equal");
  if (op == "Exists") return key.empty() || key == api::GetString(taint, "key");
  return key == api::GetString(taint, "key") &&
         api::GetString(toleration, "value") == api::GetString(taint, "value");
}

bool ToleratesAll(const api::Value* tolerations, const api::Value* taints) {
  if (taints == nullptr || !taints->IsArray()) return true;
  for (const auto& taint : taints->GetArray()) {
    std::string effect = api::GetString(taint, "effect");
    if (effect != "NoSchedule" && effect != "NoExecute") continue;
    bool ok = false;
    if (tolerations != nullptr && tolerations->IsArray()) {
      for (const auto& t : tolerations->GetArray()) ok = ok || Tolerates(t, taint);
    }
    if (!ok) return false;
  }
  return true;
}

Result<int64_t> ScaledIntOrPercent(const api::Value* v, int64_t total, bool round_up,
                                   int64_t fallback) {
  if (v == nullptr || v->IsNull()) return fallback;
  if (v->IsInt64()) return v->GetInt64();
  if (!v->IsString()) return BadRequest("an IntOrString must be an integer or a string");
  std::string s = v->GetString();
  if (s.empty() || s.back() != '%') {
    return BadRequest("invalid value for IntOrString: \"" + s + "\"");
  }
  char* end = nullptr;
  long percent = std::strtol(s.c_str(), &end, 10);
  if (end != s.c_str() + s.size() - 1) {
    return BadRequest("invalid value for IntOrString: \"" + s + "\"");
  }
  // Exact integer arithmetic: percent * total / 100, rounded as asked.
  int64_t product = static_cast<int64_t>(percent) * total;
  return round_up ? (product + 99) / 100 : product / 100;
}

}  // namespace kubepp::controller
