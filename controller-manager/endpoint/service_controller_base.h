// What the Endpoints and EndpointSlice controllers share: both sync one Service at a
// time (key "namespace/name") and are woken by changes of the Service or of any pod
// its selector matches (before or after the change).
// Thread safety: handlers run on informer threads and only enqueue.
#pragma once

#include <string>
#include <vector>

#include "common/client/rest_client.h"
#include "controller-manager/framework/controller.h"
#include "controller-manager/framework/informers.h"

namespace kubepp::controller::endpoint {

class ServiceControllerBase : public QueueController {
 protected:
  ServiceControllerBase(std::string name, client::RestClient* client, SharedInformers* informers);

  void Started() override;
  std::vector<informer::ObjectPtr> PodsIn(const std::string& ns) const;

  client::RestClient* client_;
  informer::Informer& services_;
  informer::Informer& pods_;

 private:
  void EnqueueServicesOf(const api::Value& pod);
};

}  // namespace kubepp::controller::endpoint
