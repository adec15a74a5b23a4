// Keeps a Zone current from the Service and EndpointSlice informers: every event
// recomputes the records of the one Service it concerns.
// Thread safety: the handlers run on the informers' threads and serialize on a mutex.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>

#include "common/informer/informer.h"
#include "proxy/dns/zone.h"

namespace kubepp::proxy::dns {

class ZoneFeed {
 public:
  // Registers handlers; the informers and the zone must outlive the feed.
  ZoneFeed(informer::Informer* services, informer::Informer* slices, Zone* zone);

 private:
  // "ns/name" of the Service an EndpointSlice belongs to, or "".
  static std::string ServiceKeyOf(const api::Value& slice);
  void OnSlice(const informer::ObjectPtr& old_slice, const informer::ObjectPtr& new_slice);
  void Refresh(const std::string& service_key);  // caller holds mu_

  informer::Informer* services_;
  informer::Informer* slices_;
  Zone* zone_;
  std::mutex mu_;
  std::map<std::string, std::set<std::string>> slices_by_service_;
};

}  // namespace kubepp::proxy::dns
