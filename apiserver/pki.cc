#include "apiserver/pki.h"

#include <filesystem>

#include "common/log.h"
#include "common/util/file.h"

namespace kubepp::apiserver::pki {

namespace {

using kubepp::pki::EnsureCert;

// The file's text, or "" when it does not exist.
Result<std::string> ReadIfExists(const std::string& path) {
  auto r = util::ReadFile(path);
  if (!r.ok() && r.status().code() == Code::kNotFound) return std::string();
  return r;
}

}  // namespace

Result<PkiFiles> EnsurePki(const PkiOptions& o) {
  namespace fs = std::filesystem;
  auto path = [&](const char* name) { return (fs::path(o.dir) / name).string(); };
  PkiFiles files{path("ca.crt"),        path("ca.key"),
                 path("apiserver.crt"), path("apiserver.key"),
                 path("admin.crt"),     path("admin.key"),
                 path("apiserver-kubelet-client.crt"), path("apiserver-kubelet-client.key")};
  std::error_code ec;
  fs::create_directories(o.dir, ec);
  if (ec) return Internal("cannot create " + o.dir + ": " + ec.message());
  fs::permissions(o.dir, fs::perms::owner_all, ec);

  CertKey ca;
  ASSIGN_OR_RETURN(ca.cert_pem, ReadIfExists(files.ca_cert));
  ASSIGN_OR_RETURN(ca.key_pem, ReadIfExists(files.ca_key));
  if (ca.cert_pem.empty() && ca.key_pem.empty()) {
    LOG(INFO) << "generating the cluster CA in " << o.dir;
    ASSIGN_OR_RETURN(ca, NewCa("kubepp-ca", o.ca_validity_days));
    RETURN_IF_ERROR(util::WriteFileAtomic(files.ca_key, ca.key_pem, 0600));
    RETURN_IF_ERROR(util::WriteFileAtomic(files.ca_cert, ca.cert_pem, 0644));
  } else {
    if (ca.cert_pem.empty() || ca.key_pem.empty()) {
      return BadRequest("the CA in " + o.dir + " is incomplete: " + files.ca_cert + " and " +
                        files.ca_key + " must both exist (restore the missing one, or remove "
                        "both to start a new CA and reissue every credential)");
    }
    Status st = CheckKeyMatches(ca.cert_pem, ca.key_pem);
    if (st.ok()) {
      ASSIGN_OR_RETURN(auto info, ParseCert(ca.cert_pem));
      if (!info.is_ca) st = BadRequest("not a CA certificate");
    }
    if (!st.ok()) return BadRequest("the CA in " + o.dir + " is unusable: " + st.message());
  }

  CertSpec serving;
  serving.common_name = "kube-apiserver";
  serving.dns_names = o.serving_dns_names;
  serving.ip_addresses = o.serving_ip_addresses;
  serving.server = true;
  serving.validity_days = o.cert_validity_days;
  RETURN_IF_ERROR(EnsureCert(ca, serving, files.serving_cert, files.serving_key));

  CertSpec admin;
  admin.common_name = "kubernetes-admin";
  admin.organizations = {"system:masters"};
  admin.client = true;
  admin.validity_days = o.cert_validity_days;
  RETURN_IF_ERROR(EnsureCert(ca, admin, files.admin_cert, files.admin_key));

  CertSpec kubelet_client;
  kubelet_client.common_name = "kube-apiserver-kubelet-client";
  kubelet_client.organizations = {"system:masters"};
  kubelet_client.client = true;
  kubelet_client.validity_days = o.cert_validity_days;
  RETURN_IF_ERROR(
      EnsureCert(ca, kubelet_client, files.kubelet_client_cert, files.kubelet_client_key));
  return files;
}

}  // namespace kubepp::apiserver::pki
