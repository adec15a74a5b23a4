// The Ingress routing table: which backend answers a request, by host and path, with
// networking.k8s.io/v1 semantics.
//
// Hosts: an exact host ("foo.example.com") wins over a wildcard ("*.example.com", which
// matches exactly one more label: "a.example.com", not "a.b.example.com" nor
// "example.com"); rules without a host apply to every host and are tried after both.
// Matching is case-insensitive and ignores a ":port" suffix of the Host header.
// Paths: Exact compares the whole path (case-sensitive); Prefix compares '/'-separated
// elements ("/foo" matches "/foo", "/foo/" and "/foo/bar", not "/foobar"; a trailing
// '/' of the rule is ignored; "/" matches everything). ImplementationSpecific is treated
// as Prefix. Among the paths of a host that match, the longest wins, and of equally
// long ones Exact beats Prefix. When no host level has a matching path, the default
// backend (the oldest Ingress's spec.defaultBackend) answers; without one, nothing does
// (the server answers 404).
// When two Ingresses give the same host, path and type, the one added first wins (the
// controller adds them oldest first, as ingress-nginx resolves such conflicts).
//
// Thread safety: a built table is immutable; const methods may run concurrently. The
// round-robin cursor of an Upstream is atomic.
#pragma once

#include <atomic>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kubepp::proxy::ingress {

class RateLimiter;

enum class PathType { kExact, kPrefix };

// A Service backend as an Ingress names it: a port number, or a port name.
struct BackendRef {
  std::string ns, service;
  int port_number = 0;     // 0 when named
  std::string port_name;   // "" when numbered
  // "ns/service:port".
  std::string ToString() const;
};

struct Endpoint {
  std::string ip;
  int port = 0;
};

// A backend resolved to the ready endpoints of its Service port when the table was built.
class Upstream {
 public:
  Upstream(BackendRef ref, std::vector<Endpoint> endpoints)
      : ref_(std::move(ref)), endpoints_(std::move(endpoints)) {}
  const BackendRef& ref() const { return ref_; }
  const std::vector<Endpoint>& endpoints() const { return endpoints_; }
  // Where the next request starts (round robin); callers take it modulo the size and
  // move on to the following endpoints when a connect fails.
  size_t NextIndex() const { return cursor_.fetch_add(1, std::memory_order_relaxed); }

 private:
  BackendRef ref_;
  std::vector<Endpoint> endpoints_;
  mutable std::atomic<size_t> cursor_{0};
};

// What a matched rule does.
struct Route {
  std::string ingress;                        // "ns/name" of the Ingress that made it
  std::shared_ptr<const Upstream> upstream;   // never null in a built table
  std::shared_ptr<RateLimiter> limiter;       // null without rate-limit annotations
  bool ssl_redirect = false;  // plain HTTP gets a 308 to https (the host has TLS)
};

// "*.example.com" -> true for "a.example.com". Both lower-case. A pattern without a
// leading "*." matches only itself.
bool HostMatches(std::string_view pattern, std::string_view host);
// Element-wise prefix match of a Prefix rule path against a request path.
bool PrefixMatches(std::string_view rule_path, std::string_view request_path);
// The Host header without ":port" (IPv6 literals keep their brackets), lower-cased,
// without a trailing dot.
std::string NormalizeHost(std::string_view host_header);

// The value for `host` in a map keyed by exact hosts and "*.suffix" wildcards: the exact
// key first, then the wildcard of its parent domain; nullptr when neither is there.
// (Certificates are chosen by SNI this way.)
template <class T>
const T* SelectByHost(const std::map<std::string, T, std::less<>>& by_host, std::string_view host) {
  if (auto it = by_host.find(host); it != by_host.end()) return &it->second;
  size_t dot = host.find('.');
  if (dot == std::string_view::npos || dot == 0) return nullptr;
  std::string wildcard = "*" + std::string(host.substr(dot));
  if (auto it = by_host.find(wildcard); it != by_host.end()) return &it->second;
  return nullptr;
}

class RouteTable {
 public:
  // `host` "" applies to every host; "*.x.y" is a wildcard. `path` "" means "/".
  // The first rule added for the same (host, path, type) wins; returns false for a
  // later duplicate (it is ignored).
  bool Add(const std::string& host, std::string path, PathType type, Route route);
  // The first one set wins; returns false when one was set already.
  bool SetDefault(Route route);

  // The route for a request (host already normalized, path without query), or nullptr.
  const Route* Lookup(std::string_view host, std::string_view path) const;

  size_t size() const { return rules_; }
  bool has_default() const { return default_.has_value(); }

 private:
  struct PathRule {
    std::string path;  // trailing '/' removed for Prefix (except "/")
    PathType type;
    Route route;
  };
  using Rules = std::vector<PathRule>;
  static const Route* Best(const Rules& rules, std::string_view path);
  static bool AddTo(Rules& rules, std::string path, PathType type, Route route);

  std::map<std::string, Rules, std::less<>> hosts_;  // exact and "*." keys
  Rules any_host_;
  std::optional<Route> default_;
  size_t rules_ = 0;
};

}  // namespace kubepp::proxy::ingress
