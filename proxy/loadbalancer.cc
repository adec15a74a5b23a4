#include "proxy/loadbalancer.h"

#include "common/net/ipv4.h"

#include <arpa/inet.h>

#include "common/log.h"

namespace kubepp::proxy {
namespace {

// A LoadBalancer Service without an address yet.
bool NeedsAddress(const Service& svc) {
  return svc.type == Service::Type::kLoadBalancer && svc.load_balancer_ips.empty();
}

}  // namespace

std::string IpRange::Cidr() const {
  uint64_t size = uint64_t(last) - first + 1;
  for (int prefix = 0; prefix <= 32; ++prefix) {
    uint64_t block = uint64_t(1) << (32 - prefix);
    if (block == size) {
      return first % block == 0 ? net::FormatIpv4(first) + "/" + std::to_string(prefix) : "";
    }
  }
  return "";
}

Result<IpRange> ParseIpRange(const std::string& spec) {
  if (auto dash = spec.find('-'); dash != std::string::npos) {
    ASSIGN_OR_RETURN(uint32_t a, net::ParseIpv4(spec.substr(0, dash)));
    ASSIGN_OR_RETURN(uint32_t b, net::ParseIpv4(spec.substr(dash + 1)));
    if (b < a) return BadRequest("empty address range: " + spec);
    return IpRange{a, b};
  }
  if (auto slash = spec.find('/'); slash != std::string::npos) {
    ASSIGN_OR_RETURN(uint32_t base, net::ParseIpv4(spec.substr(0, slash)));
    int prefix = -1;
    try {
      prefix = std::stoi(spec.substr(slash + 1));
    } catch (...) {
    }
    if (prefix < 0 || prefix > 32) return BadRequest("bad prefix length: " + spec);
    uint32_t mask = prefix == 0 ? 0 : ~uint32_t(0) << (32 - prefix);
    IpRange r{base & mask, (base & mask) | ~mask};
    if (prefix <= 30) {  // network and broadcast addresses are not usable
      ++r.first;
      --r.last;
    }
    return r;
  }
  ASSIGN_OR_RETURN(uint32_t ip, net::ParseIpv4(spec));
  return IpRange{ip, ip};
}

Result<std::string> PickAddress(const IpRange& range, const std::set<std::string>& used) {
  if (range.first == range.last) return net::FormatIpv4(range.first);
  for (uint64_t ip = range.first; ip <= range.last; ++ip) {
    std::string s = net::FormatIpv4(static_cast<uint32_t>(ip));
    if (!used.count(s)) return s;
  }
  return Unavailable("every address of the LoadBalancer range is in use");
}

LoadBalancerController::LoadBalancerController(client::RestClient* client,
                                               Services* services,
                                               client::EventRecorder* events, IpRange range)
    : client_(client), services_(services), events_(events), range_(range) {
  services_->AddHandler([this](const ServicePtr&, const ServicePtr& s) {
    if (s && NeedsAddress(*s)) queue_.Add(s->Key());
  });
}

LoadBalancerController::~LoadBalancerController() { Stop(); }

void LoadBalancerController::Start() {
  worker_ = std::thread([this] {
    std::string key;
    while (queue_.Get(&key)) {
      Status st = Sync(key);
      if (st.ok()) {
        queue_.Forget(key);
      } else {
        LOG(WARNING) << "proxy: LoadBalancer address for " << key << ": " << st.ToString();
        queue_.AddRateLimited(key);
      }
      queue_.Done(key);
    }
  });
}

void LoadBalancerController::Stop() {
  queue_.ShutDown();
  if (worker_.joinable()) worker_.join();
}

Status LoadBalancerController::Sync(const std::string& key) {
  ServicePtr svc = services_->Get(key);
  if (!svc || !NeedsAddress(*svc)) return Status::Ok();
  std::set<std::string> used;
  for (const auto& s : services_->List()) {
    if (s->type != Service::Type::kLoadBalancer) continue;
    used.insert(s->load_balancer_ips.begin(), s->load_balancer_ips.end());
  }
  auto ip = PickAddress(range_, used);
  if (!ip.ok()) {
    events_->Record(svc->Reference(), "Warning", "AllocationFailed", ip.status().message());
    return ip.status();
  }
  // The store keeps no documents: the status goes onto the object as the apiserver has it
  // now (its resourceVersion guards against a change meanwhile: a conflict retries).
  auto [ns, name] = informer::SplitKey(key);
  auto current = client_->Get(client::kServices, ns, name);
  if (!current.ok()) return current.status().code() == Code::kNotFound ? Status::Ok() : current.status();
  if (!NeedsAddress(*ServiceOf(*current))) return Status::Ok();
  auto& a = current->GetAllocator();
  api::Value ingress(rapidjson::kArrayType);
  api::Value entry(rapidjson::kObjectType);
  entry.AddMember("ip", api::Str(*ip, a), a);
  entry.AddMember("ipMode", "VIP", a);
  ingress.PushBack(entry, a);
  api::SetValue(*current, "status.loadBalancer.ingress", std::move(ingress), a);
  auto r = client_->UpdateStatus(client::kServices, ns, *current);
  if (!r.ok()) return r.status();
  LOG(INFO) << "proxy: LoadBalancer " << key << " gets address " << *ip;
  events_->Record(svc->Reference(), "Normal", "IPAllocated", "Assigned IP [" + *ip + "]");
  return Status::Ok();
}

}  // namespace kubepp::proxy
