// X.509 certificates for the cluster's components: a CA, certificates it signs, and
// files of them kept across restarts. The apiserver's PKI directory (apiserver/pki.h)
// and the kubelet's serving certificate are built from these.
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

namespace kubepp::pki {

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
// Every "CERTIFICATE" block of a PEM text, in order, each as PEM text.
std::vector<std::string> SplitCerts(const std::string& pem);
// OK when `cert_pem` verifies against `ca_pem` now (signature, validity period, CA
// constraints); BadRequest with OpenSSL's reason otherwise.
Status VerifyCert(const std::string& ca_pem, const std::string& cert_pem);
// OK when `key_pem` is the private key of `cert_pem`.
Status CheckKeyMatches(const std::string& cert_pem, const std::string& key_pem);

// Makes sure cert_path/key_path hold a certificate for `spec` signed by `ca`: an
// existing pair is kept unless it no longer verifies against the CA, is within 30 days of
// expiry, has another subject or lacks one of spec's names; otherwise a new one is
// issued and written (the key readable by the owner only).
Status EnsureCert(const CertKey& ca, const CertSpec& spec, const std::string& cert_path,
                  const std::string& key_path);

// Makes sure cert_path/key_path hold a self-signed serving certificate for `spec`, as
// upstream's kubelet makes when given none: a throwaway CA ("<CN>-ca@<unix time>") signs
// the certificate, and cert_path holds the certificate followed by that CA, so a client
// may trust the file itself. An existing pair is kept on the same terms as EnsureCert's.
Status EnsureSelfSigned(const CertSpec& spec, const std::string& cert_path,
                        const std::string& key_path);

// client::ReportCertificateExpiry (common/client/cert_expiry.h) of the certificate in
// `cert_file`.
Status ReportExpiry(const std::string& name, const std::string& cert_file);

}  // namespace kubepp::pki
