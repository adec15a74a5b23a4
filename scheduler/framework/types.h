// The scheduler's view of pods and nodes: the fields scheduling reads, parsed once from
// the API object when the informer delivers it, so that filtering thousands of nodes
// never touches JSON. Every type here mirrors its core/v1 counterpart.
//
// Thread safety: values; PodInfo and NodeSpec are shared immutably (shared_ptr<const>).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/api/json.h"
#include "common/api/selector.h"
#include "common/status.h"

namespace kubepp::scheduler {

using Labels = std::map<std::string, std::string>;

// Quantities of the resources the scheduler fits: cpu in millicores, memory and
// ephemeral-storage in bytes, pods as a count, extended resources by name.
struct Resources {
  int64_t milli_cpu = 0;
  int64_t memory = 0;
  int64_t ephemeral_storage = 0;
  int64_t pods = 0;
  std::map<std::string, int64_t> scalar;  // extended resources ("nvidia.com/gpu")

  void Add(const Resources& o);
  void Sub(const Resources& o);
  // Element-wise maximum (upstream's init-container rule).
  void Max(const Resources& o);
  int64_t Scalar(const std::string& name) const;
};

// Reads a resources map ({"cpu":"100m","memory":"1Gi",...}) into `out`.
void ParseResourceList(const api::Value* list, Resources* out);

struct Taint {
  std::string key, value, effect;  // effect: NoSchedule, PreferNoSchedule, NoExecute
};

struct Toleration {
  std::string key;
  std::string op = "Equal";  // Equal or Exists
  std::string value;
  std::string effect;  // "" tolerates every effect

  // upstream Toleration.ToleratesTaint.
  bool Tolerates(const Taint& taint) const;
};

bool TolerationsTolerate(const std::vector<Toleration>& tolerations, const Taint& taint);

// One requirement of a node selector term: In, NotIn, Exists, DoesNotExist, Gt, Lt.
struct NodeSelectorRequirement {
  std::string key;
  std::string op;
  std::vector<std::string> values;
  bool Matches(const Labels& labels) const;
};

// Expressions are ANDed. An empty term matches no node (upstream).
struct NodeSelectorTerm {
  std::vector<NodeSelectorRequirement> match_expressions;
  std::vector<NodeSelectorRequirement> match_fields;  // only metadata.name
  bool Matches(const Labels& labels, const std::string& node_name) const;
};

struct PreferredSchedulingTerm {
  int32_t weight = 0;
  NodeSelectorTerm term;
};

// A pod (anti-)affinity term. `namespaces` and `namespace_selector` are as written;
// with neither, the term means the pod's own namespace (already filled in).
struct PodAffinityTerm {
  api::LabelSelector selector;
  std::set<std::string> namespaces;
  std::optional<api::LabelSelector> namespace_selector;
  std::string topology_key;
  int32_t weight = 0;  // preferred terms only

  // Whether a pod in namespace `ns` (with those namespace labels) is in scope.
  bool MatchesNamespace(const std::string& ns, const Labels* ns_labels) const;
};

struct TopologySpreadConstraint {
  int32_t max_skew = 1;
  std::string topology_key;
  bool do_not_schedule = true;  // whenUnsatisfiable: DoNotSchedule vs ScheduleAnyway
  api::LabelSelector selector;  // matchLabelKeys already merged in
  int32_t min_domains = 1;
  bool honor_node_affinity = true;  // nodeAffinityPolicy (default Honor)
  bool honor_node_taints = false;   // nodeTaintsPolicy (default Ignore)
};

struct HostPort {
  std::string host_ip;  // "" and "0.0.0.0" mean every address
  std::string protocol;
  int32_t port = 0;
  bool operator==(const HostPort&) const = default;
};

// Whether two host ports collide (same protocol and port, overlapping addresses).
bool PortsConflict(const HostPort& a, const HostPort& b);

struct PodInfo {
  std::string ns, name, uid, key;  // key: "ns/name"
  std::string node_name;
  std::string scheduler_name;
  std::string resource_version;
  int32_t priority = 0;
  Labels labels;
  Resources requests;           // what fit counts: max(sum(containers), init) + overhead
  Resources non_zero_requests;  // for scores: cpu/memory defaulted when unset (upstream)
  std::vector<HostPort> host_ports;
  std::vector<Toleration> tolerations;
  Labels node_selector;
  std::optional<std::vector<NodeSelectorTerm>> required_node_affinity;  // terms ORed
  std::vector<PreferredSchedulingTerm> preferred_node_affinity;
  std::vector<PodAffinityTerm> required_affinity, required_anti_affinity;
  std::vector<PodAffinityTerm> preferred_affinity, preferred_anti_affinity;
  std::vector<TopologySpreadConstraint> spread_constraints;
  std::string controller_uid;  // the controlling ownerReference, for spreading
  bool terminating = false;
  bool gated = false;          // spec.schedulingGates present
  // Hash of spec + labels: an update that keeps it cannot change a scheduling outcome.
  size_t spec_hash = 0;
  // The PodScheduled condition and the last-attempt annotation as currently stored, so
  // that a repeated failure with the same message writes nothing.
  std::string scheduled_status, scheduled_message, last_attempt_annotation;

  bool HasAffinityTerms() const {
    return !required_affinity.empty() || !required_anti_affinity.empty() ||
           !preferred_affinity.empty() || !preferred_anti_affinity.empty();
  }
};
using PodPtr = std::shared_ptr<const PodInfo>;

// A selector or term the scheduler cannot interpret is BadRequest naming it; admission
// normally rejects such pods first.
Result<PodPtr> ParsePod(const api::Value& pod);

struct NodeSpec {
  std::string name;
  Labels labels;
  std::vector<Taint> taints;
  bool unschedulable = false;
  bool ready = false;  // condition Ready=True
  Resources allocatable;
  bool operator==(const NodeSpec& o) const;
};
using NodeSpecPtr = std::shared_ptr<const NodeSpec>;

NodeSpecPtr ParseNode(const api::Value& node);

// Whether the node satisfies the pod's nodeSelector and required node affinity.
bool MatchesNodeSelectorAndAffinity(const PodInfo& pod, const NodeSpec& node);
// The first NoSchedule/NoExecute taint of the node that the pod does not tolerate;
// nullptr when all are tolerated.
const Taint* FirstUntoleratedTaint(const PodInfo& pod, const NodeSpec& node);

// The annotation holding the per-node reasons of the last failed attempt.
inline constexpr const char* kLastAttemptAnnotation = "scheduler.kubepp.io/last-attempt";

}  // namespace kubepp::scheduler
