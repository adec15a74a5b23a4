// The garbage collector: objects whose owners are gone are deleted, as upstream's.
//
// It watches every resource that can own or be owned and keeps an index of the
// ownership graph (uid -> object, owner uid -> dependents). Work items are objects:
//  - a dependent whose owners may be gone (an owner was deleted, or an owner uid is not
//    in the index): each ownerReference is verified (index, then a live GET; a uid
//    mismatch means gone). All owners gone: the dependent is deleted (background, or
//    foreground when an owner is waiting on it with foregroundDeletion). Some gone:
//    the dangling references are removed.
//  - an owner being deleted with the "orphan" finalizer: its dependents lose their
//    ownerReferences to it, then the finalizer is removed.
//  - an owner being deleted with "foregroundDeletion": its dependents are deleted; once
//    no dependent with blockOwnerDeletion remains, the finalizer is removed (and the
//    apiserver deletes the owner).
//
// Thread safety: Sync runs on several workers at once; the index has its own lock.
#pragma once

#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/client/rest_client.h"
#include "controller-manager/framework/controller.h"
#include "controller-manager/framework/informers.h"
#include "controller-manager/framework/owner.h"

namespace kubepp::controller {

class GarbageCollector : public QueueController {
 public:
  // Watches every known resource except events.
  GarbageCollector(client::RestClient* client, SharedInformers* informers);

  // Looks at every object once the caches are full (owners deleted while we were down).
  void Started() override;
  // key: "<resource index>|<namespace/name>".
  Status Sync(const std::string& key) override;

 private:
  struct Node {
    size_t resource;
    std::string key;
    std::vector<OwnerRef> owners;
  };
  struct Monitor {
    client::ResourceRef ref;
    informer::Informer* informer;
  };
  enum class OwnerState { kAlive, kGone, kWaitingForDependents, kUnknown };

  void OnUpsert(size_t resource, const ObjectPtr& obj);
  void OnDelete(size_t resource, const ObjectPtr& obj);
  std::string WorkKey(size_t resource, const api::Value& obj) const;
  // Dependents of `uid`, as work keys, with whether each blocks its owner's deletion.
  std::vector<std::pair<std::string, bool>> DependentsOf(const std::string& uid);
  bool HasDependents(const std::string& uid);

  Result<OwnerState> LookupOwner(const OwnerRef& ref, const std::string& ns);
  Status AttemptToDelete(size_t resource, const api::Value& obj);
  Status OrphanDependents(size_t resource, const api::Value& owner);
  Status DeleteDependents(size_t resource, const api::Value& owner);
  Status RemoveFinalizer(size_t resource, const api::Value& obj, const std::string& finalizer);

  client::RestClient* client_;
  std::vector<Monitor> monitors_;

  std::mutex mu_;  // guards the index
  std::unordered_map<std::string, Node> nodes_;                        // by uid
  std::unordered_map<std::string, std::set<std::string>> dependents_;  // owner uid -> uids
};

}  // namespace kubepp::controller
