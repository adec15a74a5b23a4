#include "proxy/loadbalancer.h"
#include "common/net/ipv4.h"

#include <catch2/catch.hpp>
#include <thread>

#include "proxy/testutil.h"

namespace kubepp::proxy {
namespace {

TEST_CASE("ParseIpRange: single address, dash range and CIDR") {
  auto one = ParseIpRange("192.0.2.7");
  REQUIRE(one.ok());
  CHECK(net::FormatIpv4(one->first) == "192.0.2.7");
  CHECK(one->first == one->last);
  auto dash = ParseIpRange("192.0.2.10-192.0.2.12");
  REQUIRE(dash.ok());
  CHECK(dash->last - dash->first == 2);
  auto cidr = ParseIpRange("192.0.2.0/30");
  REQUIRE(cidr.ok());
  CHECK(net::FormatIpv4(cidr->first) == "192.0.2.1");  // network and broadcast left out
  CHECK(net::FormatIpv4(cidr->last) == "192.0.2.2");
  CHECK(IpRange{0xC0000200, 0xC00002FF}.Cidr() == "192.0.2.0/24");
  CHECK(dash->Cidr() == "");
  CHECK_FALSE(ParseIpRange("192.0.2.12-192.0.2.10").ok());
  CHECK_FALSE(ParseIpRange("nope").ok());
  CHECK_FALSE(ParseIpRange("10.0.0.0/33").ok());
}

TEST_CASE("PickAddress: lowest free address; one address is shared") {
  auto range = ParseIpRange("192.0.2.10-192.0.2.11");
  REQUIRE(range.ok());
  CHECK(*PickAddress(*range, {}) == "192.0.2.10");
  CHECK(*PickAddress(*range, {"192.0.2.10"}) == "192.0.2.11");
  CHECK(PickAddress(*range, {"192.0.2.10", "192.0.2.11"}).status().code() == Code::kUnavailable);
  CHECK(*PickAddress(*ParseIpRange("192.0.2.7"), {"192.0.2.7"}) == "192.0.2.7");
}

TEST_CASE("LoadBalancerController writes status.loadBalancer.ingress once") {
  client::FakeRestClient fake;
  auto lb = testing::ServiceObject("lb", R"({"type":"LoadBalancer","clusterIP":"10.96.0.7","ports":[{"port":80}]})");
  auto taken = testing::ServiceObject("taken", R"({"type":"LoadBalancer","clusterIP":"10.96.0.8","ports":[{"port":80}]})",
                                R"({"loadBalancer":{"ingress":[{"ip":"192.0.2.10"}]}})");
  auto plain = testing::ServiceObject("plain", R"({"clusterIP":"10.96.0.9","ports":[{"port":80}]})");
  for (const auto* s : {&lb, &taken, &plain}) REQUIRE(fake.Create(client::kServices, "ns", *s).ok());
  Services services(&fake);
  client::EventRecorder events(&fake, {.component = "kube-proxy", .host = "", .instance = ""});
  LoadBalancerController c(&fake, &services, &events, *ParseIpRange("192.0.2.10-192.0.2.20"));
  services.Start();
  REQUIRE(services.WaitForSync(std::chrono::seconds(5)));

  REQUIRE(c.Sync("ns/lb").ok());
  auto got = fake.Get(client::kServices, "ns", "lb");
  REQUIRE(got.ok());
  CHECK(api::GetString((*got)["status"]["loadBalancer"]["ingress"][0], "ip") == "192.0.2.11");
  // Not a LoadBalancer, or already assigned: untouched.
  REQUIRE(c.Sync("ns/plain").ok());
  CHECK_FALSE(api::Has(*fake.Get(client::kServices, "ns", "plain"), "status.loadBalancer.ingress"));
  REQUIRE(c.Sync("ns/taken").ok());
  CHECK(api::GetString((*fake.Get(client::kServices, "ns", "taken"))["status"]["loadBalancer"]["ingress"][0],
                       "ip") == "192.0.2.10");
  REQUIRE(c.Sync("ns/missing").ok());
  services.Stop();
}

}  // namespace
}  // namespace kubepp::proxy
