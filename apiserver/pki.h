// The apiserver's PKI directory: the cluster CA and the certificates the apiserver
// issues itself (what kubeadm's `init phase certs` writes, in little). Certificate
// primitives are common/pki/pki.h's, named here too for the apiserver's code.
// Thread safety: stateless functions.
#pragma once

#include <string>
#include <vector>

#include "common/pki/pki.h"
#include "common/status.h"

namespace kubepp::apiserver::pki {

using kubepp::pki::CertInfo;
using kubepp::pki::CertKey;
using kubepp::pki::CertSpec;
using kubepp::pki::CheckKeyMatches;
using kubepp::pki::NewCa;
using kubepp::pki::NewCert;
using kubepp::pki::ParseCert;
using kubepp::pki::ReportExpiry;
using kubepp::pki::VerifyCert;

// The files of a PKI directory (absolute when `dir` is).
struct PkiFiles {
  std::string ca_cert, ca_key;
  std::string serving_cert, serving_key;
  std::string admin_cert, admin_key;
  // The apiserver's client certificate towards kubelets (CN kube-apiserver-kubelet-client,
  // O system:masters), as kubeadm's apiserver-kubelet-client.crt.
  std::string kubelet_client_cert, kubelet_client_key;
};

struct PkiOptions {
  std::string dir;  // e.g. <data-dir>/pki
  // subjectAltNames the serving certificate must cover.
  std::vector<std::string> serving_dns_names;
  std::vector<std::string> serving_ip_addresses;
  int ca_validity_days = 3650;
  int cert_validity_days = 365;
};

// Makes sure `dir` holds a CA, a serving certificate, an admin client certificate
// (CN kubernetes-admin, O system:masters) and the kubelet client certificate, generating
// what is missing. Existing files are kept: the CA always (an existing but unusable CA
// is an error for the operator, never silently replaced, since every issued credential
// hangs off it); a certificate is reissued only when it no longer verifies against the
// CA, is within 30 days of expiry, or (serving) lacks one of the requested names. Keys
// are written readable by the owner only.
Result<PkiFiles> EnsurePki(const PkiOptions& options);

}  // namespace kubepp::apiserver::pki
