#include <catch2/catch.hpp>

#include "controller-manager/endpoint/endpoints_controller.h"
#include "controller-manager/endpoint/endpointslice_controller.h"
#include "controller-manager/framework/canonical.h"
#include "controller-manager/framework/testing.h"

namespace kubepp::controller {
namespace {

using client::kEndpoints;
using client::kEndpointSlices;
using client::kPods;
using client::kServices;
using testing::Env;
using testing::Json;

std::string Pod(const std::string& name, const std::string& ip, bool ready,
                const std::string& app = "web", const std::string& extra_meta = "") {
  return R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name +
         R"(","namespace":"ns","labels":{"app":")" + app + R"("})" + extra_meta +
         R"(},"spec":{"nodeName":"n1","containers":[{"name":"c","ports":[{"name":"http","containerPort":8080}]}]},
         "status":{"phase":"Running","podIP":")" + ip +
         R"(","conditions":[{"type":"Ready","status":")" + (ready ? "True" : "False") + R"("}]}})";
}

struct Fixture {
  Fixture()
      : ec(env.Own(std::make_unique<EndpointsController>(&env.fake, &env.informers))),
        sc(env.Own(std::make_unique<EndpointSliceController>(&env.fake, &env.informers, 2))) {
    for (auto ref : {kServices, kPods, kEndpoints, kEndpointSlices}) env.Watch(ref);
    env.Start();
  }
  void Sync(const std::string& key = "ns/web") {
    env.Settle();
    REQUIRE(ec.Sync(key).ok());
    REQUIRE(sc.Sync(key).ok());
    env.Settle();
  }
  std::string Subsets(const std::string& name = "web") {
    auto ep = env.Get(kEndpoints, "ns", name);
    const api::Value* s = api::Find(ep, "subsets");
    return s ? CanonicalJson(*s) : "[]";
  }
  Env env;
  EndpointsController& ec;
  EndpointSliceController& sc;
};

TEST_CASE("endpoints: ready and not-ready addresses with named target ports") {
  Fixture f;
  f.env.Create(kServices, R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"ns","labels":{"tier":"fe"}},"spec":{"selector":{"app":"web"},"ports":[{"name":"h","port":80,"targetPort":"http","protocol":"TCP"}]}})");
  f.env.Create(kPods, Pod("a", "10.0.0.2", true));
  f.env.Create(kPods, Pod("b", "10.0.0.1", false));
  f.env.Create(kPods, Pod("no-ip", "", true));
  f.env.Create(kPods, Pod("other", "10.0.0.9", true, "db"));
  f.env.Create(kPods, Pod("gone", "10.0.0.3", true, "web", R"(,"deletionTimestamp":"2024-01-01T00:00:00Z")"));
  f.Sync();
  auto subsets = Json(f.Subsets());
  REQUIRE(subsets.Size() == 1);
  CHECK(api::GetString(subsets[0]["addresses"][0], "ip") == "10.0.0.2");
  CHECK(api::GetString(subsets[0]["addresses"][0], "targetRef.name") == "a");
  CHECK(api::GetString(subsets[0]["addresses"][0], "nodeName") == "n1");
  CHECK(subsets[0]["addresses"].Size() == 1);
  CHECK(api::GetString(subsets[0]["notReadyAddresses"][0], "ip") == "10.0.0.1");
  CHECK(api::GetInt(subsets[0]["ports"][0], "port") == 8080);
  CHECK(api::GetString(f.env.Get(kEndpoints, "ns", "web"), "metadata.labels.tier") == "fe");

  // Slices (at most 2 endpoints each here) list the terminating pod too, not ready.
  auto slices = f.env.List(kEndpointSlices, "ns");
  REQUIRE(slices.size() == 2);
  std::map<std::string, std::string> conditions;
  for (auto& s : slices) {
    CHECK(api::GetStringMap(s, "metadata.labels")["kubernetes.io/service-name"] == "web");
    CHECK(api::GetInt(s["ports"][0], "port") == 8080);
    for (auto& e : s["endpoints"].GetArray()) {
      conditions[e["addresses"][0].GetString()] = CanonicalJson(e["conditions"]);
    }
  }
  CHECK(conditions["10.0.0.2"] == R"({"ready":true,"serving":true,"terminating":false})");
  CHECK(conditions["10.0.0.1"] == R"({"ready":false,"serving":false,"terminating":false})");
  CHECK(conditions["10.0.0.3"] == R"({"ready":false,"serving":true,"terminating":true})");

  // b becomes ready.
  auto b = f.env.Get(kPods, "ns", "b");
  (*api::FindMutable(b, "status.conditions"))[0]["status"].SetString("True");
  REQUIRE(f.env.fake.UpdateStatus(kPods, "", b).ok());
  f.Sync();
  subsets = Json(f.Subsets());
  CHECK(subsets[0]["addresses"].Size() == 2);
  CHECK_FALSE(subsets[0].HasMember("notReadyAddresses"));
  // The service goes: its Endpoints go too.
  REQUIRE(f.env.fake.Delete(kServices, "ns", "web").ok());
  f.Sync();
  CHECK_FALSE(f.env.Exists(kEndpoints, "ns", "web"));
  CHECK(f.env.List(kEndpointSlices, "ns").empty());
}

TEST_CASE("endpoints: publishNotReadyAddresses, headless, selector-less") {
  Fixture f;
  f.env.Create(kServices, R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"ns"},"spec":{"clusterIP":"None","publishNotReadyAddresses":true,"selector":{"app":"web"}}})");
  f.env.Create(kPods, Pod("a", "10.0.0.2", false));
  f.Sync();
  auto ep = f.env.Get(kEndpoints, "ns", "web");
  CHECK(api::GetStringMap(ep, "metadata.labels").count("service.kubernetes.io/headless") == 1);
  CHECK(f.Subsets() == R"([{"addresses":[{"ip":"10.0.0.2","nodeName":"n1","targetRef":{"kind":"Pod","name":"a","namespace":"ns","uid":")" +
                           api::GetString(f.env.Get(kPods, "ns", "a"), "metadata.uid") + R"("}}]}])");
  // A Service without a selector: user-managed Endpoints are left as they are.
  f.env.Create(kServices, R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"manual","namespace":"ns"},"spec":{"ports":[{"port":80}]}})");
  f.env.Create(kEndpoints, R"({"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"manual","namespace":"ns"},"subsets":[{"addresses":[{"ip":"192.0.2.1"}]}]})");
  f.Sync("ns/manual");
  CHECK(f.Subsets("manual") == R"([{"addresses":[{"ip":"192.0.2.1"}]}])");
}

}  // namespace
}  // namespace kubepp::controller
