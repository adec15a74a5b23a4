// Authentication and authorization of requests to the kubelet API, as upstream's
// kubelet does them (pkg/kubelet/server/auth.go and the delegating authenticator and
// authorizer it is built from):
//
// Authentication, first success wins:
//   - a client certificate the TLS handshake verified against --client-ca-file: the
//     user is its CN, the groups its O values;
//   - a bearer token, when a TokenReview function is set (--authentication-token-webhook):
//     the apiserver says who it is; an unknown token is a failure (401), not anonymous;
//   - otherwise, with anonymous auth on, system:anonymous in system:unauthenticated;
//     else 401 "Unauthorized".
// Authenticated users also get the group system:authenticated.
//
// Authorization: every request maps to the attributes of a nodes/<subresource> request on
// this node (RequestAttributesFor), which a SubjectAccessReview function (the Webhook
// mode: the apiserver decides) allows or not, or AlwaysAllow (no function). A denial is
// 403 "Forbidden (user=<u>, verb=<v>, resource=nodes, subresource=<s>)".
//
// Decisions are cached, as upstream's webhooks: token reviews for token_ttl, allowed
// access reviews for allowed_ttl, denied ones for denied_ttl. Errors are not cached.
// Thread safety: KubeletAuth is safe from any thread; the review functions are called on
// the request's thread, without locks held.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/client/rest_client.h"
#include "common/http/types.h"
#include "common/status.h"

namespace kubepp::kubelet {

struct UserInfo {
  std::string name;
  std::string uid;
  std::vector<std::string> groups;
};

// The authorizer attributes of a kubelet API request (upstream's
// nodeAuthorizerAttributesGetter): verb from the HTTP method, resource "nodes", name the
// node, subresource from the path.
struct NodeRequestAttributes {
  std::string verb;         // get, create, update, patch, delete; "" for other methods
  std::string resource = "nodes";
  std::string subresource;  // stats, metrics, log, spec; proxy for everything else
  std::string name;         // the node
  std::string path;
};

NodeRequestAttributes RequestAttributesFor(const std::string& method, const std::string& path,
                                           const std::string& node_name);

// A TokenReview: the user when the token is valid, nullopt when the apiserver says it is
// not; an error Status when the review could not be made.
using TokenReviewFn = std::function<Result<std::optional<UserInfo>>(const std::string& token)>;
// A SubjectAccessReview: whether `user` may do `attrs`; an error when it could not be asked.
using AccessReviewFn =
    std::function<Result<bool>(const UserInfo& user, const NodeRequestAttributes& attrs)>;

// Reviews through the apiserver (authentication.k8s.io/v1 TokenReview and
// authorization.k8s.io/v1 SubjectAccessReview); `client` must outlive the functions.
TokenReviewFn ApiTokenReview(client::RestClient* client);
AccessReviewFn ApiAccessReview(client::RestClient* client);

struct KubeletAuthOptions {
  std::string node_name;
  bool anonymous = false;
  TokenReviewFn token_review;    // empty: bearer tokens are not looked at
  AccessReviewFn access_review;  // empty: AlwaysAllow
  // Upstream's defaults (--authentication-token-webhook-cache-ttl,
  // --authorization-webhook-cache-authorized-ttl / -unauthorized-ttl).
  std::chrono::seconds token_ttl{120};
  std::chrono::seconds allowed_ttl{300};
  std::chrono::seconds denied_ttl{30};
  std::function<std::chrono::steady_clock::time_point()> now = std::chrono::steady_clock::now;
};

class KubeletAuth {
 public:
  explicit KubeletAuth(KubeletAuthOptions options);

  // Who sent `req`: Unauthorized("Unauthorized") when nobody.
  Result<UserInfo> Authenticate(const http::Request& req);
  // OK when `user` may do `attrs`; Forbidden with upstream's text when not; Internal
  // ("Authorization error (user=...)") when the review failed.
  Status Authorize(const UserInfo& user, const NodeRequestAttributes& attrs);
  // Both, for a request: nullopt when it may go on, else the answer to send (text/plain,
  // as upstream's).
  std::optional<http::Response> Check(const http::Request& req);

  // Check from cached answers only, for an I/O thread that must not block: kAllowed or
  // kDenied (*denial set) when they sufficed, kNeedsReview when a review would have to
  // be made (then call Check on a thread that may block).
  enum class Verdict { kAllowed, kDenied, kNeedsReview };
  Verdict CheckCached(const http::Request& req, http::Response* denial);

 private:
  template <typename V>
  struct Entry {
    V value;
    std::chrono::steady_clock::time_point expires;
  };
  // Bounds each cache: when full, expired entries go, then everything.
  static constexpr size_t kMaxEntries = 4096;

  // With may_block false, a review that would be needed is Status(kTimeout) instead.
  Result<UserInfo> DoAuthenticate(const http::Request& req, bool may_block);
  Status DoAuthorize(const UserInfo& user, const NodeRequestAttributes& attrs, bool may_block);

  KubeletAuthOptions options_;
  std::mutex mu_;
  std::map<std::string, Entry<std::optional<UserInfo>>> tokens_;
  std::map<std::string, Entry<bool>> decisions_;
};

}  // namespace kubepp::kubelet
