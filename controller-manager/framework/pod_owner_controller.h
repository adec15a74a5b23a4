// The event wiring every controller that owns pods directly shares (ReplicaSet, Job,
// DaemonSet): owner objects enqueue themselves; a pod enqueues the owner of
// `owner_kind` that controls it (ownerReference uid checked against the cache) and
// settles that owner's expectations (creation seen, deletion seen, including a graceful
// deletion's start); an orphan pod enqueues every owner whose selector matches it, so it
// can be adopted.
// Thread safety: handlers run on informer threads and only enqueue.
#pragma once

#include <string>

#include "controller-manager/framework/controller.h"
#include "controller-manager/framework/expectations.h"
#include "controller-manager/framework/informers.h"

namespace kubepp::controller {

class PodOwnerController : public QueueController {
 public:
  Expectations& expectations() { return expectations_; }

 protected:
  // `owners` is the informer of `owner_kind` objects; both must outlive the controller.
  PodOwnerController(std::string name, std::string owner_kind, informer::Informer& owners,
                     informer::Informer& pods);

  // "namespace/name" of the cached owner controlling `pod`, "" when none.
  std::string OwnerKey(const api::Value& pod) const;
  // An owned pod changed (after the owner was enqueued); e.g. to look again when it
  // becomes available after minReadySeconds.
  virtual void OnOwnedPodUpdate(const std::string& owner_key, const api::Value& old_pod,
                                const api::Value& pod) {}

  informer::Informer& owners_;
  informer::Informer& pods_;
  Expectations expectations_;

 private:
  void EnqueueMatchingOwners(const api::Value& pod);
  void OnPodAdd(const ObjectPtr& pod);
  void OnPodUpdate(const ObjectPtr& old_pod, const ObjectPtr& pod);
  void OnPodDelete(const ObjectPtr& pod);

  std::string owner_kind_;
};

}  // namespace kubepp::controller
