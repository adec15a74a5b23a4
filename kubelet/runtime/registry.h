// Pulling from container registries over the OCI distribution API
// (opencontainers/distribution-spec), as containerd's resolver does:
//   GET /v2/<name>/manifests/<tag|digest>  Accept: OCI index/manifest, Docker v2 list/schema2
//   an index or manifest list -> the linux/<arch> manifest -> its config and layer blobs
//   GET /v2/<name>/blobs/<digest>          redirects followed, sha256 verified while streaming
// Authentication: a 401 with `WWW-Authenticate: Bearer realm=..,service=..,scope=..` gets a
// token from the realm (anonymously, or with the credential's basic auth) and the request
// is retried with it; `WWW-Authenticate: Basic` is answered with the credential directly.
// Credentials come from the pod's imagePullSecrets (dockerconfigjson / dockercfg).
//
// Transport: https, verified against --registry-ca-file or the system CAs. Plain http only
// for registries listed as insecure (default: the loopback ones); those are tried over
// https first (without verification) and fall back to http, as docker does.
//
// Thread safety: RegistryClient is safe from any thread (its connection and token caches
// are locked); the free functions are pure.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/api/json.h"
#include "common/http/client.h"
#include "common/status.h"
#include "kubelet/runtime/image_reference.h"
#include "kubelet/runtime/runtime.h"

namespace kubepp::kubelet {

inline constexpr const char* kMediaOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr const char* kMediaOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* kMediaDockerList = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr const char* kMediaDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";

// One entry of a docker config: who may pull from `server` ("host[:port]" or
// "host[:port]/path-prefix"; "*.example.com" matches one subdomain level, as upstream's
// credentialprovider).
using RegistryCredential = PullCredential;

// `.dockerconfigjson` ({"auths": {"<server>": {"auth": base64(user:pass)} | {"username",
// "password"}}}) or, with `legacy`, `.dockercfg` (the auths map itself). Server keys are
// normalized: scheme and "/v1/"-style paths dropped, Docker Hub's names ("index.docker.io",
// "registry-1.docker.io", "https://index.docker.io/v1/") become "docker.io". BadRequest
// for malformed JSON or an `auth` that is not base64 of "user:password".
Result<std::vector<RegistryCredential>> ParseDockerConfig(std::string_view json, bool legacy);

// The credentials that apply to `ref`, most specific (longest server) first.
std::vector<RegistryCredential> CredentialsFor(const std::vector<RegistryCredential>& all,
                                               const ImageReference& ref);

struct AuthChallenge {
  std::string scheme;  // lower-cased: "bearer", "basic"
  std::map<std::string, std::string> params;  // lower-cased keys: realm, service, scope
};
// The first challenge of a WWW-Authenticate header (RFC 7235: scheme, then
// comma-separated key=value or key="quoted \"value\"" pairs). BadRequest when malformed.
Result<AuthChallenge> ParseWwwAuthenticate(std::string_view header);

struct Descriptor {
  std::string media_type;
  std::string digest;  // "sha256:<hex>"
  int64_t size = -1;   // -1: unknown
};

// From an OCI index or Docker manifest list: the manifest for `os`/`arch` (entries with
// an unknown platform are skipped; for arm the variant is ignored). NotFound listing the
// platforms offered otherwise.
Result<Descriptor> SelectPlatformManifest(const api::Value& index, const std::string& os,
                                          const std::string& arch);

// An image manifest's config and layers. BadRequest for schema1, for encrypted or
// non-tar layers, or for missing fields.
struct ImageManifest {
  Descriptor config;
  std::vector<Descriptor> layers;
};
Result<ImageManifest> ParseImageManifest(const api::Value& manifest, const std::string& media_type);

// "sha256:<hex>" of `data`.
std::string Sha256Digest(std::string_view data);

// A sha256 computed piece by piece, compared at the end with an expected digest.
class DigestVerifier {
 public:
  explicit DigestVerifier(std::string expected);
  ~DigestVerifier();
  DigestVerifier(const DigestVerifier&) = delete;
  DigestVerifier& operator=(const DigestVerifier&) = delete;
  void Update(std::string_view data);
  // OK when the data seen hashes to the expected digest; BadRequest saying both otherwise.
  // Call once.
  Status Verify();

 private:
  std::string expected_;
  void* ctx_;  // EVP_MD_CTX
};

struct RegistryOptions {
  std::string ca_file;  // "": the system CAs
  // host[:port] patterns allowed over plain http; a port of "*" matches any port.
  std::vector<std::string> insecure_registries = {"localhost:*", "127.0.0.1:*", "[::1]:*"};
  std::string os = "linux";
  std::string arch = "amd64";
  int timeout_seconds = 30;
};

// "a:1,b:*" -> patterns; empty entries dropped.
std::vector<std::string> ParseInsecureRegistries(const std::string& text);
// Whether `host` ("127.0.0.1:5000") matches one of `patterns`.
bool MatchesInsecure(const std::vector<std::string>& patterns, const std::string& host);

// What a reference resolved to: the manifest chosen (the platform's, for an index) and the
// digest the registry knows the reference by (the index's digest for an index, as
// containerd reports repo digests).
struct ResolvedImage {
  std::string repo_digest;      // "sha256:..." of the top-level manifest
  std::string manifest_digest;  // of the platform manifest
  ImageManifest manifest;
};

class RegistryClient {
 public:
  explicit RegistryClient(RegistryOptions options);
  ~RegistryClient();

  // Resolves `ref` with `credential` (null: anonymous). NotFound "<ref>: not found" for an
  // unknown repository or tag, Unauthorized when the registry refuses the credentials,
  // Unavailable on transport errors, BadRequest for a manifest we cannot use.
  Result<ResolvedImage> Resolve(const ImageReference& ref, const RegistryCredential* credential,
                                const std::atomic<bool>* stop);
  // Streams blob `desc` of ref's repository into `dest` (created or truncated), verifying
  // its size and digest; `dest` is removed on failure.
  Status FetchBlob(const ImageReference& ref, const RegistryCredential* credential,
                   const Descriptor& desc, const std::string& dest, const std::atomic<bool>* stop);

 private:
  struct Origin {
    std::string base;  // "https://host:port"
    http::Client* client;
  };
  Result<http::Client*> ClientFor(const std::string& base, bool insecure_tls);
  Result<Origin> OriginFor(const std::string& host);
  // GET `target` on ref's registry with auth handling; a 2xx body goes to `on_data` when
  // given (Download), else into the Response (Do).
  Result<http::Response> Get(const ImageReference& ref, const RegistryCredential* credential,
                             const std::string& target, const http::Headers& headers,
                             const std::function<bool(std::string_view)>* on_data,
                             const std::atomic<bool>* stop);
  Result<std::string> Authorize(const AuthChallenge& challenge, const ImageReference& ref,
                                const RegistryCredential* credential);
  Result<http::Response> FetchManifest(const ImageReference& ref, const RegistryCredential* credential,
                                       const std::string& reference, const std::atomic<bool>* stop);

  RegistryOptions options_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<http::Client>> clients_;  // by base URL (+ "#insecure")
  std::map<std::string, std::string> schemes_;  // insecure host -> the scheme that worked
  std::map<std::string, std::string> auth_;     // host/repo/user -> Authorization value
};

}  // namespace kubepp::kubelet
