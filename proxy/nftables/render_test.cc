#include "proxy/nftables/render.h"

#include <catch2/catch.hpp>

#include "proxy/testutil.h"

namespace kubepp::proxy::nft {
namespace {

using testing::Service;
using testing::Slice;

TEST_CASE("BuildRuleset: the kube-proxy nftables shape (golden)") {
  RenderConfig config;
  config.node_name = "n1";
  Ruleset rs = BuildRuleset(testing::SampleSnapshot(), config);
  testing::CheckGolden("sample.nft", RenderFull(rs));
}

TEST_CASE("BuildRuleset: the random cascade picks each of N endpoints with probability 1/N") {
  // Rule i fires with probability 1/(N-i) among what earlier rules left.
  for (int n = 1; n <= 5; ++n) {
    double left = 1;
    for (int i = 0; i < n; ++i) {
      double p = i + 1 < n ? 1.0 / (n - i) : 1.0;
      CHECK(left * p == Approx(1.0 / n));
      left *= 1 - p;
    }
  }
}

TEST_CASE("BuildRuleset: maps send each address to its chain or to reject") {
  RenderConfig config;
  config.node_name = "n1";
  Ruleset rs = BuildRuleset(testing::SampleSnapshot(), config);
  const auto& ips = rs.sets.at("service-ips").elements;
  // web (two endpoints, no affinity, Cluster policies): the shared chains for two endpoints.
  CHECK(ips.at("10.96.0.5 . tcp . 80") == "goto pick-cluster-tcp-2");
  CHECK(rs.sets.at("service-nodeports").elements.at("tcp . 30080") == "goto pick-nodeport-tcp-2");
  // No endpoints: ClusterIP, external IP, LoadBalancer IP and NodePort all reject.
  const auto& reject = rs.sets.at("no-endpoint-services").elements;
  CHECK(reject.count("10.96.0.7 . tcp . 443"));
  CHECK(reject.count("192.0.2.50 . tcp . 443"));
  CHECK(reject.count("192.0.2.10 . tcp . 443"));
  CHECK(rs.sets.at("no-endpoint-nodeports").elements.count("tcp . 31443"));
  CHECK_FALSE(ips.count("10.96.0.7 . tcp . 443"));
  // Two endpoints: slot numgen random mod 2 of the entry's key.
  CHECK(rs.chains.at("pick-cluster-tcp-2").rules ==
        std::vector<std::string>{"ip saddr != 10.244.0.0/16 jump mark-for-masquerade",
                                 "meta l4proto tcp dnat ip to ip daddr . tcp dport . "
                                 "numgen random mod 2 map @service-endpoints-tcp"});
  CHECK(rs.chains.at("pick-nodeport-tcp-2").rules ==
        std::vector<std::string>{"jump mark-for-masquerade",
                                 "meta l4proto tcp dnat ip to tcp dport . "
                                 "numgen random mod 2 map @nodeport-endpoints-tcp"});
  const auto& slots = rs.sets.at("service-endpoints-tcp").elements;
  CHECK(slots.at("10.96.0.5 . 80 . 0") == "10.244.1.2 . 8080");
  CHECK(slots.at("10.96.0.5 . 80 . 1") == "10.244.2.2 . 8080");
  CHECK_FALSE(slots.count("10.96.0.5 . 80 . 2"));
  CHECK(rs.sets.at("nodeport-endpoints-tcp").elements.at("30080 . 1") == "10.244.2.2 . 8080");
  CHECK(SlotsOf("service-ips", "10.96.0.5 . udp . 53").map == "service-endpoints-udp");
  CHECK(SlotsOf("service-ips", "10.96.0.5 . udp . 53").prefix == "10.96.0.5 . 53 . ");
  CHECK(SlotsOf("service-nodeports", "sctp . 30000").map == "nodeport-endpoints-sctp");
  CHECK(SlotsOf("service-nodeports", "sctp . 30000").prefix == "30000 . ");
  CHECK(SlotOwner("nodeport-endpoints-udp") == "service-nodeports");
  CHECK(SlotOwner("hairpin-endpoints").empty());
  CHECK(rs.chains.count("service-" + ShortHash("ns/web/tcp/http") + "-ns/web/tcp/http") == 0);
  // No chain per endpoint without affinity; hairpin is one set lookup.
  CHECK(rs.chains.count("endpoint-" + ShortHash("ns/web/tcp/http") + "-ns/web/tcp/http__10.244.1.2/8080") == 0);
  CHECK(rs.sets.at("hairpin-endpoints").elements.count("10.244.1.2 . 10.244.1.2"));
  // Hairpin only for endpoints that can be on this node (n1's, or of no known node): a
  // connection is DNATed on its client's node.
  CHECK_FALSE(rs.sets.at("hairpin-endpoints").elements.count("10.244.2.2 . 10.244.2.2"));
  CHECK(rs.sets.at("hairpin-endpoints").elements.count("10.244.1.3 . 10.244.1.3"));  // no nodeName
  RenderConfig anywhere;  // node unknown: every endpoint
  CHECK(BuildRuleset(testing::SampleSnapshot(), anywhere).sets.at("hairpin-endpoints").elements.count(
      "10.244.2.2 . 10.244.2.2"));
}

TEST_CASE("BuildRuleset: externalTrafficPolicy Local uses only this node's endpoints") {
  RenderConfig config;
  config.node_name = "n2";
  Ruleset rs = BuildRuleset(testing::SampleSnapshot(), config);
  const std::string id = "ns/local/tcp/";
  const auto& ext = rs.chains.at("external-" + ShortHash(id) + "-" + id).rules;
  REQUIRE(!ext.empty());
  CHECK(ext.back() == "meta l4proto tcp dnat to 10.244.2.4:8080");
  config.node_name = "n3";
  rs = BuildRuleset(testing::SampleSnapshot(), config);
  CHECK(rs.chains.at("external-" + ShortHash(id) + "-" + id).rules.back() == "drop");
}

TEST_CASE("BuildRuleset: ClientIP affinity has a timed set per endpoint") {
  Ruleset rs = BuildRuleset(testing::SampleSnapshot(), RenderConfig{});
  const std::string id = "ns/sticky/udp/";
  const std::string set = "affinity-" + ShortHash(id) + "-" + id + "__10.244.1.3/5353";
  REQUIRE(rs.sets.count(set));
  CHECK(rs.sets.at(set).decl == "type ipv4_addr ; flags dynamic,timeout ; timeout 60s ;");
  const auto& ep = rs.chains.at("endpoint-" + ShortHash(id) + "-" + id + "__10.244.1.3/5353").rules;
  CHECK(ep == std::vector<std::string>{"update @" + set + " { ip saddr }",
                                       "meta l4proto udp dnat to 10.244.1.3:5353"});
  const auto& svc = rs.chains.at("service-" + ShortHash(id) + "-" + id).rules;
  REQUIRE(svc.size() == 3);
  CHECK(svc[1] == "ip saddr @" + set + " goto endpoint-" + ShortHash(id) + "-" + id + "__10.244.1.3/5353");
}

TEST_CASE("ShortHash is stable") {
  CHECK(ShortHash("ns/web/tcp/http") == ShortHash("ns/web/tcp/http"));
  CHECK(ShortHash("ns/web/tcp/http") != ShortHash("ns/web/tcp/https"));
  CHECK(ShortHash("x").size() == 8);
}

}  // namespace
}  // namespace kubepp::proxy::nft
