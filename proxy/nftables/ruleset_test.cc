#include "proxy/nftables/ruleset.h"

#include <catch2/catch.hpp>

namespace kubepp::proxy::nft {
namespace {

Ruleset Base() {
  Ruleset rs;
  rs.chains["nat-output"] = {"type nat hook output priority -100 ; policy accept ;", {"jump services"}};
  rs.chains["services"].rules = {"ip daddr . meta l4proto . th dport vmap @service-ips"};
  rs.sets["service-ips"].decl = "type ipv4_addr . inet_proto . inet_service : verdict ;";
  return rs;
}

Ruleset WithService(Ruleset rs, const std::string& name, const std::string& ip) {
  rs.chains["service-" + name].rules = {"meta l4proto tcp dnat to " + ip + ":80"};
  rs.sets["service-ips"].elements["10.96.0.1 . tcp . 80"] = "goto service-" + name;
  return rs;
}

TEST_CASE("RenderFull replaces the table in one transaction") {
  std::string text = RenderFull(WithService(Base(), "a", "10.244.1.2"));
  CHECK(text ==
        "add table ip kubepp\n"
        "delete table ip kubepp\n"
        "table ip kubepp {\n"
        "  map service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; elements = { "
        "10.96.0.1 . tcp . 80 : goto service-a } ; }\n"
        "  chain nat-output { type nat hook output priority -100 ; policy accept ; jump services ; }\n"
        "  chain service-a { meta l4proto tcp dnat to 10.244.1.2:80 ; }\n"
        "  chain services { ip daddr . meta l4proto . th dport vmap @service-ips ; }\n"
        "}\n");
}

TEST_CASE("RenderReplace: the table's objects go one by one, the kept sets stay") {
  Ruleset rs = WithService(Base(), "a", "10.244.1.2");
  rs.sets["slots-2"].decl = "typeof ip daddr : ip daddr ;";
  rs.sets["slots-2"].elements["10.96.0.1"] = "10.244.1.2";  // loaded beforehand
  TableObjects kernel{{"nat-output", "service-old"}, {{"service-ips", true}, {"slots", true}, {"hairpin", false}}};
  CHECK(RenderReplace(rs, kernel, {"slots-2"}) ==
        "add table ip kubepp\n"
        // rules first, then sets (a verdict map's elements name chains), then chains
        "flush chain ip kubepp nat-output\n"
        "flush chain ip kubepp service-old\n"
        "delete set ip kubepp hairpin\n"
        "delete map ip kubepp service-ips\n"
        "delete map ip kubepp slots\n"
        "delete chain ip kubepp nat-output\n"
        "delete chain ip kubepp service-old\n"
        "table ip kubepp {\n"
        "  map service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; elements = { "
        "10.96.0.1 . tcp . 80 : goto service-a } ; }\n"
        "  chain nat-output { type nat hook output priority -100 ; policy accept ; jump services ; }\n"
        "  chain service-a { meta l4proto tcp dnat to 10.244.1.2:80 ; }\n"
        "  chain services { ip daddr . meta l4proto . th dport vmap @service-ips ; }\n"
        "}\n");
}

TEST_CASE("RenderDiff: nothing, additions, changes and removals in a valid order") {
  Ruleset base = Base();
  Ruleset one = WithService(base, "a", "10.244.1.2");
  CHECK(RenderDiff(one, one) == std::string());

  SECTION("a new Service: chain before the element that jumps to it") {
    CHECK(RenderDiff(base, one) ==
          "add chain ip kubepp service-a\n"
          "add rule ip kubepp service-a meta l4proto tcp dnat to 10.244.1.2:80\n"
          "add element ip kubepp service-ips { 10.96.0.1 . tcp . 80 : goto service-a }\n");
  }
  SECTION("changed endpoints: the chain is rewritten") {
    CHECK(RenderDiff(one, WithService(base, "a", "10.244.1.3")) ==
          "flush chain ip kubepp service-a\n"
          "add rule ip kubepp service-a meta l4proto tcp dnat to 10.244.1.3:80\n");
  }
  SECTION("a removed Service: the element goes before its chain") {
    CHECK(RenderDiff(one, base) ==
          "delete element ip kubepp service-ips { 10.96.0.1 . tcp . 80 }\n"
          "flush chain ip kubepp service-a\n"
          "delete chain ip kubepp service-a\n");
  }
  SECTION("a map element pointing elsewhere is replaced") {
    Ruleset two = WithService(base, "b", "10.244.1.2");
    CHECK(RenderDiff(one, two) ==
          "add chain ip kubepp service-b\n"
          "add rule ip kubepp service-b meta l4proto tcp dnat to 10.244.1.2:80\n"
          "delete element ip kubepp service-ips { 10.96.0.1 . tcp . 80 }\n"
          "add element ip kubepp service-ips { 10.96.0.1 . tcp . 80 : goto service-b }\n"
          "flush chain ip kubepp service-a\n"
          "delete chain ip kubepp service-a\n");
  }
  SECTION("new and removed sets") {
    Ruleset with_set = one;
    with_set.sets["affinity-x"].decl = "type ipv4_addr ; flags dynamic,timeout ; timeout 60s ;";
    CHECK(RenderDiff(one, with_set) ==
          "add set ip kubepp affinity-x { type ipv4_addr ; flags dynamic,timeout ; timeout 60s ; }\n");
    CHECK(RenderDiff(with_set, one) == "delete set ip kubepp affinity-x\n");
  }
  SECTION("what a diff cannot express") {
    Ruleset changed_hook = one;
    changed_hook.chains["nat-output"].hook = "type nat hook output priority -90 ; policy accept ;";
    CHECK_FALSE(RenderDiff(one, changed_hook).has_value());
    Ruleset new_base_chain = one;
    new_base_chain.chains["filter-input"].hook = "type filter hook input priority 0 ;";
    CHECK_FALSE(RenderDiff(one, new_base_chain).has_value());
    Ruleset changed_set = one;
    changed_set.sets["service-ips"].decl = "type ipv4_addr : verdict ;";
    CHECK_FALSE(RenderDiff(one, changed_set).has_value());
  }
}

}  // namespace
}  // namespace kubepp::proxy::nft
