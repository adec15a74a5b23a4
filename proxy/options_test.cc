#include "proxy/options.h"

#include <catch2/catch.hpp>

namespace kubepp::proxy {
namespace {

TEST_CASE("ChooseProxyMode: as asked, else nftables where it works, else iptables") {
  int probes = 0;
  auto works = [&] { ++probes; return true; };
  auto broken = [&] { ++probes; return false; };
  CHECK(*ChooseProxyMode("iptables", works) == "iptables");
  CHECK(*ChooseProxyMode("nftables", broken) == "nftables");  // asked for: no fallback
  CHECK(probes == 0);
  CHECK(*ChooseProxyMode("", works) == "nftables");
  CHECK(*ChooseProxyMode("", broken) == "iptables");
  auto bad = ChooseProxyMode("ipvs", works);
  REQUIRE(!bad.ok());
  CHECK(bad.status().message() == "unknown --proxy-mode ipvs (nftables or iptables)");
}

}  // namespace
}  // namespace kubepp::proxy
