#include "apiserver/storage/encryption.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cctype>
#include <memory>
#include <set>
#include <utility>

#include "common/api/json.h"
#include "common/api/yaml.h"
#include "common/pki/openssl_ptr.h"
#include "common/util/file.h"

namespace kubepp::apiserver {
namespace {

constexpr std::string_view kEncPrefix = "k8s:enc:";
constexpr size_t kGcmNonce = 12;
constexpr size_t kGcmTag = 16;
constexpr size_t kCbcBlock = 16;

std::string_view KindName(Encryption::Kind k) {
  switch (k) {
    case Encryption::Kind::kIdentity: return "identity";
    case Encryption::Kind::kAesGcm: return "aesgcm";
    case Encryption::Kind::kAesCbc: return "aescbc";
  }
  return "";
}

// "k8s:enc:aesgcm:v1:key1:"
std::string ValuePrefix(Encryption::Kind kind, const std::string& key_name) {
  std::string p(kEncPrefix);
  p += KindName(kind);
  p += ":v1:";
  p += key_name;
  p += ':';
  return p;
}

// "aesgcm key \"key1\"" from an encrypted value's prefix, for error messages; the value
// comes from disk, so only a bounded run of printable bytes is quoted.
std::string DescribeWriter(std::string_view stored) {
  std::string_view rest = stored.substr(kEncPrefix.size());
  auto token = [&rest]() {
    size_t end = rest.find(':');
    std::string_view t = rest.substr(0, std::min<size_t>(end, 64));
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    std::string out;
    for (char c : t) out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
    return out;
  };
  std::string kind = token();
  std::string version = token();
  std::string name = token();
  if (kind == "aesgcm" || kind == "aescbc" || kind == "secretbox") {
    return kind + " key \"" + name + "\"";
  }
  return "provider \"" + kind + (version.empty() ? "" : ":" + version) + "\"";
}

// Go's base64.StdEncoding.DecodeString: the standard alphabet, '=' padding required, no
// whitespace or trailing garbage.
bool DecodeBase64Strict(std::string_view in, std::string* out) {
  if (in.size() % 4 != 0) return false;
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  out->clear();
  for (size_t i = 0; i < in.size(); i += 4) {
    int pad = 0;
    uint32_t n = 0;
    for (size_t j = 0; j < 4; ++j) {
      char c = in[i + j];
      int v;
      if (c == '=') {
        // Padding only in the last quantum's last one or two places.
        if (i + 4 != in.size() || j < 2) return false;
        ++pad;
        v = 0;
      } else {
        if (pad > 0) return false;
        v = value(c);
        if (v < 0) return false;
      }
      n = (n << 6) | static_cast<uint32_t>(v);
    }
    out->push_back(static_cast<char>((n >> 16) & 0xff));
    if (pad < 2) out->push_back(static_cast<char>((n >> 8) & 0xff));
    if (pad < 1) out->push_back(static_cast<char>(n & 0xff));
  }
  return true;
}

const EVP_CIPHER* Cipher(Encryption::Kind kind, size_t key_size) {
  bool gcm = kind == Encryption::Kind::kAesGcm;
  switch (key_size) {
    case 16: return gcm ? EVP_aes_128_gcm() : EVP_aes_128_cbc();
    case 24: return gcm ? EVP_aes_192_gcm() : EVP_aes_192_cbc();
    case 32: return gcm ? EVP_aes_256_gcm() : EVP_aes_256_cbc();
  }
  return nullptr;
}

using openssl::CipherCtxPtr;

const unsigned char* U(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* U(std::string& s, size_t at) { return reinterpret_cast<unsigned char*>(&s[at]); }

// Appends nonce, ciphertext and tag to `out`.
Status SealGcm(const std::string& key, std::string_view aad, std::string_view plain,
               std::string* out) {
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  size_t at = out->size();
  out->resize(at + kGcmNonce + plain.size() + kGcmTag);
  unsigned char* nonce = U(*out, at);
  int len = 0, fin = 0;
  if (!ctx || RAND_bytes(nonce, kGcmNonce) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), Cipher(Encryption::Kind::kAesGcm, key.size()), nullptr,
                         nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kGcmNonce, nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, U(key), nonce) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, U(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), U(*out, at + kGcmNonce), &len, U(plain),
                        static_cast<int>(plain.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), U(*out, at + kGcmNonce + len), &fin) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kGcmTag,
                          U(*out, at + kGcmNonce + plain.size())) != 1) {
    return Internal("aesgcm encryption failed");
  }
  return Status::Ok();
}

// `data` is nonce, ciphertext, tag. Fails when the tag does not verify.
Result<std::string> OpenGcm(const std::string& key, std::string_view aad, std::string_view data) {
  if (data.size() < kGcmNonce + kGcmTag) return Internal("the stored data is too short");
  std::string_view nonce = data.substr(0, kGcmNonce);
  std::string_view ct = data.substr(kGcmNonce, data.size() - kGcmNonce - kGcmTag);
  std::string tag(data.substr(data.size() - kGcmTag));
  std::string out(ct.size(), '\0');
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0, fin = 0;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), Cipher(Encryption::Kind::kAesGcm, key.size()), nullptr,
                         nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kGcmNonce, nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, U(key), U(nonce)) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, U(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), out.empty() ? nullptr : U(out, 0), &len, U(ct),
                        static_cast<int>(ct.size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kGcmTag, tag.data()) != 1) {
    return Internal("aesgcm decryption failed");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), out.empty() ? nullptr : U(out, len), &fin) != 1) {
    return Internal("message authentication failed (wrong key, or the value was altered)");
  }
  return out;
}

// Appends IV and ciphertext (PKCS#7 padded) to `out`.
Status SealCbc(const std::string& key, std::string_view plain, std::string* out) {
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  size_t at = out->size();
  size_t padded = (plain.size() / kCbcBlock + 1) * kCbcBlock;
  out->resize(at + kCbcBlock + padded);
  unsigned char* iv = U(*out, at);
  int len = 0, fin = 0;
  if (!ctx || RAND_bytes(iv, kCbcBlock) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), Cipher(Encryption::Kind::kAesCbc, key.size()), nullptr,
                         U(key), iv) != 1 ||
      EVP_EncryptUpdate(ctx.get(), U(*out, at + kCbcBlock), &len, U(plain),
                        static_cast<int>(plain.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), U(*out, at + kCbcBlock + len), &fin) != 1 ||
      static_cast<size_t>(len + fin) != padded) {
    return Internal("aescbc encryption failed");
  }
  return Status::Ok();
}

Result<std::string> OpenCbc(const std::string& key, std::string_view data) {
  if (data.size() < 2 * kCbcBlock || data.size() % kCbcBlock != 0) {
    return Internal("the stored data is not a whole number of blocks");
  }
  std::string_view ct = data.substr(kCbcBlock);
  std::string out(ct.size(), '\0');
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0, fin = 0;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), Cipher(Encryption::Kind::kAesCbc, key.size()), nullptr,
                         U(key), U(data)) != 1 ||
      EVP_DecryptUpdate(ctx.get(), U(out, 0), &len, U(ct), static_cast<int>(ct.size())) != 1) {
    return Internal("aescbc decryption failed");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), U(out, len), &fin) != 1) {
    return Internal("invalid padding (wrong key, or the value was altered)");
  }
  out.resize(len + fin);
  return out;
}

// (resource, group) of "secrets", "deployments.apps", "*.apps", "*.", "*.*".
std::pair<std::string_view, std::string_view> SplitGroupResource(std::string_view s) {
  size_t dot = s.find('.');
  if (dot == std::string_view::npos) return {s, ""};
  return {s.substr(0, dot), s.substr(dot + 1)};
}

// Configuration parsing. `path` is the field path for messages.
Status Bad(const std::string& path, const std::string& message) {
  return BadRequest(path + ": " + message);
}

Status CheckFields(const api::Value& obj, const std::string& path,
                   std::initializer_list<std::string_view> allowed) {
  for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
    std::string_view k = api::View(it->name);
    bool ok = false;
    for (auto a : allowed) ok = ok || a == k;
    if (!ok) return Bad((path.empty() ? "" : path + ".") + std::string(k), "unknown field");
  }
  return Status::Ok();
}

Result<Encryption::Provider> ParseProvider(const api::Value& v, const std::string& path) {
  if (!v.IsObject()) return Bad(path, "must be an object");
  static constexpr std::string_view kNames[] = {"aesgcm", "aescbc", "identity", "secretbox",
                                                "kms"};
  std::string found;
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
    std::string_view k = api::View(it->name);
    bool known = false;
    for (auto n : kNames) known = known || n == k;
    if (!known) return Bad(path + "." + std::string(k), "unknown provider");
    if (!found.empty()) {
      return Bad(path, "more than one provider specified in a single element, should split "
                       "into different list elements");
    }
    found = k;
  }
  if (found.empty()) {
    return Bad(path, "provider does not contain any of the expected providers: aesgcm, "
                     "aescbc, identity");
  }
  std::string p = path + "." + found;
  const api::Value& body = *api::FindMember(v, found);
  Encryption::Provider out;
  if (found == "secretbox" || found == "kms") {
    return Bad(p, "the " + found + " provider is not supported by kubepp (use aesgcm or aescbc)");
  }
  if (found == "identity") {
    if (!body.IsNull() && !(body.IsObject() && body.MemberCount() == 0)) {
      return Bad(p, "must be an empty object ({})");
    }
    return out;
  }
  out.kind = found == "aesgcm" ? Encryption::Kind::kAesGcm : Encryption::Kind::kAesCbc;
  if (!body.IsObject()) return Bad(p, "must be an object with keys");
  RETURN_IF_ERROR(CheckFields(body, p, {"keys"}));
  const api::Value* keys = api::FindMember(body, "keys");
  if (keys == nullptr || !keys->IsArray() || keys->Empty()) {
    return Bad(p + ".keys", "at least one keys is required");
  }
  std::set<std::string> names;
  for (rapidjson::SizeType i = 0; i < keys->Size(); ++i) {
    std::string kp = p + ".keys[" + std::to_string(i) + "]";
    const api::Value& k = (*keys)[i];
    if (!k.IsObject()) return Bad(kp, "must be an object with name and secret");
    RETURN_IF_ERROR(CheckFields(k, kp, {"name", "secret"}));
    const api::Value* name = api::FindMember(k, "name");
    const api::Value* secret = api::FindMember(k, "secret");
    if (name == nullptr || !name->IsString() || name->GetStringLength() == 0) {
      return Bad(kp + ".name", "name is a mandatory field for a key");
    }
    std::string n(api::View(*name));
    // The name ends the stored prefix: a ':' would make prefixes ambiguous.
    if (n.find(':') != std::string::npos) return Bad(kp + ".name", "must not contain ':'");
    if (!names.insert(n).second) return Bad(kp + ".name", "duplicate key name \"" + n + "\"");
    if (secret == nullptr || !secret->IsString() || secret->GetStringLength() == 0) {
      return Bad(kp + ".secret", "secret is a mandatory field for a key");
    }
    Encryption::Key key;
    key.name = std::move(n);
    if (!DecodeBase64Strict(api::View(*secret), &key.secret)) {
      return Bad(kp + ".secret", "secrets must be base64 encoded");
    }
    size_t len = key.secret.size();
    if (len != 16 && len != 24 && len != 32) {
      return Bad(kp + ".secret", "secret is not of the expected length, got " +
                                     std::to_string(len) + ", expected one of [16 24 32]");
    }
    out.keys.push_back(std::move(key));
  }
  return out;
}

Status ValidateResources(const std::vector<std::string>& resources, const std::string& path) {
  for (size_t i = 0; i < resources.size(); ++i) {
    const std::string& r = resources[i];
    std::string rp = path + "[" + std::to_string(i) + "]";
    if (r.empty()) return Bad(rp, "must not be empty");
    for (char c : r) {
      if (std::isupper(static_cast<unsigned char>(c))) {
        return Bad(rp, "resource name should not contain capital letters");
      }
    }
    if (r == "*") {
      return Bad(rp, "use '*.' to encrypt all the resources from core API group or *.* to "
                     "encrypt all resources");
    }
    auto [res, group] = SplitGroupResource(r);
    if (group == "*" && res != "*") {
      return Bad(rp, "encrypting the same resource across groups is not supported");
    }
    for (size_t j = 0; j < i; ++j) {
      auto [res2, group2] = SplitGroupResource(resources[j]);
      if (r == resources[j]) return Bad(path, "the same resource cannot be specified multiple times");
      bool overlap = (res == "*" && group == "*") || (res2 == "*" && group2 == "*") ||
                     (group == group2 && (res == "*" || res2 == "*"));
      if (overlap) {
        return Bad(path, "using overlapping resources such as 'secrets' and '*.' in the same "
                         "resource list is not allowed as they will be masked");
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::shared_ptr<const Encryption>> Encryption::Parse(std::string_view text) {
  auto parsed = api::ParseJsonOrYaml(text);
  if (!parsed.ok()) return BadRequest("cannot parse: " + parsed.status().message());
  const api::Value& doc = *parsed;
  if (!doc.IsObject()) return BadRequest("must be an EncryptionConfiguration object");
  if (api::GetString(doc, "kind") != "EncryptionConfiguration") {
    return BadRequest("kind must be EncryptionConfiguration, not \"" +
                      api::GetString(doc, "kind") + "\"");
  }
  if (api::GetString(doc, "apiVersion") != "apiserver.config.k8s.io/v1") {
    return BadRequest("apiVersion must be apiserver.config.k8s.io/v1, not \"" +
                      api::GetString(doc, "apiVersion") + "\"");
  }
  RETURN_IF_ERROR(CheckFields(doc, "", {"kind", "apiVersion", "resources"}));
  const api::Value* resources = api::FindMember(doc, "resources");
  if (resources == nullptr || !resources->IsArray() || resources->Empty()) {
    return Bad("resources", "at least one resources is required");
  }
  auto out = std::make_shared<Encryption>();
  for (rapidjson::SizeType i = 0; i < resources->Size(); ++i) {
    std::string path = "resources[" + std::to_string(i) + "]";
    const api::Value& r = (*resources)[i];
    if (!r.IsObject()) return Bad(path, "must be an object with resources and providers");
    RETURN_IF_ERROR(CheckFields(r, path, {"resources", "providers"}));
    Rule rule;
    const api::Value* names = api::FindMember(r, "resources");
    if (names == nullptr || !names->IsArray() || names->Empty()) {
      return Bad(path + ".resources", "at least one resources is required");
    }
    for (rapidjson::SizeType j = 0; j < names->Size(); ++j) {
      if (!(*names)[j].IsString()) {
        return Bad(path + ".resources[" + std::to_string(j) + "]", "must be a string");
      }
      rule.resources.emplace_back(api::View((*names)[j]));
    }
    RETURN_IF_ERROR(ValidateResources(rule.resources, path + ".resources"));
    const api::Value* providers = api::FindMember(r, "providers");
    if (providers == nullptr || !providers->IsArray() || providers->Empty()) {
      return Bad(path + ".providers", "at least one providers is required");
    }
    std::set<std::pair<Kind, std::string>> keys;
    for (rapidjson::SizeType j = 0; j < providers->Size(); ++j) {
      std::string pp = path + ".providers[" + std::to_string(j) + "]";
      ASSIGN_OR_RETURN(Provider p, ParseProvider((*providers)[j], pp));
      // Two providers of one kind sharing a key name would share a stored prefix.
      for (const auto& k : p.keys) {
        if (!keys.insert({p.kind, k.name}).second) {
          return Bad(pp, "key name \"" + k.name + "\" is already used by another " +
                             std::string(KindName(p.kind)) + " provider of this list");
        }
      }
      rule.providers.push_back(std::move(p));
    }
    out->rules_.push_back(std::move(rule));
  }
  return std::shared_ptr<const Encryption>(std::move(out));
}

Result<std::shared_ptr<const Encryption>> Encryption::Load(const std::string& path) {
  auto text = util::ReadFile(path);
  if (!text.ok()) {
    return BadRequest("--encryption-provider-config " + path + ": " + text.status().message());
  }
  auto e = Parse(*text);
  if (!e.ok()) return BadRequest("--encryption-provider-config " + path + ": " + e.status().message());
  return e;
}

std::shared_ptr<const Encryption> Encryption::Identity() {
  static const auto kIdentity = std::make_shared<const Encryption>();
  return kIdentity;
}

std::string Encryption::StorageKey(std::string_view resource, std::string_view ns,
                                   std::string_view name) {
  std::string k = "/registry/";
  k += resource;
  k += '/';
  if (!ns.empty()) {
    k += ns;
    k += '/';
  }
  k += name;
  return k;
}

const Encryption::Rule* Encryption::RuleFor(std::string_view resource) const {
  auto [res, group] = SplitGroupResource(resource);
  for (const auto& rule : rules_) {
    for (const auto& entry : rule.resources) {
      auto [eres, egroup] = SplitGroupResource(entry);
      if (egroup == "*" && eres == "*") return &rule;
      if (egroup == group && (eres == "*" || eres == res)) return &rule;
    }
  }
  return nullptr;
}

Result<std::string> Encryption::Encode(std::string_view resource, std::string_view storage_key,
                                       std::string_view json) const {
  const Rule* rule = RuleFor(resource);
  if (rule == nullptr || rule->providers.front().kind == Kind::kIdentity) {
    return std::string(json);
  }
  const Provider& p = rule->providers.front();
  const Key& key = p.keys.front();
  std::string out = ValuePrefix(p.kind, key.name);
  if (p.kind == Kind::kAesGcm) {
    RETURN_IF_ERROR(SealGcm(key.secret, storage_key, json, &out));
  } else {
    RETURN_IF_ERROR(SealCbc(key.secret, json, &out));
  }
  return out;
}

Result<Encryption::Decoded> Encryption::Decode(std::string_view resource,
                                               std::string_view storage_key,
                                               std::string_view stored) const {
  const Rule* rule = RuleFor(resource);
  bool encrypted = stored.substr(0, kEncPrefix.size()) == kEncPrefix;
  if (rule == nullptr) {
    if (encrypted) {
      return Internal("the value is encrypted (" + DescribeWriter(stored) +
                      ") but no encryption provider is configured for " + std::string(resource));
    }
    return Decoded{std::string(stored), false};
  }
  if (!encrypted) {
    for (const auto& p : rule->providers) {
      if (p.kind == Kind::kIdentity) {
        return Decoded{std::string(stored), rule->providers.front().kind != Kind::kIdentity};
      }
    }
    return Internal("the value is stored unencrypted and no identity provider is configured "
                    "for " + std::string(resource));
  }
  for (size_t i = 0; i < rule->providers.size(); ++i) {
    const Provider& p = rule->providers[i];
    for (size_t j = 0; j < p.keys.size(); ++j) {
      const Key& key = p.keys[j];
      std::string prefix = ValuePrefix(p.kind, key.name);
      if (stored.substr(0, prefix.size()) != prefix) continue;
      std::string_view data = stored.substr(prefix.size());
      auto plain = p.kind == Kind::kAesGcm ? OpenGcm(key.secret, storage_key, data)
                                           : OpenCbc(key.secret, data);
      if (!plain.ok()) {
        return Internal("cannot decrypt with " + std::string(KindName(p.kind)) + " key \"" +
                        key.name + "\": " + plain.status().message());
      }
      return Decoded{std::move(*plain), i != 0 || j != 0};
    }
  }
  return Internal("no configured provider can decrypt the value (written by " +
                  DescribeWriter(stored) + ")");
}

std::string Encryption::Describe() const {
  if (rules_.empty()) return "none";
  std::string out;
  for (const auto& rule : rules_) {
    if (!out.empty()) out += "; ";
    for (size_t i = 0; i < rule.resources.size(); ++i) out += (i ? "," : "") + rule.resources[i];
    out += ": ";
    for (size_t i = 0; i < rule.providers.size(); ++i) {
      const Provider& p = rule.providers[i];
      out += (i ? ", " : "") + std::string(KindName(p.kind));
      if (p.keys.empty()) continue;
      out += '(';
      for (size_t j = 0; j < p.keys.size(); ++j) out += (j ? "," : "") + p.keys[j].name;
      out += ')';
    }
  }
  return out;
}

}  // namespace kubepp::apiserver
