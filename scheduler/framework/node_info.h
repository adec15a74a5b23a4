// NodeInfo: a node with the pods counted on it (bound and assumed) and their sums;
// Snapshot: the immutable set of NodeInfos one scheduling cycle works on.
//
// Thread safety: a NodeInfo is a value; the cache mutates its own copies under its lock
// and hands snapshots shared_ptr<const NodeInfo>, which any thread may read.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "scheduler/framework/types.h"

namespace kubepp::scheduler {

struct NodeInfo {
  NodeSpecPtr node;  // null while pods name a node the cache has not seen (yet)
  std::vector<PodPtr> pods;
  Resources requested;           // sum of pods' requests (pods: their count)
  Resources non_zero_requested;  // sum of pods' non_zero_requests
  std::vector<HostPort> used_ports;
  int pods_with_affinity = 0;                // pods with any pod (anti-)affinity term
  int pods_with_required_anti_affinity = 0;

  const std::string& name() const;
  void AddPod(const PodPtr& pod);
  // Removes the pod with that key; false when it was not here.
  bool RemovePod(const std::string& key);
};
using NodeInfoPtr = std::shared_ptr<const NodeInfo>;

class Snapshot {
 public:
  // Nodes in a stable order (the order the cache first saw them).
  const std::vector<NodeInfoPtr>& nodes() const { return nodes_; }
  // nullptr when absent.
  const NodeInfo* Get(const std::string& name) const;
  // Labels of a namespace (for namespaceSelector), nullptr when unknown.
  const Labels* NamespaceLabels(const std::string& ns) const;
  // Whether any pod in the cluster carries a required anti-affinity term (if none, the
  // check of existing pods' anti-affinity is skipped).
  bool AnyRequiredAntiAffinity() const { return required_anti_affinity_pods_ > 0; }
  bool AnyAffinity() const { return affinity_pods_ > 0; }

  // Used by the cache to refresh the snapshot incrementally.
  void Set(const std::string& name, NodeInfoPtr info);
  void Remove(const std::string& name);
  void SetNamespaces(std::shared_ptr<const std::map<std::string, Labels>> ns) {
    namespaces_ = std::move(ns);
  }

 private:
  std::vector<NodeInfoPtr> nodes_;
  std::unordered_map<std::string, size_t> index_;
  std::shared_ptr<const std::map<std::string, Labels>> namespaces_;
  int64_t required_anti_affinity_pods_ = 0;
  int64_t affinity_pods_ = 0;
};

}  // namespace kubepp::scheduler
