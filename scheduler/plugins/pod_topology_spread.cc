// topologySpreadConstraints. For each constraint the pods matching its selector (in
// the pod's namespace) are counted per domain (value of topologyKey) over the nodes the
// constraint considers (nodeAffinityPolicy / nodeTaintsPolicy, and nodes carrying every
// constraint's key). DoNotSchedule: placing the pod in a domain must keep
// count + self - global minimum <= maxSkew (the minimum is 0 while fewer than
// minDomains domains exist). ScheduleAnyway: fewer matching pods score higher.
#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "scheduler/plugins/plugins.h"

namespace kubepp::scheduler::plugins {
namespace {

constexpr const char* kFilterKey = "PodTopologySpread";
constexpr const char* kScoreKey = "PodTopologySpreadScore";

struct ConstraintCounts {
  const TopologySpreadConstraint* constraint;
  std::unordered_map<std::string, int64_t> per_domain;
  int64_t min = 0;
};

struct SpreadState : PluginState {
  std::vector<ConstraintCounts> constraints;
};

bool HasAllKeys(const NodeSpec& node, const std::vector<const TopologySpreadConstraint*>& cs) {
  return std::all_of(cs.begin(), cs.end(),
                     [&](const auto* c) { return node.labels.count(c->topology_key) > 0; });
}

// Counts matching pods per domain for `cs` over the snapshot's nodes.
std::unique_ptr<SpreadState> Count(const PodInfo& pod, const Snapshot& snapshot,
                                   const std::vector<const TopologySpreadConstraint*>& cs) {
  auto s = std::make_unique<SpreadState>();
  for (const auto* c : cs) s->constraints.push_back({c, {}, 0});
  for (const auto& ni : snapshot.nodes()) {
    const NodeSpec& node = *ni->node;
    if (!HasAllKeys(node, cs)) continue;
    for (auto& cc : s->constraints) {
      const TopologySpreadConstraint& c = *cc.constraint;
      if (c.honor_node_affinity && !MatchesNodeSelectorAndAffinity(pod, node)) continue;
      if (c.honor_node_taints && FirstUntoleratedTaint(pod, node) != nullptr) continue;
      int64_t n = 0;
      for (const auto& p : ni->pods) {
        if (p->ns == pod.ns && !p->terminating && c.selector.Matches(p->labels)) ++n;
      }
      cc.per_domain[node.labels.at(c.topology_key)] += n;
    }
  }
  for (auto& cc : s->constraints) {
    if (static_cast<int64_t>(cc.per_domain.size()) < cc.constraint->min_domains) {
      cc.min = 0;
      continue;
    }
    int64_t min = std::numeric_limits<int64_t>::max();
    for (const auto& [domain, n] : cc.per_domain) min = std::min(min, n);
    cc.min = cc.per_domain.empty() ? 0 : min;
  }
  return s;
}

std::vector<const TopologySpreadConstraint*> Constraints(const PodInfo& pod, bool hard) {
  std::vector<const TopologySpreadConstraint*> out;
  for (const auto& c : pod.spread_constraints) {
    if (c.do_not_schedule == hard) out.push_back(&c);
  }
  return out;
}

class PodTopologySpreadPlugin : public FilterPlugin {
 public:
  std::string_view Name() const override { return "PodTopologySpread"; }

  PreFilterResult PreFilter(CycleState& state, const PodInfo& pod,
                            const Snapshot& snapshot) const override {
    auto cs = Constraints(pod, true);
    if (cs.empty()) return PreFilterResult::SkipIf(true);
    state.Write(kFilterKey, Count(pod, snapshot, cs));
    return {};
  }

  bool Filter(const CycleState& state, const PodInfo& pod, const NodeInfo& ni,
              std::vector<std::string>* reasons) const override {
    const SpreadState* s = state.Read<SpreadState>(kFilterKey);
    const NodeSpec& node = *ni.node;
    for (const auto& cc : s->constraints) {
      auto label = node.labels.find(cc.constraint->topology_key);
      if (label == node.labels.end()) {
        reasons->push_back(
            "node(s) didn't match pod topology spread constraints (missing required label)");
        return false;
      }
      auto it = cc.per_domain.find(label->second);
      int64_t match = it == cc.per_domain.end() ? 0 : it->second;
      int64_t self = cc.constraint->selector.Matches(pod.labels) ? 1 : 0;
      if (match + self - cc.min > cc.constraint->max_skew) {
        reasons->push_back("node(s) didn't match pod topology spread constraints");
        return false;
      }
    }
    return true;
  }
};

class PodTopologySpreadScorePlugin : public ScorePlugin {
 public:
  std::string_view Name() const override { return "PodTopologySpread"; }

  bool PreScore(CycleState& state, const PodInfo& pod, const Snapshot& snapshot,
                const std::vector<const NodeInfo*>&) const override {
    auto cs = Constraints(pod, false);
    if (cs.empty()) return false;
    state.Write(kScoreKey, Count(pod, snapshot, cs));
    return true;
  }

  // -1 for nodes without the constraints' keys (they end with score 0).
  int64_t Score(const CycleState& state, const PodInfo&, const NodeInfo& ni) const override {
    const SpreadState* s = state.Read<SpreadState>(kScoreKey);
    double score = 0;
    for (const auto& cc : s->constraints) {
      auto label = ni.node->labels.find(cc.constraint->topology_key);
      if (label == ni.node->labels.end()) return -1;
      auto it = cc.per_domain.find(label->second);
      double count = it == cc.per_domain.end() ? 0 : static_cast<double>(it->second);
      // Upstream weighs each constraint by log(domains + 2) and adds maxSkew - 1 so that
      // a larger tolerated skew flattens the preference.
      double weight = std::log(static_cast<double>(cc.per_domain.size()) + 2);
      score += count * weight + static_cast<double>(cc.constraint->max_skew - 1);
    }
    return static_cast<int64_t>(std::llround(score * 1000));  // keep three decimals
  }

  void Normalize(const CycleState&, const PodInfo&, std::vector<int64_t>& scores) const override {
    int64_t min = std::numeric_limits<int64_t>::max(), max = 0;
    for (int64_t s : scores) {
      if (s < 0) continue;
      min = std::min(min, s);
      max = std::max(max, s);
    }
    for (int64_t& s : scores) {
      if (s < 0) {
        s = 0;
      } else if (max == 0) {
        s = kMaxNodeScore;
      } else {
        s = kMaxNodeScore * (max + min - s) / max;
      }
    }
  }
};

}  // namespace

std::shared_ptr<const FilterPlugin> PodTopologySpread() {
  return std::make_shared<PodTopologySpreadPlugin>();
}
std::shared_ptr<const ScorePlugin> PodTopologySpreadScore() {
  return std::make_shared<PodTopologySpreadScorePlugin>();
}

}  // namespace kubepp::scheduler::plugins
