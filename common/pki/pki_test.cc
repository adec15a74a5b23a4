#include "common/pki/pki.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <ctime>

#include "common/testing/temp_dir.h"
#include "common/util/file.h"

namespace kubepp::pki {
namespace {

using ::kubepp::testing::TempDir;

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

TEST_CASE("pki: EnsureSelfSigned makes a certificate and its CA once, and keeps them") {
  TempDir dir;
  std::string crt = dir.Join("pki/kubelet.crt");
  std::string key = dir.Join("pki/kubelet.key");
  CertSpec spec;
  spec.common_name = "node-a";
  spec.dns_names = {"node-a", "localhost"};
  spec.ip_addresses = {"10.1.2.3", "127.0.0.1"};
  spec.server = true;
  REQUIRE(EnsureSelfSigned(spec, crt, key).ok());
  auto read = [](const std::string& p) { return util::ReadFile(p).value(); };
  std::string pem = read(crt);
  auto chain = SplitCerts(pem);
  REQUIRE(chain.size() == 2);
  CHECK(VerifyCert(chain[1], chain[0]).ok());
  CHECK(CheckKeyMatches(chain[0], read(key)).ok());
  auto info = ParseCert(pem);
  REQUIRE(info.ok());
  CHECK(info->common_name == "node-a");
  CHECK_FALSE(info->is_ca);
  CHECK(info->ip_addresses == spec.ip_addresses);
  CHECK(ParseCert(chain[1])->common_name.rfind("node-a-ca@", 0) == 0);
  struct stat st {};
  REQUIRE(stat(key.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  // A restart keeps them; a new node address makes a new pair.
  REQUIRE(EnsureSelfSigned(spec, crt, key).ok());
  CHECK(read(crt) == pem);
  spec.ip_addresses = {"10.1.2.4", "127.0.0.1"};
  REQUIRE(EnsureSelfSigned(spec, crt, key).ok());
  CHECK(read(crt) != pem);
  CHECK(CheckKeyMatches(read(crt), read(key)).ok());
  CHECK(SplitCerts("junk").empty());
}

}  // namespace
}  // namespace kubepp::pki
