#include "common/net/ipv4.h"

#include <catch2/catch.hpp>

namespace kubepp::net {

TEST_CASE("ipv4: parse and format addresses and CIDRs", "[net]") {
  CHECK(*ParseIpv4("10.96.0.1") == 0x0a600001u);
  CHECK(FormatIpv4(0x0a600001u) == "10.96.0.1");
  for (const char* bad : {"", "10.96.0", "10.96.0.256", "a.b.c.d", "10.96.0.1 "}) {
    CHECK(ParseIpv4(bad).status().code() == Code::kBadRequest);
  }
  auto c = ParseIpv4Cidr("10.244.1.7/16");
  REQUIRE(c.ok());
  CHECK(c->ToString() == "10.244.0.0/16");
  CHECK(c->Size() == 65536);
  CHECK(c->Contains(*ParseIpv4("10.244.255.1")));
  CHECK_FALSE(c->Contains(*ParseIpv4("10.245.0.1")));
  CHECK(ParseIpv4Cidr("0.0.0.0/0")->Size() == (uint64_t{1} << 32));
  for (const char* bad : {"10.0.0.0", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/1x", "x/8"}) {
    CHECK_FALSE(ParseIpv4Cidr(bad).ok());
  }
}

}  // namespace kubepp::net
