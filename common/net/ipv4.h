// IPv4 addresses and CIDRs as host-order integers, for the allocators (Service IPs, node
// pod CIDRs, LoadBalancer ranges) and the network code.
// Thread safety: stateless.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kubepp::net {

// "10.96.0.1" -> 0x0a600001. BadRequest when not a dotted IPv4 address.
Result<uint32_t> ParseIpv4(std::string_view text);
std::string FormatIpv4(uint32_t ip);

struct Ipv4Cidr {
  uint32_t base = 0;  // the network address (host bits zero)
  int prefix = 0;     // 0..32

  uint32_t Mask() const { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }
  uint64_t Size() const { return uint64_t{1} << (32 - prefix); }
  bool Contains(uint32_t ip) const { return (ip & Mask()) == base; }
  std::string ToString() const { return FormatIpv4(base) + "/" + std::to_string(prefix); }
};

// "10.244.0.0/16". Host bits are cleared ("10.244.1.7/16" is 10.244.0.0/16). BadRequest
// when malformed.
Result<Ipv4Cidr> ParseIpv4Cidr(std::string_view text);

}  // namespace kubepp::net
