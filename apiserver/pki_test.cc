#include "apiserver/pki.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <ctime>
#include <filesystem>

#include "common/util/file.h"

namespace kubepp::apiserver::pki {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/kubepp-pki-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
};

bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST_CASE("pki: a CA signs server and client certificates that verify against it") {
  auto ca = NewCa("test-ca", 10);
  REQUIRE(ca.ok());
  auto ca_info = ParseCert(ca->cert_pem);
  REQUIRE(ca_info.ok());
  CHECK(ca_info->is_ca);
  CHECK(ca_info->common_name == "test-ca");
  CHECK(ca_info->not_before <= std::time(nullptr));
  CHECK(ca_info->not_after > std::time(nullptr) + 9 * 86400);
  CHECK(VerifyCert(ca->cert_pem, ca->cert_pem).ok());  // self-signed
  CHECK(CheckKeyMatches(ca->cert_pem, ca->key_pem).ok());

  CertSpec serving;
  serving.common_name = "kube-apiserver";
  serving.dns_names = {"localhost", "kubernetes.default.svc.cluster.local"};
  serving.ip_addresses = {"127.0.0.1", "10.96.0.1", "::1"};
  serving.server = true;
  auto s = NewCert(*ca, serving);
  REQUIRE(s.ok());
  CHECK(VerifyCert(ca->cert_pem, s->cert_pem).ok());
  CHECK(CheckKeyMatches(s->cert_pem, s->key_pem).ok());
  auto info = ParseCert(s->cert_pem);
  REQUIRE(info.ok());
  CHECK_FALSE(info->is_ca);
  CHECK(info->dns_names == serving.dns_names);
  CHECK(info->ip_addresses == std::vector<std::string>{"127.0.0.1", "10.96.0.1", "::1"});

  CertSpec admin;
  admin.common_name = "kubernetes-admin";
  admin.organizations = {"system:masters", "devs"};
  admin.client = true;
  auto a = NewCert(*ca, admin);
  REQUIRE(a.ok());
  CHECK(VerifyCert(ca->cert_pem, a->cert_pem).ok());
  info = ParseCert(a->cert_pem);
  REQUIRE(info.ok());
  CHECK(info->common_name == "kubernetes-admin");
  CHECK(info->organizations == admin.organizations);

  // Another CA's certificate, a leaf used as a CA, a foreign key: all refused.
  auto other = NewCa("other-ca", 10);
  REQUIRE(other.ok());
  auto st = VerifyCert(other->cert_pem, a->cert_pem);
  CHECK(st.code() == Code::kBadRequest);
  CHECK(st.message().find("does not verify") != std::string::npos);
  auto by_leaf = NewCert(*a, admin);
  REQUIRE(by_leaf.ok());
  CHECK_FALSE(VerifyCert(a->cert_pem, by_leaf->cert_pem).ok());
  CHECK(CheckKeyMatches(a->cert_pem, s->key_pem).code() == Code::kBadRequest);

  serving.ip_addresses = {"10.0.0.300"};
  CHECK(NewCert(*ca, serving).status().code() == Code::kBadRequest);
  CHECK(ParseCert("not a certificate").status().code() == Code::kBadRequest);
}

TEST_CASE("pki: EnsurePki generates once, keeps what is valid, reissues what is not") {
  TempDir dir;
  PkiOptions o;
  o.dir = (dir.path / "pki").string();
  o.serving_dns_names = {"localhost", "kubernetes"};
  o.serving_ip_addresses = {"127.0.0.1", "10.96.0.1"};
  auto files = EnsurePki(o);
  REQUIRE(files.ok());
  auto read = [](const std::string& p) { return util::ReadFile(p).value(); };
  std::string ca = read(files->ca_cert), serving = read(files->serving_cert),
              admin = read(files->admin_cert);
  CHECK(VerifyCert(ca, serving).ok());
  CHECK(VerifyCert(ca, admin).ok());
  auto admin_info = ParseCert(admin);
  REQUIRE(admin_info.ok());
  CHECK(admin_info->common_name == "kubernetes-admin");
  CHECK(admin_info->organizations == std::vector<std::string>{"system:masters"});
  struct stat st {};
  REQUIRE(stat(files->ca_key.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  // A restart with the same names changes nothing.
  REQUIRE(EnsurePki(o).ok());
  CHECK(read(files->ca_cert) == ca);
  CHECK(read(files->serving_cert) == serving);
  CHECK(read(files->admin_cert) == admin);

  // A new address: the serving certificate is reissued by the same CA.
  o.serving_ip_addresses.push_back("192.168.7.7");
  REQUIRE(EnsurePki(o).ok());
  CHECK(read(files->ca_cert) == ca);
  CHECK(read(files->admin_cert) == admin);
  std::string reissued = read(files->serving_cert);
  CHECK(reissued != serving);
  CHECK(VerifyCert(ca, reissued).ok());
  CHECK(Has(ParseCert(reissued)->ip_addresses, "192.168.7.7"));

  // A lost admin key: reissued.
  fs::remove(files->admin_key);
  REQUIRE(EnsurePki(o).ok());
  CHECK(CheckKeyMatches(read(files->admin_cert), read(files->admin_key)).ok());

  // Half a CA is the operator's problem, never silently replaced.
  fs::remove(files->ca_key);
  auto broken = EnsurePki(o);
  CHECK(broken.status().code() == Code::kBadRequest);
  CHECK(broken.status().message().find("incomplete") != std::string::npos);
  CHECK(read(files->ca_cert) == ca);
}

}  // namespace
}  // namespace kubepp::apiserver::pki
