// Spreads the pods of one controller (the controlling ownerReference: ReplicaSet,
// StatefulSet, Job, ...) across nodes and, where nodes carry
// topology.kubernetes.io/zone, across zones (zones weigh 2/3, as upstream's
// SelectorSpread). Fewer pods of the same controller score higher.
#include <algorithm>
#include <unordered_map>

#include "scheduler/plugins/plugins.h"

namespace kubepp::scheduler::plugins {
namespace {

constexpr const char* kZoneLabel = "topology.kubernetes.io/zone";
constexpr const char* kStateKey = "SelectorSpread";

int64_t CountOwned(const PodInfo& pod, const NodeInfo& ni) {
  int64_t n = 0;
  for (const auto& p : ni.pods) {
    if (p->controller_uid == pod.controller_uid && p->ns == pod.ns && !p->terminating) ++n;
  }
  return n;
}

struct ZoneState : PluginState {
  std::vector<std::string> zones;  // per feasible node, in order ("" without a zone)
  std::unordered_map<std::string, int64_t> per_zone;
};

class SelectorSpreadPlugin : public ScorePlugin {
 public:
  std::string_view Name() const override { return "SelectorSpread"; }

  bool PreScore(CycleState& state, const PodInfo& pod, const Snapshot&,
                const std::vector<const NodeInfo*>& feasible) const override {
    if (pod.controller_uid.empty()) return false;
    auto s = std::make_unique<ZoneState>();
    for (const NodeInfo* ni : feasible) {
      auto it = ni->node->labels.find(kZoneLabel);
      s->zones.push_back(it == ni->node->labels.end() ? "" : it->second);
      if (!s->zones.back().empty()) s->per_zone[s->zones.back()] += CountOwned(pod, *ni);
    }
    state.Write(kStateKey, std::move(s));
    return true;
  }

  int64_t Score(const CycleState&, const PodInfo& pod, const NodeInfo& ni) const override {
    return CountOwned(pod, ni);
  }

  void Normalize(const CycleState& state, const PodInfo&,
                 std::vector<int64_t>& scores) const override {
    const ZoneState* s = state.Read<ZoneState>(kStateKey);
    int64_t max_node = 0, max_zone = 0;
    for (int64_t c : scores) max_node = std::max(max_node, c);
    for (const auto& [zone, c] : s->per_zone) max_zone = std::max(max_zone, c);
    for (size_t i = 0; i < scores.size(); ++i) {
      double score = max_node > 0
                         ? static_cast<double>(kMaxNodeScore * (max_node - scores[i])) /
                               static_cast<double>(max_node)
                         : static_cast<double>(kMaxNodeScore);
      if (!s->per_zone.empty() && !s->zones[i].empty()) {
        double zone = max_zone > 0 ? static_cast<double>(kMaxNodeScore *
                                                         (max_zone - s->per_zone.at(s->zones[i]))) /
                                         static_cast<double>(max_zone)
                                   : static_cast<double>(kMaxNodeScore);
        score = score / 3 + zone * 2 / 3;
      }
      scores[i] = static_cast<int64_t>(score);
    }
  }
};

}  // namespace

std::shared_ptr<const ScorePlugin> SelectorSpread() {
  return std::make_shared<SelectorSpreadPlugin>();
}

}  // namespace kubepp::scheduler::plugins
