#include "controller-manager/namespace/namespace_controller.h"

#include <catch2/catch.hpp>

#include "controller-manager/framework/testing.h"
#include "controller-manager/serviceaccount/serviceaccount_controller.h"

namespace kubepp::controller {
namespace {

using client::kConfigMaps;
using client::kNamespaces;
using client::kPods;
using client::kServiceAccounts;
using testing::Env;

TEST_CASE("namespace: deletion empties the namespace, then finalizes it") {
  Env env;
  std::vector<std::string> finalized;
  auto& nc = env.Own(std::make_unique<NamespaceController>(
      &env.fake, &env.informers, [&](const api::Value& ns) {
        finalized.push_back(api::ToJson(*api::Find(ns, "spec.finalizers")));
        return Status::Ok();
      }));
  env.Watch(kNamespaces);
  env.Start();
  env.Create(kNamespaces, R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"doomed","deletionTimestamp":"2024-01-01T00:00:00Z"},"spec":{"finalizers":["kubernetes","example.com/x"]}})");
  env.Create(kNamespaces, R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"alive"},"spec":{"finalizers":["kubernetes"]}})");
  for (const char* ns : {"doomed", "alive"}) {
    env.Create(kConfigMaps, std::string(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm","namespace":")") + ns + R"("}})");
    env.Create(kPods, std::string(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":")") + ns + R"("}})");
  }
  env.Settle();
  CHECK(nc.QueueLength() == 1);  // only the namespace being deleted
  // First pass deletes the content; it was there, so the namespace waits for a recheck.
  REQUIRE(nc.Sync("doomed").ok());
  CHECK(finalized.empty());
  CHECK(env.List(kConfigMaps, "doomed").empty());
  CHECK(env.List(kPods, "doomed").empty());
  REQUIRE(nc.Sync("doomed").ok());
  REQUIRE(finalized.size() == 1);
  CHECK(finalized[0] == R"(["example.com/x"])");  // only our finalizer is removed
  // Other namespaces are untouched.
  REQUIRE(nc.Sync("alive").ok());
  CHECK(env.List(kConfigMaps, "alive").size() == 1);
  CHECK(env.List(kPods, "alive").size() == 1);
}

TEST_CASE("serviceaccount: every active namespace gets a default ServiceAccount") {
  Env env;
  auto& sac = env.Own(std::make_unique<ServiceAccountController>(&env.fake, &env.informers));
  env.Watch(kNamespaces);
  env.Watch(kServiceAccounts);
  env.Start();
  env.Create(kNamespaces, R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a"},"status":{"phase":"Active"}})");
  env.Create(kNamespaces, R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"t"},"status":{"phase":"Terminating"}})");
  env.Settle();
  REQUIRE(sac.Sync("a").ok());
  REQUIRE(sac.Sync("t").ok());
  CHECK(env.Exists(kServiceAccounts, "a", "default"));
  CHECK_FALSE(env.Exists(kServiceAccounts, "t", "default"));
  // Deleted: recreated.
  REQUIRE(env.fake.Delete(kServiceAccounts, "a", "default").ok());
  env.Settle();
  REQUIRE(sac.Sync("a").ok());
  CHECK(env.Exists(kServiceAccounts, "a", "default"));
}

}  // namespace
}  // namespace kubepp::controller
