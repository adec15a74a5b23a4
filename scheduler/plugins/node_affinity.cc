// nodeSelector and required node affinity (terms ORed, expressions ANDed) filter;
// preferred node affinity adds the weights of the matching terms to the score.
#include "scheduler/plugins/plugins.h"

namespace kubepp::scheduler::plugins {
namespace {

class NodeAffinityPlugin : public FilterPlugin {
 public:
  std::string_view Name() const override { return "NodeAffinity"; }
  PreFilterResult PreFilter(CycleState&, const PodInfo& pod, const Snapshot&) const override {
    return PreFilterResult::SkipIf(pod.node_selector.empty() && !pod.required_node_affinity);
  }
  bool Filter(const CycleState&, const PodInfo& pod, const NodeInfo& node,
              std::vector<std::string>* reasons) const override {
    if (MatchesNodeSelectorAndAffinity(pod, *node.node)) return true;
    reasons->push_back("node(s) didn't match Pod's node affinity/selector");
    return false;
  }
};

class NodeAffinityScorePlugin : public ScorePlugin {
 public:
  std::string_view Name() const override { return "NodeAffinity"; }
  bool PreScore(CycleState&, const PodInfo& pod, const Snapshot&,
                const std::vector<const NodeInfo*>&) const override {
    return !pod.preferred_node_affinity.empty();
  }
  int64_t Score(const CycleState&, const PodInfo& pod, const NodeInfo& node) const override {
    int64_t sum = 0;
    for (const auto& p : pod.preferred_node_affinity) {
      if (p.weight != 0 && p.term.Matches(node.node->labels, node.node->name)) sum += p.weight;
    }
    return sum;
  }
  void Normalize(const CycleState&, const PodInfo&, std::vector<int64_t>& scores) const override {
    int64_t max = 0;
    for (int64_t s : scores) max = std::max(max, s);
    if (max == 0) return;
    for (int64_t& s : scores) s = s * kMaxNodeScore / max;
  }
};

}  // namespace

std::shared_ptr<const FilterPlugin> NodeAffinity() {
  return std::make_shared<NodeAffinityPlugin>();
}
std::shared_ptr<const ScorePlugin> NodeAffinityScore() {
  return std::make_shared<NodeAffinityScorePlugin>();
}

}  // namespace kubepp::scheduler::plugins
