#include "apiserver/pki.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <ctime>
#include <filesystem>

#include "common/testing/temp_dir.h"
#include "common/util/file.h"

namespace kubepp::apiserver::pki {
namespace {

namespace fs = std::filesystem;

using ::kubepp::testing::TempDir;

bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST_CASE("pki: EnsurePki generates once, keeps what is valid, reissues what is not") {
  TempDir dir;
  PkiOptions o;
  o.dir = dir.Join("pki");
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
  std::string kubelet_client = read(files->kubelet_client_cert);
  CHECK(VerifyCert(ca, kubelet_client).ok());
  CHECK(CheckKeyMatches(kubelet_client, read(files->kubelet_client_key)).ok());
  CHECK(ParseCert(kubelet_client)->common_name == "kube-apiserver-kubelet-client");
  CHECK(ParseCert(kubelet_client)->organizations == std::vector<std::string>{"system:masters"});
  struct stat st {};
  REQUIRE(stat(files->ca_key.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  // A restart with the same names changes nothing.
  REQUIRE(EnsurePki(o).ok());
  CHECK(read(files->ca_cert) == ca);
  CHECK(read(files->serving_cert) == serving);
  CHECK(read(files->admin_cert) == admin);
  CHECK(read(files->kubelet_client_cert) == kubelet_client);

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
