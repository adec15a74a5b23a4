#include "controller-manager/nodeipam/nodeipam_controller.h"

#include <catch2/catch.hpp>

#include "controller-manager/framework/testing.h"

namespace kubepp::controller {
namespace {

using client::kNodes;
using testing::Env;

TEST_CASE("cidr set: subnets of the cluster CIDR") {
  auto set = CidrSet::Create("10.244.0.0/16", 24);
  REQUIRE(set.ok());
  CHECK(set->Free() == 256);
  CHECK(set->Allocate() == "10.244.0.0/24");
  CHECK(set->Occupy("10.244.1.0/24"));
  CHECK(set->Allocate() == "10.244.2.0/24");
  CHECK_FALSE(set->Occupy("10.245.0.0/24"));  // outside
  CHECK_FALSE(set->Occupy("10.244.3.0/25"));  // another size
  set->Release("10.244.0.0/24");
  CHECK(set->Free() == 254);
  for (const char* bad : {"10.244.0.0", "10.244.0.0/33", "::1/64", "x/8"}) {
    CHECK_FALSE(CidrSet::Create(bad, 24).ok());
  }
  CHECK_FALSE(CidrSet::Create("10.244.0.0/16", 8).ok());
  auto tiny = CidrSet::Create("10.0.0.0/23", 24);
  REQUIRE(tiny.ok());
  CHECK(tiny->Allocate());
  CHECK(tiny->Allocate());
  CHECK_FALSE(tiny->Allocate());
}

std::string Node(const std::string& name, const std::string& cidr = "") {
  return R"({"apiVersion":"v1","kind":"Node","metadata":{"name":")" + name + R"("},"spec":{)" +
         (cidr.empty() ? "" : R"("podCIDR":")" + cidr + "\"") + "}}";
}

TEST_CASE("nodeipam: every node gets its own CIDR, also after a restart") {
  Env env;
  env.Watch(kNodes);
  env.Create(kNodes, Node("old", "10.244.0.0/24"));  // allocated by an earlier run
  env.Create(kNodes, Node("new"));
  auto& ipam = env.Own(std::make_unique<NodeIpamController>(
      &env.fake, &env.informers, *CidrSet::Create("10.244.0.0/16", 24), &env.events));
  env.Start();
  ipam.Started();
  REQUIRE(ipam.Sync("new").ok());
  env.Settle();
  CHECK(api::GetString(env.Get(kNodes, "", "new"), "spec.podCIDR") == "10.244.1.0/24");
  CHECK(api::ToJson(*api::Find(env.Get(kNodes, "", "new"), "spec.podCIDRs")) == R"(["10.244.1.0/24"])");
  REQUIRE(ipam.Sync("new").ok());  // idempotent
  CHECK(api::GetString(env.Get(kNodes, "", "new"), "spec.podCIDR") == "10.244.1.0/24");
  // A second controller with a fresh CIDR set (as after a restart) learns the taken
  // CIDRs from the nodes before allocating.
  env.Create(kNodes, Node("third"));
  env.Settle();
  auto& again = env.Own(std::make_unique<NodeIpamController>(
      &env.fake, &env.informers, *CidrSet::Create("10.244.0.0/16", 24), &env.events));
  again.Started();
  REQUIRE(again.Sync("third").ok());
  env.Settle();
  CHECK(api::GetString(env.Get(kNodes, "", "third"), "spec.podCIDR") == "10.244.2.0/24");
}

}  // namespace
}  // namespace kubepp::controller
