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
                            NonNegativeInt(p, "port")});
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

EndpointSlices::EndpointSlices(client::RestClient* client)
    : ObjectStore(client, client::kEndpointSlices, SliceOf,
                  [](const EndpointSlice& s) { return s.ServiceKey(); }) {}

}  // namespace kubepp::proxy
