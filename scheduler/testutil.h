// Test helpers: pods and nodes from JSON literals (only the fields a test cares about).
// Test-only; header-only so that it is not part of the library.
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "scheduler/framework/framework.h"

namespace kubepp::scheduler::testing {

// A pod in namespace "default" named `name`, with `spec` and `metadata_extra` (JSON
// object members, without braces) merged in.
inline PodPtr Pod(const std::string& name, const std::string& spec = "",
                  const std::string& metadata_extra = "") {
  std::string json = R"({"metadata":{"name":")" + name + R"(","namespace":"default","uid":"uid-)" +
                     name + "\"" + (metadata_extra.empty() ? "" : "," + metadata_extra) +
                     R"(},"spec":{)" +
                     (spec.find("\"containers\"") == std::string::npos ? R"("containers":[{"name":"c"}])" : "") +
                     (spec.empty() || spec.find("\"containers\"") != std::string::npos ? "" : ",") + spec +
                     "}}";
  auto doc = api::ParseJson(json);
  REQUIRE(doc.ok());
  auto pod = ParsePod(*doc);
  REQUIRE(pod.ok());
  return *pod;
}

// A pod bound to `node`.
inline PodPtr BoundPod(const std::string& name, const std::string& node,
                       const std::string& spec = "", const std::string& metadata_extra = "") {
  auto p = std::make_shared<PodInfo>(*Pod(name, spec, metadata_extra));
  p->node_name = node;
  return p;
}

// A Ready node with 4 cpu, 8Gi, 110 pods unless `status` overrides; `extra` adds
// metadata members (labels) and `spec` the node spec.
inline NodeSpecPtr Node(const std::string& name, const std::string& labels = "",
                        const std::string& spec = "", const std::string& status = "") {
  std::string json = R"({"metadata":{"name":")" + name + R"(","labels":{)" + labels +
                     R"(}},"spec":{)" + spec + R"(},"status":)" +
                     (status.empty() ? R"({"conditions":[{"type":"Ready","status":"True"}],)"
                                       R"("allocatable":{"cpu":"4","memory":"8Gi","pods":"110"}})"
                                     : status) +
                     "}";
  auto doc = api::ParseJson(json);
  REQUIRE(doc.ok());
  return ParseNode(*doc);
}

inline NodeInfo Info(NodeSpecPtr node, const std::vector<PodPtr>& pods = {}) {
  NodeInfo info;
  info.node = std::move(node);
  for (const auto& p : pods) info.AddPod(p);
  return info;
}

inline Snapshot SnapshotOf(const std::vector<NodeInfo>& nodes) {
  Snapshot s;
  for (const auto& n : nodes) s.Set(n.name(), std::make_shared<const NodeInfo>(n));
  return s;
}

// Runs PreFilter + Filter of `plugin` for `pod` on `node` (within `snapshot`); returns
// "" when it fits, else the reasons joined by "; ".
inline std::string RunFilter(const FilterPlugin& plugin, const PodInfo& pod,
                             const std::string& node, const Snapshot& snapshot) {
  CycleState state;
  PreFilterResult pre = plugin.PreFilter(state, pod, snapshot);
  if (!pre.reject.empty()) return pre.reject;
  if (pre.skip) return "";
  std::vector<std::string> reasons;
  const NodeInfo* info = snapshot.Get(node);
  REQUIRE(info != nullptr);
  if (plugin.Filter(state, pod, *info, &reasons)) return "";
  std::string out;
  for (const auto& r : reasons) out += (out.empty() ? "" : "; ") + r;
  return out;
}

// Normalised scores of `plugin` for `pod` over every node of `snapshot`, in order.
inline std::vector<int64_t> RunScore(const ScorePlugin& plugin, const PodInfo& pod,
                                     const Snapshot& snapshot) {
  CycleState state;
  std::vector<const NodeInfo*> nodes;
  for (const auto& n : snapshot.nodes()) nodes.push_back(n.get());
  std::vector<int64_t> scores(nodes.size(), 0);
  if (!plugin.PreScore(state, pod, snapshot, nodes)) return scores;
  for (size_t i = 0; i < nodes.size(); ++i) scores[i] = plugin.Score(state, pod, *nodes[i]);
  plugin.Normalize(state, pod, scores);
  return scores;
}

}  // namespace kubepp::scheduler::testing
