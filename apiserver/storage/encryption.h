// Encryption at rest (upstream's --encryption-provider-config): how object values are
// transformed between the in-memory JSON and what the storage writes to disk.
//
// The configuration is upstream's EncryptionConfiguration (apiserver.config.k8s.io/v1),
// YAML or JSON:
//   resources:
//   - resources: [secrets, configmaps]      # "resource" or "resource.group"; "*.group",
//     providers:                            # "*." (core group) and "*.*" (everything)
//     - aesgcm: {keys: [{name: key1, secret: <base64 of 16, 24 or 32 bytes>}]}
//     - aescbc: {keys: [...]}
//     - identity: {}
// Resource lists are matched in order, the first list naming a resource wins; resources
// no list names are stored as plain JSON. Within a list the first provider (its first
// key) encrypts every write; every provider and key of the list may decrypt.
//
// Stored formats, as upstream's:
//   aesgcm:   "k8s:enc:aesgcm:v1:<key name>:" 12-byte random nonce, ciphertext, 16-byte
//             tag. The additional authenticated data is the object's storage key
//             (StorageKey()), so a value copied to another object does not decrypt.
//   aescbc:   "k8s:enc:aescbc:v1:<key name>:" 16-byte random IV, AES-CBC ciphertext with
//             PKCS#7 padding (no authentication, as upstream: tampering is caught only by
//             the padding check or the JSON parse that follows).
//   identity: the JSON itself. A value starting with "k8s:enc:" is never read as
//             identity data.
// secretbox and kms providers are refused with an error saying so.
//
// Thread safety: an Encryption is immutable; every method is safe from any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kubepp::apiserver {

class Encryption {
 public:
  enum class Kind { kIdentity, kAesGcm, kAesCbc };
  struct Key {
    std::string name;
    std::string secret;  // raw key bytes (16, 24 or 32)
  };
  struct Provider {
    Kind kind = Kind::kIdentity;
    std::vector<Key> keys;  // empty for identity
  };
  struct Rule {
    std::vector<std::string> resources;  // as written: "secrets", "*.apps", "*.*"
    std::vector<Provider> providers;     // at least one
  };

  // Parses and validates an EncryptionConfiguration. Errors are BadRequest with one
  // line naming the field (e.g. "resources[0].providers[1].aesgcm.keys[0].secret: ...");
  // key material never appears in them.
  static Result<std::shared_ptr<const Encryption>> Parse(std::string_view text);
  // Parse() of a file; errors name the file.
  static Result<std::shared_ptr<const Encryption>> Load(const std::string& path);
  // No rules: every value is stored as plain JSON.
  static std::shared_ptr<const Encryption> Identity();

  // The storage key that authenticates a value: "/registry/<resource>/<ns>/<name>"
  // ("/registry/<resource>/<name>" when cluster-scoped).
  static std::string StorageKey(std::string_view resource, std::string_view ns,
                                std::string_view name);

  // Transforms the JSON of an object of `resource` (a qualified name: "secrets",
  // "deployments.apps") stored at `storage_key` for writing. Internal only when the
  // crypto library fails.
  Result<std::string> Encode(std::string_view resource, std::string_view storage_key,
                             std::string_view json) const;

  struct Decoded {
    std::string json;
    // The value was not written by the resource's first provider and key (or, for a
    // resource no rule names, is encrypted): rewriting it with Encode() would change it.
    bool stale = false;
  };
  // Reverses Encode() with whichever configured provider and key wrote `stored`.
  // Internal, naming what wrote the value, when no configured provider can decrypt it
  // or authentication fails. Does not check that the result is JSON.
  Result<Decoded> Decode(std::string_view resource, std::string_view storage_key,
                         std::string_view stored) const;

  // One line for the startup log: rules and key names, never key material.
  std::string Describe() const;

  const std::vector<Rule>& rules() const { return rules_; }

 private:
  const Rule* RuleFor(std::string_view resource) const;

  std::vector<Rule> rules_;
};

}  // namespace kubepp::apiserver
