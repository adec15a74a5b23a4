// Pod affinity and anti-affinity by topology domain (a node label such as
// kubernetes.io/hostname or topology.kubernetes.io/zone).
//
// Filter (required terms), as upstream: a node is rejected when
//   - an existing pod's required anti-affinity term matches the incoming pod and the
//     existing pod's node shares the term's topology domain with this node;
//   - one of the incoming pod's anti-affinity terms matches a pod in this node's domain;
//   - one of its affinity terms has no matching pod in this node's domain (unless no
//     pod anywhere matches and the pod matches its own terms: the first of a group).
// Score (preferred terms, the incoming pod's and existing pods' towards it): the sum of
// weights per domain, min-max normalised.
#include <algorithm>
#include <unordered_map>

#include "scheduler/plugins/plugins.h"

namespace kubepp::scheduler::plugins {
namespace {

constexpr const char* kStateKey = "InterPodAffinity";

// Counts per topology domain, keyed "<label key>\0<label value>".
using DomainCounts = std::unordered_map<std::string, int64_t>;

std::string DomainKey(const std::string& key, const std::string& value) {
  std::string k;
  k.reserve(key.size() + value.size() + 1);
  k += key;
  k += '\0';
  k += value;
  return k;
}

bool TermMatches(const PodAffinityTerm& term, const PodInfo& pod, const Snapshot& snapshot) {
  return term.MatchesNamespace(pod.ns, snapshot.NamespaceLabels(pod.ns)) &&
         term.selector.Matches(pod.labels);
}

// Adds `delta` to the domain of `node` for `key` when the node has that label.
void AddToDomain(DomainCounts& counts, const NodeSpec& node, const std::string& key,
                 int64_t delta) {
  auto it = node.labels.find(key);
  if (it != node.labels.end()) counts[DomainKey(key, it->second)] += delta;
}

int64_t CountAt(const DomainCounts& counts, const NodeSpec& node, const std::string& key) {
  auto it = node.labels.find(key);
  if (it == node.labels.end()) return 0;
  auto c = counts.find(DomainKey(key, it->second));
  return c == counts.end() ? 0 : c->second;
}

struct FilterState : PluginState {
  DomainCounts existing_anti_affinity;  // domains where existing pods forbid this pod
  std::vector<std::string> existing_keys;  // the topology keys of those
  DomainCounts anti_affinity;           // domains with pods this pod's anti terms match
  DomainCounts affinity;                // domains with pods matching all affinity terms
  bool affinity_first_of_group = false;
};

class InterPodAffinityPlugin : public FilterPlugin {
 public:
  std::string_view Name() const override { return "InterPodAffinity"; }

  PreFilterResult PreFilter(CycleState& state, const PodInfo& pod,
                            const Snapshot& snapshot) const override {
    bool own_terms = !pod.required_affinity.empty() || !pod.required_anti_affinity.empty();
    if (!own_terms && !snapshot.AnyRequiredAntiAffinity()) return PreFilterResult::SkipIf(true);
    auto s = std::make_unique<FilterState>();
    for (const auto& ni : snapshot.nodes()) {
      const NodeSpec& node = *ni->node;
      if (ni->pods_with_required_anti_affinity > 0) {
        for (const auto& existing : ni->pods) {
          for (const auto& term : existing->required_anti_affinity) {
            if (TermMatches(term, pod, snapshot)) {
              AddToDomain(s->existing_anti_affinity, node, term.topology_key, 1);
              auto& keys = s->existing_keys;
              if (std::find(keys.begin(), keys.end(), term.topology_key) == keys.end()) {
                keys.push_back(term.topology_key);
              }
            }
          }
        }
      }
      if (!own_terms) continue;
      for (const auto& existing : ni->pods) {
        for (const auto& term : pod.required_anti_affinity) {
          if (TermMatches(term, *existing, snapshot)) {
            AddToDomain(s->anti_affinity, node, term.topology_key, 1);
          }
        }
        if (pod.required_affinity.empty()) continue;
        bool all = std::all_of(pod.required_affinity.begin(), pod.required_affinity.end(),
                               [&](const PodAffinityTerm& t) { return TermMatches(t, *existing, snapshot); });
        if (!all) continue;
        for (const auto& term : pod.required_affinity) {
          AddToDomain(s->affinity, node, term.topology_key, 1);
        }
      }
    }
    if (!pod.required_affinity.empty() && s->affinity.empty()) {
      s->affinity_first_of_group =
          std::all_of(pod.required_affinity.begin(), pod.required_affinity.end(),
                      [&](const PodAffinityTerm& t) { return TermMatches(t, pod, snapshot); });
    }
    state.Write(kStateKey, std::move(s));
    return {};
  }

  bool Filter(const CycleState& state, const PodInfo& pod, const NodeInfo& ni,
              std::vector<std::string>* reasons) const override {
    const FilterState* s = state.Read<FilterState>(kStateKey);
    if (s == nullptr) return true;
    const NodeSpec& node = *ni.node;
    for (const auto& key : s->existing_keys) {
      if (CountAt(s->existing_anti_affinity, node, key) > 0) {
        reasons->push_back("node(s) didn't satisfy existing pods anti-affinity rules");
        return false;
      }
    }
    for (const auto& term : pod.required_anti_affinity) {
      if (CountAt(s->anti_affinity, node, term.topology_key) > 0) {
        reasons->push_back("node(s) didn't match pod anti-affinity rules");
        return false;
      }
    }
    for (const auto& term : pod.required_affinity) {
      bool has_key = node.labels.count(term.topology_key) > 0;
      bool ok = has_key && (CountAt(s->affinity, node, term.topology_key) > 0 ||
                            s->affinity_first_of_group);
      if (!ok) {
        reasons->push_back("node(s) didn't match pod affinity rules");
        return false;
      }
    }
    return true;
  }
};

struct ScoreState : PluginState {
  // Per topology key, the weight sum per domain value.
  std::unordered_map<std::string, DomainCounts> by_key;
};

class InterPodAffinityScorePlugin : public ScorePlugin {
 public:
  std::string_view Name() const override { return "InterPodAffinity"; }

  bool PreScore(CycleState& state, const PodInfo& pod, const Snapshot& snapshot,
                const std::vector<const NodeInfo*>&) const override {
    bool own = !pod.preferred_affinity.empty() || !pod.preferred_anti_affinity.empty();
    if (!own && !snapshot.AnyAffinity()) return false;
    auto s = std::make_unique<ScoreState>();
    auto add = [&](const NodeSpec& node, const std::string& key, int64_t w) {
      AddToDomain(s->by_key[key], node, key, w);
    };
    for (const auto& ni : snapshot.nodes()) {
      if (!own && ni->pods_with_affinity == 0) continue;
      const NodeSpec& node = *ni->node;
      for (const auto& existing : ni->pods) {
        for (const auto& t : pod.preferred_affinity) {
          if (TermMatches(t, *existing, snapshot)) add(node, t.topology_key, t.weight);
        }
        for (const auto& t : pod.preferred_anti_affinity) {
          if (TermMatches(t, *existing, snapshot)) add(node, t.topology_key, -t.weight);
        }
        // Symmetry: existing pods' preferences towards the incoming pod count too.
        for (const auto& t : existing->preferred_affinity) {
          if (TermMatches(t, pod, snapshot)) add(node, t.topology_key, t.weight);
        }
        for (const auto& t : existing->preferred_anti_affinity) {
          if (TermMatches(t, pod, snapshot)) add(node, t.topology_key, -t.weight);
        }
      }
    }
    if (s->by_key.empty()) return false;
    state.Write(kStateKey, std::move(s));
    return true;
  }

  int64_t Score(const CycleState& state, const PodInfo&, const NodeInfo& ni) const override {
    const ScoreState* s = state.Read<ScoreState>(kStateKey);
    int64_t sum = 0;
    for (const auto& [key, counts] : s->by_key) sum += CountAt(counts, *ni.node, key);
    return sum;
  }

  void Normalize(const CycleState&, const PodInfo&, std::vector<int64_t>& scores) const override {
    if (scores.empty()) return;
    auto [lo, hi] = std::minmax_element(scores.begin(), scores.end());
    int64_t min = *lo, diff = *hi - *lo;
    for (int64_t& s : scores) s = diff > 0 ? (s - min) * kMaxNodeScore / diff : 0;
  }
};

}  // namespace

std::shared_ptr<const FilterPlugin> InterPodAffinity() {
  return std::make_shared<InterPodAffinityPlugin>();
}
std::shared_ptr<const ScorePlugin> InterPodAffinityScore() {
  return std::make_shared<InterPodAffinityScorePlugin>();
}

}  // namespace kubepp::scheduler::plugins
