#include "proxy/iptables/render.h"

#include <catch2/catch.hpp>

#include "proxy/testutil.h"

namespace kubepp::proxy::ipt {
namespace {

std::string Text(const Tables& t) { return RestoreInput(t, {}, {}); }

TEST_CASE("iptables Render: kube-proxy's iptables shape (golden)") {
  RenderConfig config;
  config.node_name = "n1";
  testing::CheckGolden("sample.iptables", Text(Render(testing::SampleSnapshot(), config)));
}

TEST_CASE("iptables Render: NodePorts last, rejects for ports without endpoints") {
  RenderConfig config;
  config.node_name = "n1";
  Tables t = Render(testing::SampleSnapshot(), config);
  CHECK(t.nat.at("KUBEPP-SERVICES").back() ==
        "-m addrtype --dst-type LOCAL -j KUBEPP-NODEPORTS");
  const auto& rejects = t.filter.at("KUBEPP-SERVICES");
  // "empty": its ClusterIP, external IP, LoadBalancer IP and NodePort.
  REQUIRE(rejects.size() == 4);
  CHECK(rejects[0] == "-d 10.96.0.7/32 -p tcp -m tcp --dport 443 -j REJECT --reject-with tcp-reset");
  CHECK(rejects[3] ==
        "-m addrtype --dst-type LOCAL -p tcp -m tcp --dport 31443 -j REJECT --reject-with tcp-reset");
  for (const auto& [name, rules] : t.nat) CHECK(name.size() <= 28);
}

TEST_CASE("iptables Render: every chain a rule jumps to is declared") {
  RenderConfig config;
  config.node_name = "n2";
  Tables t = Render(testing::SampleSnapshot(), config);
  for (const auto* chains : {&t.nat, &t.filter}) {
    for (const auto& [name, rules] : *chains) {
      for (const auto& r : rules) {
        size_t j = r.find("-j KUBEPP-");
        if (j == std::string::npos) continue;
        std::string target = r.substr(j + 3, r.find(' ', j + 3) - j - 3);
        CHECK(chains->count(target) == 1);
      }
    }
  }
}

TEST_CASE("iptables ValidatePrefix and ChainsWithPrefix") {
  CHECK(ValidatePrefix("KUBEPP").ok());
  CHECK(ValidatePrefix("KUBEPP-4").ok());
  CHECK(!ValidatePrefix("").ok());
  CHECK(!ValidatePrefix("A-VERY-LONG-PREFIX").ok());
  CHECK(!ValidatePrefix("BAD PREFIX").ok());
  std::string save = "*filter\n:INPUT ACCEPT [0:0]\n:KUBEPP-SERVICES - [0:0]\nCOMMIT\n"
                     "*nat\n:PREROUTING ACCEPT [0:0]\n:KUBEPP-SVC-ABC - [0:0]\n:KUBE-SVC-X - [0:0]\n"
                     ":KUBEPPX - [0:0]\n-A KUBEPP-SVC-ABC -j DNAT --to-destination 1.2.3.4:80\nCOMMIT\n";
  CHECK(ChainsWithPrefix(save, "nat", "KUBEPP") == std::set<std::string>{"KUBEPP-SVC-ABC"});
  CHECK(ChainsWithPrefix(save, "filter", "KUBEPP") == std::set<std::string>{"KUBEPP-SERVICES"});
}

}  // namespace
}  // namespace kubepp::proxy::ipt
