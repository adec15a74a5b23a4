// The cluster's certificates: a CA, certificates it signs, and the apiserver's PKI
// directory that holds them (what kubeadm's `init phase certs` writes, in little).
//
//   ASSIGN_OR_RETURN(auto ca, pki::NewCa("kubepp-ca", 3650));
//   pki::CertSpec s; s.common_name = "kubernetes-admin"; s.organizations = {"system:masters"};
//   s.client = true;
//   ASSIGN_OR_RETURN(auto admin, pki::NewCert(ca, s));
//
// Keys are ECDSA P-256 (quick to generate, accepted by Go, Python and OpenSSL clients);
// PEM throughout (certificates "CERTIFICATE", keys PKCS#8 "PRIVATE KEY").
// Thread safety: stateless functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace kubepp::apiserver::pki {

struct CertKey {
  std::string cert_pem;
  std::string key_pem;
};

struct CertSpec {
  std::string common_name;                 // the user, for a client certificate
  std::vector<std::string> organizations;  // the groups, for a client certificate
  std::vector<std::string> dns_names;      // subjectAltName entries
  std::vector<std::string> ip_addresses;   // IPv4 or IPv6 literals
  bool server = false;                     // extendedKeyUsage serverAuth
  bool client = false;                     // extendedKeyUsage clientAuth
  int validity_days = 365;
};

// A self-signed CA certificate and its key.
Result<CertKey> NewCa(const std::string& common_name, int validity_days);
// A certificate for `spec` signed by `ca`. BadRequest for a malformed IP address.
Result<CertKey> NewCert(const CertKey& ca, const CertSpec& spec);

struct CertInfo {
  std::string common_name;
  std::vector<std::string> organizations;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  int64_t not_before = 0;  // Unix seconds
  int64_t not_after = 0;
  bool is_ca = false;
};

// The first certificate of a PEM text. BadRequest when there is none.
Result<CertInfo> ParseCert(const std::string& cert_pem);
// OK when `cert_pem` verifies against `ca_pem` now (signature, validity period, CA
// constraints); BadRequest with OpenSSL's reason otherwise.
Status VerifyCert(const std::string& ca_pem, const std::string& cert_pem);
// OK when `key_pem` is the private key of `cert_pem`.
Status CheckKeyMatches(const std::string& cert_pem, const std::string& key_pem);

// The files of a PKI directory (absolute when `dir` is).
struct PkiFiles {
  std::string ca_cert, ca_key;
  std::string serving_cert, serving_key;
  std::string admin_cert, admin_key;
};

struct PkiOptions {
  std::string dir;  // e.g. <data-dir>/pki
  // subjectAltNames the serving certificate must cover.
  std::vector<std::string> serving_dns_names;
  std::vector<std::string> serving_ip_addresses;
  int ca_validity_days = 3650;
  int cert_validity_days = 365;
};

// Makes sure `dir` holds a CA, a serving certificate and an admin client certificate
// (CN kubernetes-admin, O system:masters), generating what is missing. Existing files
// are kept: the CA always (an existing but unusable CA is an error for the operator,
// never silently replaced, since every issued credential hangs off it); a serving or
// admin certificate is reissued only when it no longer verifies against the CA, is
// within 30 days of expiry, or (serving) lacks one of the requested names. Keys are
// written readable by the owner only.
Result<PkiFiles> EnsurePki(const PkiOptions& options);

// client::ReportCertificateExpiry (common/client/cert_expiry.h) of the certificate in
// `cert_file`.
Status ReportExpiry(const std::string& name, const std::string& cert_file);

}  // namespace kubepp::apiserver::pki
