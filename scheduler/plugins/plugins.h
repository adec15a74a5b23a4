// The default plugins, one per file in this directory, and the default profile that
// orders and weighs them as upstream's default scheduler profile does.
//
// Reasons are upstream's words, so that messages read like kube-scheduler's.
// Thread safety: plugins are immutable; share them freely.
#pragma once

#include <memory>

#include "scheduler/framework/framework.h"

namespace kubepp::scheduler::plugins {

// node_unschedulable.cc: node Ready and not spec.unschedulable (unless tolerated).
std::shared_ptr<const FilterPlugin> NodeUnschedulable();
// node_name.cc: spec.nodeName, when set, names the node.
std::shared_ptr<const FilterPlugin> NodeName();
// taint_toleration.cc: NoSchedule/NoExecute taints must be tolerated; untolerated
// PreferNoSchedule taints lower the score.
std::shared_ptr<const FilterPlugin> TaintToleration();
std::shared_ptr<const ScorePlugin> TaintTolerationScore();
// node_affinity.cc: nodeSelector and required node affinity; preferred affinity scores.
std::shared_ptr<const FilterPlugin> NodeAffinity();
std::shared_ptr<const ScorePlugin> NodeAffinityScore();
// node_ports.cc: host ports free on the node.
std::shared_ptr<const FilterPlugin> NodePorts();
// node_resources_fit.cc: requests fit allocatable minus what the node's pods request;
// LeastAllocated score.
std::shared_ptr<const FilterPlugin> NodeResourcesFit();
std::shared_ptr<const ScorePlugin> LeastAllocated();
// balanced_allocation.cc: prefers nodes whose cpu and memory use stay even.
std::shared_ptr<const ScorePlugin> BalancedAllocation();
// inter_pod_affinity.cc: required pod affinity / anti-affinity (the pod's and existing
// pods'); preferred terms score.
std::shared_ptr<const FilterPlugin> InterPodAffinity();
std::shared_ptr<const ScorePlugin> InterPodAffinityScore();
// pod_topology_spread.cc: DoNotSchedule constraints filter, ScheduleAnyway ones score.
std::shared_ptr<const FilterPlugin> PodTopologySpread();
std::shared_ptr<const ScorePlugin> PodTopologySpreadScore();
// selector_spread.cc: spreads the pods of one controller across nodes and zones.
std::shared_ptr<const ScorePlugin> SelectorSpread();

// Filters in upstream's order; scores with upstream's default weights.
Profile DefaultProfile();

}  // namespace kubepp::scheduler::plugins
