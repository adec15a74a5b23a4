#include "apiserver/table.h"

#include "common/util/time.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <optional>
#include <set>
#include <utility>
#include <variant>

namespace kubepp::apiserver {
namespace {

using api::Value;

// A cell is a string or an integer, as in upstream's rows.
using Cell = std::variant<std::string, int64_t>;

struct Row {
  std::vector<Cell> cells;
  // Non-empty for pods that finished: the reason ("Succeeded" or "Failed") and message of
  // the row's `Completed` condition.
  std::string completed_reason = {};
  std::string completed_message = {};
};

struct Column {
  std::string_view name;
  std::string_view type;  // "string", "integer" or "boolean"
  int priority;           // 0: always shown; 1: only with `-o wide`
  std::string_view description;
};

// Builds the cells of one object; `now` is seconds since the epoch.
using RowFn = Row (*)(const Value& obj, int64_t now);

struct Printer {
  std::string_view group;
  std::string_view plural;
  std::vector<Column> columns;
  RowFn row;
};

constexpr std::string_view kNameDoc =
    "Name must be unique within a namespace. Is required when creating resources, although "
    "some resources may allow a client to request the generation of an appropriate name "
    "automatically. Name is primarily intended for creation idempotence and configuration "
    "definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
constexpr std::string_view kAgeDoc =
    "CreationTimestamp is a timestamp representing the server time when this object was "
    "created. It is not guaranteed to be set in happens-before order across separate "
    "operations. Clients may not set this value. It is represented in RFC3339 form and is in "
    "UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
constexpr std::string_view kContainersDoc = "Names of each container in the template.";
constexpr std::string_view kImagesDoc = "Images referenced by each container in the template.";
constexpr std::string_view kSelectorDoc =
    "A label query over pods that should match the replica count.";

const Column kNameColumn{"Name", "string", 0, kNameDoc};
const Column kAgeColumn{"Age", "string", 0, kAgeDoc};
const Column kContainersColumn{"Containers", "string", 1, kContainersDoc};
const Column kImagesColumn{"Images", "string", 1, kImagesDoc};
const Column kSelectorColumn{"Selector", "string", 1, kSelectorDoc};
const Column kCreatedAtColumn{"Created At", "date", 0, kAgeDoc};
const Column kRoleRefColumn{"Role", "string", 0,
                            "RoleRef can reference a Role in the current namespace or a "
                            "ClusterRole in the global namespace. If the RoleRef cannot be "
                            "resolved, the Authorizer must return an error. This field is "
                            "immutable."};
constexpr std::string_view kRbac = "rbac.authorization.k8s.io";

// ---- Reading objects -------------------------------------------------------------------

const Value& EmptyArray() {
  static const Value kEmpty(rapidjson::kArrayType);
  return kEmpty;
}

// The array at `path`, or an empty one.
const Value& Items(const Value& v, std::string_view path) {
  const Value* f = api::Find(v, path);
  return f != nullptr && f->IsArray() ? *f : EmptyArray();
}

// The object at `path`, or nullptr (also for JSON null, as Go decodes a nil pointer).
const Value* Object(const Value& v, std::string_view path) {
  const Value* f = api::Find(v, path);
  return f != nullptr && f->IsObject() ? f : nullptr;
}

size_t MemberCount(const Value& v, std::string_view path) {
  const Value* f = Object(v, path);
  return f == nullptr ? 0 : f->MemberCount();
}

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
  }
  return out;
}

std::string OrNone(std::string s) { return s.empty() ? "<none>" : s; }

// Seconds since the epoch of an RFC 3339 time, or nothing when absent or malformed.
std::optional<int64_t> ParseTime(std::string_view s) {
  auto t = util::ParseRfc3339(s);
  if (!t.ok()) return std::nullopt;
  return *t;
}

// Upstream's translateTimestampSince: "<unknown>" for an absent time.
std::string Since(const Value& v, std::string_view path, int64_t now) {
  std::optional<int64_t> t = ParseTime(api::GetString(v, path));
  return t ? HumanDuration(now - *t) : "<unknown>";
}

std::string Age(const Value& obj, int64_t now) {
  return Since(obj, "metadata.creationTimestamp", now);
}

std::string Name(const Value& obj) { return api::GetString(obj, "metadata.name"); }

// labels.FormatLabels: "a=b,c=d" sorted by key, "<none>" when empty.
std::string FormatLabels(const Value& v, std::string_view path) {
  std::vector<std::string> parts;
  for (const auto& [k, val] : api::GetStringMap(v, path)) parts.push_back(k + "=" + val);
  return OrNone(Join(parts, ","));
}

// metav1.LabelSelectorAsSelector(...).String(): requirements sorted by key, "" for a
// missing or empty selector, nullopt for an invalid one.
std::optional<std::string> SelectorString(const Value& v, std::string_view path) {
  const Value* sel = Object(v, path);
  if (sel == nullptr) return "";
  std::vector<std::pair<std::string, std::string>> reqs;  // key, rendered requirement
  for (const auto& [k, val] : api::GetStringMap(*sel, "matchLabels")) {
    reqs.emplace_back(k, k + "=" + val);
  }
  for (const Value& e : Items(*sel, "matchExpressions").GetArray()) {
    std::string key = api::GetString(e, "key");
    std::string op = api::GetString(e, "operator");
    std::vector<std::string> values;
    for (const Value& x : Items(e, "values").GetArray()) values.emplace_back(api::View(x));
    std::sort(values.begin(), values.end());
    if (op == "In" || op == "NotIn") {
      if (values.empty()) return std::nullopt;
      reqs.emplace_back(key, key + (op == "In" ? " in (" : " notin (") + Join(values, ",") + ")");
    } else if (op == "Exists" || op == "DoesNotExist") {
      if (!values.empty()) return std::nullopt;
      reqs.emplace_back(key, (op == "Exists" ? "" : "!") + key);
    } else {
      return std::nullopt;
    }
  }
  std::stable_sort(reqs.begin(), reqs.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> parts;
  for (auto& r : reqs) parts.push_back(std::move(r.second));
  return Join(parts, ",");
}

// metav1.FormatLabelSelector: "<error>" when invalid, "<none>" when empty.
std::string FormatLabelSelector(const Value& v, std::string_view path) {
  std::optional<std::string> s = SelectorString(v, path);
  return s ? OrNone(*s) : "<error>";
}

// layoutContainerCells: container names and images, each comma-joined.
void AppendContainerCells(const Value& v, std::string_view containers_path, Row& row) {
  std::vector<std::string> names, images;
  for (const Value& c : Items(v, containers_path).GetArray()) {
    names.push_back(api::GetString(c, "name"));
    images.push_back(api::GetString(c, "image"));
  }
  row.cells.emplace_back(Join(names, ","));
  row.cells.emplace_back(Join(images, ","));
}

bool HasCondition(const Value& obj, std::string_view path, std::string_view type) {
  for (const Value& c : Items(obj, path).GetArray()) {
    if (api::GetString(c, "type") == type) return api::GetString(c, "status") == "True";
  }
  return false;
}

// Sorted, de-duplicated ingress points (IP, else hostname) of a load-balancer status.
std::vector<std::string> LoadBalancerAddresses(const Value& v, std::string_view path) {
  std::set<std::string> out;
  for (const Value& i : Items(v, path).GetArray()) {
    std::string ip = api::GetString(i, "ip");
    std::string host = api::GetString(i, "hostname");
    if (!ip.empty()) {
      out.insert(ip);
    } else if (!host.empty()) {
      out.insert(host);
    }
  }
  return {out.begin(), out.end()};
}

// The first `kMaxListed` entries comma-joined, then " + N more...".
constexpr size_t kMaxListed = 3;
std::string ListWithMore(const std::vector<std::string>& all) {
  if (all.size() <= kMaxListed) return Join(all, ",");
  std::vector<std::string> shown(all.begin(), all.begin() + kMaxListed);
  return Join(shown, ",") + " + " + std::to_string(all.size() - kMaxListed) + " more...";
}

std::string Fraction(int64_t a, int64_t b) {
  return std::to_string(a) + "/" + std::to_string(b);
}

// ---- Pods ------------------------------------------------------------------------------

// The reason of a terminated container state: its reason, else its signal or exit code.
std::string TerminatedReason(const Value& terminated) {
  std::string reason = api::GetString(terminated, "reason");
  if (!reason.empty()) return reason;
  int64_t signal = api::GetInt(terminated, "signal");
  if (signal != 0) return "Signal:" + std::to_string(signal);
  return "ExitCode:" + std::to_string(api::GetInt(terminated, "exitCode"));
}

// Tracks a restart count and the latest lastState.terminated.finishedAt.
struct Restarts {
  int64_t count = 0;
  std::optional<int64_t> last;

  void Add(const Value& status) {
    count += api::GetInt(status, "restartCount");
    std::optional<int64_t> t = ParseTime(api::GetString(status, "lastState.terminated.finishedAt"));
    if (t && (!last || *t > *last)) last = t;
  }
};

// Upstream's printPod, including restartable ("sidecar") init containers.
Row PodRow(const Value& pod, int64_t now) {
  const std::string phase = api::GetString(pod, "status.phase");
  const std::string status_reason = api::GetString(pod, "status.reason");
  std::string reason = status_reason.empty() ? phase : status_reason;
  for (const Value& c : Items(pod, "status.conditions").GetArray()) {
    if (api::GetString(c, "type") == "PodScheduled" &&
        api::GetString(c, "reason") == "SchedulingGated") {
      reason = "SchedulingGated";
    }
  }

  int64_t total = Items(pod, "spec.containers").Size();
  const Value& init_specs = Items(pod, "spec.initContainers");
  std::set<std::string> sidecars;  // init containers with restartPolicy Always
  for (const Value& c : init_specs.GetArray()) {
    if (api::GetString(c, "restartPolicy") == "Always") {
      sidecars.insert(api::GetString(c, "name"));
      ++total;
    }
  }

  int64_t ready = 0;
  Restarts restarts, sidecar_restarts;
  bool initializing = false;
  const Value& init_statuses = Items(pod, "status.initContainerStatuses");
  for (rapidjson::SizeType i = 0; i < init_statuses.Size(); ++i) {
    const Value& st = init_statuses[i];
    const bool sidecar = sidecars.count(api::GetString(st, "name")) > 0;
    restarts.Add(st);
    if (sidecar) sidecar_restarts.Add(st);
    const Value* terminated = Object(st, "state.terminated");
    const std::string waiting = api::GetString(st, "state.waiting.reason");
    if (terminated != nullptr && api::GetInt(*terminated, "exitCode") == 0) continue;
    if (sidecar && api::GetBool(st, "started")) {
      if (api::GetBool(st, "ready")) ++ready;
      continue;
    }
    if (terminated != nullptr) {
      reason = "Init:" + TerminatedReason(*terminated);
    } else if (!waiting.empty() && waiting != "PodInitializing") {
      reason = "Init:" + waiting;
    } else {
      reason = "Init:" + Fraction(i, init_specs.Size());
    }
    initializing = true;
    break;
  }

  if (!initializing || HasCondition(pod, "status.conditions", "Initialized")) {
    restarts = sidecar_restarts;
    bool has_running = false;
    std::string error_reason;
    const Value& statuses = Items(pod, "status.containerStatuses");
    // Backwards, so that the first container's state decides the reason.
    for (rapidjson::SizeType i = statuses.Size(); i-- > 0;) {
      const Value& st = statuses[i];
      restarts.Add(st);
      const Value* terminated = Object(st, "state.terminated");
      const std::string waiting = api::GetString(st, "state.waiting.reason");
      if (!waiting.empty()) {
        reason = waiting;
      } else if (terminated != nullptr) {
        reason = TerminatedReason(*terminated);
        if (api::GetInt(*terminated, "exitCode") != 0) error_reason = reason;
      } else if (api::GetBool(st, "ready") && Object(st, "state.running") != nullptr) {
        has_running = true;
        ++ready;
      }
    }
    // A pod whose first container completed while others still run is not "Completed".
    if (reason == "Completed") {
      if (has_running && HasCondition(pod, "status.conditions", "Ready")) {
        reason = "Running";
      } else if (!error_reason.empty()) {
        reason = error_reason;
      } else if (has_running) {
        reason = "NotReady";
      }
    }
  }

  if (api::Has(pod, "metadata.deletionTimestamp")) {
    if (status_reason == "NodeLost") {
      reason = "Unknown";
    } else if (phase != "Succeeded" && phase != "Failed") {
      reason = "Terminating";
    }
  }

  std::string restarts_cell = std::to_string(restarts.count);
  if (restarts.count != 0 && restarts.last) {
    restarts_cell += " (" + HumanDuration(now - *restarts.last) + " ago)";
  }

  // podIPs[0], as the internal type upstream prints from; older writers set only podIP.
  const Value& pod_ips = Items(pod, "status.podIPs");
  std::string ip = pod_ips.Empty() ? api::GetString(pod, "status.podIP")
                                   : api::GetString(pod_ips[0], "ip");

  std::string gates = "<none>";
  const Value& gate_specs = Items(pod, "spec.readinessGates");
  if (!gate_specs.Empty()) {
    int64_t true_gates = 0;
    for (const Value& g : gate_specs.GetArray()) {
      if (HasCondition(pod, "status.conditions", api::GetString(g, "conditionType"))) {
        ++true_gates;
      }
    }
    gates = Fraction(true_gates, gate_specs.Size());
  }

  Row row;
  row.cells = {Name(pod),
               Fraction(ready, total),
               reason,
               restarts_cell,
               Age(pod, now),
               OrNone(ip),
               OrNone(api::GetString(pod, "spec.nodeName")),
               OrNone(api::GetString(pod, "status.nominatedNodeName")),
               gates};
  if (phase == "Succeeded") {
    row.completed_reason = "Succeeded";
    row.completed_message = "The pod has completed successfully.";
  } else if (phase == "Failed") {
    row.completed_reason = "Failed";
    row.completed_message = "The pod failed.";
  }
  return row;
}

// ---- Nodes and namespaces --------------------------------------------------------------

std::string NodeAddress(const Value& node, std::string_view type) {
  for (const Value& a : Items(node, "status.addresses").GetArray()) {
    if (api::GetString(a, "type") == type) return api::GetString(a, "address");
  }
  return "<none>";
}

std::string OrUnknown(std::string s) { return s.empty() ? "<unknown>" : s; }

Row NodeRow(const Value& node, int64_t now) {
  std::vector<std::string> status;
  // Upstream keeps the last Ready condition when there are several.
  for (const Value& c : Items(node, "status.conditions").GetArray()) {
    if (api::GetString(c, "type") != "Ready") continue;
    status = {api::GetString(c, "status") == "True" ? "Ready" : "NotReady"};
  }
  if (status.empty()) status.push_back("Unknown");
  if (api::GetBool(node, "spec.unschedulable")) status.push_back("SchedulingDisabled");

  constexpr std::string_view kRolePrefix = "node-role.kubernetes.io/";
  std::set<std::string> roles;
  for (const auto& [k, v] : api::GetStringMap(node, "metadata.labels")) {
    if (k.size() > kRolePrefix.size() && k.compare(0, kRolePrefix.size(), kRolePrefix) == 0) {
      roles.insert(k.substr(kRolePrefix.size()));
    } else if (k == "kubernetes.io/role" && !v.empty()) {
      roles.insert(v);
    }
  }

  Row row;
  row.cells = {Name(node),
               Join(status, ","),
               OrNone(Join(std::vector<std::string>(roles.begin(), roles.end()), ",")),
               Age(node, now),
               api::GetString(node, "status.nodeInfo.kubeletVersion"),
               NodeAddress(node, "InternalIP"),
               NodeAddress(node, "ExternalIP"),
               OrUnknown(api::GetString(node, "status.nodeInfo.osImage")),
               OrUnknown(api::GetString(node, "status.nodeInfo.kernelVersion")),
               OrUnknown(api::GetString(node, "status.nodeInfo.containerRuntimeVersion"))};
  return row;
}

Row NamespaceRow(const Value& ns, int64_t now) {
  return {{Name(ns), api::GetString(ns, "status.phase"), Age(ns, now)}};
}

// ---- Workloads -------------------------------------------------------------------------

Row DeploymentRow(const Value& d, int64_t now) {
  std::optional<std::string> selector = SelectorString(d, "spec.selector");
  Row row{{Name(d),
           Fraction(api::GetInt(d, "status.readyReplicas"), api::GetInt(d, "spec.replicas", 1)),
           api::GetInt(d, "status.updatedReplicas"), api::GetInt(d, "status.availableReplicas"),
           Age(d, now)}};
  AppendContainerCells(d, "spec.template.spec.containers", row);
  row.cells.emplace_back(selector ? *selector : "<invalid>");
  return row;
}

Row ReplicaSetRow(const Value& rs, int64_t now) {
  Row row{{Name(rs), api::GetInt(rs, "spec.replicas", 1), api::GetInt(rs, "status.replicas"),
           api::GetInt(rs, "status.readyReplicas"), Age(rs, now)}};
  AppendContainerCells(rs, "spec.template.spec.containers", row);
  row.cells.emplace_back(FormatLabelSelector(rs, "spec.selector"));
  return row;
}

Row DaemonSetRow(const Value& ds, int64_t now) {
  Row row{{Name(ds), api::GetInt(ds, "status.desiredNumberScheduled"),
           api::GetInt(ds, "status.currentNumberScheduled"), api::GetInt(ds, "status.numberReady"),
           api::GetInt(ds, "status.updatedNumberScheduled"),
           api::GetInt(ds, "status.numberAvailable"),
           FormatLabels(ds, "spec.template.spec.nodeSelector"), Age(ds, now)}};
  AppendContainerCells(ds, "spec.template.spec.containers", row);
  row.cells.emplace_back(FormatLabelSelector(ds, "spec.selector"));
  return row;
}

Row StatefulSetRow(const Value& ss, int64_t now) {
  Row row{{Name(ss),
           Fraction(api::GetInt(ss, "status.readyReplicas"), api::GetInt(ss, "spec.replicas", 1)),
           Age(ss, now)}};
  AppendContainerCells(ss, "spec.template.spec.containers", row);
  return row;
}

Row JobRow(const Value& job, int64_t now) {
  const int64_t succeeded = api::GetInt(job, "status.succeeded");
  std::string completions;
  if (api::Has(job, "spec.completions")) {
    completions = Fraction(succeeded, api::GetInt(job, "spec.completions"));
  } else if (int64_t parallelism = api::GetInt(job, "spec.parallelism"); parallelism > 1) {
    completions = std::to_string(succeeded) + "/1 of " + std::to_string(parallelism);
  } else {
    completions = std::to_string(succeeded) + "/1";
  }

  std::string duration;  // empty until the job starts
  if (std::optional<int64_t> start = ParseTime(api::GetString(job, "status.startTime"))) {
    std::optional<int64_t> end = ParseTime(api::GetString(job, "status.completionTime"));
    duration = HumanDuration((end ? *end : now) - *start);
  }

  constexpr std::string_view kConditions = "status.conditions";
  std::string status = "Running";
  if (HasCondition(job, kConditions, "Complete")) {
    status = "Complete";
  } else if (HasCondition(job, kConditions, "Failed")) {
    status = "Failed";
  } else if (api::Has(job, "metadata.deletionTimestamp")) {
    status = "Terminating";
  } else if (HasCondition(job, kConditions, "Suspended")) {
    status = "Suspended";
  } else if (HasCondition(job, kConditions, "FailureTarget")) {
    status = "FailureTarget";
  } else if (HasCondition(job, kConditions, "SuccessCriteriaMet")) {
    status = "SuccessCriteriaMet";
  }

  Row row{{Name(job), status, completions, duration, Age(job, now)}};
  AppendContainerCells(job, "spec.template.spec.containers", row);
  row.cells.emplace_back(FormatLabelSelector(job, "spec.selector"));
  return row;
}

Row CronJobRow(const Value& cj, int64_t now) {
  const Value* suspend = api::Find(cj, "spec.suspend");
  std::string suspend_cell = "<unset>";
  if (suspend != nullptr && suspend->IsBool()) suspend_cell = suspend->GetBool() ? "True" : "False";
  std::string last_schedule = "<none>";
  if (api::Has(cj, "status.lastScheduleTime")) {
    last_schedule = Since(cj, "status.lastScheduleTime", now);
  }
  Row row{{Name(cj), api::GetString(cj, "spec.schedule"),
           api::GetString(cj, "spec.timeZone", "<none>"), suspend_cell,
           static_cast<int64_t>(Items(cj, "status.active").Size()), last_schedule, Age(cj, now)}};
  AppendContainerCells(cj, "spec.jobTemplate.spec.template.spec.containers", row);
  row.cells.emplace_back(FormatLabelSelector(cj, "spec.jobTemplate.spec.selector"));
  return row;
}

// ---- Services and networking -----------------------------------------------------------

std::string ServiceExternalIp(const Value& svc, std::string_view type) {
  std::vector<std::string> external_ips;
  for (const Value& ip : Items(svc, "spec.externalIPs").GetArray()) {
    external_ips.emplace_back(api::View(ip));
  }
  if (type == "ClusterIP" || type == "NodePort") return OrNone(Join(external_ips, ","));
  if (type == "LoadBalancer") {
    std::vector<std::string> all = LoadBalancerAddresses(svc, "status.loadBalancer.ingress");
    if (all.empty() && external_ips.empty()) return "<pending>";
    all.insert(all.end(), external_ips.begin(), external_ips.end());
    return Join(all, ",");
  }
  if (type == "ExternalName") return api::GetString(svc, "spec.externalName");
  return "<unknown>";
}

Row ServiceRow(const Value& svc, int64_t now) {
  // Defaulting makes these always set upstream; be lenient with objects that skipped it.
  std::string type = api::GetString(svc, "spec.type", "ClusterIP");
  const Value& cluster_ips = Items(svc, "spec.clusterIPs");
  std::string cluster_ip = cluster_ips.Empty() ? api::GetString(svc, "spec.clusterIP")
                                               : std::string(api::View(cluster_ips[0]));
  std::vector<std::string> ports;
  for (const Value& p : Items(svc, "spec.ports").GetArray()) {
    std::string port = std::to_string(api::GetInt(p, "port"));
    if (int64_t node_port = api::GetInt(p, "nodePort"); node_port > 0) {
      port += ":" + std::to_string(node_port);
    }
    ports.push_back(port + "/" + api::GetString(p, "protocol", "TCP"));
  }
  return {{Name(svc), type, OrNone(cluster_ip), ServiceExternalIp(svc, type),
           OrNone(Join(ports, ",")), Age(svc, now), FormatLabels(svc, "spec.selector")}};
}

// net.JoinHostPort: IPv6 addresses get brackets.
std::string HostPort(const std::string& host, int64_t port) {
  std::string h = host.find(':') == std::string::npos ? host : "[" + host + "]";
  return h + ":" + std::to_string(port);
}

Row EndpointsRow(const Value& ep, int64_t now) {
  const Value& subsets = Items(ep, "subsets");
  std::string endpoints = "<none>";
  if (!subsets.Empty()) {
    std::vector<std::string> all;
    for (const Value& ss : subsets.GetArray()) {
      const Value& addresses = Items(ss, "addresses");
      const Value& ports = Items(ss, "ports");
      if (ports.Empty()) {  // headless services may have no ports
        for (const Value& a : addresses.GetArray()) all.push_back(api::GetString(a, "ip"));
        continue;
      }
      for (const Value& p : ports.GetArray()) {
        for (const Value& a : addresses.GetArray()) {
          all.push_back(HostPort(api::GetString(a, "ip"), api::GetInt(p, "port")));
        }
      }
    }
    endpoints = ListWithMore(all);
  }
  return {{Name(ep), endpoints, Age(ep, now)}};
}

// listWithMoreString: as ListWithMore, "<unset>" when empty.
std::string ListOrUnset(const std::vector<std::string>& all) {
  return all.empty() ? "<unset>" : ListWithMore(all);
}

Row EndpointSliceRow(const Value& es, int64_t now) {
  std::vector<std::string> ports, addresses;
  for (const Value& p : Items(es, "ports").GetArray()) {
    const Value* port = api::Find(p, "port");
    if (port != nullptr && port->IsInt64()) {
      ports.push_back(std::to_string(port->GetInt64()));
    } else {
      ports.push_back(api::GetString(p, "name", "*"));
    }
  }
  for (const Value& e : Items(es, "endpoints").GetArray()) {
    for (const Value& a : Items(e, "addresses").GetArray()) addresses.emplace_back(api::View(a));
  }
  return {{Name(es), api::GetString(es, "addressType"), ListOrUnset(ports),
           ListOrUnset(addresses), Age(es, now)}};
}

Row IngressRow(const Value& ing, int64_t now) {
  const Value& rules = Items(ing, "spec.rules");
  std::vector<std::string> hosts;
  bool more = false;  // a rule follows the one that filled the list
  for (const Value& r : rules.GetArray()) {
    if (hosts.size() == kMaxListed) {
      more = true;
      break;
    }
    std::string host = api::GetString(r, "host");
    if (!host.empty()) hosts.push_back(host);
  }
  std::string hosts_cell = hosts.empty() ? "*" : Join(hosts, ",");
  // Upstream counts the remainder over all rules, hostless ones included.
  if (more) hosts_cell += " + " + std::to_string(rules.Size() - kMaxListed) + " more...";
  return {{Name(ing), api::GetString(ing, "spec.ingressClassName", "<none>"), hosts_cell,
           Join(LoadBalancerAddresses(ing, "status.loadBalancer.ingress"), ","),
           Items(ing, "spec.tls").Empty() ? "80" : "80, 443", Age(ing, now)}};
}

Row IngressClassRow(const Value& ic, int64_t now) {
  std::string parameters = "<none>";
  if (const Value* p = Object(ic, "spec.parameters")) {
    parameters = api::GetString(*p, "kind");
    if (api::Has(*p, "apiGroup")) parameters += "." + api::GetString(*p, "apiGroup");
    parameters += "/" + api::GetString(*p, "name");
  }
  return {{Name(ic), api::GetString(ic, "spec.controller"), parameters, Age(ic, now)}};
}

// ---- Configuration, events, the rest ---------------------------------------------------

Row ConfigMapRow(const Value& cm, int64_t now) {
  return {{Name(cm), static_cast<int64_t>(MemberCount(cm, "data") + MemberCount(cm, "binaryData")),
           Age(cm, now)}};
}

Row SecretRow(const Value& s, int64_t now) {
  return {{Name(s), api::GetString(s, "type"), static_cast<int64_t>(MemberCount(s, "data")),
           Age(s, now)}};
}

Row LeaseRow(const Value& l, int64_t now) {
  return {{Name(l), api::GetString(l, "spec.holderIdentity"), Age(l, now)}};
}

Row PriorityClassRow(const Value& pc, int64_t now) {
  return {{Name(pc), api::GetInt(pc, "value"),
           std::string(api::GetBool(pc, "globalDefault") ? "true" : "false"), Age(pc, now),
           api::GetString(pc, "preemptionPolicy", "PreemptLowerPriority")}};
}

Row EventRow(const Value& ev, int64_t now) {
  std::string first = api::Has(ev, "firstTimestamp") ? Since(ev, "firstTimestamp", now)
                                                     : Since(ev, "eventTime", now);
  std::string last = api::Has(ev, "lastTimestamp") ? Since(ev, "lastTimestamp", now) : first;
  int64_t count = api::GetInt(ev, "count");
  if (Object(ev, "series") != nullptr) {
    last = Since(ev, "series.lastObservedTime", now);
    count = api::GetInt(ev, "series.count");
  } else if (count == 0) {
    count = 1;  // singleton events of the events.k8s.io API carry no count
  }

  std::string kind = api::GetString(ev, "involvedObject.kind");
  std::transform(kind.begin(), kind.end(), kind.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string involved = api::GetString(ev, "involvedObject.name");
  std::string object = involved.empty() ? kind : kind + "/" + involved;

  std::string component = api::GetString(ev, "source.component");
  if (component.empty()) component = api::GetString(ev, "reportingComponent");
  std::string host = api::GetString(ev, "source.host");
  if (host.empty()) host = api::GetString(ev, "reportingInstance");
  std::string source = host.empty() ? component : component + ", " + host;

  std::string message = api::GetString(ev, "message");
  const auto not_space = [](unsigned char c) { return !std::isspace(c); };
  message.erase(std::find_if(message.rbegin(), message.rend(), not_space).base(), message.end());
  message.erase(message.begin(), std::find_if(message.begin(), message.end(), not_space));

  return {{last, api::GetString(ev, "type"), api::GetString(ev, "reason"), object,
           api::GetString(ev, "involvedObject.fieldPath"), source, message, first, count,
           Name(ev)}};
}

// ---- Storage ---------------------------------------------------------------------------

// helper.GetAccessModesAsString: "RWO,ROX,RWX,RWOP" in that order, each once.
std::string AccessModesString(const Value& obj, std::string_view path) {
  std::set<std::string> have;
  for (const auto& m : Items(obj, path).GetArray()) {
    if (m.IsString()) have.emplace(api::View(m));
  }
  std::vector<std::string> out;
  for (auto [mode, abbrev] : {std::pair<const char*, const char*>{"ReadWriteOnce", "RWO"},
                              {"ReadOnlyMany", "ROX"},
                              {"ReadWriteMany", "RWX"},
                              {"ReadWriteOncePod", "RWOP"}}) {
    if (have.count(mode)) out.emplace_back(abbrev);
  }
  return Join(out, ",");
}

// The storage quantity at `path` as written ("" when absent).
std::string StorageQuantity(const Value& obj, std::string_view path) {
  const Value* m = Object(obj, path);
  const Value* q = m != nullptr ? api::FindMember(*m, "storage") : nullptr;
  if (q == nullptr) return "";
  if (q->IsString()) return std::string(api::View(*q));
  return api::ToJson(*q);
}

// GetPersistentVolume(Claim)Class: the beta annotation wins over spec.storageClassName.
std::string StorageClassOf(const Value& obj) {
  auto annotations = api::GetStringMap(obj, "metadata.annotations");
  auto it = annotations.find("volume.beta.kubernetes.io/storage-class");
  if (it != annotations.end()) return it->second;
  return api::GetString(obj, "spec.storageClassName");
}

std::string PhaseOrTerminating(const Value& obj) {
  if (api::Has(obj, "metadata.deletionTimestamp")) return "Terminating";
  return api::GetString(obj, "status.phase");
}

Row PersistentVolumeRow(const Value& pv, int64_t now) {
  std::string claim;
  if (Object(pv, "spec.claimRef") != nullptr) {
    claim = api::GetString(pv, "spec.claimRef.namespace") + "/" +
            api::GetString(pv, "spec.claimRef.name");
  }
  return {{Name(pv), StorageQuantity(pv, "spec.capacity"), AccessModesString(pv, "spec.accessModes"),
           api::GetString(pv, "spec.persistentVolumeReclaimPolicy"), PhaseOrTerminating(pv), claim,
           StorageClassOf(pv), api::GetString(pv, "spec.volumeAttributesClassName", "<unset>"),
           api::GetString(pv, "status.reason"), Age(pv, now),
           api::GetString(pv, "spec.volumeMode", "<unset>")}};
}

Row PersistentVolumeClaimRow(const Value& pvc, int64_t now) {
  std::string capacity, modes;
  std::string volume = api::GetString(pvc, "spec.volumeName");
  if (!volume.empty()) {
    capacity = StorageQuantity(pvc, "status.capacity");
    modes = AccessModesString(pvc, "status.accessModes");
  }
  return {{Name(pvc), PhaseOrTerminating(pvc), volume, capacity, modes, StorageClassOf(pvc),
           api::GetString(pvc, "spec.volumeAttributesClassName", "<unset>"), Age(pvc, now),
           api::GetString(pvc, "spec.volumeMode", "<unset>")}};
}

Row StorageClassRow(const Value& sc, int64_t now) {
  std::string name = Name(sc);
  auto annotations = api::GetStringMap(sc, "metadata.annotations");
  if (annotations["storageclass.kubernetes.io/is-default-class"] == "true" ||
      annotations["storageclass.beta.kubernetes.io/is-default-class"] == "true") {
    name += " (default)";
  }
  return {{name, api::GetString(sc, "provisioner"), api::GetString(sc, "reclaimPolicy", "Delete"),
           api::GetString(sc, "volumeBindingMode", "Immediate"),
           std::string(api::GetBool(sc, "allowVolumeExpansion") ? "true" : "false"), Age(sc, now)}};
}

// The controller as formatResourceName prints it with its kind: "statefulset.apps/web".
Row ControllerRevisionRow(const Value& cr, int64_t now) {
  std::string controller = "<none>";
  for (const auto& ref : Items(cr, "metadata.ownerReferences").GetArray()) {
    if (!api::GetBool(ref, "controller")) continue;
    std::string api_version = api::GetString(ref, "apiVersion");
    auto slash = api_version.find('/');
    std::string kind = api::GetString(ref, "kind");
    for (char& c : kind) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (slash != std::string::npos) kind += "." + api_version.substr(0, slash);
    controller = kind + "/" + api::GetString(ref, "name");
    break;
  }
  return {{Name(cr), controller, api::GetInt(cr, "revision"), Age(cr, now)}};
}

// Roles and ClusterRoles: the creation time itself (RFC 3339, as stored).
Row RoleRow(const Value& role, int64_t) {
  return {{Name(role), api::GetString(role, "metadata.creationTimestamp")}};
}

// RoleBindings and ClusterRoleBindings, with rbac.SubjectsStrings' wide columns.
Row RoleBindingRow(const Value& b, int64_t now) {
  std::vector<std::string> users, groups, sas;
  for (const Value& s : Items(b, "subjects").GetArray()) {
    std::string kind = api::GetString(s, "kind"), name = api::GetString(s, "name");
    if (kind == "User") users.push_back(name);
    if (kind == "Group") groups.push_back(name);
    if (kind == "ServiceAccount") sas.push_back(api::GetString(s, "namespace") + "/" + name);
  }
  return {{Name(b), api::GetString(b, "roleRef.kind") + "/" + api::GetString(b, "roleRef.name"),
           Age(b, now), Join(users, ", "), Join(groups, ", "), Join(sas, ", ")}};
}

Row NameAgeRow(const Value& obj, int64_t now) { return {{Name(obj), Age(obj, now)}}; }

const std::vector<Printer>& Printers() {
  static const std::vector<Printer> kPrinters = {
      {"", "pods",
       {kNameColumn,
        {"Ready", "string", 0, "The aggregate readiness state of this pod for accepting traffic."},
        {"Status", "string", 0, "The aggregate status of the containers in this pod."},
        {"Restarts", "string", 0,
         "The number of times the containers in this pod have been restarted and when the "
         "last container in this pod has restarted."},
        kAgeColumn,
        {"IP", "string", 1, "podIP address allocated to the pod."},
        {"Node", "string", 1, "NodeName is the name of the node the pod is scheduled onto."},
        {"Nominated Node", "string", 1,
         "nominatedNodeName is set only when this pod preempts other pods on the node."},
        {"Readiness Gates", "string", 1,
         "If specified, all readiness gates will be evaluated for pod readiness."}},
       PodRow},
      {"", "nodes",
       {kNameColumn,
        {"Status", "string", 0, "The status of the node"},
        {"Roles", "string", 0, "The roles of the node"},
        kAgeColumn,
        {"Version", "string", 0, "Kubelet Version reported by the node."},
        {"Internal-IP", "string", 1, "List of addresses reachable to the node."},
        {"External-IP", "string", 1, "List of addresses reachable to the node."},
        {"OS-Image", "string", 1, "OS Image reported by the node from /etc/os-release."},
        {"Kernel-Version", "string", 1, "Kernel Version reported by the node from 'uname -r'."},
        {"Container-Runtime", "string", 1,
         "ContainerRuntime Version reported by the node through runtime remote API."}},
       NodeRow},
      {"", "namespaces",
       {kNameColumn, {"Status", "string", 0, "The status of the namespace"}, kAgeColumn},
       NamespaceRow},
      {"apps", "deployments",
       {kNameColumn,
        {"Ready", "string", 0, "Number of the pod with ready state"},
        {"Up-to-date", "string", 0,
         "Total number of non-terminated pods targeted by this deployment that have the "
         "desired template spec."},
        {"Available", "string", 0,
         "Total number of available pods (ready for at least minReadySeconds) targeted by this "
         "deployment."},
        kAgeColumn, kContainersColumn, kImagesColumn, kSelectorColumn},
       DeploymentRow},
      {"apps", "replicasets",
       {kNameColumn,
        {"Desired", "integer", 0, "Replicas is the number of desired replicas."},
        {"Current", "integer", 0, "Replicas is the most recently observed number of replicas."},
        {"Ready", "integer", 0, "The number of ready replicas for this replica set."},
        kAgeColumn, kContainersColumn, kImagesColumn, kSelectorColumn},
       ReplicaSetRow},
      {"apps", "daemonsets",
       {kNameColumn,
        {"Desired", "integer", 0,
         "The total number of nodes that should be running the daemon pod."},
        {"Current", "integer", 0,
         "The number of nodes that are running at least 1 daemon pod and are supposed to run "
         "the daemon pod."},
        {"Ready", "integer", 0,
         "The number of nodes that should be running the daemon pod and have one or more of "
         "the daemon pod running and ready."},
        {"Up-to-date", "integer", 0,
         "The total number of nodes that are running updated daemon pod"},
        {"Available", "integer", 0,
         "The number of nodes that should be running the daemon pod and have one or more of "
         "the daemon pod running and available."},
        {"Node Selector", "string", 0,
         "NodeSelector is a selector which must be true for the pod to fit on a node."},
        kAgeColumn, kContainersColumn, kImagesColumn, kSelectorColumn},
       DaemonSetRow},
      {"apps", "statefulsets",
       {kNameColumn, {"Ready", "string", 0, "Number of the pod with ready state"}, kAgeColumn,
        kContainersColumn, kImagesColumn},
       StatefulSetRow},
      {"batch", "jobs",
       {kNameColumn,
        {"Status", "string", 0, "Status of the job."},
        {"Completions", "string", 0, "The number of pods which reached phase Succeeded."},
        {"Duration", "string", 0, "Time required to complete the job."},
        kAgeColumn, kContainersColumn, kImagesColumn, kSelectorColumn},
       JobRow},
      {"batch", "cronjobs",
       {kNameColumn,
        {"Schedule", "string", 0, "The schedule in Cron format."},
        {"Timezone", "string", 0, "The time zone name for the given schedule."},
        {"Suspend", "boolean", 0,
         "This flag tells the controller to suspend subsequent executions."},
        {"Active", "integer", 0, "A list of pointers to currently running jobs."},
        {"Last Schedule", "string", 0,
         "Information when was the last time the job was successfully scheduled."},
        kAgeColumn, kContainersColumn, kImagesColumn, kSelectorColumn},
       CronJobRow},
      {"", "services",
       {kNameColumn,
        {"Type", "string", 0, "type determines how the Service is exposed."},
        {"Cluster-IP", "string", 0, "clusterIP is the IP address of the service."},
        {"External-IP", "string", 0,
         "externalIPs is a list of IP addresses for which nodes in the cluster will also "
         "accept traffic for this service."},
        {"Port(s)", "string", 0, "The list of ports that are exposed by this service."},
        kAgeColumn,
        {"Selector", "string", 1,
         "Route service traffic to pods with label keys and values matching this selector."}},
       ServiceRow},
      {"", "endpoints",
       {kNameColumn,
        {"Endpoints", "string", 0,
         "The set of all endpoints is the union of all subsets."},
        kAgeColumn},
       EndpointsRow},
      {"discovery.k8s.io", "endpointslices",
       {kNameColumn,
        {"AddressType", "string", 0,
         "addressType specifies the type of address carried by this EndpointSlice."},
        {"Ports", "string", 0,
         "ports specifies the list of network ports exposed by each endpoint."},
        {"Endpoints", "string", 0, "endpoints is a list of unique endpoints in this slice."},
        kAgeColumn},
       EndpointSliceRow},
      {"networking.k8s.io", "ingresses",
       {kNameColumn,
        {"Class", "string", 0,
         "The name of the IngressClass resource that should be used for additional "
         "configuration"},
        {"Hosts", "string", 0,
         "Hosts that incoming requests are matched against before the ingress rule"},
        {"Address", "string", 0,
         "Address is a list containing ingress points for the load-balancer"},
        {"Ports", "string", 0, "Ports of TLS configurations that open"},
        kAgeColumn},
       IngressRow},
      {"networking.k8s.io", "ingressclasses",
       {kNameColumn,
        {"Controller", "string", 0, "Controller that is responsible for handling this class"},
        {"Parameters", "string", 0, "A reference to a resource with additional parameters"},
        kAgeColumn},
       IngressClassRow},
      {"", "configmaps",
       {kNameColumn,
        {"Data", "string", 0, "Data contains the configuration data."},
        kAgeColumn},
       ConfigMapRow},
      {"", "secrets",
       {kNameColumn,
        {"Type", "string", 0, "Used to facilitate programmatic handling of secret data."},
        {"Data", "string", 0, "Data contains the secret data."},
        kAgeColumn},
       SecretRow},
      {"", "serviceaccounts", {kNameColumn, kAgeColumn}, NameAgeRow},
      {"", "persistentvolumes",
       {kNameColumn,
        {"Capacity", "string", 0,
         "capacity is the description of the persistent volume's resources and capacity."},
        {"Access Modes", "string", 0, "accessModes contains all ways the volume can be mounted."},
        {"Reclaim Policy", "string", 0,
         "persistentVolumeReclaimPolicy defines what happens to a persistent volume when "
         "released from its claim."},
        {"Status", "string", 0, "phase indicates if a volume is available, bound to a claim, or "
                                "released by a claim."},
        {"Claim", "string", 0, "claimRef is part of a bi-directional binding between "
                               "PersistentVolume and PersistentVolumeClaim."},
        {"StorageClass", "string", 0, "StorageClass of the pv"},
        {"VolumeAttributesClass", "string", 0, "VolumeAttributesClass of the pv"},
        {"Reason", "string", 0, "reason is a brief CamelCase string that describes any failure "
                                "and is meant for machine parsing and tidy display in the CLI."},
        kAgeColumn,
        {"VolumeMode", "string", 1, "volumeMode defines if a volume is intended to be used with "
                                    "a formatted filesystem or to remain in raw block state."}},
       PersistentVolumeRow},
      {"", "persistentvolumeclaims",
       {kNameColumn,
        {"Status", "string", 0, "phase represents the current phase of PersistentVolumeClaim."},
        {"Volume", "string", 0, "volumeName is the binding reference to the PersistentVolume "
                                "backing this claim."},
        {"Capacity", "string", 0, "capacity represents the actual resources of the underlying "
                                  "volume."},
        {"Access Modes", "string", 0, "accessModes contains the actual access modes the volume "
                                      "backing the PVC has."},
        {"StorageClass", "string", 0, "StorageClass of the pvc"},
        {"VolumeAttributesClass", "string", 0, "VolumeAttributesClass of the pvc"},
        kAgeColumn,
        {"VolumeMode", "string", 1, "volumeMode defines what type of volume is required by the "
                                    "claim."}},
       PersistentVolumeClaimRow},
      {"storage.k8s.io", "storageclasses",
       {kNameColumn,
        {"Provisioner", "string", 0, "provisioner indicates the type of the provisioner."},
        {"ReclaimPolicy", "string", 0, "reclaimPolicy controls the reclaimPolicy for "
                                       "dynamically provisioned PersistentVolumes of this "
                                       "storage class."},
        {"VolumeBindingMode", "string", 0, "volumeBindingMode indicates how PersistentVolumeClaims "
                                           "should be provisioned and bound."},
        {"AllowVolumeExpansion", "string", 0, "allowVolumeExpansion shows whether the storage "
                                              "class allow volume expand."},
        kAgeColumn},
       StorageClassRow},
      {"apps", "controllerrevisions",
       {kNameColumn,
        {"Controller", "string", 0, "Controller of the object"},
        {"Revision", "string", 0, "Revision indicates the revision of the state represented by "
                                  "Data."},
        kAgeColumn},
       ControllerRevisionRow},
      {"coordination.k8s.io", "leases",
       {kNameColumn,
        {"Holder", "string", 0,
         "holderIdentity contains the identity of the holder of a current lease."},
        kAgeColumn},
       LeaseRow},
      {"scheduling.k8s.io", "priorityclasses",
       {kNameColumn,
        {"Value", "integer", 0, "value of the priority for this class"},
        {"Global-Default", "string", 0, "whether this is the default class for pods without one"},
        kAgeColumn,
        {"PreemptionPolicy", "string", 0, "whether pods of this class may preempt others"}},
       PriorityClassRow},
      {"", "events",
       {{"Last Seen", "string", 0,
         "The time at which the most recent occurrence of this event was recorded."},
        {"Type", "string", 0,
         "Type of this event (Normal, Warning), new types could be added in the future"},
        {"Reason", "string", 0,
         "This should be a short, machine understandable string that gives the reason for the "
         "transition into the object's current status."},
        {"Object", "string", 0, "The object that this event is about."},
        {"Subobject", "string", 1,
         "If referring to a piece of an object instead of an entire object, this string should "
         "contain a valid JSON/Go field access statement."},
        {"Source", "string", 1, "The component reporting this event."},
        {"Message", "string", 0,
         "A human-readable description of the status of this operation."},
        {"First Seen", "string", 1, "The time at which the event was first recorded."},
        {"Count", "string", 1, "The number of times this event has occurred."},
        {"Name", "string", 1, kNameDoc}},
       EventRow},
      {kRbac, "roles", {kNameColumn, kCreatedAtColumn}, RoleRow},
      {kRbac, "clusterroles", {kNameColumn, kCreatedAtColumn}, RoleRow},
      {kRbac, "rolebindings",
       {kNameColumn, kRoleRefColumn, kAgeColumn, {"Users", "string", 1, "Users in the roleBinding"},
        {"Groups", "string", 1, "Groups in the roleBinding"},
        {"ServiceAccounts", "string", 1, "ServiceAccounts in the roleBinding"}},
       RoleBindingRow},
      {kRbac, "clusterrolebindings",
       {kNameColumn, kRoleRefColumn, kAgeColumn,
        {"Users", "string", 1, "Users in the clusterRoleBinding"},
        {"Groups", "string", 1, "Groups in the clusterRoleBinding"},
        {"ServiceAccounts", "string", 1, "ServiceAccounts in the clusterRoleBinding"}},
       RoleBindingRow},
  };
  return kPrinters;
}

const Printer& PrinterFor(const ResourceInfo& info) {
  static const Printer kDefault{"", "", {kNameColumn, kAgeColumn}, NameAgeRow};
  for (const Printer& p : Printers()) {
    if (p.group == info.group && p.plural == info.plural) return p;
  }
  return kDefault;
}

void AppendColumn(std::string& out, const Column& c) {
  out += "{\"name\":";
  api::AppendQuoted(out, c.name);
  out += ",\"type\":";
  api::AppendQuoted(out, c.type);
  // As upstream, every column called Name (and only those) has format "name".
  out += c.name == "Name" ? ",\"format\":\"name\"" : ",\"format\":\"\"";
  out += ",\"description\":";
  api::AppendQuoted(out, c.description);
  out += ",\"priority\":" + std::to_string(c.priority) + "}";
}

void AppendRow(std::string& out, const Row& row, const Value& obj, IncludeObject include) {
  out += "{\"cells\":[";
  for (size_t i = 0; i < row.cells.size(); ++i) {
    if (i > 0) out += ',';
    if (const auto* s = std::get_if<std::string>(&row.cells[i])) {
      api::AppendQuoted(out, *s);
    } else {
      out += std::to_string(std::get<int64_t>(row.cells[i]));
    }
  }
  out += ']';
  if (!row.completed_reason.empty()) {
    out += ",\"conditions\":[{\"type\":\"Completed\",\"status\":\"True\",\"reason\":";
    api::AppendQuoted(out, row.completed_reason);
    out += ",\"message\":";
    api::AppendQuoted(out, row.completed_message);
    out += "}]";
  }
  switch (include) {
    case IncludeObject::kNone:
      break;
    case IncludeObject::kMetadata: {
      out += ",\"object\":{\"kind\":\"PartialObjectMetadata\",\"apiVersion\":\"meta.k8s.io/v1\","
             "\"metadata\":";
      const Value* meta = Object(obj, "metadata");
      out += meta != nullptr ? api::ToJson(*meta) : "{}";
      out += '}';
      break;
    }
    case IncludeObject::kObject:
      out += ",\"object\":" + api::ToJson(obj);
      break;
  }
  out += '}';
}

}  // namespace

Result<IncludeObject> ParseIncludeObject(std::string_view s) {
  if (s.empty() || s == "Metadata") return IncludeObject::kMetadata;
  if (s == "None") return IncludeObject::kNone;
  if (s == "Object") return IncludeObject::kObject;
  return BadRequest("invalid includeObject \"" + std::string(s) +
                    "\": must be None, Metadata or Object");
}

std::string BuildTable(const ResourceInfo& info, const std::vector<const api::Value*>& objects,
                       IncludeObject include, std::string_view list_resource_version,
                       std::string_view continue_token, int64_t now_unix) {
  const Printer& printer = PrinterFor(info);
  std::string out = R"({"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{)";
  if (!list_resource_version.empty()) {
    out += "\"resourceVersion\":";
    api::AppendQuoted(out, list_resource_version);
  }
  if (!continue_token.empty()) {
    if (!list_resource_version.empty()) out += ',';
    out += "\"continue\":";
    api::AppendQuoted(out, continue_token);
  }
  out += "},\"columnDefinitions\":[";
  for (size_t i = 0; i < printer.columns.size(); ++i) {
    if (i > 0) out += ',';
    AppendColumn(out, printer.columns[i]);
  }
  out += "],\"rows\":[";
  for (size_t i = 0; i < objects.size(); ++i) {
    if (i > 0) out += ',';
    AppendRow(out, printer.row(*objects[i], now_unix), *objects[i], include);
  }
  out += "]}";
  return out;
}

std::string HumanDuration(int64_t seconds) {
  auto str = [](int64_t n, const char* unit) { return std::to_string(n) + unit; };
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return str(seconds, "s");
  const int64_t minutes = seconds / 60;
  if (minutes < 10) {
    return seconds % 60 == 0 ? str(minutes, "m") : str(minutes, "m") + str(seconds % 60, "s");
  }
  if (minutes < 180) return str(minutes, "m");
  const int64_t hours = seconds / 3600;
  if (hours < 8) {
    return minutes % 60 == 0 ? str(hours, "h") : str(hours, "h") + str(minutes % 60, "m");
  }
  if (hours < 48) return str(hours, "h");
  const int64_t days = hours / 24;
  if (hours < 24 * 8) {
    return hours % 24 == 0 ? str(days, "d") : str(days, "d") + str(hours % 24, "h");
  }
  if (hours < 24 * 365 * 2) return str(days, "d");
  const int64_t years = days / 365;
  if (hours < 24 * 365 * 8) {
    return days % 365 == 0 ? str(years, "y") : str(years, "y") + str(days % 365, "d");
  }
  return str(years, "y");
}

}  // namespace kubepp::apiserver
