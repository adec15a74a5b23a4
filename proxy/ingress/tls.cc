#include "proxy/ingress/tls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/pki/openssl_ptr.h"

namespace kubepp::proxy::ingress {
namespace {

SSL_CTX* NewServerContext() {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return nullptr;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  return ctx;
}

std::vector<std::string> NamesOf(X509* cert) {
  std::vector<std::string> out;
  char cn[256] = {};
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) > 0) {
    out.push_back(cn);
  }
  auto* sans = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* n = sk_GENERAL_NAME_value(sans, i);
      if (n->type != GEN_DNS) continue;
      const unsigned char* data = ASN1_STRING_get0_data(n->d.dNSName);
      out.emplace_back(reinterpret_cast<const char*>(data), ASN1_STRING_length(n->d.dNSName));
    }
    GENERAL_NAMES_free(sans);
  }
  return out;
}

}  // namespace

TlsCertificate::~TlsCertificate() {
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
}

Result<std::shared_ptr<const TlsCertificate>> TlsCertificate::FromPem(std::string_view cert_pem,
                                                                      std::string_view key_pem) {
  ERR_clear_error();
  std::shared_ptr<TlsCertificate> c(new TlsCertificate());
  c->ctx_ = NewServerContext();
  if (c->ctx_ == nullptr) return Internal(openssl::Error("cannot make a TLS context"));

  BIO* bio = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  X509* leaf = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  if (leaf == nullptr) {
    BIO_free(bio);
    return BadRequest("tls.crt holds no PEM certificate");
  }
  c->names_ = NamesOf(leaf);
  int ok = SSL_CTX_use_certificate(c->ctx_, leaf);
  X509_free(leaf);
  // The rest of the file is the chain.
  while (ok == 1) {
    X509* extra = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    if (extra == nullptr) break;
    if (SSL_CTX_add0_chain_cert(c->ctx_, extra) != 1) {
      X509_free(extra);
      ok = 0;
    }
  }
  BIO_free(bio);
  ERR_clear_error();  // the chain loop ends on "no start line"
  if (ok != 1) return BadRequest(openssl::Error("tls.crt"));

  bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key == nullptr) return BadRequest("tls.key holds no PEM private key");
  ok = SSL_CTX_use_PrivateKey(c->ctx_, key);
  EVP_PKEY_free(key);
  if (ok != 1) return BadRequest(openssl::Error("tls.key"));
  if (SSL_CTX_check_private_key(c->ctx_) != 1) {
    ERR_clear_error();
    return BadRequest("tls.key does not match the certificate in tls.crt");
  }
  return std::shared_ptr<const TlsCertificate>(std::move(c));
}

Result<std::shared_ptr<const TlsCertificate>> TlsCertificate::SelfSigned(
    const std::string& common_name) {
  ERR_clear_error();
  EVP_PKEY* key = EVP_RSA_gen(2048);
  if (key == nullptr) return Internal(openssl::Error("cannot generate an RSA key"));
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), static_cast<long>(time(nullptr)));
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 365L * 24 * 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("kubepp"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0);
  X509_set_issuer_name(x, name);
  int signed_ok = X509_sign(x, key, EVP_sha256());
  std::shared_ptr<TlsCertificate> c(new TlsCertificate());
  c->ctx_ = NewServerContext();
  bool ok = signed_ok > 0 && c->ctx_ != nullptr && SSL_CTX_use_certificate(c->ctx_, x) == 1 &&
            SSL_CTX_use_PrivateKey(c->ctx_, key) == 1;
  c->names_ = {common_name};
  X509_free(x);
  EVP_PKEY_free(key);
  if (!ok) return Internal(openssl::Error("cannot make the self-signed certificate"));
  return std::shared_ptr<const TlsCertificate>(std::move(c));
}

Result<std::string> Base64Decode(std::string_view in) {
  std::string clean;
  clean.reserve(in.size());
  for (char ch : in) {
    if (ch != '\n' && ch != '\r' && ch != ' ') clean += ch;
  }
  if (clean.size() % 4 != 0) return BadRequest("bad base64 (length)");
  std::string out(clean.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(clean.data()),
                          static_cast<int>(clean.size()));
  if (n < 0) return BadRequest("bad base64");
  size_t pad = 0;
  if (!clean.empty() && clean.back() == '=') ++pad;
  if (clean.size() > 1 && clean[clean.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

}  // namespace kubepp::proxy::ingress
