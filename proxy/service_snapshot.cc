#include "proxy/service_snapshot.h"

#include <algorithm>
#include <cstdint>
#include <set>

#include "common/net/ipv4.h"
#include "common/util/strings.h"

namespace kubepp::proxy {
namespace {

// Only IPv4 addresses reach the rules (the tables are IPv4 ones): an IPv6 address, or text
// that is no address at all (which an older apiserver let through), would make nft or
// iptables refuse the whole transaction, and must never become part of a script.
bool IsIpv4(std::string_view s) { return net::ParseIpv4(s).ok(); }

// The usable endpoints of the slice port (port_name, protocol) over all slices.
std::vector<Endpoint> EndpointsFor(const std::string& port_name, const std::string& protocol,
                                   const std::vector<SlicePtr>& slices) {
  std::set<std::pair<uint32_t, int>> seen;
  std::vector<Endpoint> ready, terminating;
  for (const auto& slice : slices) {
    if (!slice->ipv4) continue;
    int port = 0;
    for (const auto& p : slice->ports) {
      if (p.name == port_name && p.protocol == protocol) port = p.port;
    }
    if (port <= 0 || port > 65535) continue;
    for (const auto& e : slice->endpoints) {
      if (!seen.insert({e.address, port}).second) continue;
      Endpoint ep{e.address, static_cast<uint16_t>(port), e.node};
      if (e.ready) {
        ready.push_back(ep);
      } else if (e.serving && e.terminating) {
        terminating.push_back(ep);
      }
    }
  }
  auto& use = ready.empty() ? terminating : ready;
  // By the address's text, the order the rules have always listed them in (each address
  // formatted once, not at every comparison).
  std::vector<std::pair<std::string, const Endpoint*>> order;
  order.reserve(use.size());
  for (const Endpoint& e : use) order.emplace_back(e.ip(), &e);
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return std::tie(a.first, a.second->port) < std::tie(b.first, b.second->port);
  });
  std::vector<Endpoint> sorted;  // exactly sized: kept for the port's life
  sorted.reserve(order.size());
  for (const auto& [text, e] : order) sorted.push_back(*e);
  return sorted;
}

// `ips` without what is not an IPv4 address (`keep` false: only that).
std::vector<std::string> Ipv4Only(std::vector<std::string> ips, bool keep = true) {
  std::erase_if(ips, [keep](const std::string& ip) { return IsIpv4(ip) != keep; });
  return ips;
}

}  // namespace

std::vector<std::string> UnprogrammableAddresses(const Service& svc) {
  std::vector<std::string> out;
  if (svc.type == Service::Type::kExternalName) return out;
  if (!svc.cluster_ip.empty() && svc.cluster_ip != "None") out.push_back(svc.cluster_ip);
  out.insert(out.end(), svc.external_ips.begin(), svc.external_ips.end());
  out.insert(out.end(), svc.load_balancer_ips.begin(), svc.load_balancer_ips.end());
  return Ipv4Only(std::move(out), false);
}

Endpoint Endpoint::Of(std::string_view ip, int port, std::string_view node_name) {
  auto parsed = net::ParseIpv4(ip);
  return Endpoint{parsed.ok() ? *parsed : 0, static_cast<uint16_t>(port), InternNodeName(node_name)};
}

std::string Endpoint::ip() const { return net::FormatIpv4(address); }

std::string ServicePort::Id() const { return ns + "/" + name + "/" + protocol + "/" + port_name; }

std::vector<const Endpoint*> ServingEndpoints(const ServicePort& sp, bool local_only,
                                              const std::string& node) {
  std::vector<const Endpoint*> out;
  for (const auto& e : sp.endpoints) {
    if (!local_only || e.node_name() == node) out.push_back(&e);
  }
  return out;
}

std::string ShortHash(const std::string& s) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a
  for (unsigned char ch : s) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  for (int i = 0; i < 8; ++i) {
    out += kAlphabet[h & 31];
    h >>= 5;
  }
  return out;
}

std::map<std::string, std::vector<SlicePtr>> SlicesByService(const std::vector<SlicePtr>& slices) {
  std::map<std::string, std::vector<SlicePtr>> out;
  for (const auto& s : slices) {
    std::string key = s->ServiceKey();
    if (!key.empty()) out[key].push_back(s);
  }
  return out;
}

std::vector<ServicePort> ServicePortsOf(const Service& svc, const std::vector<SlicePtr>& slices) {
  std::vector<ServicePort> out;
  // Also headless Services ("None").
  if (svc.type == Service::Type::kExternalName || !IsIpv4(svc.cluster_ip)) return out;

  ServicePort base;
  base.ns = svc.ns;
  base.name = svc.name;
  base.cluster_ip = svc.cluster_ip;
  base.external_ips = Ipv4Only(svc.external_ips);
  base.load_balancer_ips = Ipv4Only(svc.load_balancer_ips);
  base.affinity_timeout_seconds = svc.affinity_timeout_seconds;
  base.external_policy_local = svc.external_policy_local;
  base.internal_policy_local = svc.internal_policy_local;

  for (const auto& p : svc.ports) {
    if (p.port <= 0 || p.port > 65535) continue;
    if (p.protocol != "tcp" && p.protocol != "udp" && p.protocol != "sctp") continue;
    ServicePort sp = base;
    sp.port_name = p.name;
    sp.protocol = p.protocol;
    sp.port = p.port;
    if (svc.HasNodePorts()) sp.node_port = p.node_port;
    sp.endpoints = EndpointsFor(sp.port_name, sp.protocol, slices);
    out.push_back(std::move(sp));
  }
  return out;
}

Snapshot BuildSnapshot(const std::vector<ServicePtr>& services, const std::vector<SlicePtr>& slices) {
  SnapshotInputs in;
  in.Reset(services, slices);
  return in.Build();
}

void SnapshotBuilder::Changed(const std::string& service_key) {
  std::lock_guard lock(mu_);
  dirty_.insert(service_key);
}

void SnapshotBuilder::Reset() {
  std::lock_guard lock(mu_);
  reset_ = true;
}

void SnapshotBuilder::Recompute(const std::string& service_key) {
  ports_.erase(service_key + "/");
  ServicePtr svc = source_->ServiceOfKey(service_key);
  if (!svc) return;
  std::vector<ServicePortPtr> ports;
  for (auto& p : ServicePortsOf(*svc, source_->SlicesOf(service_key))) {
    ports.push_back(std::make_shared<const ServicePort>(std::move(p)));
  }
  if (ports.empty()) return;
  std::stable_sort(ports.begin(), ports.end(),
                   [](const ServicePortPtr& a, const ServicePortPtr& b) { return a->Id() < b->Id(); });
  // Two ports with one Id count once: the first.
  auto dup = std::unique(ports.begin(), ports.end(),
                         [](const ServicePortPtr& a, const ServicePortPtr& b) { return a->Id() == b->Id(); });
  ports.erase(dup, ports.end());
  ports.shrink_to_fit();
  ports_[service_key + "/"] = std::move(ports);
}

Snapshot SnapshotBuilder::Build() {
  std::lock_guard lock(mu_);
  if (reset_) {
    reset_ = false;
    dirty_.clear();
    ports_.clear();
    for (const auto& svc : source_->AllServices()) Recompute(svc->Key());
  }
  for (const auto& key : dirty_) Recompute(key);
  dirty_.clear();
  Snapshot snap;
  size_t n = 0;
  for (const auto& [key, ports] : ports_) n += ports.size();
  snap.ports.reserve(n);
  for (const auto& [key, ports] : ports_) snap.ports.insert(snap.ports.end(), ports.begin(), ports.end());
  return snap;
}

void SnapshotInputs::Reset(const std::vector<ServicePtr>& services, const std::vector<SlicePtr>& slices) {
  services_.clear();
  slices_.clear();
  slice_service_.clear();
  for (const auto& s : services) services_[s->Key()] = s;
  for (const auto& s : slices) {
    std::string svc = s->ServiceKey();
    if (svc.empty()) continue;
    std::string key = s->Key();
    slices_[svc][key] = s;
    slice_service_[key] = svc;
  }
  builder_.Reset();
}

void SnapshotInputs::SetService(const ServicePtr& service) {
  services_[service->Key()] = service;
  builder_.Changed(service->Key());
}

void SnapshotInputs::DeleteService(const std::string& key) {
  services_.erase(key);
  builder_.Changed(key);
}

void SnapshotInputs::SetSlice(const SlicePtr& slice) {
  DeleteSlice(slice->Key());  // the label may have changed: the slice leaves its Service
  std::string svc = slice->ServiceKey();
  if (svc.empty()) return;
  slices_[svc][slice->Key()] = slice;
  slice_service_[slice->Key()] = svc;
  builder_.Changed(svc);
}

void SnapshotInputs::DeleteSlice(const std::string& key) {
  auto it = slice_service_.find(key);
  if (it == slice_service_.end()) return;
  auto owner = slices_.find(it->second);
  if (owner != slices_.end()) {
    owner->second.erase(key);
    if (owner->second.empty()) slices_.erase(owner);
  }
  builder_.Changed(it->second);
  slice_service_.erase(it);
}

std::vector<ServicePtr> SnapshotInputs::AllServices() const {
  std::vector<ServicePtr> out;
  for (const auto& [key, s] : services_) out.push_back(s);
  return out;
}

ServicePtr SnapshotInputs::ServiceOfKey(const std::string& key) const {
  auto it = services_.find(key);
  return it == services_.end() ? nullptr : it->second;
}

std::vector<SlicePtr> SnapshotInputs::SlicesOf(const std::string& service_key) const {
  std::vector<SlicePtr> out;
  if (auto it = slices_.find(service_key); it != slices_.end()) {
    for (const auto& [key, s] : it->second) out.push_back(s);
  }
  return out;
}

}  // namespace kubepp::proxy
