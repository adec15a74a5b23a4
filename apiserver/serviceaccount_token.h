// Service account tokens, as upstream's pkg/serviceaccount (jwt.go, claims.go) and the
// ServiceAccount admission plugin (plugin/pkg/admission/serviceaccount):
//
//  - Issue: a JWT for a ServiceAccount, optionally bound to a Pod or Secret, with
//    upstream's claims: iss, sub (system:serviceaccount:<ns>:<name>), aud, exp, iat,
//    nbf, jti, and kubernetes.io {namespace, serviceaccount {name, uid}, pod|secret
//    {name, uid}, warnafter}.
//  - Authenticate: a bearer token is a valid service account token when it carries our
//    issuer, one of our keys signed it, it is within exp/nbf/iat (60 s leeway, as
//    go-jose), its audiences meet the wanted ones, and the objects it names still exist
//    with the same uids (read through `ObjectLookup`, i.e. the storage cache; a pod
//    being deleted for more than 60 s no longer counts).
//  - AdmitPod: the admission plugin's mutation of a new pod.
//
// Thread safety: ServiceAccountTokens is immutable after construction; every method and
// function is safe from any thread (the lookup must be too).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apiserver/authn.h"
#include "apiserver/jwt.h"
#include "apiserver/storage/storage.h"
#include "common/api/json.h"
#include "common/status.h"

namespace kubepp::apiserver {

inline constexpr const char* kDefaultServiceAccountIssuer =
    "https://kubernetes.default.svc.cluster.local";
// The kubelet asks for tokens of this lifetime for the admission-made volume; a token
// for the API audiences bound to a pod is then issued for a year (upstream's
// --service-account-extend-token-expiration) with kubernetes.io.warnafter at 3607 s.
inline constexpr int64_t kWarnOnlyBoundTokenExpirationSeconds = 3607;
inline constexpr int64_t kExpirationExtensionSeconds = 365 * 24 * 3600;
inline constexpr int64_t kDefaultTokenExpirationSeconds = 3600;
inline constexpr int64_t kMinTokenExpirationSeconds = 600;

// The current state of a stored object, or null when it does not exist.
using ObjectLookup = std::function<ObjectPtr(const std::string& resource, const std::string& ns,
                                             const std::string& name)>;

struct ObjectRef {
  std::string name;
  std::string uid;
};

struct TokenClaims {
  std::vector<std::string> audiences;
  std::string ns;
  ObjectRef service_account;
  std::optional<ObjectRef> pod;
  std::optional<ObjectRef> secret;
  int64_t issued_at = 0;           // Unix seconds; also nbf
  int64_t expiration_seconds = 0;  // exp = issued_at + this
  int64_t warn_after = 0;          // Unix seconds; 0: no warnafter claim
  std::string id;                  // jti; "" for none
};

struct ServiceAccountTokenOptions {
  std::string issuer = kDefaultServiceAccountIssuer;
  std::vector<std::string> api_audiences;  // default: {issuer}
  std::optional<jwt::Key> signing_key;     // none: Issue fails
  std::vector<jwt::Key> verification_keys; // the signing key is added to these
  bool extend_expiration = true;
};

class ServiceAccountTokens {
 public:
  ServiceAccountTokens(ServiceAccountTokenOptions options, ObjectLookup lookup);

  const std::string& issuer() const { return options_.issuer; }
  const std::vector<std::string>& api_audiences() const { return options_.api_audiences; }
  bool extend_expiration() const { return options_.extend_expiration; }

  // The signed token for `claims` (iss and sub are filled here).
  Result<std::string> Issue(const TokenClaims& claims) const;

  struct Authenticated {
    UserInfo user;                       // with extra authentication.kubernetes.io/*
    std::vector<std::string> audiences;  // the wanted audiences the token carries
  };
  // `audiences`: those the caller accepts (the API audiences for requests, a
  // TokenReview's spec.audiences). Unauthorized with the reason otherwise.
  Result<Authenticated> Authenticate(std::string_view token,
                                     const std::vector<std::string>& audiences,
                                     int64_t now_unix) const;

  // /.well-known/openid-configuration and /openid/v1/jwks documents.
  std::string OpenIdConfiguration() const;
  std::string Jwks() const;

 private:
  ServiceAccountTokenOptions options_;
  ObjectLookup lookup_;
};

// The claims object of a token (what Issue signs), without iss/sub when `issuer` is "".
api::Document ClaimsJson(const TokenClaims& claims, const std::string& issuer);

// Whether a pod gets the API token volume: the pod's automountServiceAccountToken,
// else the ServiceAccount's (`sa` may be null), else true.
bool ShouldAutomount(const api::Value& pod, const api::Value* sa);

// The ServiceAccount admission plugin's mount on a new pod (admission.go
// mountServiceAccountToken): unless a volume named kube-api-access-* exists, adds the
// projected volume kube-api-access-<suffix> (serviceAccountToken path "token"
// expirationSeconds 3607, configMap kube-root-ca.crt key ca.crt, downwardAPI namespace;
// defaultMode 0644), and mounts it read-only at /var/run/secrets/kubernetes.io/
// serviceaccount in every init container and container that has nothing mounted there.
// The volume is added only when some container needed the mount.
void MountServiceAccountToken(api::Value& pod, const std::string& suffix, api::Allocator& a);

// Mirror pods (annotation kubernetes.io/config.mirror) are left alone, as upstream.
bool IsMirrorPod(const api::Value& pod);

}  // namespace kubepp::apiserver
