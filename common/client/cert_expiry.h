// Certificates do not silently expire: every process publishes when each certificate it
// uses expires, as the gauge kubepp_certificate_expiry_seconds{cert=<name>} (Unix time of
// notAfter) on its /metrics, and logs a warning when that is less than 30 days away.
// Components call it for the client certificate and CA of their kubeconfig
// (ClientOptionsFromFlags does); the apiserver also for its serving certificate.
// Thread safety: safe from any thread.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace kubepp::client {

inline constexpr int64_t kCertificateWarnSeconds = 30 * 24 * 3600;

// notAfter (Unix seconds) of the first certificate in `pem`; BadRequest if there is none.
Result<int64_t> CertificateNotAfter(const std::string& pem);

// Publishes the expiry of the first certificate in `pem` under `name`; `source` (a file
// name, "kubeconfig") is named in the warning. BadRequest for a PEM without certificate.
Status ReportCertificateExpiry(const std::string& name, const std::string& pem,
                               const std::string& source);

}  // namespace kubepp::client
