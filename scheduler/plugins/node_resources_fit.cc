// Resource fit: the pod's requests (containers summed, init containers by the max rule,
// plus overhead) must fit the node's allocatable minus what its pods (bound and
// assumed) request, and the node must have room for one more pod. LeastAllocated
// prefers nodes with more cpu and memory left.
#include <algorithm>

#include "scheduler/plugins/plugins.h"

namespace kubepp::scheduler::plugins {
namespace {

class NodeResourcesFitPlugin : public FilterPlugin {
 public:
  std::string_view Name() const override { return "NodeResourcesFit"; }
  bool Filter(const CycleState&, const PodInfo& pod, const NodeInfo& node,
              std::vector<std::string>* reasons) const override {
    const Resources& alloc = node.node->allocatable;
    const Resources& used = node.requested;
    const Resources& want = pod.requests;
    size_t before = reasons->size();
    if (static_cast<int64_t>(node.pods.size()) + 1 > alloc.pods) reasons->push_back("Too many pods");
    if (want.milli_cpu > 0 && want.milli_cpu > alloc.milli_cpu - used.milli_cpu) {
      reasons->push_back("Insufficient cpu");
    }
    if (want.memory > 0 && want.memory > alloc.memory - used.memory) {
      reasons->push_back("Insufficient memory");
    }
    if (want.ephemeral_storage > 0 &&
        want.ephemeral_storage > alloc.ephemeral_storage - used.ephemeral_storage) {
      reasons->push_back("Insufficient ephemeral-storage");
    }
    for (const auto& [name, q] : want.scalar) {
      if (q > 0 && q > alloc.Scalar(name) - used.Scalar(name)) {
        reasons->push_back("Insufficient " + name);
      }
    }
    return reasons->size() == before;
  }
};

// (capacity - requested) / capacity, in 0..100; 0 when the node is full or has none.
int64_t LeastRequested(int64_t requested, int64_t capacity) {
  if (capacity <= 0 || requested > capacity) return 0;
  return (capacity - requested) * kMaxNodeScore / capacity;
}

class LeastAllocatedPlugin : public ScorePlugin {
 public:
  std::string_view Name() const override { return "NodeResourcesFit"; }
  int64_t Score(const CycleState&, const PodInfo& pod, const NodeInfo& node) const override {
    const Resources& alloc = node.node->allocatable;
    int64_t cpu = LeastRequested(node.non_zero_requested.milli_cpu + pod.non_zero_requests.milli_cpu,
                                 alloc.milli_cpu);
    int64_t mem = LeastRequested(node.non_zero_requested.memory + pod.non_zero_requests.memory,
                                 alloc.memory);
    return (cpu + mem) / 2;  // cpu and memory weigh 1 each (upstream default)
  }
};

}  // namespace

std::shared_ptr<const FilterPlugin> NodeResourcesFit() {
  return std::make_shared<NodeResourcesFitPlugin>();
}
std::shared_ptr<const ScorePlugin> LeastAllocated() {
  return std::make_shared<LeastAllocatedPlugin>();
}

}  // namespace kubepp::scheduler::plugins
