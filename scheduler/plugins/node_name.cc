// A pod naming its node (spec.nodeName) fits only there. The scheduler normally never
// sees such pods (they are bound already); the filter keeps upstream's profile whole.
#include "scheduler/plugins/plugins.h"

namespace kubepp::scheduler::plugins {
namespace {

class NodeNamePlugin : public FilterPlugin {
 public:
  std::string_view Name() const override { return "NodeName"; }
  PreFilterResult PreFilter(CycleState&, const PodInfo& pod, const Snapshot&) const override {
    return PreFilterResult::SkipIf(pod.node_name.empty());
  }
  bool Filter(const CycleState&, const PodInfo& pod, const NodeInfo& node,
              std::vector<std::string>* reasons) const override {
    if (pod.node_name.empty() || pod.node_name == node.name()) return true;
    reasons->push_back("node(s) didn't match the requested node name");
    return false;
  }
};

}  // namespace

std::shared_ptr<const FilterPlugin> NodeName() { return std::make_shared<NodeNamePlugin>(); }

}  // namespace kubepp::scheduler::plugins
