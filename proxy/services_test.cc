#include "proxy/services.h"

#include <catch2/catch.hpp>

#include "common/testing/json.h"
#include "proxy/testutil.h"

namespace kubepp::proxy {
namespace {

using testing::Service;

TEST_CASE("ServiceOf keeps what the proxy reads of a Service") {
  api::Document doc = testing::ServiceObject(
      "web",
      R"({"type":"LoadBalancer","clusterIP":"10.96.0.5","externalIPs":["192.0.2.50",7],
          "sessionAffinity":"ClientIP","sessionAffinityConfig":{"clientIP":{"timeoutSeconds":60}},
          "externalTrafficPolicy":"Local","internalTrafficPolicy":"Local",
          "ports":[{"name":"http","port":80,"nodePort":30080},{"port":53,"protocol":"UDP"}]})",
      R"({"loadBalancer":{"ingress":[{"ip":"192.0.2.10"},{"hostname":"lb.example"}]}})");
  api::SetValue(doc, "metadata.uid", api::Str("u-1", doc.GetAllocator()), doc.GetAllocator());
  api::SetValue(doc, "metadata.resourceVersion", api::Str("42", doc.GetAllocator()), doc.GetAllocator());
  ServicePtr s = ServiceOf(doc);
  CHECK(s->Key() == "ns/web");
  CHECK(s->type == Service::Type::kLoadBalancer);
  CHECK(s->HasNodePorts());
  CHECK(s->cluster_ip == "10.96.0.5");
  REQUIRE(s->ports.size() == 2);
  CHECK(s->ports[0].name == "http");
  CHECK(s->ports[0].protocol == "tcp");
  CHECK(s->ports[0].port == 80);
  CHECK(s->ports[0].node_port == 30080);
  CHECK(s->ports[1].name.empty());
  CHECK(s->ports[1].protocol == "udp");
  CHECK(s->ports[1].node_port == 0);
  CHECK(s->external_ips == std::vector<std::string>{"192.0.2.50"});  // a non-string is no address
  CHECK(s->load_balancer_ips == std::vector<std::string>{"192.0.2.10"});
  CHECK(s->affinity_timeout_seconds == 60);
  CHECK(s->external_policy_local);
  CHECK(s->internal_policy_local);
  client::ObjectReference ref = s->Reference();
  CHECK(ref.kind == "Service");
  CHECK(ref.api_version == "v1");
  CHECK(ref.ns == "ns");
  CHECK(ref.name == "web");
  CHECK(ref.uid == "u-1");
  CHECK(ref.resource_version == "42");
}

TEST_CASE("ServiceOf: defaults, and values that are no valid ones") {
  auto plain = Service("a", R"({"clusterIP":"10.96.0.6","sessionAffinity":"ClientIP","ports":[{"port":80}]})");
  CHECK(plain->type == Service::Type::kClusterIP);
  CHECK_FALSE(plain->HasNodePorts());
  CHECK(plain->affinity_timeout_seconds == 10800);  // upstream's default
  CHECK_FALSE(plain->external_policy_local);
  CHECK(Service("b", R"({"type":"Bogus"})")->type == Service::Type::kClusterIP);
  auto ext = Service("c", R"({"type":"ExternalName","externalName":"db.example.org"})");
  CHECK(ext->type == Service::Type::kExternalName);
  CHECK(ext->external_name == "db.example.org");
  CHECK(ext->ports.empty());
  // A port past int's range is not taken for another (4294967376 would wrap to 80).
  auto wrap = Service("d", R"({"clusterIP":"10.96.0.7","sessionAffinity":"ClientIP",
      "sessionAffinityConfig":{"clientIP":{"timeoutSeconds":-5}},"ports":[{"port":4294967376}]})");
  REQUIRE(wrap->ports.size() == 1);
  CHECK(wrap->ports[0].port == -1);
  CHECK(wrap->affinity_timeout_seconds == 10800);
  // No spec at all.
  auto bare = ServiceOf(kubepp::testing::Json(R"({"metadata":{"name":"e","namespace":"ns"}})"));
  CHECK(bare->Key() == "ns/e");
  CHECK(bare->ports.empty());
  CHECK(bare->cluster_ip.empty());
}

}  // namespace
}  // namespace kubepp::proxy
