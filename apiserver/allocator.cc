#include "apiserver/allocator.h"

#include "common/net/ipv4.h"

#include "common/util/random.h"

namespace kubepp::apiserver {

Result<IpAllocator> IpAllocator::Create(const std::string& cidr) {
  ASSIGN_OR_RETURN(net::Ipv4Cidr c, net::ParseIpv4Cidr(cidr));
  if (c.prefix < 8 || c.prefix > 30) {
    return BadRequest("CIDR \"" + cidr + "\" must be between /8 and /30");
  }
  IpAllocator a;
  a.cidr_ = cidr;
  a.base_ = c.base;
  a.size_ = static_cast<uint32_t>(c.Size());
  return a;
}

std::string IpAllocator::First() const { return net::FormatIpv4(base_ + 1); }

bool IpAllocator::Contains(const std::string& ip) const {
  auto v = net::ParseIpv4(ip);
  // The network and broadcast addresses are never handed out.
  return v.ok() && *v > base_ && *v < base_ + size_ - 1;
}

Result<std::string> IpAllocator::AllocateNext() {
  std::lock_guard<std::mutex> l(mu_);
  uint32_t usable = size_ - 2;
  if (used_.size() >= usable) return Unavailable("no ClusterIP left in " + cidr_);
  // Random probe first (as upstream), then a scan from there.
  uint32_t start = static_cast<uint32_t>(util::RandomBelow(usable));
  for (uint32_t i = 0; i < usable; ++i) {
    uint32_t ip = base_ + 1 + (start + i) % usable;
    if (used_.insert(ip).second) return net::FormatIpv4(ip);
  }
  return Unavailable("no ClusterIP left in " + cidr_);
}

Status IpAllocator::Allocate(const std::string& ip) {
  if (!Contains(ip)) {
    return Invalid("provided IP " + ip + " is not in the valid range " + cidr_);
  }
  uint32_t v = *net::ParseIpv4(ip);  // Contains() checked it
  std::lock_guard<std::mutex> l(mu_);
  if (!used_.insert(v).second) return Invalid("provided IP " + ip + " is already allocated");
  return Status::Ok();
}

void IpAllocator::Release(const std::string& ip) {
  auto v = net::ParseIpv4(ip);
  if (!v.ok()) return;
  std::lock_guard<std::mutex> l(mu_);
  used_.erase(*v);
}

Result<int> PortAllocator::AllocateNext() {
  std::lock_guard<std::mutex> l(mu_);
  int n = last_ - first_ + 1;
  int start = static_cast<int>(util::RandomBelow(static_cast<uint64_t>(n)));
  for (int i = 0; i < n; ++i) {
    int p = first_ + (start + i) % n;
    if (used_.insert(p).second) return p;
  }
  return Unavailable("no NodePort left in " + range());
}

Status PortAllocator::Allocate(int port) {
  if (port < first_ || port > last_) {
    return Invalid("provided port " + std::to_string(port) + " is not in the valid range " +
                   range());
  }
  std::lock_guard<std::mutex> l(mu_);
  if (!used_.insert(port).second) {
    return Invalid("provided port " + std::to_string(port) + " is already allocated");
  }
  return Status::Ok();
}

void PortAllocator::Release(int port) {
  std::lock_guard<std::mutex> l(mu_);
  used_.erase(port);
}

}  // namespace kubepp::apiserver
