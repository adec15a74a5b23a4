// A node takes new pods only when Ready and not cordoned. As upstream, both read as the
// taints the node lifecycle controller would put there, so a pod tolerating
// node.kubernetes.io/not-ready or /unschedulable (DaemonSet pods do) still fits.
#include "scheduler/plugins/plugins.h"

namespace kubepp::scheduler::plugins {
namespace {

class NodeUnschedulablePlugin : public FilterPlugin {
 public:
  std::string_view Name() const override { return "NodeUnschedulable"; }
  bool Filter(const CycleState&, const PodInfo& pod, const NodeInfo& node,
              std::vector<std::string>* reasons) const override {
    static const Taint kNotReady{"node.kubernetes.io/not-ready", "", "NoSchedule"};
    static const Taint kUnschedulable{"node.kubernetes.io/unschedulable", "", "NoSchedule"};
    if (!node.node->ready && !TolerationsTolerate(pod.tolerations, kNotReady)) {
      reasons->push_back("node(s) had untolerated taint {node.kubernetes.io/not-ready: }");
      return false;
    }
    if (node.node->unschedulable && !TolerationsTolerate(pod.tolerations, kUnschedulable)) {
      reasons->push_back("node(s) were unschedulable");
      return false;
    }
    return true;
  }
};

}  // namespace

std::shared_ptr<const FilterPlugin> NodeUnschedulable() {
  return std::make_shared<NodeUnschedulablePlugin>();
}

}  // namespace kubepp::scheduler::plugins
