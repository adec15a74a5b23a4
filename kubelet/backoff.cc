#include "kubelet/backoff.h"

#include <algorithm>

namespace kubepp::kubelet {

void RestartBackoff::ExpireLocked(const std::string& key, int64_t now) {
  auto it = entries_.find(key);
  if (it != entries_.end() && now - it->second.last_update > 2 * max_) entries_.erase(it);
}

int64_t RestartBackoff::Remaining(const std::string& key, int64_t finished_at) {
  std::lock_guard lock(mu_);
  int64_t now = clock_();
  ExpireLocked(key, now);
  auto it = entries_.find(key);
  if (it == entries_.end()) return 0;
  return std::max<int64_t>(0, finished_at + it->second.delay - now);
}

void RestartBackoff::Next(const std::string& key) {
  std::lock_guard lock(mu_);
  int64_t now = clock_();
  ExpireLocked(key, now);
  auto& e = entries_[key];
  e.delay = e.delay == 0 ? initial_ : std::min(e.delay * 2, max_);
  e.last_update = now;
}

int64_t RestartBackoff::Current(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  return it == entries_.end() ? 0 : it->second.delay;
}

void RestartBackoff::ForgetPrefix(const std::string& prefix) {
  std::lock_guard lock(mu_);
  for (auto it = entries_.lower_bound(prefix);
       it != entries_.end() && it->first.compare(0, prefix.size(), prefix) == 0;) {
    it = entries_.erase(it);
  }
}

}  // namespace kubepp::kubelet
