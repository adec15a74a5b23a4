// Builders of Service and EndpointSlice objects for the proxy's unit tests.
#pragma once

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "common/api/json.h"
#include "proxy/service_snapshot.h"

namespace kubepp::proxy::testing {

// A Service object from a JSON `spec` (and optional `status`) in namespace "ns".
inline api::Document ServiceObject(const std::string& name, const std::string& spec,
                                   const std::string& status = "{}", const std::string& ns = "ns") {
  auto doc = api::ParseJson(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":")" + name +
                            R"(","namespace":")" + ns + R"("},"spec":)" + spec +
                            R"(,"status":)" + status + "}");
  if (!doc.ok()) std::abort();
  return std::move(doc).value();
}

// The same Service as the proxy holds it (ServiceOf).
inline ServicePtr Service(const std::string& name, const std::string& spec,
                          const std::string& status = "{}", const std::string& ns = "ns") {
  return ServiceOf(ServiceObject(name, spec, status, ns));
}

// An EndpointSlice of Service `service` with JSON `ports` and `endpoints` arrays, as the
// proxy holds it (SliceOf).
inline SlicePtr Slice(const std::string& name, const std::string& service, const std::string& ports,
                      const std::string& endpoints, const std::string& ns = "ns") {
  auto doc = api::ParseJson(
      R"({"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":")" + name +
      R"(","namespace":")" + ns + R"(","labels":{"kubernetes.io/service-name":")" + service +
      R"("}},"addressType":"IPv4","ports":)" + ports + R"(,"endpoints":)" + endpoints + "}");
  if (!doc.ok()) std::abort();
  return SliceOf(*doc);
}

// Compares `text` with testdata/<name>; KUBEPP_UPDATE_GOLDEN=1 rewrites the file instead.
inline void CheckGolden(const std::string& name, const std::string& text) {
  std::string path = std::string(KUBEPP_PROXY_TESTDATA) + "/" + name;
  if (std::getenv("KUBEPP_UPDATE_GOLDEN")) {
    std::ofstream(path) << text;
  }
  std::ifstream in(path);
  REQUIRE(in.good());
  std::stringstream want;
  want << in.rdbuf();
  CHECK(text == want.str());
}

// Four Services: NodePort, ClientIP affinity (UDP), LoadBalancer without endpoints and
// externalTrafficPolicy Local, on nodes n1 and n2.
inline Snapshot SampleSnapshot() {
  return BuildSnapshot(
      {Service("web", R"({"type":"NodePort","clusterIP":"10.96.0.5","ports":[{"name":"http","port":80,"nodePort":30080}]})"),
       Service("sticky", R"({"clusterIP":"10.96.0.6","sessionAffinity":"ClientIP",
           "sessionAffinityConfig":{"clientIP":{"timeoutSeconds":60}},"ports":[{"port":53,"protocol":"UDP"}]})"),
       Service("empty", R"({"type":"LoadBalancer","clusterIP":"10.96.0.7","externalIPs":["192.0.2.50"],
           "ports":[{"port":443,"nodePort":31443}]})", R"({"loadBalancer":{"ingress":[{"ip":"192.0.2.10"}]}})"),
       Service("local", R"({"type":"NodePort","clusterIP":"10.96.0.8","externalTrafficPolicy":"Local",
           "ports":[{"port":80,"nodePort":30081}]})")},
      {Slice("web-a", "web", R"([{"name":"http","port":8080}])",
             R"([{"addresses":["10.244.1.2"],"nodeName":"n1"},{"addresses":["10.244.2.2"],"nodeName":"n2"}])"),
       Slice("sticky-a", "sticky", R"([{"port":5353,"protocol":"UDP"}])", R"([{"addresses":["10.244.1.3"]}])"),
       Slice("local-a", "local", R"([{"port":8080}])",
             R"([{"addresses":["10.244.1.4"],"nodeName":"n1"},{"addresses":["10.244.2.4"],"nodeName":"n2"}])")});
}

}  // namespace kubepp::proxy::testing
