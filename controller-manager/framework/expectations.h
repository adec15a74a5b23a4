// Expectations (client-go's UIDTrackingControllerExpectations): a controller that just
// asked for N pods to be created or some pods to be deleted must not act on the same
// owner again until its informer has seen those changes, or a lagging cache makes it
// create or delete twice. Creations are counted; deletions are tracked by pod uid, so a
// pod first seen terminating and then gone counts once. Expectations older than
// kExpectationsTimeout are considered satisfied (a missed event must not wedge the
// owner forever).
//
// Thread safety: safe from any thread.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace kubepp::controller {

class Expectations {
 public:
  static constexpr std::chrono::minutes kExpectationsTimeout{5};

  // True when the owner has no outstanding creations or deletions (or none recorded,
  // or they expired): it may be synced.
  bool Satisfied(const std::string& owner_key);
  // Replaces the owner's expectations.
  void Expect(const std::string& owner_key, int creations,
              const std::vector<std::string>& deletion_uids);
  void ExpectCreations(const std::string& owner_key, int count) { Expect(owner_key, count, {}); }
  void ExpectDeletions(const std::string& owner_key, const std::vector<std::string>& uids) {
    Expect(owner_key, 0, uids);
  }
  void CreationObserved(const std::string& owner_key);
  // Also called for creations that were never made (the request failed).
  void LowerCreations(const std::string& owner_key, int count);
  void DeletionObserved(const std::string& owner_key, const std::string& uid);
  void Delete(const std::string& owner_key);

 private:
  struct Entry {
    int adds = 0;
    std::set<std::string> deletes;
    std::chrono::steady_clock::time_point at;
  };
  std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

}  // namespace kubepp::controller
