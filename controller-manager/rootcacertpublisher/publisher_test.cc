#include "controller-manager/rootcacertpublisher/publisher.h"

#include <catch2/catch.hpp>

#include "controller-manager/framework/testing.h"

namespace kubepp::controller {
namespace {

using client::kConfigMaps;
using client::kNamespaces;
using testing::Env;

constexpr const char* kCa = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

std::string Namespace(const std::string& name, const std::string& phase = "Active") {
  return R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":")" + name +
         R"("},"status":{"phase":")" + phase + R"("}})";
}

TEST_CASE("root-ca-cert-publisher: kube-root-ca.crt in every active namespace, kept exact") {
  Env env;
  env.Watch(kNamespaces);
  env.Watch(kConfigMaps);
  env.Create(kNamespaces, Namespace("a"));
  env.Create(kNamespaces, Namespace("gone", "Terminating"));
  auto& pub = env.Own(std::make_unique<RootCaCertPublisher>(&env.fake, &env.informers, kCa));
  env.Start();
  REQUIRE(pub.Sync("a").ok());
  REQUIRE(pub.Sync("gone").ok());
  REQUIRE(pub.Sync("missing").ok());
  env.Settle();
  CHECK_FALSE(env.Exists(kConfigMaps, "gone", kRootCaConfigMap));
  api::Document cm = env.Get(kConfigMaps, "a", kRootCaConfigMap);
  REQUIRE(cm["data"].MemberCount() == 1);
  CHECK(std::string(cm["data"]["ca.crt"].GetString()) == kCa);
  CHECK(cm["metadata"]["annotations"].HasMember("kubernetes.io/description"));
  std::string rv = api::GetString(cm, "metadata.resourceVersion");
  REQUIRE(pub.Sync("a").ok());  // nothing to change
  env.Settle();
  CHECK(api::GetString(env.Get(kConfigMaps, "a", kRootCaConfigMap), "metadata.resourceVersion") == rv);

  // Edited: put back, extra keys dropped.
  api::SetString(cm["data"], "ca.crt", "tampered", cm.GetAllocator());
  api::SetString(cm["data"], "extra", "x", cm.GetAllocator());
  REQUIRE(env.fake.Update(kConfigMaps, "a", cm).ok());
  env.Settle();
  REQUIRE(pub.Sync("a").ok());
  api::Document fixed = env.Get(kConfigMaps, "a", kRootCaConfigMap);
  CHECK(std::string(fixed["data"]["ca.crt"].GetString()) == kCa);
  CHECK(fixed["data"].MemberCount() == 1);
}

}  // namespace
}  // namespace kubepp::controller
