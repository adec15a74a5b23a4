// The Namespace controller: deleting a namespace deletes everything in it, then
// finalizes the namespace so the apiserver removes it.
//
// Sync(name), for a namespace with a deletionTimestamp whose spec.finalizers still holds
// "kubernetes": deletes every object of every namespaced resource in it (background
// propagation); while objects remain (pods wait for their kubelet's graceful shutdown)
// it looks again after `recheck`; once none remain it removes "kubernetes" from
// spec.finalizers through the namespace's /finalize subresource.
//
// Thread safety: Sync runs on several workers at once, for different namespaces.
#pragma once

#include <chrono>
#include <functional>

#include "common/client/rest_client.h"
#include "controller-manager/framework/controller.h"
#include "controller-manager/framework/informers.h"

namespace kubepp::controller {

// PUTs `ns` (a Namespace with the new spec.finalizers) to namespaces/<name>/finalize.
using NamespaceFinalizer = std::function<Status(const api::Value& ns)>;
// The real one, over HTTP (RestClient has no verb for /finalize).
NamespaceFinalizer HttpNamespaceFinalizer(client::HttpRestClient* client);

class NamespaceController : public QueueController {
 public:
  NamespaceController(client::RestClient* client, SharedInformers* informers,
                      NamespaceFinalizer finalize,
                      std::chrono::milliseconds recheck = std::chrono::seconds(2));

  Status Sync(const std::string& key) override;

 private:
  // Deletes what is left in `ns`; returns how many objects remain (deleted or not).
  Result<int> DeleteContent(const std::string& ns);

  client::RestClient* client_;
  NamespaceFinalizer finalize_;
  std::chrono::milliseconds recheck_;
};

}  // namespace kubepp::controller
