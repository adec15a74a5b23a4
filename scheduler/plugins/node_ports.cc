// hostPort: a (protocol, port) pair can be bound once per node address; 0.0.0.0 (or no
// hostIP) conflicts with every address.
#include "scheduler/plugins/plugins.h"

namespace kubepp::scheduler::plugins {
namespace {

class NodePortsPlugin : public FilterPlugin {
 public:
  std::string_view Name() const override { return "NodePorts"; }
  PreFilterResult PreFilter(CycleState&, const PodInfo& pod, const Snapshot&) const override {
    return PreFilterResult::SkipIf(pod.host_ports.empty());
  }
  bool Filter(const CycleState&, const PodInfo& pod, const NodeInfo& node,
              std::vector<std::string>* reasons) const override {
    for (const auto& want : pod.host_ports) {
      for (const auto& used : node.used_ports) {
        if (PortsConflict(want, used)) {
          reasons->push_back("node(s) didn't have free ports for the requested pod ports");
          return false;
        }
      }
    }
    return true;
  }
};

}  // namespace

std::shared_ptr<const FilterPlugin> NodePorts() { return std::make_shared<NodePortsPlugin>(); }

}  // namespace kubepp::scheduler::plugins
