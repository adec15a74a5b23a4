#include "common/net/ipv4.h"

#include <arpa/inet.h>

namespace kubepp::net {

Result<uint32_t> ParseIpv4(std::string_view text) {
  in_addr a{};
  if (inet_pton(AF_INET, std::string(text).c_str(), &a) != 1) {
    return BadRequest("not an IPv4 address: \"" + std::string(text) + "\"");
  }
  return ntohl(a.s_addr);
}

std::string FormatIpv4(uint32_t ip) {
  in_addr a{htonl(ip)};
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

Result<Ipv4Cidr> ParseIpv4Cidr(std::string_view text) {
  Status bad = BadRequest("not an IPv4 CIDR: \"" + std::string(text) + "\"");
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return bad;
  auto ip = ParseIpv4(text.substr(0, slash));
  if (!ip.ok()) return bad;
  std::string_view len = text.substr(slash + 1);
  if (len.empty() || len.size() > 2 || len.find_first_not_of("0123456789") != std::string_view::npos) {
    return bad;
  }
  Ipv4Cidr c;
  c.prefix = std::stoi(std::string(len));
  if (c.prefix > 32) return bad;
  c.base = *ip & c.Mask();
  return c;
}

}  // namespace kubepp::net
