// Balanced allocation: a node whose cpu and memory would be used in equal fractions
// after placing the pod scores highest (upstream: (1 - standard deviation) * 100).
#include <algorithm>
#include <cmath>

#include "scheduler/plugins/plugins.h"

namespace kubepp::scheduler::plugins {
namespace {

class BalancedAllocationPlugin : public ScorePlugin {
 public:
  std::string_view Name() const override { return "NodeResourcesBalancedAllocation"; }
  int64_t Score(const CycleState&, const PodInfo& pod, const NodeInfo& node) const override {
    const Resources& alloc = node.node->allocatable;
    auto fraction = [](int64_t requested, int64_t capacity) {
      if (capacity <= 0) return 1.0;
      return std::min(1.0, static_cast<double>(requested) / static_cast<double>(capacity));
    };
    double cpu = fraction(node.non_zero_requested.milli_cpu + pod.non_zero_requests.milli_cpu,
                          alloc.milli_cpu);
    double mem = fraction(node.non_zero_requested.memory + pod.non_zero_requests.memory,
                          alloc.memory);
    double std_dev = std::fabs(cpu - mem) / 2;  // of two values
    return static_cast<int64_t>((1 - std_dev) * static_cast<double>(kMaxNodeScore));
  }
};

}  // namespace

std::shared_ptr<const ScorePlugin> BalancedAllocation() {
  return std::make_shared<BalancedAllocationPlugin>();
}

}  // namespace kubepp::scheduler::plugins
