#include "proxy/dns/zone_feed.h"

namespace kubepp::proxy::dns {

ZoneFeed::ZoneFeed(informer::Informer* services, informer::Informer* slices, Zone* zone)
    : services_(services), slices_(slices), zone_(zone) {
  auto svc = [this](const informer::ObjectPtr& s) {
    std::lock_guard lock(mu_);
    Refresh(informer::KeyOf(*s));
  };
  services_->AddEventHandler(
      {svc, [svc](const informer::ObjectPtr&, const informer::ObjectPtr& s) { svc(s); }, svc});
  slices_->AddEventHandler({[this](const informer::ObjectPtr& s) { OnSlice(nullptr, s); },
                            [this](const informer::ObjectPtr& o, const informer::ObjectPtr& s) {
                              OnSlice(o, s);
                            },
                            [this](const informer::ObjectPtr& s) { OnSlice(s, nullptr); }});
}

std::string ZoneFeed::ServiceKeyOf(const api::Value& slice) {
  auto labels = api::GetStringMap(slice, "metadata.labels");
  auto it = labels.find("kubernetes.io/service-name");
  if (it == labels.end()) return "";
  return api::GetString(slice, "metadata.namespace") + "/" + it->second;
}

void ZoneFeed::OnSlice(const informer::ObjectPtr& old_slice, const informer::ObjectPtr& new_slice) {
  std::lock_guard lock(mu_);
  std::string slice_key = informer::KeyOf(new_slice ? *new_slice : *old_slice);
  std::string before = old_slice ? ServiceKeyOf(*old_slice) : "";
  std::string after = new_slice ? ServiceKeyOf(*new_slice) : "";
  if (!before.empty() && before != after) {
    auto it = slices_by_service_.find(before);
    if (it != slices_by_service_.end()) {
      it->second.erase(slice_key);
      if (it->second.empty()) slices_by_service_.erase(it);
    }
    Refresh(before);
  }
  if (!after.empty()) {
    slices_by_service_[after].insert(slice_key);
    Refresh(after);
  }
}

void ZoneFeed::Refresh(const std::string& key) {
  auto [ns, name] = informer::SplitKey(key);
  informer::ObjectPtr svc = services_->Get(key);
  if (!svc) {
    zone_->Update(ns, name, std::nullopt);
    return;
  }
  std::vector<ObjectPtr> slices;
  if (auto it = slices_by_service_.find(key); it != slices_by_service_.end()) {
    for (const auto& sk : it->second) {
      if (auto s = slices_->Get(sk)) slices.push_back(std::move(s));
    }
  }
  zone_->Update(ns, name, RecordsOf(*svc, slices));
}

}  // namespace kubepp::proxy::dns
