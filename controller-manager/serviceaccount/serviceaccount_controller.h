// The ServiceAccount controller: every active namespace has a ServiceAccount named
// "default" (recreated if deleted).
// Thread safety: Sync runs on several workers at once, for different namespaces.
#pragma once

#include "common/client/rest_client.h"
#include "controller-manager/framework/controller.h"
#include "controller-manager/framework/informers.h"

namespace kubepp::controller {

class ServiceAccountController : public QueueController {
 public:
  ServiceAccountController(client::RestClient* client, SharedInformers* informers);

  // key: a namespace name.
  Status Sync(const std::string& key) override;

 private:
  client::RestClient* client_;
  informer::Informer& namespaces_;
  informer::Informer& serviceaccounts_;
};

}  // namespace kubepp::controller
