#include "proxy/conntrack.h"

#include <catch2/catch.hpp>

namespace kubepp::proxy {
namespace {

using Argv = std::vector<std::string>;

ServicePortPtr Port(const std::string& protocol, std::vector<std::string> endpoint_ips,
                    int node_port = 0, std::vector<std::string> external_ips = {}) {
  auto p = std::make_shared<ServicePort>();
  p->ns = "ns";
  p->name = "dns";
  p->protocol = protocol;
  p->cluster_ip = "10.96.0.20";
  p->port = 53;
  p->node_port = node_port;
  p->external_ips = std::move(external_ips);
  for (auto& ip : endpoint_ips) p->endpoints.push_back(Endpoint::Of(ip, 5353, "n1"));
  return p;
}

Snapshot Of(std::vector<ServicePortPtr> ports) { return Snapshot{std::move(ports)}; }

Argv Del(std::vector<std::string> match) {
  Argv a = {"conntrack", "-D", "-p", "udp"};
  a.insert(a.end(), match.begin(), match.end());
  return a;
}

TEST_CASE("conntrack: a removed UDP endpoint's flows go, on every address and the NodePort") {
  auto before = Of({Port("udp", {"10.244.1.2", "10.244.1.3"}, 30053, {"192.0.2.9"})});
  auto after = Of({Port("udp", {"10.244.1.3"}, 30053, {"192.0.2.9"})});
  CHECK(StaleUdpFlows(before, after) ==
        std::vector<Argv>{Del({"--dport", "30053", "--dst-nat", "10.244.1.2"}),
                          Del({"--orig-dst", "10.96.0.20", "--dst-nat", "10.244.1.2"}),
                          Del({"--orig-dst", "192.0.2.9", "--dst-nat", "10.244.1.2"})});
}

TEST_CASE("conntrack: a UDP port that gets its first endpoint drops its un-NATed flows") {
  CHECK(StaleUdpFlows(Of({Port("udp", {})}), Of({Port("udp", {"10.244.1.2"})})) ==
        std::vector<Argv>{Del({"--orig-dst", "10.96.0.20"})});
  CHECK(StaleUdpFlows(Of({}), Of({Port("udp", {"10.244.1.2"}, 30053)})) ==
        std::vector<Argv>{Del({"--dport", "30053"}), Del({"--orig-dst", "10.96.0.20"})});
}

TEST_CASE("conntrack: a removed UDP Service's endpoints go; TCP and unchanged ports need nothing") {
  CHECK(StaleUdpFlows(Of({Port("udp", {"10.244.1.2"})}), Of({})) ==
        std::vector<Argv>{Del({"--orig-dst", "10.96.0.20", "--dst-nat", "10.244.1.2"})});
  CHECK(StaleUdpFlows(Of({Port("tcp", {"10.244.1.2"})}), Of({})).empty());
  auto same = Of({Port("udp", {"10.244.1.2"})});
  CHECK(StaleUdpFlows(same, same).empty());
  CHECK(StaleUdpFlows(Of({Port("udp", {"10.244.1.2"})}), Of({Port("udp", {})})) ==
        std::vector<Argv>{Del({"--orig-dst", "10.96.0.20", "--dst-nat", "10.244.1.2"})});
}

}  // namespace
}  // namespace kubepp::proxy
