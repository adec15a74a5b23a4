// JSON Web Tokens (RFC 7519) in the compact JWS form (RFC 7515) that Kubernetes service
// account tokens use: `base64url(header).base64url(claims).base64url(signature)`, signed
// RS256 (RSA PKCS#1 v1.5 + SHA-256) or ES256 (ECDSA P-256 + SHA-256, the signature as
// the 64-byte r||s). Each key has upstream's key id: base64url(SHA-256(DER of the
// public key as SubjectPublicKeyInfo)), no padding (pkg/serviceaccount/jwt.go).
//
//   ASSIGN_OR_RETURN(auto key, jwt::Key::GenerateRsa());
//   ASSIGN_OR_RETURN(std::string token, jwt::Sign(key, claims));
//   ASSIGN_OR_RETURN(api::Document claims, jwt::Verify({key}, token));
//
// Only signatures are checked here; what the claims mean (issuer, expiry, audience) is
// serviceaccount_token.h's business.
// Thread safety: a Key is immutable (shared OpenSSL key, reference counted); the
// functions are safe from any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/api/json.h"
#include "common/status.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace kubepp::apiserver::jwt {

class Key {
 public:
  // A new RSA 2048-bit private key (what kubeadm makes for sa.key).
  static Result<Key> GenerateRsa();
  // A new ECDSA P-256 private key.
  static Result<Key> GenerateEc();
  // Every key in a PEM text, in order: private keys ("PRIVATE KEY", "RSA PRIVATE KEY",
  // "EC PRIVATE KEY"), public keys ("PUBLIC KEY", "RSA PUBLIC KEY") and certificates
  // (their public key), as upstream's keyutil.ParsePublicKeysPEM/ParsePrivateKeyPEM.
  // BadRequest when there is none, or for a key that is neither RSA nor EC P-256.
  static Result<std::vector<Key>> ParsePem(const std::string& pem);

  bool can_sign() const { return private_; }
  const std::string& alg() const { return alg_; }  // "RS256" or "ES256"
  const std::string& kid() const { return kid_; }
  // PKCS#8 PEM of a private key; BadRequest for a public key.
  Result<std::string> PrivatePem() const;
  // The public key as a JWK object (RFC 7517): kty, use "sig", kid, alg and n/e or
  // crv/x/y, as upstream's /openid/v1/jwks lists it.
  std::string PublicJwk() const;

  EVP_PKEY* get() const { return pkey_.get(); }

 private:
  static Result<Key> Wrap(EVP_PKEY* pkey, bool is_private);
  std::shared_ptr<EVP_PKEY> pkey_;
  bool private_ = false;
  std::string alg_, kid_;
};

// The compact token for `claims` (any JSON object), header {"alg","kid"}.
// BadRequest when `key` cannot sign.
Result<std::string> Sign(const Key& key, const api::Value& claims);

// The claims of `token` when its signature verifies with one of `keys`. Unauthorized
// (never a crash) for anything else: not three base64url parts, a header that is not a
// JSON object, an alg other than RS256/ES256 ("none" included), a bad signature, claims
// that are not a JSON object. The message says which, for logs.
Result<api::Document> Verify(const std::vector<Key>& keys, std::string_view token);

// Base64url (RFC 4648 §5) without padding, as JWS uses it. Decoding rejects padding,
// other alphabets and non-zero trailing bits.
std::string Base64UrlEncode(std::string_view data);
Result<std::string> Base64UrlDecode(std::string_view text);

}  // namespace kubepp::apiserver::jwt
