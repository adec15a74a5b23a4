// The Endpoints controller: for every Service with a selector, an Endpoints object of
// the same name listing ready pods in `addresses` and the others in
// `notReadyAddresses` (ip, nodeName, hostname, targetRef), grouped into subsets by
// port set. Services without a selector keep their user-managed Endpoints; the
// Endpoints of a deleted Service are deleted.
// Thread safety: Sync runs on several workers at once, for different Services.
#pragma once

#include "controller-manager/endpoint/service_controller_base.h"

namespace kubepp::controller {

class EndpointsController : public endpoint::ServiceControllerBase {
 public:
  EndpointsController(client::RestClient* client, SharedInformers* informers);
  Status Sync(const std::string& key) override;

 private:
  informer::Informer& endpoints_;
};

}  // namespace kubepp::controller
