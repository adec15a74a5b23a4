#include "common/client/kubeconfig.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "common/testing/temp_dir.h"

namespace kubepp::client {
namespace {

namespace fs = std::filesystem;

using ::kubepp::testing::TempDir;

// Writes `text` to `name` in `dir` and returns the file's path.
std::string Write(const TempDir& dir, const std::string& name, const std::string& text) {
  std::string path = dir.Join(name);
  std::ofstream(path) << text;
  return path;
}

const char* kMulti = R"(apiVersion: v1
kind: Config
clusters:
- name: dev
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t
- name: prod
  cluster:
    server: https://prod.example:443
    certificate-authority: certs/ca.crt
    insecure-skip-tls-verify: true
users:
- name: alice
  user:
    token: secret-token
- name: bob
  user:
    tokenFile: bob.token
    client-certificate: /abs/bob.crt
    client-key: bob.key
- name: carol
  user:
    client-certificate-data: Y2VydA==
    client-key-data: a2V5
- name: plugin
  user:
    exec:
      command: aws
contexts:
- name: dev-alice
  context: {cluster: dev, user: alice}
- name: prod-bob
  context: {cluster: prod, user: bob, namespace: team}
- name: dev-carol
  context: {cluster: dev, user: carol}
- name: dev-plugin
  context: {cluster: dev, user: plugin}
- name: nowhere
  context: {cluster: missing, user: alice}
current-context: CURRENT
)";

std::string WithContext(const std::string& ctx) {
  std::string text = kMulti;
  text.replace(text.find("CURRENT"), 7, ctx);
  return text;
}

TEST_CASE("kubeconfig: the current context selects cluster and user") {
  TempDir dir;
  auto o = LoadKubeconfig(Write(dir, "a", WithContext("dev-alice")));
  REQUIRE(o.ok());
  CHECK(o->server == "https://10.0.0.1:6443");
  CHECK(o->ca_data == "-----BEGIN CERTIFICATE-----");
  CHECK(o->ca_file.empty());
  CHECK(o->bearer_token == "secret-token");
  CHECK_FALSE(o->insecure_skip_verify);

  Write(dir, "bob.token", "file-token\n");
  o = LoadKubeconfig(Write(dir, "b", WithContext("prod-bob")), "http://override:1");
  REQUIRE(o.ok());
  CHECK(o->server == "http://override:1");
  CHECK(o->ca_file == dir.Join("certs/ca.crt"));  // relative to the file
  CHECK(o->insecure_skip_verify);
  CHECK(o->bearer_token == "file-token");
  CHECK(o->client_cert_file == "/abs/bob.crt");
  CHECK(o->client_key_file == dir.Join("bob.key"));

  o = LoadKubeconfig(Write(dir, "c", WithContext("dev-carol")));
  REQUIRE(o.ok());
  CHECK(o->client_cert_data == "cert");
  CHECK(o->client_key_data == "key");
}

TEST_CASE("kubeconfig: errors are BadRequest naming the problem") {
  TempDir dir;
  auto missing = LoadKubeconfig(dir.Join("nope"));
  CHECK(missing.status().code() == Code::kBadRequest);
  CHECK(missing.status().message().find("cannot read") != std::string::npos);

  auto plugin = LoadKubeconfig(Write(dir, "p", WithContext("dev-plugin")));
  CHECK(plugin.status().code() == Code::kBadRequest);
  CHECK(plugin.status().message().find("exec") != std::string::npos);

  auto no_ctx = LoadKubeconfig(Write(dir, "n", WithContext("unknown")));
  CHECK(no_ctx.status().message().find("context \"unknown\" not found") != std::string::npos);

  auto no_cluster = LoadKubeconfig(Write(dir, "m", WithContext("nowhere")));
  CHECK(no_cluster.status().message().find("cluster \"missing\" not found") != std::string::npos);

  // bob's token file does not exist here.
  auto no_token = LoadKubeconfig(Write(dir, "t", WithContext("prod-bob")));
  CHECK(no_token.status().message().find("tokenFile") != std::string::npos);

  auto syntax = LoadKubeconfig(Write(dir, "s", "clusters: [unclosed"));
  CHECK(syntax.status().code() == Code::kBadRequest);

  std::string bad64 = WithContext("dev-alice");
  bad64.replace(bad64.find("LS0t"), 4, "L*0t");
  auto b = LoadKubeconfig(Write(dir, "b64", bad64));
  CHECK(b.status().message().find("base64") != std::string::npos);
}

TEST_CASE("kubeconfig: written files load back, owner-only") {
  TempDir dir;
  std::string path = dir.Join("sub/dir/config");
  KubeconfigParams p;
  p.server = "https://127.0.0.1:6443";
  p.token = "t0k: en";  // needs quoting
  p.ca_file = "/etc/kubepp/ca.crt";
  p.client_cert_file = "/etc/kubepp/admin.crt";
  p.client_key_file = "/etc/kubepp/admin.key";
  p.ns = "default";
  REQUIRE(WriteKubeconfig(path, p).ok());
  CHECK((fs::status(path).permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write));
  auto o = LoadKubeconfig(path);
  REQUIRE(o.ok());
  CHECK(o->server == p.server);
  CHECK(o->bearer_token == p.token);
  CHECK(o->ca_file == p.ca_file);
  CHECK(o->client_cert_file == p.client_cert_file);
  CHECK(o->client_key_file == p.client_key_file);

  KubeconfigParams plain;
  plain.server = "http://127.0.0.1:6443";
  plain.insecure_skip_verify = true;
  REQUIRE(WriteKubeconfig(path, plain).ok());  // replaces
  o = LoadKubeconfig(path);
  REQUIRE(o.ok());
  CHECK(o->server == plain.server);
  CHECK(o->bearer_token.empty());
  CHECK(o->insecure_skip_verify);

  KubeconfigParams inline_pem;  // *-data fields round-trip through base64
  inline_pem.server = "https://127.0.0.1:6443";
  inline_pem.ca_data = "-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n";
  inline_pem.client_cert_data = "cert of any length: 1";
  inline_pem.client_key_data = "key!";
  REQUIRE(WriteKubeconfig(path, inline_pem).ok());
  o = LoadKubeconfig(path);
  REQUIRE(o.ok());
  CHECK(o->ca_data == inline_pem.ca_data);
  CHECK(o->client_cert_data == inline_pem.client_cert_data);
  CHECK(o->client_key_data == inline_pem.client_key_data);
  CHECK(o->ca_file.empty());
  CHECK(WriteKubeconfig(path, {}).code() == Code::kBadRequest);
}

TEST_CASE("kubeconfig: client flags fall back to $KUBECONFIG, then the default server") {
  TempDir dir;
  KubeconfigParams p;
  p.server = "http://from-env:1";
  std::string path = dir.Join("env-config");
  REQUIRE(WriteKubeconfig(path, p).ok());

  FlagSet flags("test", "");
  ClientFlags cf;
  AddClientFlags(flags, &cf);
  const char* argv[] = {"test", "--server", "http://flag:2"};
  REQUIRE(flags.Parse(3, const_cast<char**>(argv)).ok());
  CHECK(cf.server == "http://flag:2");

  unsetenv("KUBECONFIG");
  auto o = ClientOptionsFromFlags({});
  REQUIRE(o.ok());
  CHECK(o->server == kDefaultServer);
  o = ClientOptionsFromFlags(cf);
  CHECK(o->server == "http://flag:2");

  setenv("KUBECONFIG", (path + ":/other").c_str(), 1);
  o = ClientOptionsFromFlags({});
  REQUIRE(o.ok());
  CHECK(o->server == "http://from-env:1");
  o = ClientOptionsFromFlags(cf);  // --server overrides the kubeconfig's server
  CHECK(o->server == "http://flag:2");
  o = ClientOptionsFromFlags({dir.Join("missing"), ""});
  CHECK(o.status().code() == Code::kBadRequest);
  unsetenv("KUBECONFIG");
}

}  // namespace
}  // namespace kubepp::client
