// Taints: NoSchedule and NoExecute keep pods that do not tolerate them away;
// PreferNoSchedule taints only make a node less attractive (fewer untolerated ones
// score higher).
#include "scheduler/plugins/plugins.h"

namespace kubepp::scheduler::plugins {
namespace {

class TaintTolerationPlugin : public FilterPlugin {
 public:
  std::string_view Name() const override { return "TaintToleration"; }
  bool Filter(const CycleState&, const PodInfo& pod, const NodeInfo& node,
              std::vector<std::string>* reasons) const override {
    const Taint* t = FirstUntoleratedTaint(pod, *node.node);
    if (t == nullptr) return true;
    reasons->push_back("node(s) had untolerated taint {" + t->key + ": " + t->value + "}");
    return false;
  }
};

class TaintTolerationScorePlugin : public ScorePlugin {
 public:
  std::string_view Name() const override { return "TaintToleration"; }
  int64_t Score(const CycleState&, const PodInfo& pod, const NodeInfo& node) const override {
    int64_t n = 0;
    for (const auto& t : node.node->taints) {
      if (t.effect != "PreferNoSchedule") continue;
      bool tolerated = false;
      for (const auto& tol : pod.tolerations) {
        if ((tol.effect.empty() || tol.effect == "PreferNoSchedule") && tol.Tolerates(t)) {
          tolerated = true;
          break;
        }
      }
      if (!tolerated) ++n;
    }
    return n;
  }
  // Fewer untolerated taints is better: reverse-normalise onto 0..100.
  void Normalize(const CycleState&, const PodInfo&, std::vector<int64_t>& scores) const override {
    int64_t max = 0;
    for (int64_t s : scores) max = std::max(max, s);
    for (int64_t& s : scores) s = max == 0 ? kMaxNodeScore : kMaxNodeScore - s * kMaxNodeScore / max;
  }
};

}  // namespace

std::shared_ptr<const FilterPlugin> TaintToleration() {
  return std::make_shared<TaintTolerationPlugin>();
}
std::shared_ptr<const ScorePlugin> TaintTolerationScore() {
  return std::make_shared<TaintTolerationScorePlugin>();
}

}  // namespace kubepp::scheduler::plugins
