#include "proxy/dns/zone_feed.h"

namespace kubepp::proxy::dns {

ZoneFeed::ZoneFeed(Services* services, EndpointSlices* slices, Zone* zone)
    : services_(services), slices_(slices), zone_(zone) {
  services_->AddHandler([this](const ServicePtr& before, const ServicePtr& after) {
    std::lock_guard lock(mu_);
    Refresh((after ? after : before)->Key());
  });
  slices_->AddHandler([this](const SlicePtr& before, const SlicePtr& after) {
    std::lock_guard lock(mu_);
    std::string was = before ? before->ServiceKey() : "";
    std::string is = after ? after->ServiceKey() : "";
    if (!was.empty() && was != is) Refresh(was);
    if (!is.empty()) Refresh(is);
  });
}

void ZoneFeed::Refresh(const std::string& key) {
  auto [ns, name] = informer::SplitKey(key);
  ServicePtr svc = services_->Get(key);
  if (!svc) {
    zone_->Update(ns, name, std::nullopt);
    return;
  }
  zone_->Update(ns, name, RecordsOf(*svc, slices_->OfService(key)));
}

}  // namespace kubepp::proxy::dns
