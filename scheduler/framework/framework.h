// The scheduling framework: filter and score plugin interfaces and the Framework that
// runs them for one pod over a Snapshot, as upstream's (PreFilter/Filter,
// PreScore/Score/NormalizeScore, weighted sum, random tie-break).
//
// A cycle: every filter plugin's PreFilter computes its per-pod state (or says it has
// nothing to check); nodes are then filtered, starting at a rotating index, until
// enough feasible nodes are found (percentage of nodes to score); the feasible nodes
// are scored, normalised to 0..100 per plugin, weighted and summed; the best wins.
//
// Thread safety: plugins are stateless between cycles (state lives in CycleState) and
// may be shared; a Framework runs one cycle at a time (it keeps the rotating index).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "scheduler/framework/node_info.h"
#include "scheduler/framework/types.h"

namespace kubepp::scheduler {

inline constexpr int64_t kMaxNodeScore = 100;

// Per-cycle data plugins compute in PreFilter/PreScore and read in Filter/Score.
struct PluginState {
  virtual ~PluginState() = default;
};

class CycleState {
 public:
  void Write(std::string_view key, std::unique_ptr<PluginState> state);
  // nullptr when absent or of another type.
  template <typename T>
  const T* Read(std::string_view key) const {
    auto it = states_.find(std::string(key));
    return it == states_.end() ? nullptr : dynamic_cast<const T*>(it->second.get());
  }

 private:
  std::map<std::string, std::unique_ptr<PluginState>> states_;
};

// What PreFilter decided for this pod.
struct PreFilterResult {
  bool skip = false;  // the plugin has nothing to check for this pod: Filter is not run
  // Non-empty: no node can pass, for this reason (upstream's PreFilter failure message).
  std::string reject;

  static PreFilterResult SkipIf(bool skip) {
    PreFilterResult r;
    r.skip = skip;
    return r;
  }
};

class FilterPlugin {
 public:
  virtual ~FilterPlugin() = default;
  virtual std::string_view Name() const = 0;
  virtual PreFilterResult PreFilter(CycleState& state, const PodInfo& pod,
                                    const Snapshot& snapshot) const {
    return {};
  }
  // Returns true when the pod fits the node; otherwise appends the reason(s), in
  // upstream's words ("Insufficient cpu"), to `reasons`.
  virtual bool Filter(const CycleState& state, const PodInfo& pod, const NodeInfo& node,
                      std::vector<std::string>* reasons) const = 0;
};

class ScorePlugin {
 public:
  virtual ~ScorePlugin() = default;
  virtual std::string_view Name() const = 0;
  // Returns false when the plugin has nothing to say for this pod (all scores 0).
  virtual bool PreScore(CycleState& state, const PodInfo& pod, const Snapshot& snapshot,
                        const std::vector<const NodeInfo*>& feasible) const {
    return true;
  }
  virtual int64_t Score(const CycleState& state, const PodInfo& pod,
                        const NodeInfo& node) const = 0;
  // Maps raw scores onto 0..kMaxNodeScore in place (the default leaves them).
  virtual void Normalize(const CycleState& state, const PodInfo& pod,
                         std::vector<int64_t>& scores) const {}
};

struct WeightedScorePlugin {
  std::shared_ptr<const ScorePlugin> plugin;
  int64_t weight = 1;
};

struct Profile {
  std::vector<std::shared_ptr<const FilterPlugin>> filters;  // run in this order
  std::vector<WeightedScorePlugin> scores;
};

// Why a pod fits nowhere: reasons per node (the nodes that were evaluated), or one
// reason for all (a PreFilter rejection).
struct FitError {
  int64_t num_nodes = 0;
  std::string pre_filter_reason;
  std::map<std::string, std::vector<std::string>> node_reasons;

  // Upstream's message: "0/3 nodes are available: 1 node(s) had untolerated taint
  // {k: v}, 2 Insufficient cpu." (reason counts sorted as strings).
  std::string Message() const;
  // {"nodes":N,"reasons":{"Insufficient cpu":["n1","n2"],...}} with at most
  // `max_names` node names per reason: the annotation kept on the pod.
  std::string DetailJson(size_t max_names = 10) const;
};

struct ScheduleResult {
  std::string node;  // empty on failure
  FitError error;    // when node is empty
  int64_t evaluated_nodes = 0;
  int64_t feasible_nodes = 0;
};

class Framework {
 public:
  // `percentage_of_nodes_to_score`: 0 chooses upstream's adaptive default.
  Framework(Profile profile, int percentage_of_nodes_to_score);

  ScheduleResult Schedule(const PodInfo& pod, const Snapshot& snapshot);

  // Upstream numFeasibleNodesToFind: all nodes below 100, else a percentage (adaptive:
  // 50% minus 1% per 125 nodes, at least 5%), at least 100.
  int64_t NumFeasibleNodesToFind(int64_t num_nodes) const;

  // Filters one node (all plugins, stopping at the first failure) after PreFilter.
  bool RunFilters(const CycleState& state, const std::vector<bool>& skip, const PodInfo& pod,
                  const NodeInfo& node, std::vector<std::string>* reasons) const;

 private:
  Profile profile_;
  int percentage_;
  size_t next_start_ = 0;
};

}  // namespace kubepp::scheduler
