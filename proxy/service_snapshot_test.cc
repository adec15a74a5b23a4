#include "proxy/service_snapshot.h"

#include <catch2/catch.hpp>

#include "common/testing/json.h"
#include "proxy/testutil.h"

namespace kubepp::proxy {
namespace {

using testing::Service;
using testing::Slice;

TEST_CASE("BuildSnapshot: ports, endpoints matched by port name and protocol") {
  auto svc = Service("web", R"({"type":"NodePort","clusterIP":"10.96.0.5","ports":[
      {"name":"http","port":80,"nodePort":30080},{"name":"dns","port":53,"protocol":"UDP"}]})");
  auto slice = Slice("web-1", "web", R"([{"name":"http","port":8080},{"name":"dns","port":5353,"protocol":"UDP"}])",
                     R"([{"addresses":["10.244.1.3"],"nodeName":"n1"},
                         {"addresses":["10.244.1.2"],"conditions":{"ready":true}},
                         {"addresses":["10.244.1.9"],"conditions":{"ready":false}}])");
  Snapshot s = BuildSnapshot({svc}, {slice});
  REQUIRE(s.ports.size() == 2);
  // Sorted by id: tcp/http before udp/dns.
  CHECK(s.ports[0]->Id() == "ns/web/tcp/http");
  CHECK(s.ports[0]->node_port == 30080);
  CHECK(s.ports[0]->endpoints.size() == 2);
  CHECK(s.ports[1]->Id() == "ns/web/udp/dns");
  CHECK(s.ports[1]->node_port == 0);
  CHECK(s.ports[1]->endpoints ==
        std::vector<Endpoint>{Endpoint::Of("10.244.1.2", 5353, ""), Endpoint::Of("10.244.1.3", 5353, "n1")});
}

TEST_CASE("BuildSnapshot: only IPv4 addresses reach the rules") {
  // What an apiserver without address validation would store: text, IPv6.
  auto svc = Service("web", R"({"type":"LoadBalancer","clusterIP":"10.96.0.5",
      "externalIPs":["192.0.2.1","1.2.3.4 } ; flush ruleset","2001:db8::1"],"ports":[{"port":80}]})",
                     R"({"loadBalancer":{"ingress":[{"ip":"192.0.2.9"},{"ip":"x; y"},{"hostname":"lb.example"}]}})");
  auto slice = Slice("web-1", "web", R"([{"port":8080}])",
                     R"([{"addresses":["10.244.1.2"]},{"addresses":["10.244.1.3 } ; flush ruleset"]},
                         {"addresses":["fd00::1"]},{"addresses":[7]}])");
  Snapshot s = BuildSnapshot({svc}, {slice});
  REQUIRE(s.ports.size() == 1);
  CHECK(s.ports[0]->external_ips == std::vector<std::string>{"192.0.2.1"});
  CHECK(s.ports[0]->load_balancer_ips == std::vector<std::string>{"192.0.2.9"});
  CHECK(s.ports[0]->endpoints == std::vector<Endpoint>{Endpoint::Of("10.244.1.2", 8080, "")});
  // A Service whose clusterIP is no IPv4 address has no ports to program.
  CHECK(BuildSnapshot({Service("v6", R"({"clusterIP":"fd00::10","ports":[{"port":80}]})")}, {}).ports.empty());
  CHECK(BuildSnapshot({Service("bad", R"({"clusterIP":"10.0.0.1 ; x","ports":[{"port":80}]})")}, {}).ports.empty());
  // What a Warning Event names.
  CHECK(UnprogrammableAddresses(*svc) ==
        std::vector<std::string>{"1.2.3.4 } ; flush ruleset", "2001:db8::1", "x; y"});
  CHECK(UnprogrammableAddresses(*Service("v6", R"({"clusterIP":"fd00::10","ports":[{"port":80}]})")) ==
        std::vector<std::string>{"fd00::10"});
  CHECK(UnprogrammableAddresses(*Service("h", R"({"clusterIP":"None","ports":[{"port":80}]})")).empty());
}

TEST_CASE("BuildSnapshot: serving terminating endpoints are used only when none is ready") {
  auto svc = Service("web", R"({"clusterIP":"10.96.0.5","ports":[{"port":80}]})");
  auto terminating = R"({"addresses":["10.244.1.4"],"conditions":{"ready":false,"serving":true,"terminating":true}})";
  SECTION("a ready endpoint wins") {
    auto slice = Slice("a", "web", R"([{"port":80}])",
                       std::string("[") + terminating + R"(,{"addresses":["10.244.1.2"]}])");
    auto s = BuildSnapshot({svc}, {slice});
    REQUIRE(s.ports[0]->endpoints.size() == 1);
    CHECK(s.ports[0]->endpoints[0].ip() == "10.244.1.2");
  }
  SECTION("fallback") {
    auto slice = Slice("a", "web", R"([{"port":80}])", std::string("[") + terminating + "]");
    auto s = BuildSnapshot({svc}, {slice});
    REQUIRE(s.ports[0]->endpoints.size() == 1);
    CHECK(s.ports[0]->endpoints[0].ip() == "10.244.1.4");
  }
}

TEST_CASE("BuildSnapshot: headless and ExternalName Services are not proxied") {
  auto headless = Service("h", R"({"clusterIP":"None","ports":[{"port":80}]})");
  auto ext = Service("e", R"({"type":"ExternalName","externalName":"example.org"})");
  CHECK(BuildSnapshot({headless, ext}, {}).ports.empty());
}

TEST_CASE("BuildSnapshot: LoadBalancer, externalIPs, affinity and traffic policies") {
  auto svc = Service("lb", R"({"type":"LoadBalancer","clusterIP":"10.96.0.7","externalIPs":["192.0.2.50"],
      "sessionAffinity":"ClientIP","externalTrafficPolicy":"Local","internalTrafficPolicy":"Local",
      "ports":[{"port":443,"nodePort":31443}]})",
                     R"({"loadBalancer":{"ingress":[{"ip":"192.0.2.10"}]}})");
  auto s = BuildSnapshot({svc}, {});
  REQUIRE(s.ports.size() == 1);
  const auto& p = *s.ports[0];
  CHECK(p.external_ips == std::vector<std::string>{"192.0.2.50"});
  CHECK(p.load_balancer_ips == std::vector<std::string>{"192.0.2.10"});
  CHECK(p.affinity_timeout_seconds == 10800);
  CHECK(p.external_policy_local);
  CHECK(p.internal_policy_local);
  CHECK(p.node_port == 31443);
  CHECK(p.endpoints.empty());
}

TEST_CASE("BuildSnapshot: slices of other Services and duplicate addresses") {
  auto svc = Service("web", R"({"clusterIP":"10.96.0.5","ports":[{"port":80}]})");
  auto a = Slice("a", "web", R"([{"port":80}])", R"([{"addresses":["10.244.1.2"]}])");
  auto b = Slice("b", "web", R"([{"port":80}])", R"([{"addresses":["10.244.1.2"]}])");
  auto other = Slice("c", "other", R"([{"port":80}])", R"([{"addresses":["10.244.9.9"]}])");
  auto elsewhere = Slice("d", "web", R"([{"port":80}])", R"([{"addresses":["10.244.8.8"]}])", "ns2");
  auto s = BuildSnapshot({svc}, {a, b, other, elsewhere});
  REQUIRE(s.ports.size() == 1);
  CHECK(s.ports[0]->endpoints == std::vector<Endpoint>{Endpoint::Of("10.244.1.2", 80, "")});
}

}  // namespace
}  // namespace kubepp::proxy

namespace kubepp::proxy {
namespace {

bool SameContent(const Snapshot& a, const Snapshot& b) {
  if (a.ports.size() != b.ports.size()) return false;
  for (size_t i = 0; i < a.ports.size(); ++i) {
    if (!(*a.ports[i] == *b.ports[i])) return false;
  }
  return true;
}

TEST_CASE("SnapshotBuilder: what BuildSnapshot says, recomputing only changed Services") {
  using testing::Service;
  using testing::Slice;
  auto web = Service("web", R"({"clusterIP":"10.96.0.5","ports":[{"port":80},{"name":"b","port":81}]})");
  auto api = Service("api", R"({"clusterIP":"10.96.0.6","ports":[{"port":443}]})");
  auto web_a = Slice("web-a", "web", R"([{"port":8080}])", R"([{"addresses":["10.244.1.2"]}])");
  auto web_b = Slice("web-b", "web", R"([{"port":8080}])", R"([{"addresses":["10.244.1.3"]}])");
  SnapshotInputs b;
  b.Reset({web, api}, {web_a});
  Snapshot first = b.Build();
  CHECK(SameContent(first, BuildSnapshot({web, api}, {web_a})));
  REQUIRE(first.ports.size() == 3);  // ns/api/tcp/, ns/web/tcp/, ns/web/tcp/b

  b.SetSlice(web_b);
  Snapshot second = b.Build();
  CHECK(SameContent(second, BuildSnapshot({web, api}, {web_a, web_b})));
  CHECK(second.ports[0] == first.ports[0]);  // api untouched: the same object
  CHECK(second.ports[1] != first.ports[1]);
  CHECK(b.Build().ports[1] == second.ports[1]);  // nothing changed since

  // web-b's label now names api: its endpoints move.
  auto moved = Slice("web-b", "api", R"([{"port":8443}])", R"([{"addresses":["10.244.1.3"]}])");
  b.SetSlice(moved);
  CHECK(SameContent(b.Build(), BuildSnapshot({web, api}, {web_a, moved})));

  b.DeleteSlice(web_a->Key());
  b.DeleteService(api->Key());
  Snapshot last = b.Build();
  CHECK(SameContent(last, BuildSnapshot({web}, {moved})));
  REQUIRE(last.ports.size() == 2);
  CHECK(last.ports[0]->endpoints.empty());

  // A headless Service has no ports; becoming one removes them.
  b.SetService(Service("web", R"({"clusterIP":"None","ports":[{"port":80}]})"));
  CHECK(b.Build().ports.empty());
}

}  // namespace
}  // namespace kubepp::proxy
