// The scheduler cache: nodes, the pods bound to them, and "assumed" pods — pods the
// scheduler has placed but whose binding the apiserver has not confirmed yet. An
// assumed pod counts on its node from the moment of the decision, so the next pod is
// placed against the true load while the binding is still in flight; a failed binding
// forgets it, the informer's bound pod confirms it.
//
// Each scheduling cycle works on a Snapshot refreshed incrementally from the cache (only
// nodes changed since the last refresh are copied), so cycles run without the lock.
//
// Thread safety: every method is safe from any thread.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

#include "common/status.h"
#include "scheduler/framework/node_info.h"

namespace kubepp::scheduler {

class Cache {
 public:
  // Adds or replaces a node. Returns whether anything scheduling reads changed (a new
  // node, or other labels, taints, allocatable, readiness...).
  bool AddOrUpdateNode(const NodeSpecPtr& node);
  void RemoveNode(const std::string& name);

  // A bound pod (node_name set) seen through the informer; confirms the pod when it
  // was assumed (moving it if it was bound elsewhere).
  void AddPod(const PodPtr& pod);
  // A bound pod or an assumed one disappeared (deleted, or finished).
  void RemovePod(const std::string& key);

  // Counts `pod` (node_name set to the chosen node) on its node until confirmed or
  // forgotten. AlreadyExists when the cache already knows the pod.
  Status AssumePod(const PodPtr& pod);
  // The binding request succeeded; the informer will confirm.
  void FinishBinding(const std::string& key);
  // The binding failed: uncounts the pod if it is still only assumed.
  void ForgetPod(const std::string& key);
  // Whether the pod is assumed (placed, not yet seen bound).
  bool IsAssumed(const std::string& key) const;
  // Whether the pod is known at all (bound or assumed).
  bool Contains(const std::string& key) const;

  void SetNamespace(const std::string& name, Labels labels);
  void RemoveNamespace(const std::string& name);

  // Brings `snapshot` up to date with the cache. A snapshot must only ever be updated
  // from one cache.
  void UpdateSnapshot(Snapshot* snapshot);

  struct Stats {
    size_t nodes = 0, pods = 0, assumed = 0;
  };
  Stats GetStats() const;

 private:
  struct PodState {
    PodPtr pod;
    bool assumed = false;
    bool binding_finished = false;
  };
  // Caller holds mu_.
  void AddPodLocked(const PodPtr& pod);
  void RemovePodLocked(const PodState& state);
  void Touch(const std::string& node);

  mutable std::mutex mu_;
  std::unordered_map<std::string, NodeInfo> nodes_;
  std::unordered_map<std::string, PodState> pods_;
  size_t assumed_ = 0;
  std::set<std::string> dirty_;  // nodes changed since the last snapshot update
  std::map<std::string, Labels> namespaces_;
  bool namespaces_dirty_ = true;
};

}  // namespace kubepp::scheduler
