#include "scheduler/cache.h"

namespace kubepp::scheduler {

void Cache::Touch(const std::string& node) { dirty_.insert(node); }

bool Cache::AddOrUpdateNode(const NodeSpecPtr& node) {
  std::lock_guard lock(mu_);
  NodeInfo& info = nodes_[node->name];
  bool changed = !info.node || !(*info.node == *node);
  info.node = node;
  Touch(node->name);
  return changed;
}

void Cache::RemoveNode(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(name);
  if (it == nodes_.end()) return;
  // Pods still bound to a deleted node stay counted there until they are deleted too
  // (the garbage collector does that), but the node leaves the snapshot.
  if (it->second.pods.empty()) {
    nodes_.erase(it);
  } else {
    it->second.node = nullptr;
  }
  Touch(name);
}

void Cache::AddPodLocked(const PodPtr& pod) {
  NodeInfo& info = nodes_[pod->node_name];
  info.AddPod(pod);
  Touch(pod->node_name);
}

void Cache::RemovePodLocked(const PodState& state) {
  auto it = nodes_.find(state.pod->node_name);
  if (it == nodes_.end()) return;
  it->second.RemovePod(state.pod->key);
  if (!it->second.node && it->second.pods.empty()) nodes_.erase(it);
  Touch(state.pod->node_name);
}

void Cache::AddPod(const PodPtr& pod) {
  std::lock_guard lock(mu_);
  auto it = pods_.find(pod->key);
  if (it != pods_.end()) {
    // Assumed (now confirmed) or an update of a bound pod: replace it.
    if (it->second.assumed) --assumed_;
    RemovePodLocked(it->second);
    it->second = {pod, false, false};
  } else {
    pods_.emplace(pod->key, PodState{pod, false, false});
  }
  AddPodLocked(pod);
}

void Cache::RemovePod(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = pods_.find(key);
  if (it == pods_.end()) return;
  if (it->second.assumed) --assumed_;
  RemovePodLocked(it->second);
  pods_.erase(it);
}

Status Cache::AssumePod(const PodPtr& pod) {
  std::lock_guard lock(mu_);
  if (pods_.count(pod->key)) return AlreadyExists("pod " + pod->key + " is already in the cache");
  pods_.emplace(pod->key, PodState{pod, true, false});
  ++assumed_;
  AddPodLocked(pod);
  return Status::Ok();
}

void Cache::FinishBinding(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = pods_.find(key);
  if (it != pods_.end() && it->second.assumed) it->second.binding_finished = true;
}

void Cache::ForgetPod(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = pods_.find(key);
  if (it == pods_.end() || !it->second.assumed) return;
  --assumed_;
  RemovePodLocked(it->second);
  pods_.erase(it);
}

bool Cache::IsAssumed(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = pods_.find(key);
  return it != pods_.end() && it->second.assumed;
}

bool Cache::Contains(const std::string& key) const {
  std::lock_guard lock(mu_);
  return pods_.count(key) > 0;
}

void Cache::SetNamespace(const std::string& name, Labels labels) {
  std::lock_guard lock(mu_);
  auto& slot = namespaces_[name];
  if (slot != labels) {
    slot = std::move(labels);
    namespaces_dirty_ = true;
  }
}

void Cache::RemoveNamespace(const std::string& name) {
  std::lock_guard lock(mu_);
  if (namespaces_.erase(name)) namespaces_dirty_ = true;
}

void Cache::UpdateSnapshot(Snapshot* snapshot) {
  std::lock_guard lock(mu_);
  for (const auto& name : dirty_) {
    auto it = nodes_.find(name);
    if (it == nodes_.end() || !it->second.node) {
      snapshot->Remove(name);
    } else {
      snapshot->Set(name, std::make_shared<const NodeInfo>(it->second));
    }
  }
  dirty_.clear();
  if (namespaces_dirty_) {
    snapshot->SetNamespaces(std::make_shared<const std::map<std::string, Labels>>(namespaces_));
    namespaces_dirty_ = false;
  }
}

Cache::Stats Cache::GetStats() const {
  std::lock_guard lock(mu_);
  Stats s;
  for (const auto& [name, info] : nodes_) s.nodes += info.node ? 1 : 0;
  s.pods = pods_.size();
  s.assumed = assumed_;
  return s;
}

}  // namespace kubepp::scheduler
