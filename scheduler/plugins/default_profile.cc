#include "scheduler/plugins/plugins.h"

namespace kubepp::scheduler::plugins {

Profile DefaultProfile() {
  Profile p;
  // Upstream's filter order: cheap checks first, pod-to-pod ones last.
  p.filters = {NodeUnschedulable(), NodeName(),         TaintToleration(),   NodeAffinity(),
               NodePorts(),         NodeResourcesFit(), PodTopologySpread(), InterPodAffinity()};
  // Upstream's default score weights.
  p.scores = {{TaintTolerationScore(), 3},   {NodeAffinityScore(), 2},
              {PodTopologySpreadScore(), 2}, {InterPodAffinityScore(), 2},
              {LeastAllocated(), 1},         {BalancedAllocation(), 1},
              {SelectorSpread(), 1}};
  return p;
}

}  // namespace kubepp::scheduler::plugins
