#include "proxy/endpoint_slices.h"

#include "common/net/ipv4.h"
#include "common/util/strings.h"

namespace kubepp::proxy {
namespace {

constexpr const char* kServiceNameLabel = "kubernetes.io/service-name";

// A condition that is absent (or not a bool) is `absent`.
bool Condition(const api::Value& endpoint, const char* name, bool absent) {
  const api::Value* v = api::Find(endpoint, std::string("conditions.") + name);
  return v && v->IsBool() ? v->GetBool() : absent;
}

}  // namespace

const std::string* InternNodeName(std::string_view name) {
  static std::mutex mu;
  static auto* names = new std::set<std::string, std::less<>>();  // never destroyed: pointers outlive exit
  std::lock_guard lock(mu);
  auto it = names->find(name);
  if (it == names->end()) it = names->emplace(name).first;
  return &*it;
}

std::string SliceEndpoint::ip() const { return net::FormatIpv4(address); }

const std::string& EndpointSlice::Hostname(size_t i) const {
  static const std::string kNone;
  return i < hostnames.size() ? hostnames[i] : kNone;
}

SlicePtr SliceOf(const api::Value& slice) {
  auto out = std::make_shared<EndpointSlice>();
  out->ns = api::GetString(slice, "metadata.namespace");
  out->name = api::GetString(slice, "metadata.name");
  if (const api::Value* labels = api::Find(slice, "metadata.labels"); labels && labels->IsObject()) {
    auto it = labels->FindMember(kServiceNameLabel);
    if (it != labels->MemberEnd() && it->value.IsString()) out->service = std::string(api::View(it->value));
  }
  out->ipv4 = api::GetString(slice, "addressType", "IPv4") == "IPv4";
  if (const api::Value* ports = api::Find(slice, "ports"); ports && ports->IsArray()) {
    for (const auto& p : ports->GetArray()) {
      out->ports.push_back({api::GetString(p, "name"),
                            util::AsciiLower(api::GetString(p, "protocol", "TCP")),
                            static_cast<int>(api::GetInt(p, "port"))});
    }
  }
  const api::Value* eps = api::Find(slice, "endpoints");
  if (!out->ipv4 || !eps || !eps->IsArray()) return out;
  bool any_hostname = false;
  std::vector<std::string> hostnames;
  for (const auto& e : eps->GetArray()) {
    const api::Value* addrs = api::Find(e, "addresses");
    if (!addrs || !addrs->IsArray() || addrs->Empty() || !(*addrs)[0].IsString()) continue;
    auto address = net::ParseIpv4(api::View((*addrs)[0]));
    if (!address.ok()) continue;
    SliceEndpoint ep;
    ep.address = *address;
    ep.ready = Condition(e, "ready", true);
    ep.serving = Condition(e, "serving", ep.ready);
    ep.terminating = Condition(e, "terminating", false);
    ep.node = InternNodeName(api::GetString(e, "nodeName"));
    out->endpoints.push_back(ep);
    hostnames.push_back(api::GetString(e, "hostname"));
    any_hostname = any_hostname || !hostnames.back().empty();
  }
  out->endpoints.shrink_to_fit();
  if (any_hostname) out->hostnames = std::move(hostnames);
  return out;
}

void KeepSliceKey(api::Value& slice) {
  api::Value* meta = api::FindMutable(slice, "metadata");
  if (!meta || !meta->IsObject()) return;
  for (auto it = meta->MemberBegin(); it != meta->MemberEnd();) {
    std::string_view name = api::View(it->name);
    if (name == "name" || name == "namespace" || name == "resourceVersion") {
      ++it;
    } else {
      it = meta->RemoveMember(it);
    }
  }
  for (auto it = slice.MemberBegin(); it != slice.MemberEnd();) {
    it = api::View(it->name) == "metadata" ? it + 1 : slice.RemoveMember(it);
  }
}

namespace {

informer::InformerOptions KeepingKeys() {
  informer::InformerOptions o;
  o.keep = KeepSliceKey;
  return o;
}

}  // namespace

EndpointSlices::EndpointSlices(client::RestClient* client)
    : informer_(client, client::kEndpointSlices, KeepingKeys()) {
  informer_.AddEventHandler({
      .on_add = [this](const informer::ObjectPtr& s) { Set(informer::KeyOf(*s), SliceOf(*s)); },
      .on_update = [this](const informer::ObjectPtr&,
                          const informer::ObjectPtr& s) { Set(informer::KeyOf(*s), SliceOf(*s)); },
      .on_delete = [this](const informer::ObjectPtr& s) { Set(informer::KeyOf(*s), nullptr); },
  });
}

EndpointSlices::~EndpointSlices() { Stop(); }

void EndpointSlices::AddHandler(Handler handler) {
  std::lock_guard handlers_lock(handlers_mu_);
  for (const auto& s : List()) handler(nullptr, s);
  handlers_.push_back(std::move(handler));
}

void EndpointSlices::Start() { informer_.Start(); }
void EndpointSlices::Stop() { informer_.Stop(); }
bool EndpointSlices::HasSynced() const { return informer_.HasSynced(); }
bool EndpointSlices::WaitForSync(std::chrono::milliseconds timeout) const {
  return informer_.WaitForSync(timeout);
}

SlicePtr EndpointSlices::Get(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = slices_.find(key);
  return it == slices_.end() ? nullptr : it->second;
}

std::vector<SlicePtr> EndpointSlices::List() const {
  std::lock_guard lock(mu_);
  std::vector<SlicePtr> out;
  out.reserve(slices_.size());
  for (const auto& [key, s] : slices_) out.push_back(s);
  return out;
}

std::vector<SlicePtr> EndpointSlices::OfService(const std::string& service_key) const {
  std::lock_guard lock(mu_);
  std::vector<SlicePtr> out;
  if (auto it = by_service_.find(service_key); it != by_service_.end()) {
    for (const auto& key : it->second) out.push_back(slices_.at(key));
  }
  return out;
}

void EndpointSlices::Set(const std::string& key, SlicePtr after) {
  std::lock_guard handlers_lock(handlers_mu_);  // first: AddHandler sees no change half made
  SlicePtr before;
  {
    std::lock_guard lock(mu_);
    auto it = slices_.find(key);
    if (it != slices_.end()) {
      before = it->second;
      if (std::string svc = before->ServiceKey(); !svc.empty()) {
        auto& keys = by_service_[svc];
        keys.erase(key);
        if (keys.empty()) by_service_.erase(svc);
      }
    }
    if (after) {
      slices_[key] = after;
      if (std::string svc = after->ServiceKey(); !svc.empty()) by_service_[svc].insert(key);
    } else if (it != slices_.end()) {
      slices_.erase(it);
    }
  }
  if (!before && !after) return;
  for (const auto& h : handlers_) h(before, after);
}

}  // namespace kubepp::proxy
