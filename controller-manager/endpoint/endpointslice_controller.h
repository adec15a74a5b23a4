// The EndpointSlice controller: for every Service with a selector, discovery.k8s.io/v1
// EndpointSlices (addressType IPv4, at most max_endpoints_per_slice endpoints each, one
// port list per slice) labelled kubernetes.io/service-name and managed-by this
// controller, owned by the Service. Endpoints carry ready/serving/terminating
// conditions, nodeName and targetRef; terminating pods are listed (ready=false).
// Slices are updated in place where possible, surplus ones deleted.
// Thread safety: Sync runs on several workers at once, for different Services.
#pragma once

#include "controller-manager/endpoint/service_controller_base.h"

namespace kubepp::controller {

class EndpointSliceController : public endpoint::ServiceControllerBase {
 public:
  EndpointSliceController(client::RestClient* client, SharedInformers* informers,
                          int max_endpoints_per_slice = 100);
  Status Sync(const std::string& key) override;

 private:
  informer::Informer& slices_;
  int max_per_slice_;
};

}  // namespace kubepp::controller
