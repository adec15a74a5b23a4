#include "proxy/pod_routes.h"

#include <catch2/catch.hpp>

#include "common/api/json.h"

namespace kubepp::proxy {
namespace {

informer::ObjectPtr Node(const std::string& name, const std::string& cidr, const std::string& ip) {
  std::string spec = cidr.empty() ? "{}" : R"({"podCIDR":")" + cidr + R"("})";
  std::string addrs = ip.empty() ? "[]" : R"([{"type":"Hostname","address":"h"},{"type":"InternalIP","address":")" + ip + R"("}])";
  auto doc = api::ParseJson(R"({"kind":"Node","metadata":{"name":")" + name + R"("},"spec":)" +
                            spec + R"(,"status":{"addresses":)" + addrs + "}}");
  REQUIRE(doc.ok());
  return std::make_shared<const api::Document>(std::move(doc).value());
}

TEST_CASE("DesiredPodRoutes: every other node's CIDR via its address, not our own or local ones",
          "[pod_routes]") {
  auto local = [](const std::string& ip) { return ip == "172.18.0.2" || ip == "127.0.0.1"; };
  std::vector<informer::ObjectPtr> nodes = {
      Node("node-3", "10.244.2.0/24", "172.18.0.4"),
      Node("node-1", "10.244.0.0/24", "172.18.0.2"),  // ourselves
      Node("node-2", "10.244.1.0/24", "172.18.0.3"),
      Node("node-4", "", "172.18.0.5"),               // no CIDR yet
      Node("node-5", "10.244.4.0/24", ""),            // no address yet
      Node("node-6", "10.244.5.0/24", "127.0.0.1"),   // on this host
      Node("node-7", "fd00::/64", "172.18.0.8"),      // not IPv4
  };
  auto routes = DesiredPodRoutes(nodes, "node-1", local);
  REQUIRE(routes == std::vector<PodRoute>{{"10.244.1.0/24", "172.18.0.3"},
                                         {"10.244.2.0/24", "172.18.0.4"}});
}

TEST_CASE("ParseRoutes reads `ip route show` lines", "[pod_routes]") {
  auto routes = ParseRoutes(
      "10.244.1.0/24 via 172.18.0.3 dev eth0 \n"
      "10.244.2.7 via 172.18.0.4 dev eth0 onlink\n"
      "\n");
  REQUIRE(routes == std::vector<PodRoute>{{"10.244.1.0/24", "172.18.0.3"},
                                         {"10.244.2.7/32", "172.18.0.4"}});
}

}  // namespace
}  // namespace kubepp::proxy
