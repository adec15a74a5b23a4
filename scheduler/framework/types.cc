#include "scheduler/framework/types.h"

#include <algorithm>
#include <charconv>
#include <functional>

#include "common/api/quantity.h"

namespace kubepp::scheduler {
namespace {

// Upstream's defaults for containers without requests, used only by scores so that
// best-effort pods still spread (pkg/scheduler/util DefaultMilliCPURequest/MemoryRequest).
constexpr int64_t kDefaultMilliCpuRequest = 100;
constexpr int64_t kDefaultMemoryRequest = 200 * 1024 * 1024;

const api::Value* Array(const api::Value& v, std::string_view path) {
  const api::Value* a = api::Find(v, path);
  return a && a->IsArray() ? a : nullptr;
}

std::vector<std::string> Strings(const api::Value* v) {
  std::vector<std::string> out;
  if (v && v->IsArray()) {
    for (const auto& s : v->GetArray()) {
      if (s.IsString()) out.emplace_back(api::View(s));
    }
  }
  return out;
}

std::optional<int64_t> ToInt(std::string_view s) {
  int64_t n = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return n;
}

Result<NodeSelectorRequirement> ParseRequirement(const api::Value& v, bool field) {
  NodeSelectorRequirement r;
  r.key = api::GetString(v, "key");
  r.op = api::GetString(v, "operator");
  r.values = Strings(api::Find(v, "values"));
  static const std::set<std::string> kOps = {"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"};
  if (!kOps.count(r.op) || (field && r.op != "In" && r.op != "NotIn")) {
    return BadRequest("unsupported node selector operator \"" + r.op + "\"");
  }
  if (field && r.key != "metadata.name") {
    return BadRequest("unsupported node selector field \"" + r.key + "\"");
  }
  if ((r.op == "Gt" || r.op == "Lt") && (r.values.size() != 1 || !ToInt(r.values[0]))) {
    return BadRequest("node selector operator " + r.op + " needs one integer value");
  }
  return r;
}

Result<NodeSelectorTerm> ParseTerm(const api::Value& v) {
  NodeSelectorTerm t;
  if (const api::Value* e = Array(v, "matchExpressions")) {
    for (const auto& r : e->GetArray()) {
      ASSIGN_OR_RETURN(auto req, ParseRequirement(r, false));
      t.match_expressions.push_back(std::move(req));
    }
  }
  if (const api::Value* f = Array(v, "matchFields")) {
    for (const auto& r : f->GetArray()) {
      ASSIGN_OR_RETURN(auto req, ParseRequirement(r, true));
      t.match_fields.push_back(std::move(req));
    }
  }
  return t;
}

Result<PodAffinityTerm> ParseAffinityTerm(const api::Value& v, const std::string& pod_ns,
                                          int32_t weight) {
  PodAffinityTerm t;
  t.weight = weight;
  ASSIGN_OR_RETURN(t.selector, api::LabelSelector::FromJson(api::Find(v, "labelSelector")));
  for (auto& ns : Strings(api::Find(v, "namespaces"))) t.namespaces.insert(std::move(ns));
  if (const api::Value* s = api::Find(v, "namespaceSelector"); s && s->IsObject()) {
    ASSIGN_OR_RETURN(t.namespace_selector, api::LabelSelector::FromJson(s));
  }
  if (t.namespaces.empty() && !t.namespace_selector) t.namespaces.insert(pod_ns);
  t.topology_key = api::GetString(v, "topologyKey");
  if (t.topology_key.empty()) return BadRequest("pod affinity term without topologyKey");
  return t;
}

Status ParseAffinityTerms(const api::Value& affinity, std::string_view kind,
                          const std::string& pod_ns, std::vector<PodAffinityTerm>* required,
                          std::vector<PodAffinityTerm>* preferred) {
  const api::Value* a = api::FindMember(affinity, kind);
  if (!a || !a->IsObject()) return Status::Ok();
  if (const api::Value* r = Array(*a, "requiredDuringSchedulingIgnoredDuringExecution")) {
    for (const auto& term : r->GetArray()) {
      ASSIGN_OR_RETURN(auto t, ParseAffinityTerm(term, pod_ns, 0));
      required->push_back(std::move(t));
    }
  }
  if (const api::Value* p = Array(*a, "preferredDuringSchedulingIgnoredDuringExecution")) {
    for (const auto& w : p->GetArray()) {
      const api::Value* term = api::Find(w, "podAffinityTerm");
      if (!term) continue;
      ASSIGN_OR_RETURN(auto t, ParseAffinityTerm(*term, pod_ns,
                                                 static_cast<int32_t>(api::GetInt(w, "weight"))));
      preferred->push_back(std::move(t));
    }
  }
  return Status::Ok();
}

Result<TopologySpreadConstraint> ParseSpread(const api::Value& v, const Labels& pod_labels) {
  TopologySpreadConstraint c;
  c.max_skew = static_cast<int32_t>(api::GetInt(v, "maxSkew", 1));
  c.topology_key = api::GetString(v, "topologyKey");
  c.do_not_schedule = api::GetString(v, "whenUnsatisfiable", "DoNotSchedule") != "ScheduleAnyway";
  c.min_domains = static_cast<int32_t>(api::GetInt(v, "minDomains", 1));
  c.honor_node_affinity = api::GetString(v, "nodeAffinityPolicy", "Honor") == "Honor";
  c.honor_node_taints = api::GetString(v, "nodeTaintsPolicy", "Ignore") == "Honor";
  if (c.topology_key.empty()) return BadRequest("topology spread constraint without topologyKey");
  const api::Value* sel = api::Find(v, "labelSelector");
  std::vector<std::string> keys = Strings(api::Find(v, "matchLabelKeys"));
  if (keys.empty() || !sel) {
    ASSIGN_OR_RETURN(c.selector, api::LabelSelector::FromJson(sel));
    return c;
  }
  // matchLabelKeys: the pod's own values of those keys join the selector (upstream).
  api::Document merged = api::Clone(*sel);
  auto& a = merged.GetAllocator();
  if (!merged.IsObject()) merged.SetObject();
  if (!api::Has(merged, "matchExpressions") || !merged["matchExpressions"].IsArray()) {
    api::Remove(merged, "matchExpressions");
    merged.AddMember("matchExpressions", api::Value(rapidjson::kArrayType), a);
  }
  api::Value& list = merged["matchExpressions"];
  for (const auto& k : keys) {
    auto it = pod_labels.find(k);
    if (it == pod_labels.end()) continue;
    api::Value req(rapidjson::kObjectType);
    req.AddMember("key", api::Str(k, a), a);
    req.AddMember("operator", "In", a);
    api::Value vals(rapidjson::kArrayType);
    vals.PushBack(api::Str(it->second, a), a);
    req.AddMember("values", vals, a);
    list.PushBack(req, a);
  }
  ASSIGN_OR_RETURN(c.selector, api::LabelSelector::FromJson(&merged));
  return c;
}

// Requests (falling back to limits, as defaulting does) of one container.
void ContainerRequests(const api::Value& c, Resources* req, Resources* non_zero) {
  Resources r;
  ParseResourceList(api::Find(c, "resources.limits"), &r);
  Resources explicit_req;
  ParseResourceList(api::Find(c, "resources.requests"), &explicit_req);
  const api::Value* reqs = api::Find(c, "resources.requests");
  auto has = [&](const char* name) { return reqs && reqs->IsObject() && api::FindMember(*reqs, name); };
  if (has("cpu")) r.milli_cpu = explicit_req.milli_cpu;
  if (has("memory")) r.memory = explicit_req.memory;
  if (has("ephemeral-storage")) r.ephemeral_storage = explicit_req.ephemeral_storage;
  for (const auto& [k, v] : explicit_req.scalar) r.scalar[k] = v;
  *req = r;
  *non_zero = r;
  if (!has("cpu") && r.milli_cpu == 0) non_zero->milli_cpu = kDefaultMilliCpuRequest;
  if (!has("memory") && r.memory == 0) non_zero->memory = kDefaultMemoryRequest;
}

}  // namespace

void Resources::Add(const Resources& o) {
  milli_cpu += o.milli_cpu;
  memory += o.memory;
  ephemeral_storage += o.ephemeral_storage;
  pods += o.pods;
  for (const auto& [k, v] : o.scalar) scalar[k] += v;
}

void Resources::Sub(const Resources& o) {
  milli_cpu -= o.milli_cpu;
  memory -= o.memory;
  ephemeral_storage -= o.ephemeral_storage;
  pods -= o.pods;
  for (const auto& [k, v] : o.scalar) scalar[k] -= v;
}

void Resources::Max(const Resources& o) {
  milli_cpu = std::max(milli_cpu, o.milli_cpu);
  memory = std::max(memory, o.memory);
  ephemeral_storage = std::max(ephemeral_storage, o.ephemeral_storage);
  pods = std::max(pods, o.pods);
  for (const auto& [k, v] : o.scalar) scalar[k] = std::max(Scalar(k), v);
}

int64_t Resources::Scalar(const std::string& name) const {
  auto it = scalar.find(name);
  return it == scalar.end() ? 0 : it->second;
}

void ParseResourceList(const api::Value* list, Resources* out) {
  if (!list || !list->IsObject()) return;
  for (const auto& m : list->GetObject()) {
    std::string_view name = api::View(m.name);
    if (name == "cpu") {
      out->milli_cpu = api::MilliValueOf(m.value);
    } else if (name == "memory") {
      out->memory = api::WholeValueOf(m.value);
    } else if (name == "ephemeral-storage") {
      out->ephemeral_storage = api::WholeValueOf(m.value);
    } else if (name == "pods") {
      out->pods = api::WholeValueOf(m.value);
    } else if (name.find('/') != std::string_view::npos ||
               name.starts_with("hugepages-")) {
      // Extended resources and huge pages are integers; other names are not fitted.
      out->scalar[std::string(name)] = api::WholeValueOf(m.value);
    }
  }
}

bool Toleration::Tolerates(const Taint& taint) const {
  if (!effect.empty() && effect != taint.effect) return false;
  if (!key.empty() && key != taint.key) return false;
  if (op == "Exists") return true;
  return (op.empty() || op == "Equal") && value == taint.value;
}

bool TolerationsTolerate(const std::vector<Toleration>& tolerations, const Taint& taint) {
  return std::any_of(tolerations.begin(), tolerations.end(),
                     [&](const Toleration& t) { return t.Tolerates(taint); });
}

bool NodeSelectorRequirement::Matches(const Labels& labels) const {
  auto it = labels.find(key);
  bool present = it != labels.end();
  if (op == "Exists") return present;
  if (op == "DoesNotExist") return !present;
  if (op == "In") {
    return present && std::find(values.begin(), values.end(), it->second) != values.end();
  }
  if (op == "NotIn") {
    return !present || std::find(values.begin(), values.end(), it->second) == values.end();
  }
  if (!present || values.size() != 1) return false;
  auto have = ToInt(it->second);
  auto want = ToInt(values[0]);
  if (!have || !want) return false;
  return op == "Gt" ? *have > *want : op == "Lt" ? *have < *want : false;
}

bool NodeSelectorTerm::Matches(const Labels& labels, const std::string& node_name) const {
  if (match_expressions.empty() && match_fields.empty()) return false;
  for (const auto& r : match_expressions) {
    if (!r.Matches(labels)) return false;
  }
  for (const auto& r : match_fields) {
    if (!r.Matches(Labels{{"metadata.name", node_name}})) return false;
  }
  return true;
}

bool PodAffinityTerm::MatchesNamespace(const std::string& ns, const Labels* ns_labels) const {
  if (namespaces.count(ns)) return true;
  if (!namespace_selector) return false;
  if (namespace_selector->Empty()) return true;
  return ns_labels && namespace_selector->Matches(*ns_labels);
}

bool PortsConflict(const HostPort& a, const HostPort& b) {
  if (a.port != b.port || a.protocol != b.protocol) return false;
  auto wildcard = [](const std::string& ip) { return ip.empty() || ip == "0.0.0.0"; };
  return wildcard(a.host_ip) || wildcard(b.host_ip) || a.host_ip == b.host_ip;
}

Result<PodPtr> ParsePod(const api::Value& pod) {
  auto p = std::make_shared<PodInfo>();
  p->ns = api::GetString(pod, "metadata.namespace");
  p->name = api::GetString(pod, "metadata.name");
  p->uid = api::GetString(pod, "metadata.uid");
  p->key = p->ns + "/" + p->name;
  p->resource_version = api::GetString(pod, "metadata.resourceVersion");
  p->labels = api::GetStringMap(pod, "metadata.labels");
  p->terminating = api::Has(pod, "metadata.deletionTimestamp");
  if (const api::Value* owners = Array(pod, "metadata.ownerReferences")) {
    for (const auto& o : owners->GetArray()) {
      if (api::GetBool(o, "controller")) p->controller_uid = api::GetString(o, "uid");
    }
  }
  if (const api::Value* ann = api::Find(pod, "metadata.annotations")) {
    if (const api::Value* a = api::FindMember(*ann, kLastAttemptAnnotation); a && a->IsString()) {
      p->last_attempt_annotation = std::string(api::View(*a));
    }
  }
  if (const api::Value* conds = Array(pod, "status.conditions")) {
    for (const auto& c : conds->GetArray()) {
      if (api::GetString(c, "type") != "PodScheduled") continue;
      p->scheduled_status = api::GetString(c, "status");
      p->scheduled_message = api::GetString(c, "message");
    }
  }

  static const api::Value kEmpty(rapidjson::kObjectType);
  const api::Value* spec_ptr = api::Find(pod, "spec");
  const api::Value& spec = spec_ptr && spec_ptr->IsObject() ? *spec_ptr : kEmpty;
  p->node_name = api::GetString(spec, "nodeName");
  p->scheduler_name = api::GetString(spec, "schedulerName", "default-scheduler");
  p->priority = static_cast<int32_t>(api::GetInt(spec, "priority"));
  p->gated = Array(spec, "schedulingGates") && !api::Find(spec, "schedulingGates")->Empty();
  p->spec_hash = std::hash<std::string>()(api::ToJson(spec)) * 31 +
                 std::hash<std::string>()(api::ToJson(api::Find(pod, "metadata.labels")
                                                          ? *api::Find(pod, "metadata.labels")
                                                          : kEmpty));

  // Requests: the sum over containers, at least each init container's (they run one at
  // a time before the others), plus the pod overhead.
  Resources sum, sum_nz;
  if (const api::Value* cs = Array(spec, "containers")) {
    for (const auto& c : cs->GetArray()) {
      Resources r, nz;
      ContainerRequests(c, &r, &nz);
      sum.Add(r);
      sum_nz.Add(nz);
      if (const api::Value* ports = Array(c, "ports")) {
        for (const auto& port : ports->GetArray()) {
          int64_t hp = api::GetInt(port, "hostPort");
          if (hp <= 0) continue;
          p->host_ports.push_back({api::GetString(port, "hostIP", "0.0.0.0"),
                                   api::GetString(port, "protocol", "TCP"),
                                   static_cast<int32_t>(hp)});
        }
      }
    }
  }
  if (const api::Value* cs = Array(spec, "initContainers")) {
    for (const auto& c : cs->GetArray()) {
      Resources r, nz;
      ContainerRequests(c, &r, &nz);
      sum.Max(r);
      sum_nz.Max(nz);
    }
  }
  Resources overhead;
  ParseResourceList(api::Find(spec, "overhead"), &overhead);
  sum.Add(overhead);
  sum_nz.Add(overhead);
  sum.pods = sum_nz.pods = 1;
  p->requests = std::move(sum);
  p->non_zero_requests = std::move(sum_nz);

  if (const api::Value* tols = Array(spec, "tolerations")) {
    for (const auto& t : tols->GetArray()) {
      p->tolerations.push_back({api::GetString(t, "key"), api::GetString(t, "operator", "Equal"),
                                api::GetString(t, "value"), api::GetString(t, "effect")});
    }
  }
  p->node_selector = api::GetStringMap(spec, "nodeSelector");
  if (const api::Value* na = api::Find(spec, "affinity.nodeAffinity")) {
    if (const api::Value* req = api::Find(*na, "requiredDuringSchedulingIgnoredDuringExecution")) {
      std::vector<NodeSelectorTerm> terms;
      if (const api::Value* ts = Array(*req, "nodeSelectorTerms")) {
        for (const auto& t : ts->GetArray()) {
          ASSIGN_OR_RETURN(auto term, ParseTerm(t));
          terms.push_back(std::move(term));
        }
      }
      p->required_node_affinity = std::move(terms);
    }
    if (const api::Value* pref = Array(*na, "preferredDuringSchedulingIgnoredDuringExecution")) {
      for (const auto& w : pref->GetArray()) {
        const api::Value* t = api::Find(w, "preference");
        if (!t) continue;
        ASSIGN_OR_RETURN(auto term, ParseTerm(*t));
        p->preferred_node_affinity.push_back(
            {static_cast<int32_t>(api::GetInt(w, "weight")), std::move(term)});
      }
    }
  }
  if (const api::Value* aff = api::Find(spec, "affinity"); aff && aff->IsObject()) {
    RETURN_IF_ERROR(ParseAffinityTerms(*aff, "podAffinity", p->ns, &p->required_affinity,
                                       &p->preferred_affinity));
    RETURN_IF_ERROR(ParseAffinityTerms(*aff, "podAntiAffinity", p->ns,
                                       &p->required_anti_affinity, &p->preferred_anti_affinity));
  }
  if (const api::Value* tsc = Array(spec, "topologySpreadConstraints")) {
    for (const auto& c : tsc->GetArray()) {
      ASSIGN_OR_RETURN(auto con, ParseSpread(c, p->labels));
      p->spread_constraints.push_back(std::move(con));
    }
  }
  return PodPtr(std::move(p));
}

bool NodeSpec::operator==(const NodeSpec& o) const {
  auto same_taints = [](const std::vector<Taint>& a, const std::vector<Taint>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (a[i].key != b[i].key || a[i].value != b[i].value || a[i].effect != b[i].effect) {
        return false;
      }
    }
    return true;
  };
  const Resources& x = allocatable;
  const Resources& y = o.allocatable;
  return name == o.name && labels == o.labels && same_taints(taints, o.taints) &&
         unschedulable == o.unschedulable && ready == o.ready && x.milli_cpu == y.milli_cpu &&
         x.memory == y.memory && x.ephemeral_storage == y.ephemeral_storage &&
         x.pods == y.pods && x.scalar == y.scalar;
}

bool MatchesNodeSelectorAndAffinity(const PodInfo& pod, const NodeSpec& node) {
  for (const auto& [k, v] : pod.node_selector) {
    auto it = node.labels.find(k);
    if (it == node.labels.end() || it->second != v) return false;
  }
  if (!pod.required_node_affinity) return true;
  for (const auto& term : *pod.required_node_affinity) {
    if (term.Matches(node.labels, node.name)) return true;
  }
  return false;
}

const Taint* FirstUntoleratedTaint(const PodInfo& pod, const NodeSpec& node) {
  for (const auto& t : node.taints) {
    if (t.effect != "NoSchedule" && t.effect != "NoExecute") continue;
    if (!TolerationsTolerate(pod.tolerations, t)) return &t;
  }
  return nullptr;
}

NodeSpecPtr ParseNode(const api::Value& node) {
  auto n = std::make_shared<NodeSpec>();
  n->name = api::GetString(node, "metadata.name");
  n->labels = api::GetStringMap(node, "metadata.labels");
  n->unschedulable = api::GetBool(node, "spec.unschedulable");
  if (const api::Value* taints = Array(node, "spec.taints")) {
    for (const auto& t : taints->GetArray()) {
      n->taints.push_back(
          {api::GetString(t, "key"), api::GetString(t, "value"), api::GetString(t, "effect")});
    }
  }
  if (const api::Value* conds = Array(node, "status.conditions")) {
    for (const auto& c : conds->GetArray()) {
      if (api::GetString(c, "type") == "Ready") n->ready = api::GetString(c, "status") == "True";
    }
  }
  const api::Value* alloc = api::Find(node, "status.allocatable");
  ParseResourceList(alloc ? alloc : api::Find(node, "status.capacity"), &n->allocatable);
  return n;
}

}  // namespace kubepp::scheduler
