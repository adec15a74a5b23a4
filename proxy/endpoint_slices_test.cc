#include "proxy/endpoint_slices.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>

#include "common/testing/json.h"
#include "proxy/service_snapshot.h"
#include "proxy/testutil.h"

namespace kubepp::proxy {
namespace {

using namespace std::chrono_literals;
using testing::Service;

// As the EndpointSlice controller writes a slice.
constexpr const char* kControllerSlice = R"({"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice",
  "metadata":{"name":"web-abcde","namespace":"ns","generateName":"web-","uid":"0b8e1a5c",
    "resourceVersion":"42","generation":3,"creationTimestamp":"2026-11-28T05:00:00Z",
    "labels":{"kubernetes.io/service-name":"web","endpointslice.kubernetes.io/managed-by":"endpointslice-controller.k8s.io"},
    "ownerReferences":[{"apiVersion":"v1","kind":"Service","name":"web","uid":"u","controller":true}]},
  "addressType":"IPv4","ports":[{"name":"http","port":8080,"protocol":"TCP"},{"name":"dns","port":53,"protocol":"UDP"}],
  "endpoints":[
    {"addresses":["10.244.1.2","10.244.9.9"],"conditions":{"ready":true,"serving":true,"terminating":false},
     "nodeName":"n1","zone":"z","targetRef":{"kind":"Pod","namespace":"ns","name":"web-1","uid":"p1"}},
    {"addresses":["10.244.1.3"],"conditions":{"ready":false,"serving":true,"terminating":true},"nodeName":"n2",
     "hostname":"web-2"},
    {"addresses":["fd00::1"]},
    {"addresses":[]},
    {"addresses":["10.244.1.4"],"conditions":{"ready":false}}]})";

TEST_CASE("SliceOf: what the proxy reads of a slice, compact") {
  SlicePtr s = SliceOf(kubepp::testing::Json(kControllerSlice));
  CHECK(s->Key() == "ns/web-abcde");
  CHECK(s->ServiceKey() == "ns/web");
  CHECK(s->ipv4);
  REQUIRE(s->ports.size() == 2);
  CHECK((s->ports[0].name == "http" && s->ports[0].protocol == "tcp" && s->ports[0].port == 8080));
  CHECK((s->ports[1].name == "dns" && s->ports[1].protocol == "udp" && s->ports[1].port == 53));
  // The first address only; neither the IPv6 one nor the empty one is kept.
  REQUIRE(s->endpoints.size() == 3);
  CHECK(s->endpoints[0].ip() == "10.244.1.2");
  CHECK((s->endpoints[0].ready && s->endpoints[0].serving && !s->endpoints[0].terminating));
  CHECK(s->endpoints[0].node_name() == "n1");
  CHECK(s->Hostname(0).empty());
  CHECK((!s->endpoints[1].ready && s->endpoints[1].serving && s->endpoints[1].terminating));
  CHECK(s->Hostname(1) == "web-2");
  // Absent conditions as the API defines them: serving as ready, not terminating.
  CHECK((!s->endpoints[2].ready && !s->endpoints[2].serving && !s->endpoints[2].terminating));
  CHECK(s->endpoints[2].node_name().empty());
  CHECK(s->endpoints[0].node == InternNodeName("n1"));
  CHECK(sizeof(SliceEndpoint) <= 16);

  // A port past int's range is no port (4294967376 would wrap to 80).
  SlicePtr huge = SliceOf(kubepp::testing::Json(R"({"metadata":{"name":"h","namespace":"ns"},
      "ports":[{"port":4294967376}],"endpoints":[]})"));
  REQUIRE(huge->ports.size() == 1);
  CHECK(huge->ports[0].port == -1);

  SlicePtr v6 = SliceOf(kubepp::testing::Json(R"({"metadata":{"name":"w6","namespace":"ns"},
      "addressType":"IPv6","endpoints":[{"addresses":["fd00::1"]}]})"));
  CHECK(!v6->ipv4);
  CHECK(v6->endpoints.empty());
  CHECK(v6->ServiceKey().empty());
}

TEST_CASE("SliceOf: the Service proxy picks the same endpoints, terminating ones when none is ready") {
  auto svc = Service("web", R"({"clusterIP":"10.96.0.5","ports":[{"name":"http","port":80}]})");
  api::Document doc = kubepp::testing::Json(kControllerSlice);
  Snapshot snap = BuildSnapshot({svc}, {SliceOf(doc)});
  REQUIRE(snap.ports.size() == 1);
  CHECK(snap.ports[0]->endpoints == std::vector<Endpoint>{Endpoint::Of("10.244.1.2", 8080, "n1")});
  api::FindMutable(doc, "endpoints")->GetArray()[0]["conditions"]["ready"].SetBool(false);
  snap = BuildSnapshot({svc}, {SliceOf(doc)});
  REQUIRE(snap.ports.size() == 1);
  CHECK(snap.ports[0]->endpoints == std::vector<Endpoint>{Endpoint::Of("10.244.1.3", 8080, "n2")});
}

template <typename F>
bool WaitUntil(F f) {
  for (int i = 0; i < 500; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return f();
}

api::Document SliceObject(const std::string& name, const std::string& service, const std::string& ip) {
  return kubepp::testing::Json(R"({"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice",
      "metadata":{"name":")" + name + R"(","namespace":"ns","labels":{"kubernetes.io/service-name":")" +
                               service + R"("}},"addressType":"IPv4","ports":[{"port":80}],
      "endpoints":[{"addresses":[")" + ip + R"("]}]})");
}

TEST_CASE("EndpointSlices: kept by Service, handlers told of every change") {
  client::FakeRestClient fake;
  REQUIRE(fake.Create(client::kEndpointSlices, "ns", SliceObject("a", "web", "10.244.1.1")).ok());
  EndpointSlices store(&fake);
  std::mutex mu;
  std::vector<std::string> seen;  // "<before's service or -> <after's service or -> <after's ip>"
  store.AddHandler([&](const SlicePtr& before, const SlicePtr& after) {
    std::lock_guard lock(mu);
    seen.push_back((before ? before->ServiceKey() : "-") + " " + (after ? after->ServiceKey() : "-") +
                   " " + (after && !after->endpoints.empty() ? after->endpoints[0].ip() : "-"));
  });
  auto saw = [&](const std::string& what) {
    std::lock_guard lock(mu);
    return std::find(seen.begin(), seen.end(), what) != seen.end();
  };
  store.Start();
  REQUIRE(store.WaitForSync(5s));
  CHECK(saw("- ns/web 10.244.1.1"));
  REQUIRE(store.Get("ns/a") != nullptr);
  CHECK(store.OfService("ns/web").size() == 1);

  REQUIRE(fake.Create(client::kEndpointSlices, "ns", SliceObject("b", "web", "10.244.1.2")).ok());
  REQUIRE(WaitUntil([&] { return store.OfService("ns/web").size() == 2; }));
  // Relabelled: it leaves web for api, and the handler sees both Services.
  REQUIRE(fake.Update(client::kEndpointSlices, "ns", SliceObject("b", "api", "10.244.1.3")).ok());
  REQUIRE(WaitUntil([&] { return saw("ns/web ns/api 10.244.1.3"); }));
  CHECK(store.OfService("ns/web").size() == 1);
  CHECK(store.OfService("ns/api").size() == 1);
  REQUIRE(fake.Delete(client::kEndpointSlices, "ns", "a").ok());
  REQUIRE(WaitUntil([&] { return saw("ns/web - -"); }));
  CHECK(store.OfService("ns/web").empty());
  CHECK(store.Get("ns/a") == nullptr);
  CHECK(store.List().size() == 1);

  // A late handler is told of what is there, whole.
  std::vector<SlicePtr> late;
  store.AddHandler([&](const SlicePtr& before, const SlicePtr& after) {
    if (!before) late.push_back(after);
  });
  REQUIRE(late.size() == 1);
  CHECK(late[0]->endpoints.size() == 1);
  store.Stop();
}

}  // namespace
}  // namespace kubepp::proxy
