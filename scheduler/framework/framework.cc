#include "scheduler/framework/framework.h"

#include <algorithm>

#include "common/util/random.h"

namespace kubepp::scheduler {

void CycleState::Write(std::string_view key, std::unique_ptr<PluginState> state) {
  states_[std::string(key)] = std::move(state);
}

std::string FitError::Message() const {
  std::string msg = "0/" + std::to_string(num_nodes) + " nodes are available:";
  if (!pre_filter_reason.empty()) msg += " " + pre_filter_reason + ".";
  std::map<std::string, int64_t> counts;
  for (const auto& [node, reasons] : node_reasons) {
    for (const auto& r : reasons) ++counts[r];
  }
  std::vector<std::string> parts;
  for (const auto& [reason, n] : counts) parts.push_back(std::to_string(n) + " " + reason);
  std::sort(parts.begin(), parts.end());
  if (!parts.empty()) {
    msg += " ";
    for (size_t i = 0; i < parts.size(); ++i) {
      if (i) msg += ", ";
      msg += parts[i];
    }
    msg += ".";
  }
  return msg;
}

std::string FitError::DetailJson(size_t max_names) const {
  std::map<std::string, std::vector<const std::string*>> by_reason;
  for (const auto& [node, reasons] : node_reasons) {
    for (const auto& r : reasons) by_reason[r].push_back(&node);
  }
  std::string out = "{\"nodes\":" + std::to_string(num_nodes);
  if (!pre_filter_reason.empty()) {
    out += ",\"allNodes\":";
    api::AppendQuoted(out, pre_filter_reason);
  }
  out += ",\"reasons\":[";
  bool first = true;
  for (const auto& [reason, nodes] : by_reason) {
    if (!first) out += ",";
    first = false;
    out += "{\"reason\":";
    api::AppendQuoted(out, reason);
    out += ",\"count\":" + std::to_string(nodes.size()) + ",\"nodes\":[";
    for (size_t i = 0; i < nodes.size() && i < max_names; ++i) {
      if (i) out += ",";
      api::AppendQuoted(out, *nodes[i]);
    }
    out += "]}";
  }
  out += "]}";
  return out;
}

Framework::Framework(Profile profile, int percentage_of_nodes_to_score)
    : profile_(std::move(profile)), percentage_(percentage_of_nodes_to_score) {}

int64_t Framework::NumFeasibleNodesToFind(int64_t num_nodes) const {
  constexpr int64_t kMinFeasibleNodes = 100;
  constexpr int64_t kMinPercentage = 5;
  if (num_nodes < kMinFeasibleNodes || percentage_ >= 100) return num_nodes;
  int64_t pct = percentage_;
  if (pct <= 0) pct = std::max<int64_t>(kMinPercentage, 50 - num_nodes / 125);
  return std::max(kMinFeasibleNodes, num_nodes * pct / 100);
}

bool Framework::RunFilters(const CycleState& state, const std::vector<bool>& skip,
                           const PodInfo& pod, const NodeInfo& node,
                           std::vector<std::string>* reasons) const {
  for (size_t i = 0; i < profile_.filters.size(); ++i) {
    if (skip[i]) continue;
    if (!profile_.filters[i]->Filter(state, pod, node, reasons)) return false;
  }
  return true;
}

ScheduleResult Framework::Schedule(const PodInfo& pod, const Snapshot& snapshot) {
  ScheduleResult result;
  const auto& nodes = snapshot.nodes();
  const int64_t n = static_cast<int64_t>(nodes.size());
  result.error.num_nodes = n;
  if (n == 0) return result;

  CycleState state;
  std::vector<bool> skip(profile_.filters.size(), false);
  for (size_t i = 0; i < profile_.filters.size(); ++i) {
    PreFilterResult pre = profile_.filters[i]->PreFilter(state, pod, snapshot);
    if (!pre.reject.empty()) {
      result.error.pre_filter_reason = std::move(pre.reject);
      return result;
    }
    skip[i] = pre.skip;
  }

  // Filter from a rotating start so that successive pods look at different nodes.
  const int64_t want = NumFeasibleNodesToFind(n);
  std::vector<const NodeInfo*> feasible;
  feasible.reserve(static_cast<size_t>(std::min<int64_t>(want, n)));
  std::vector<std::string> reasons;
  size_t start = next_start_ % nodes.size();
  int64_t evaluated = 0;
  for (; evaluated < n && static_cast<int64_t>(feasible.size()) < want; ++evaluated) {
    const NodeInfo& node = *nodes[(start + static_cast<size_t>(evaluated)) % nodes.size()];
    reasons.clear();
    if (RunFilters(state, skip, pod, node, &reasons)) {
      feasible.push_back(&node);
    } else {
      result.error.node_reasons[node.name()] = reasons;
    }
  }
  next_start_ = (start + static_cast<size_t>(evaluated)) % nodes.size();
  result.evaluated_nodes = evaluated;
  result.feasible_nodes = static_cast<int64_t>(feasible.size());
  if (feasible.empty()) return result;
  if (feasible.size() == 1) {
    result.node = feasible[0]->name();
    return result;
  }

  std::vector<int64_t> total(feasible.size(), 0);
  std::vector<int64_t> scores(feasible.size());
  for (const auto& [plugin, weight] : profile_.scores) {
    if (!plugin->PreScore(state, pod, snapshot, feasible)) continue;
    for (size_t i = 0; i < feasible.size(); ++i) scores[i] = plugin->Score(state, pod, *feasible[i]);
    plugin->Normalize(state, pod, scores);
    for (size_t i = 0; i < feasible.size(); ++i) total[i] += scores[i] * weight;
  }
  // The best score; ties broken uniformly at random (reservoir sampling, as upstream).
  size_t best = 0;
  uint64_t ties = 1;
  for (size_t i = 1; i < feasible.size(); ++i) {
    if (total[i] > total[best]) {
      best = i;
      ties = 1;
    } else if (total[i] == total[best] && util::RandomBelow(++ties) == 0) {
      best = i;
    }
  }
  result.node = feasible[best]->name();
  result.error.node_reasons.clear();
  return result;
}

}  // namespace kubepp::scheduler
