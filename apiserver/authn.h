// Authentication on the apiserver's secure port: who sent a request.
//
// In order, as upstream's authenticator chain:
//   1. a client certificate the TLS handshake verified against --client-ca-file:
//      user = subject CN, groups = subject O values;
//   2. `Authorization: Bearer <token>` found in the --token-auth-file, else a valid
//      service account token (serviceaccount_token.h) for the API audiences. A bearer
//      token that is neither fails the request (401) even where anonymous would do;
//   3. otherwise anonymous (user system:anonymous, group system:unauthenticated) when
//      anonymous auth is on, else 401.
// Every authenticated user also gets the group system:authenticated. A token user named
// system:serviceaccount:<ns>:<name> also gets the groups system:serviceaccounts and
// system:serviceaccounts:<ns>, as upstream's service account tokens carry.
//
// Authorization is not here but in rbac.h (WithAuthorization), which runs after this.
//
// Thread safety: an Authenticator is immutable after construction; Authenticate and
// the handler from WithAuthentication are safe from any thread.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/http/server.h"
#include "common/status.h"

namespace kubepp::apiserver {

inline constexpr const char* kAnonymousUser = "system:anonymous";
inline constexpr const char* kUnauthenticatedGroup = "system:unauthenticated";
inline constexpr const char* kAuthenticatedGroup = "system:authenticated";

struct UserInfo {
  std::string name;
  std::string uid;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;
};

class ServiceAccountTokens;

// Static bearer tokens, in upstream's --token-auth-file CSV format: one record per
// line, `token,user,uid[,"group1,group2,..."]`; more columns are ignored, blank lines
// skipped, a record with an empty token is skipped, and a repeated token's last
// record wins (both logged, as upstream).
class TokenFile {
 public:
  // `source` names the file in errors: a record with fewer than three columns or a
  // malformed quoted field is BadRequest naming the line.
  static Result<TokenFile> Parse(const std::string& text, const std::string& source);
  static Result<TokenFile> Load(const std::string& path);

  // The user the token belongs to, or null.
  const UserInfo* Find(const std::string& token) const;
  size_t size() const { return users_.size(); }

 private:
  std::map<std::string, UserInfo, std::less<>> users_;
};

struct AuthnOptions {
  bool anonymous = true;         // --anonymous-auth
  std::string token_auth_file;   // --token-auth-file; "" for none
  // Service account token authentication; null for none.
  std::shared_ptr<const ServiceAccountTokens> service_account_tokens;
};

class Authenticator {
 public:
  // Reads the token file, if any.
  static Result<std::unique_ptr<Authenticator>> Create(const AuthnOptions& options);

  // The request's user (anonymous included), or Unauthorized.
  Result<UserInfo> Authenticate(const http::Request& request) const;
  // The user of a bearer token (static or service account) for `audiences` (empty: the
  // API audiences), and the audiences it was valid for; Unauthorized otherwise. What a
  // TokenReview asks.
  Result<UserInfo> AuthenticateToken(const std::string& token,
                                     const std::vector<std::string>& audiences,
                                     std::vector<std::string>* matched_audiences) const;

 private:
  Authenticator(AuthnOptions options, TokenFile tokens)
      : options_(std::move(options)), tokens_(std::move(tokens)) {}
  AuthnOptions options_;
  TokenFile tokens_;
};

// The health and version paths: all that system:anonymous may read under the
// AlwaysAllow authorization mode (RBAC grants the same through system:public-info-viewer).
bool IsPublicPath(const std::string& path);

// Wraps `next`: authenticates each request, sets Request::user and groups, and
// answers 401 (a Kubernetes Status) to the requests that fail authentication. Anonymous
// requests pass on as system:anonymous: authorization decides what they may read.
http::Handler WithAuthentication(std::shared_ptr<const Authenticator> authenticator,
                                 http::Handler next);

}  // namespace kubepp::apiserver
