#include "controller-manager/controller_manager.h"

#include <catch2/catch.hpp>

namespace kubepp::controllermanager {
namespace {

TEST_CASE("controller-manager: --controllers selects controllers as upstream") {
  const auto& all = KnownControllers();
  REQUIRE(std::find(all.begin(), all.end(), "replicaset") != all.end());
  REQUIRE(std::find(all.begin(), all.end(), "garbagecollector") != all.end());
  CHECK(*EnabledControllers("*") == all);
  CHECK(*EnabledControllers("deployment,replicaset") ==
        std::vector<std::string>{"replicaset", "deployment"});  // in start order
  auto without_gc = *EnabledControllers("*,-garbagecollector");
  CHECK(without_gc.size() == all.size() - 1);
  CHECK(std::find(without_gc.begin(), without_gc.end(), "garbagecollector") == without_gc.end());
  CHECK(EnabledControllers("").value().empty());
  auto bad = EnabledControllers("*,-nosuch");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("nosuch") != std::string::npos);
}

TEST_CASE("controller-manager: setup errors come back from Run") {
  Options o;
  o.controllers = "replicaset,bogus";
  std::atomic<bool> stop{true};
  CHECK(Run(o, &stop).code() == Code::kBadRequest);
  o.controllers = "*";
  o.client.kubeconfig = "/nonexistent/kubeconfig";
  CHECK_FALSE(Run(o, &stop).ok());
}

}  // namespace
}  // namespace kubepp::controllermanager
