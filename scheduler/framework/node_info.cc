#include "scheduler/framework/node_info.h"

#include <algorithm>

namespace kubepp::scheduler {

const std::string& NodeInfo::name() const {
  static const std::string kEmpty;
  return node ? node->name : kEmpty;
}

void NodeInfo::AddPod(const PodPtr& pod) {
  pods.push_back(pod);
  requested.Add(pod->requests);
  non_zero_requested.Add(pod->non_zero_requests);
  used_ports.insert(used_ports.end(), pod->host_ports.begin(), pod->host_ports.end());
  if (pod->HasAffinityTerms()) ++pods_with_affinity;
  if (!pod->required_anti_affinity.empty()) ++pods_with_required_anti_affinity;
}

bool NodeInfo::RemovePod(const std::string& key) {
  auto it = std::find_if(pods.begin(), pods.end(), [&](const PodPtr& p) { return p->key == key; });
  if (it == pods.end()) return false;
  const PodPtr pod = *it;
  pods.erase(it);
  requested.Sub(pod->requests);
  non_zero_requested.Sub(pod->non_zero_requests);
  for (const auto& hp : pod->host_ports) {
    auto u = std::find(used_ports.begin(), used_ports.end(), hp);
    if (u != used_ports.end()) used_ports.erase(u);
  }
  if (pod->HasAffinityTerms()) --pods_with_affinity;
  if (!pod->required_anti_affinity.empty()) --pods_with_required_anti_affinity;
  return true;
}

const NodeInfo* Snapshot::Get(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : nodes_[it->second].get();
}

const Labels* Snapshot::NamespaceLabels(const std::string& ns) const {
  if (!namespaces_) return nullptr;
  auto it = namespaces_->find(ns);
  return it == namespaces_->end() ? nullptr : &it->second;
}

void Snapshot::Set(const std::string& name, NodeInfoPtr info) {
  required_anti_affinity_pods_ += info->pods_with_required_anti_affinity;
  affinity_pods_ += info->pods_with_affinity;
  auto it = index_.find(name);
  if (it == index_.end()) {
    index_.emplace(name, nodes_.size());
    nodes_.push_back(std::move(info));
    return;
  }
  NodeInfoPtr& slot = nodes_[it->second];
  required_anti_affinity_pods_ -= slot->pods_with_required_anti_affinity;
  affinity_pods_ -= slot->pods_with_affinity;
  slot = std::move(info);
}

void Snapshot::Remove(const std::string& name) {
  auto it = index_.find(name);
  if (it == index_.end()) return;
  size_t i = it->second;
  required_anti_affinity_pods_ -= nodes_[i]->pods_with_required_anti_affinity;
  affinity_pods_ -= nodes_[i]->pods_with_affinity;
  index_.erase(it);
  nodes_.erase(nodes_.begin() + static_cast<std::ptrdiff_t>(i));
  for (size_t j = i; j < nodes_.size(); ++j) index_[nodes_[j]->name()] = j;
}

}  // namespace kubepp::scheduler
