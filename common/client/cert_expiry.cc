#include "common/client/cert_expiry.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <ctime>
#include <memory>

#include "common/log.h"
#include "common/metrics.h"
#include "common/pki/openssl_ptr.h"

namespace kubepp::client {

Result<int64_t> CertificateNotAfter(const std::string& pem) {
  openssl::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  openssl::X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) return BadRequest("no PEM certificate");
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &tm) != 1) {
    return BadRequest("certificate has an unreadable notAfter");
  }
  return static_cast<int64_t>(timegm(&tm));
}

Status ReportCertificateExpiry(const std::string& name, const std::string& pem,
                               const std::string& source) {
  auto not_after = CertificateNotAfter(pem);
  if (!not_after.ok()) return BadRequest(source + ": " + not_after.status().message());
  static auto& expiry = metrics::Registry::Default().AddGaugeVec(
      "kubepp_certificate_expiry_seconds",
      "When a certificate this process uses expires (Unix time of its notAfter).", {"cert"});
  expiry.WithLabelValues({name}).Set(static_cast<double>(*not_after));
  int64_t left = *not_after - std::time(nullptr);
  if (left < kCertificateWarnSeconds) {
    LOG(WARNING) << "the " << name << " certificate of " << source
                 << (left <= 0 ? " has EXPIRED"
                               : " expires in " + std::to_string(left / 86400) + " days")
                 << ": rotate it before it is refused";
  }
  return Status::Ok();
}

}  // namespace kubepp::client
