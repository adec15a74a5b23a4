#include "apiserver/jwt.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "common/pki/openssl_ptr.h"

namespace kubepp::apiserver::jwt {

namespace {

using openssl::BioPtr;
using openssl::BnPtr;
using openssl::EcdsaSigPtr;
using openssl::MdCtxPtr;
using openssl::X509Ptr;

constexpr size_t kEcCoordinateBytes = 32;  // P-256

Status Unauthorized(const std::string& why) { return Status(Code::kUnauthorized, why); }

std::string Sha256(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return std::string(reinterpret_cast<char*>(md), sizeof md);
}

std::string BnBytes(const BIGNUM* bn, size_t pad) {
  std::string out(std::max(pad, static_cast<size_t>(BN_num_bytes(bn))), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
  return out;
}

std::string BnParam(EVP_PKEY* key, const char* name, size_t pad) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) {
    ERR_clear_error();
    return "";
  }
  BnPtr owned(bn);
  return BnBytes(bn, pad);
}

// ES256 signatures: JWS carries r||s, OpenSSL speaks DER.
Result<std::string> DerToRaw(const std::string& der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return Internal(openssl::Error("decoding an ECDSA signature"));
  const BIGNUM *r = nullptr, *s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  return BnBytes(r, kEcCoordinateBytes) + BnBytes(s, kEcCoordinateBytes);
}

Result<std::string> RawToDer(std::string_view raw) {
  if (raw.size() != 2 * kEcCoordinateBytes) return Unauthorized("ES256 signature of the wrong size");
  auto bytes = reinterpret_cast<const unsigned char*>(raw.data());
  BnPtr r(BN_bin2bn(bytes, kEcCoordinateBytes, nullptr));
  BnPtr s(BN_bin2bn(bytes + kEcCoordinateBytes, kEcCoordinateBytes, nullptr));
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    return Internal(openssl::Error("ECDSA_SIG_set0"));
  }
  r.release();
  s.release();
  unsigned char* der = nullptr;
  int n = i2d_ECDSA_SIG(sig.get(), &der);
  if (n <= 0) return Internal(openssl::Error("i2d_ECDSA_SIG"));
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  return out;
}

bool VerifyWith(const Key& key, std::string_view signing_input, std::string_view sig) {
  std::string der;
  if (key.alg() == "ES256") {
    auto d = RawToDer(sig);
    if (!d.ok()) return false;
    der = std::move(*d);
    sig = der;
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) == 1 &&
            EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()),
                             sig.size(),
                             reinterpret_cast<const unsigned char*>(signing_input.data()),
                             signing_input.size()) == 1;
  ERR_clear_error();
  return ok;
}

}  // namespace

std::string Base64UrlEncode(std::string_view data) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((data.size() * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    uint32_t v = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8) | uint8_t(data[i + 2]);
    for (int shift : {18, 12, 6, 0}) out.push_back(kAlphabet[(v >> shift) & 63]);
  }
  size_t rest = data.size() - i;
  if (rest == 1) {
    uint32_t v = uint8_t(data[i]) << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
  } else if (rest == 2) {
    uint32_t v = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

Result<std::string> Base64UrlDecode(std::string_view text) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
  };
  if (text.size() % 4 == 1) return BadRequest("illegal base64url length");
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = val(c);
    if (v < 0) return BadRequest("illegal base64url character");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return BadRequest("non-zero base64url padding bits");
  return out;
}

Result<Key> Key::Wrap(EVP_PKEY* pkey, bool is_private) {
  std::shared_ptr<EVP_PKEY> owned(pkey, EVP_PKEY_free);
  Key k;
  k.pkey_ = owned;
  k.private_ = is_private;
  int id = EVP_PKEY_get_base_id(pkey);
  if (id == EVP_PKEY_RSA) {
    if (EVP_PKEY_get_bits(pkey) < 2048) return BadRequest("RSA keys must have at least 2048 bits");
    k.alg_ = "RS256";
  } else if (id == EVP_PKEY_EC) {
    char group[64] = {};
    size_t len = 0;
    if (EVP_PKEY_get_group_name(pkey, group, sizeof group, &len) != 1 ||
        (std::string_view(group) != "prime256v1" && std::string_view(group) != "P-256")) {
      ERR_clear_error();
      return BadRequest("EC keys must use the P-256 curve (ES256), not " +
                        std::string(group[0] ? group : "an unknown curve"));
    }
    k.alg_ = "ES256";
  } else {
    return BadRequest("unsupported key type: want RSA or EC P-256");
  }
  unsigned char* der = nullptr;
  int n = i2d_PUBKEY(pkey, &der);
  if (n <= 0) return Internal(openssl::Error("i2d_PUBKEY"));
  std::string spki(reinterpret_cast<char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  k.kid_ = Base64UrlEncode(Sha256(spki));
  return k;
}

Result<Key> Key::GenerateRsa() {
  EVP_PKEY* pkey = EVP_RSA_gen(2048);
  if (pkey == nullptr) return Internal(openssl::Error("generating an RSA key"));
  return Wrap(pkey, true);
}

Result<Key> Key::GenerateEc() {
  EVP_PKEY* pkey = EVP_EC_gen("P-256");
  if (pkey == nullptr) return Internal(openssl::Error("generating an EC key"));
  return Wrap(pkey, true);
}

Result<std::vector<Key>> Key::ParsePem(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::vector<Key> out;
  while (true) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;
    if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) {
      ERR_clear_error();  // the end of the text
      break;
    }
    std::string type = name;
    const unsigned char* p = data;
    EVP_PKEY* pkey = nullptr;
    bool is_private = false;
    if (type == "PRIVATE KEY" || type == "RSA PRIVATE KEY" || type == "EC PRIVATE KEY") {
      pkey = d2i_AutoPrivateKey(nullptr, &p, len);
      is_private = true;
    } else if (type == "PUBLIC KEY") {
      pkey = d2i_PUBKEY(nullptr, &p, len);
    } else if (type == "RSA PUBLIC KEY") {
      pkey = d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, len);
    } else if (type == "CERTIFICATE") {
      X509Ptr cert(d2i_X509(nullptr, &p, len));
      if (cert) pkey = X509_get_pubkey(cert.get());
    }
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    if (type == "EC PARAMETERS") continue;  // what `openssl ecparam -genkey` puts first
    if (pkey == nullptr) {
      return BadRequest(openssl::Error("cannot read the PEM block \"" + type + "\""));
    }
    ASSIGN_OR_RETURN(Key k, Wrap(pkey, is_private));
    out.push_back(std::move(k));
  }
  if (out.empty()) return BadRequest("no PEM key, public key or certificate found");
  return out;
}

Result<std::string> Key::PrivatePem() const {
  if (!private_) return BadRequest("not a private key");
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(bio.get(), pkey_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return Internal(openssl::Error("PEM_write_bio_PrivateKey"));
  }
  char* text = nullptr;
  long n = BIO_get_mem_data(bio.get(), &text);
  return std::string(text, static_cast<size_t>(n));
}

std::string Key::PublicJwk() const {
  api::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  auto b64 = [&](const std::string& s) { return api::Str(Base64UrlEncode(s), a); };
  d.AddMember("use", "sig", a);
  if (alg_ == "RS256") {
    d.AddMember("kty", "RSA", a);
    d.AddMember("kid", api::Str(kid_, a), a);
    d.AddMember("alg", "RS256", a);
    d.AddMember("n", b64(BnParam(pkey_.get(), OSSL_PKEY_PARAM_RSA_N, 0)), a);
    d.AddMember("e", b64(BnParam(pkey_.get(), OSSL_PKEY_PARAM_RSA_E, 0)), a);
  } else {
    d.AddMember("kty", "EC", a);
    d.AddMember("kid", api::Str(kid_, a), a);
    d.AddMember("crv", "P-256", a);
    d.AddMember("alg", "ES256", a);
    d.AddMember("x", b64(BnParam(pkey_.get(), OSSL_PKEY_PARAM_EC_PUB_X, kEcCoordinateBytes)), a);
    d.AddMember("y", b64(BnParam(pkey_.get(), OSSL_PKEY_PARAM_EC_PUB_Y, kEcCoordinateBytes)), a);
  }
  return api::ToJson(d);
}

Result<std::string> Sign(const Key& key, const api::Value& claims) {
  if (!key.can_sign()) return BadRequest("a public key cannot sign");
  api::Document header;
  header.SetObject();
  auto& a = header.GetAllocator();
  header.AddMember("alg", api::Str(key.alg(), a), a);
  header.AddMember("kid", api::Str(key.kid(), a), a);
  std::string input = Base64UrlEncode(api::ToJson(header)) + "." + Base64UrlEncode(api::ToJson(claims));
  MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size()) != 1) {
    return Internal(openssl::Error("signing a token"));
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return Internal(openssl::Error("signing a token"));
  }
  sig.resize(len);
  if (key.alg() == "ES256") {
    ASSIGN_OR_RETURN(sig, DerToRaw(sig));
  }
  return input + "." + Base64UrlEncode(sig);
}

Result<api::Document> Verify(const std::vector<Key>& keys, std::string_view token) {
  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Unauthorized("not a compact JWS (three dot-separated parts)");
  }
  auto header_raw = Base64UrlDecode(token.substr(0, dot1));
  auto claims_raw = Base64UrlDecode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  auto sig = Base64UrlDecode(token.substr(dot2 + 1));
  if (!header_raw.ok() || !claims_raw.ok() || !sig.ok()) return Unauthorized("malformed base64url");
  auto header = api::ParseJson(*header_raw);
  if (!header.ok() || !header->IsObject()) return Unauthorized("the JWS header is not a JSON object");
  const api::Value* alg = api::FindMember(*header, "alg");
  if (alg == nullptr || !alg->IsString()) return Unauthorized("the JWS header has no alg");
  std::string_view alg_name = api::View(*alg);
  if (alg_name != "RS256" && alg_name != "ES256") {
    return Unauthorized("unsupported signing algorithm \"" + std::string(alg_name) + "\"");
  }
  if (const api::Value* crit = api::FindMember(*header, "crit"); crit != nullptr) {
    return Unauthorized("critical JWS header extensions are not supported");
  }
  std::string_view signing_input = token.substr(0, dot2);
  bool verified = false;
  for (const Key& k : keys) {
    if (k.alg() == alg_name && VerifyWith(k, signing_input, *sig)) {
      verified = true;
      break;
    }
  }
  if (!verified) return Unauthorized("invalid signature");
  auto claims = api::ParseJson(*claims_raw);
  if (!claims.ok() || !claims->IsObject()) return Unauthorized("the claims are not a JSON object");
  return std::move(*claims);
}

}  // namespace kubepp::apiserver::jwt
