// Server certificates of the Ingress controller: one OpenSSL server context per
// certificate (TLS 1.2+), made from a `kubernetes.io/tls` Secret's PEM data or generated
// self-signed at start (the default certificate, for clients without SNI or with an
// unknown name). The HTTPS listener switches a connection's context by SNI.
// Thread safety: a built TlsCertificate is immutable and may be shared between threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace kubepp::proxy::ingress {

class TlsCertificate {
 public:
  ~TlsCertificate();
  TlsCertificate(const TlsCertificate&) = delete;
  TlsCertificate& operator=(const TlsCertificate&) = delete;

  // From PEM text: the chain (leaf first) and its private key. BadRequest when either
  // does not parse or the key does not belong to the certificate.
  static Result<std::shared_ptr<const TlsCertificate>> FromPem(std::string_view cert_pem,
                                                               std::string_view key_pem);
  // A new self-signed certificate (RSA 2048, one year) for `common_name`.
  static Result<std::shared_ptr<const TlsCertificate>> SelfSigned(const std::string& common_name);

  ssl_ctx_st* context() const { return ctx_; }
  // The certificate's subject CN and DNS subjectAltNames (for logs and tests).
  const std::vector<std::string>& names() const { return names_; }

 private:
  TlsCertificate() = default;
  ssl_ctx_st* ctx_ = nullptr;
  std::vector<std::string> names_;
};

// Standard base64 (Secret data). BadRequest when malformed.
Result<std::string> Base64Decode(std::string_view in);

}  // namespace kubepp::proxy::ingress
