#include "common/client/cert_expiry.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <catch2/catch.hpp>
#include <ctime>

#include "common/metrics.h"

namespace kubepp::client {
namespace {

// A self-signed certificate valid for `days` from now.
std::string Cert(int days) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), static_cast<long>(days) * 86400);
  X509_set_pubkey(x, key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("t"), -1, -1, 0);
  X509_set_issuer_name(x, X509_get_subject_name(x));
  X509_sign(x, key, EVP_sha256());
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, x);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  X509_free(x);
  EVP_PKEY_free(key);
  return pem;
}

TEST_CASE("cert expiry: notAfter is read and published as a gauge") {
  auto not_after = CertificateNotAfter(Cert(10));
  REQUIRE(not_after.ok());
  CHECK(std::abs(*not_after - (std::time(nullptr) + 10 * 86400)) < 5);
  REQUIRE(ReportCertificateExpiry("test-client", Cert(10), "test").ok());
  std::string text = metrics::Registry::Default().Render();
  CHECK(text.find("kubepp_certificate_expiry_seconds{cert=\"test-client\"}") != std::string::npos);
}

TEST_CASE("cert expiry: garbage is a clear error, not a crash") {
  CHECK(CertificateNotAfter("").status().code() == Code::kBadRequest);
  CHECK(CertificateNotAfter("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
            .status().code() == Code::kBadRequest);
  auto st = ReportCertificateExpiry("x", "not a pem", "kubeconfig");
  CHECK(st.message().find("kubeconfig") != std::string::npos);
}

}  // namespace
}  // namespace kubepp::client
