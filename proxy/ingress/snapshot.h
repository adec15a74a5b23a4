// Builds the Ingress controller's configuration snapshot (routes and certificates) from
// the cluster objects, as one pure step so that the server swaps in a whole new snapshot
// and open connections keep the one they started a request with.
//
// Which Ingresses: spec.ingressClassName == the controller's class (else the deprecated
// kubernetes.io/ingress.class annotation), or neither when the IngressClass named like the
// controller's class carries ingressclass.kubernetes.io/is-default-class: "true".
// They are applied oldest first (creationTimestamp, then namespace/name): on conflicts
// the oldest wins.
//
// A backend is a Service port (number: spec.ports[].port; name: spec.ports[].name); its
// endpoints are the ready addresses of the Service's EndpointSlices (label
// kubernetes.io/service-name) at the slice port of the same name. A rule whose backend is
// unusable (no such Service or port, a resource backend) and a TLS entry whose Secret is
// missing or bad are skipped and reported as a Problem; the rest applies.
// Thread safety: Build is not reentrant for one BuildCache; the snapshot it returns is
// immutable.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/informer/informer.h"
#include "proxy/endpoint_slices.h"
#include "proxy/ingress/rate_limiter.h"
#include "proxy/ingress/route_table.h"
#include "proxy/ingress/tls.h"
#include "proxy/services.h"

namespace kubepp::proxy::ingress {

inline constexpr char kDefaultClassAnnotation[] = "ingressclass.kubernetes.io/is-default-class";
inline constexpr char kSslRedirectAnnotation[] = "nginx.ingress.kubernetes.io/ssl-redirect";

struct Snapshot {
  RouteTable routes;
  // Certificates by TLS host ("a.example.com", "*.example.com").
  std::map<std::string, std::shared_ptr<const TlsCertificate>, std::less<>> certs;
};

struct BuildInput {
  std::string ingress_class;
  std::vector<informer::ObjectPtr> ingresses, ingress_classes, secrets;
  std::vector<ServicePtr> services;
  std::vector<SlicePtr> slices;
};

struct Problem {
  informer::ObjectPtr ingress;
  std::string reason;   // Event reason, e.g. "BadBackend", "BadCertificate"
  std::string message;
};

// State kept from one build to the next: parsed certificates (by Secret and its
// resourceVersion) and rate limiters (by Ingress and its limits), so a rebuild neither
// reparses every certificate nor forgets the clients' request counts.
struct BuildCache {
  struct CachedCert {
    std::string resource_version;
    Result<std::shared_ptr<const TlsCertificate>> cert = Internal("unset");
  };
  std::map<std::string, CachedCert> certs;
  std::map<std::string, std::shared_ptr<RateLimiter>> limiters;
  Clock clock = std::chrono::steady_clock::now;  // for new limiters
};

struct BuildResult {
  std::shared_ptr<const Snapshot> snapshot;
  std::vector<informer::ObjectPtr> handled;  // the Ingresses this controller serves
  std::vector<Problem> problems;
};

// Whether an Ingress belongs to this controller (see above).
bool Handles(const api::Value& ingress, const std::string& ingress_class, bool class_is_default);

BuildResult Build(const BuildInput& in, BuildCache* cache);

}  // namespace kubepp::proxy::ingress
