// Keeps a Zone current from the Service informer and the EndpointSlices: every event
// recomputes the records of the one Service it concerns.
// Thread safety: the handlers run on the informers' threads and serialize on a mutex.
#pragma once

#include <mutex>
#include <string>

#include "common/informer/informer.h"
#include "proxy/dns/zone.h"
#include "proxy/endpoint_slices.h"

namespace kubepp::proxy::dns {

class ZoneFeed {
 public:
  // Registers handlers; the informer, the slices and the zone must outlive the feed.
  ZoneFeed(informer::Informer* services, EndpointSlices* slices, Zone* zone);

 private:
  void Refresh(const std::string& service_key);  // caller holds mu_

  informer::Informer* services_;
  EndpointSlices* slices_;
  Zone* zone_;
  std::mutex mu_;
};

}  // namespace kubepp::proxy::dns
