#include "controller-manager/framework/expectations.h"

namespace kubepp::controller {

bool Expectations::Satisfied(const std::string& owner_key) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(owner_key);
  if (it == entries_.end()) return true;
  const Entry& e = it->second;
  if (e.adds <= 0 && e.deletes.empty()) return true;
  return std::chrono::steady_clock::now() - e.at > kExpectationsTimeout;
}

void Expectations::Expect(const std::string& owner_key, int creations,
                          const std::vector<std::string>& deletion_uids) {
  std::lock_guard lock(mu_);
  Entry& e = entries_[owner_key];
  e.adds = creations;
  e.deletes = std::set<std::string>(deletion_uids.begin(), deletion_uids.end());
  e.at = std::chrono::steady_clock::now();
}

void Expectations::CreationObserved(const std::string& owner_key) { LowerCreations(owner_key, 1); }

void Expectations::LowerCreations(const std::string& owner_key, int count) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(owner_key);
  if (it != entries_.end()) it->second.adds -= count;
}

void Expectations::DeletionObserved(const std::string& owner_key, const std::string& uid) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(owner_key);
  if (it != entries_.end()) it->second.deletes.erase(uid);
}

void Expectations::Delete(const std::string& owner_key) {
  std::lock_guard lock(mu_);
  entries_.erase(owner_key);
}

}  // namespace kubepp::controller
