// Keeps a Zone current from the Services and the EndpointSlices: every event
// recomputes the records of the one Service it concerns.
// Thread safety: the handlers run on the stores' threads and serialize on a mutex.
#pragma once

#include <mutex>
#include <string>

#include "proxy/dns/zone.h"
#include "proxy/endpoint_slices.h"
#include "proxy/services.h"

namespace kubepp::proxy::dns {

class ZoneFeed {
 public:
  // Registers handlers; the stores and the zone must outlive the feed.
  ZoneFeed(Services* services, EndpointSlices* slices, Zone* zone);

 private:
  void Refresh(const std::string& service_key);  // caller holds mu_

  Services* services_;
  EndpointSlices* slices_;
  Zone* zone_;
  std::mutex mu_;
};

}  // namespace kubepp::proxy::dns
