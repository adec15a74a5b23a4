#include "apiserver/allocator.h"

#include <cstdio>

#include "common/util/random.h"

namespace kubepp::apiserver {

bool ParseIpv4(const std::string& s, uint32_t* out) {
  unsigned a, b, c, d;
  char tail;
  if (std::sscanf(s.c_str(), "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) != 4) return false;
  if (a > 255 || b > 255 || c > 255 || d > 255) return false;
  *out = (a << 24) | (b << 16) | (c << 8) | d;
  return true;
}

std::string FormatIpv4(uint32_t ip) {
  return std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 255) + "." +
         std::to_string((ip >> 8) & 255) + "." + std::to_string(ip & 255);
}

Result<IpAllocator> IpAllocator::Create(const std::string& cidr) {
  auto slash = cidr.find('/');
  uint32_t base;
  if (slash == std::string::npos || !ParseIpv4(cidr.substr(0, slash), &base)) {
    return BadRequest("invalid CIDR \"" + cidr + "\"");
  }
  int bits = std::atoi(cidr.c_str() + slash + 1);
  if (bits < 8 || bits > 30) return BadRequest("CIDR \"" + cidr + "\" must be between /8 and /30");
  IpAllocator a;
  a.cidr_ = cidr;
  uint32_t mask = bits == 0 ? 0 : ~uint32_t(0) << (32 - bits);
  a.base_ = base & mask;
  a.size_ = uint32_t(1) << (32 - bits);
  return a;
}

std::string IpAllocator::First() const { return FormatIpv4(base_ + 1); }

bool IpAllocator::Contains(const std::string& ip) const {
  uint32_t v;
  // The network and broadcast addresses are never handed out.
  return ParseIpv4(ip, &v) && v > base_ && v < base_ + size_ - 1;
}

Result<std::string> IpAllocator::AllocateNext() {
  std::lock_guard<std::mutex> l(mu_);
  uint32_t usable = size_ - 2;
  if (used_.size() >= usable) return Unavailable("no ClusterIP left in " + cidr_);
  // Random probe first (as upstream), then a scan from there.
  uint32_t start = static_cast<uint32_t>(util::RandomBelow(usable));
  for (uint32_t i = 0; i < usable; ++i) {
    uint32_t ip = base_ + 1 + (start + i) % usable;
    if (used_.insert(ip).second) return FormatIpv4(ip);
  }
  return Unavailable("no ClusterIP left in " + cidr_);
}

Status IpAllocator::Allocate(const std::string& ip) {
  if (!Contains(ip)) {
    return Invalid("provided IP " + ip + " is not in the valid range " + cidr_);
  }
  uint32_t v;
  ParseIpv4(ip, &v);
  std::lock_guard<std::mutex> l(mu_);
  if (!used_.insert(v).second) return Invalid("provided IP " + ip + " is already allocated");
  return Status::Ok();
}

void IpAllocator::Release(const std::string& ip) {
  uint32_t v;
  if (!ParseIpv4(ip, &v)) return;
  std::lock_guard<std::mutex> l(mu_);
  used_.erase(v);
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
