// Builders of Service and EndpointSlice objects for the proxy's unit tests.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/api/json.h"
#include "proxy/service_snapshot.h"

namespace kubepp::proxy::testing {

// A Service from a JSON `spec` (and optional `status`) in namespace "ns".
inline ObjectPtr Service(const std::string& name, const std::string& spec,
                         const std::string& status = "{}", const std::string& ns = "ns") {
  auto doc = api::ParseJson(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":")" + name +
                            R"(","namespace":")" + ns + R"("},"spec":)" + spec +
                            R"(,"status":)" + status + "}");
  if (!doc.ok()) std::abort();
  return std::make_shared<const api::Document>(std::move(doc).value());
}

// An EndpointSlice of Service `service` with JSON `ports` and `endpoints` arrays.
inline ObjectPtr Slice(const std::string& name, const std::string& service, const std::string& ports,
                       const std::string& endpoints, const std::string& ns = "ns") {
  auto doc = api::ParseJson(
      R"({"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":")" + name +
      R"(","namespace":")" + ns + R"(","labels":{"kubernetes.io/service-name":")" + service +
      R"("}},"addressType":"IPv4","ports":)" + ports + R"(,"endpoints":)" + endpoints + "}");
  if (!doc.ok()) std::abort();
  return std::make_shared<const api::Document>(std::move(doc).value());
}

}  // namespace kubepp::proxy::testing
