#include "kubelet/runtime/registry.h"

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <thread>

#include "common/http/server.h"
#include "common/util/file.h"
#include "kubelet/runtime/image_puller.h"
#include "kubelet/testing/test_util.h"

namespace kubepp::kubelet {
namespace {

namespace fs = std::filesystem;
using testing::Json;

std::string B64(const std::string& s) {
  std::string out(4 * ((s.size() + 2) / 3) + 1, '\0');
  out.resize(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                             reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size())));
  return out;
}

// A gzip tar holding one file.
std::string GzipLayer(const std::string& name, const std::string& content) {
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_add_filter_gzip(a);
  std::vector<char> buf(1 << 16);
  size_t used = 0;
  archive_write_open_memory(a, buf.data(), buf.size(), &used);
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, name.c_str());
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
  archive_write_header(a, e);
  archive_write_data(a, content.data(), content.size());
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
  return std::string(buf.data(), used);
}

// An OCI distribution registry on loopback with one image (an index over arm64 and amd64
// manifests), optionally behind token auth, with blobs optionally redirected.
struct FakeRegistry {
  std::map<std::string, std::pair<std::string, std::string>> manifests;  // path -> (type, body)
  std::map<std::string, std::string> blobs;                               // digest -> data
  bool token_auth = false;
  std::string user = "alice", password = "s3cret";
  bool redirect_blobs = false;
  std::atomic<int> blob_gets{0}, manifest_gets{0}, token_gets{0};
  std::atomic<bool> hold_manifests{false};
  std::unique_ptr<http::Server> server;
  std::string index_digest, layer_digest, config_digest;

  FakeRegistry() {
    std::string layer = GzipLayer("hello.txt", "hello from the registry\n");
    std::string config = R"({"architecture":"amd64","os":"linux","config":{"Cmd":["/hello"],"Env":["A=1"]}})";
    layer_digest = Sha256Digest(layer);
    config_digest = Sha256Digest(config);
    blobs[layer_digest] = layer;
    blobs[config_digest] = config;
    std::string manifest = R"({"schemaVersion":2,"mediaType":")" + std::string(kMediaOciManifest) +
                           R"(","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
                           config_digest + R"(","size":)" + std::to_string(config.size()) +
                           R"(},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" +
                           layer_digest + R"(","size":)" + std::to_string(layer.size()) + "}]}";
    std::string md = Sha256Digest(manifest);
    std::string other = R"({"schemaVersion":2,"config":{"digest":"sha256:0"},"layers":[]})";
    std::string index = R"({"schemaVersion":2,"mediaType":")" + std::string(kMediaOciIndex) +
                        R"(","manifests":[{"mediaType":")" + kMediaOciManifest + R"(","digest":")" +
                        Sha256Digest(other) + R"(","size":1,"platform":{"os":"linux","architecture":"arm64"}},)" +
                        R"({"mediaType":")" + kMediaOciManifest + R"(","digest":")" + md +
                        R"(","size":1,"platform":{"os":"linux","architecture":"amd64"}}]})";
    index_digest = Sha256Digest(index);
    manifests["/v2/test/app/manifests/1.0"] = {kMediaOciIndex, index};
    manifests["/v2/test/app/manifests/" + index_digest] = {kMediaOciIndex, index};
    manifests["/v2/test/app/manifests/" + md] = {kMediaOciManifest, manifest};
    manifests["/v2/test/app/manifests/" + Sha256Digest(other)] = {kMediaOciManifest, other};
    server = std::make_unique<http::Server>(http::ServerOptions{}, [this](http::Request req, auto w) {
      Handle(std::move(req), std::move(w));
    });
    REQUIRE(server->Start().ok());
  }
  ~FakeRegistry() { server->Stop(); }

  std::string Host() const { return "127.0.0.1:" + std::to_string(server->port()); }

  static http::Response Reply(int status, std::string body = "", std::string type = "application/json") {
    http::Response r;
    r.status = status;
    r.body = std::move(body);
    r.content_type = std::move(type);
    return r;
  }

  void Handle(http::Request req, std::shared_ptr<http::ResponseWriter> w) {
    if (req.path == "/token") {
      ++token_gets;
      if (std::string(req.Header("authorization")) != "Basic " + B64(user + ":" + password)) {
        return w->Send(Reply(401, R"({"details":"bad credentials"})"));
      }
      if (req.Query("scope") != "repository:test/app:pull" || req.Query("service") != "fake") {
        return w->Send(Reply(400));
      }
      return w->Send(Reply(200, R"({"token":"tok123","expires_in":300})"));
    }
    if (token_auth && req.path.rfind("/storage/", 0) != 0 &&
        std::string(req.Header("authorization")) != "Bearer tok123") {
      auto r = Reply(401, R"({"errors":[{"code":"UNAUTHORIZED"}]})");
      r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"http://" + Host() +
                                                     "/token\",service=\"fake\",scope=\"repository:test/app:pull\"");
      return w->Send(r);
    }
    if (req.path.find("/manifests/") != std::string::npos) {
      ++manifest_gets;
      auto it = manifests.find(req.path);
      auto r = it == manifests.end() ? Reply(404, R"({"errors":[{"code":"MANIFEST_UNKNOWN"}]})")
                                     : Reply(200, it->second.second, it->second.first);
      if (!hold_manifests) return w->Send(r);
      std::thread([this, w, r] {
        while (hold_manifests) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        w->Send(r);
      }).detach();
      return;
    }
    size_t b = req.path.find("/blobs/");
    bool storage = req.path.rfind("/storage/", 0) == 0;
    if (b != std::string::npos || storage) {
      std::string digest = storage ? req.path.substr(9) : req.path.substr(b + 7);
      if (redirect_blobs && !storage) {
        auto r = Reply(307);
        r.headers.emplace_back("Location", "http://" + Host() + "/storage/" + digest);
        return w->Send(r);
      }
      ++blob_gets;
      auto it = blobs.find(digest);
      return w->Send(it == blobs.end() ? Reply(404) : Reply(200, it->second, "application/octet-stream"));
    }
    w->Send(Reply(req.path == "/v2/" ? 200 : 404, "{}"));
  }
};

struct Node {
  testing::TempDir dir;
  std::unique_ptr<ImageStore> store;
  RegistryClient registry{RegistryOptions{}};
  std::unique_ptr<ImagePuller> puller;
  Node() {
    store = std::move(ImageStore::Open(dir.path() + "/store")).value();
    puller = std::make_unique<ImagePuller>(store.get(), &registry);
  }
};

TEST_CASE("registry: WWW-Authenticate challenges") {
  auto c = ParseWwwAuthenticate(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push")");
  REQUIRE(c.ok());
  CHECK(c->scheme == "bearer");
  CHECK(c->params["realm"] == "https://auth.docker.io/token");
  CHECK(c->params["service"] == "registry.docker.io");
  CHECK(c->params["scope"] == "repository:samalba/my-app:pull,push");
  c = ParseWwwAuthenticate(R"(Basic realm="Registry Realm")");
  REQUIRE(c.ok());
  CHECK(c->scheme == "basic");
  CHECK(c->params["realm"] == "Registry Realm");
  c = ParseWwwAuthenticate(R"(bearer Realm=x, error="a \"quoted\" word")");
  REQUIRE(c.ok());
  CHECK(c->params["realm"] == "x");
  CHECK(c->params["error"] == "a \"quoted\" word");
  c = ParseWwwAuthenticate(R"(Bearer realm="https://r/t", Basic realm="x")");
  REQUIRE(c.ok());
  CHECK(c->params.size() == 1);
  for (std::string bad : std::vector<std::string>{"", "   ", "Bearer realm=\"unterminated", "Bearer =x"}) {
    INFO(bad);
    CHECK_FALSE(ParseWwwAuthenticate(bad).ok());
  }
}

TEST_CASE("registry: an index selects the linux/amd64 manifest") {
  std::string amd = "sha256:" + std::string(64, 'a');
  auto index = Json(R"({"manifests":[
      {"digest":"sha256:att","platform":{"os":"unknown","architecture":"unknown"}},
      {"digest":"sha256:arm","platform":{"os":"linux","architecture":"arm","variant":"v7"}},
      {"digest":")" + amd + R"(","mediaType":"application/vnd.oci.image.manifest.v1+json","size":7,
       "platform":{"os":"linux","architecture":"amd64"}},
      {"digest":"sha256:win","platform":{"os":"windows","architecture":"amd64"}}]})");
  auto d = SelectPlatformManifest(index, "linux", "amd64");
  REQUIRE(d.ok());
  CHECK(d->digest == amd);
  CHECK(d->size == 7);
  auto none = SelectPlatformManifest(index, "linux", "s390x");
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().code() == Code::kNotFound);
  CHECK(none.status().message().find("linux/arm") != std::string::npos);
  CHECK_FALSE(SelectPlatformManifest(Json(R"({"layers":[]})"), "linux", "amd64").ok());
  CHECK_FALSE(SelectPlatformManifest(Json(R"({"manifests":[{"digest":"sha256:../../x",
      "platform":{"os":"linux","architecture":"amd64"}}]})"), "linux", "amd64").ok());
}

TEST_CASE("registry: manifests are checked") {
  std::string cfg = "sha256:" + std::string(64, 'c');
  auto ok = ParseImageManifest(Json(R"({"schemaVersion":2,"config":{"digest":")" + cfg + R"(","size":3},
      "layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":"sha256:)" +
                                    std::string(64, '1') + R"(","size":10}]})"),
                               kMediaDockerManifest);
  REQUIRE(ok.ok());
  CHECK(ok->config.digest == cfg);
  CHECK(ok->layers.size() == 1);
  CHECK_FALSE(ParseImageManifest(Json(R"({"schemaVersion":1,"fsLayers":[]})"), kMediaDockerManifest).ok());
  CHECK_FALSE(ParseImageManifest(Json(R"({"schemaVersion":2,"config":{"digest":"sha256:c"},"layers":[]})"),
                                 kMediaOciManifest)
                  .ok());
  CHECK_FALSE(ParseImageManifest(Json(R"({"schemaVersion":2,"config":{"digest":")" + cfg + R"("},
      "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip+encrypted","digest":"sha256:)" +
                                      std::string(64, '1') + R"("}]})"),
                                 kMediaOciManifest)
                    .ok());
  CHECK_FALSE(ParseImageManifest(Json(R"({"schemaVersion":2,"config":{"digest":")" + cfg + R"("},
      "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:../../x"}]})"),
                                 kMediaOciManifest)
                    .ok());
}

TEST_CASE("registry: digests are verified piece by piece") {
  std::string data = "hello world";
  DigestVerifier good(Sha256Digest(data));
  good.Update("hello ");
  good.Update("world");
  CHECK(good.Verify().ok());
  DigestVerifier bad(Sha256Digest(data));
  bad.Update("hello there");
  auto st = bad.Verify();
  CHECK_FALSE(st.ok());
  CHECK(st.message().find("digest mismatch") != std::string::npos);
  CHECK(Sha256Digest("") == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("registry: dockerconfigjson and dockercfg credentials") {
  std::string json = R"({"auths":{
      "https://index.docker.io/v1/":{"auth":")" + B64("hub:pw") + R"("},
      "127.0.0.1:5000":{"username":"alice","password":"s3cret"},
      "reg.example.com/team":{"auth":")" + B64("team:pw:with:colons") + R"("},
      "*.example.com":{"auth":")" + B64("wild:pw") + R"("},
      "empty.io":{}}})";
  auto creds = ParseDockerConfig(json, false);
  REQUIRE(creds.ok());
  CHECK(creds->size() == 4);
  auto for_ref = [&](const std::string& image) {
    std::vector<std::string> users;
    for (auto& c : CredentialsFor(*creds, *ParseImageReference(image))) users.push_back(c.username);
    return users;
  };
  CHECK(for_ref("busybox") == std::vector<std::string>{"hub"});
  CHECK(for_ref("127.0.0.1:5000/test/busybox:1.0") == std::vector<std::string>{"alice"});
  CHECK(for_ref("127.0.0.1:5001/test/busybox:1.0").empty());
  CHECK(for_ref("reg.example.com/team/app") == std::vector<std::string>{"team", "wild"});
  CHECK(for_ref("reg.example.com/other/app") == std::vector<std::string>{"wild"});
  CHECK(for_ref("a.b.example.com/x").empty());
  auto team = CredentialsFor(*creds, *ParseImageReference("reg.example.com/team/app"));
  CHECK(team[0].password == "pw:with:colons");

  auto legacy = ParseDockerConfig(R"({"quay.io":{"auth":")" + B64("q:p") + R"(","email":"x@y"}})", true);
  REQUIRE(legacy.ok());
  REQUIRE(legacy->size() == 1);
  CHECK((*legacy)[0].server == "quay.io");
  CHECK(ParseDockerConfig("{}", false)->empty());
  CHECK_FALSE(ParseDockerConfig("not json", false).ok());
  CHECK_FALSE(ParseDockerConfig(R"({"auths":{"r":{"auth":"bm9jb2xvbg=="}}})", false).ok());  // "nocolon"
  CHECK_FALSE(ParseDockerConfig(R"({"auths":[]})", false).ok());
}

TEST_CASE("registry: insecure registries") {
  auto p = ParseInsecureRegistries("localhost:*, 127.0.0.1:*,,reg.lan:5000");
  CHECK(p.size() == 3);
  CHECK(MatchesInsecure(p, "127.0.0.1:5000"));
  CHECK(MatchesInsecure(p, "localhost:1"));
  CHECK(MatchesInsecure(p, "localhost"));
  CHECK(MatchesInsecure(p, "reg.lan:5000"));
  CHECK_FALSE(MatchesInsecure(p, "reg.lan:5001"));
  CHECK_FALSE(MatchesInsecure(p, "127.0.0.1.evil.com:5000"));
  CHECK_FALSE(MatchesInsecure(p, "registry-1.docker.io"));
}

TEST_CASE("registry: pull through an index with token auth, then only what is missing") {
  FakeRegistry reg;
  reg.token_auth = true;
  Node node;
  std::string image = reg.Host() + "/test/app:1.0";
  std::vector<PullCredential> creds = {{reg.Host(), reg.user, reg.password}};

  auto anonymous = node.puller->Pull(image, {}, nullptr);
  REQUIRE_FALSE(anonymous.ok());
  CHECK(anonymous.status().code() == Code::kUnauthorized);
  CHECK(anonymous.status().message().rfind("failed to pull and unpack image \"" + image + "\"", 0) == 0);

  auto pulled = node.puller->Pull(image, creds, nullptr);
  INFO((pulled.ok() ? "" : pulled.status().message()));
  REQUIRE(pulled.ok());
  CHECK(pulled->id == reg.config_digest);
  CHECK(pulled->repo_tags == std::vector<std::string>{image});
  CHECK(pulled->repo_digests == std::vector<std::string>{reg.Host() + "/test/app@" + reg.index_digest});
  CHECK(reg.blob_gets == 2);
  auto img = node.store->Resolve(image);
  REQUIRE(img.ok());
  REQUIRE(img->layer_dirs.size() == 1);
  CHECK(*util::ReadFile(img->layer_dirs[0] + "/hello.txt") == "hello from the registry\n");
  CHECK(img->config.cmd == std::vector<std::string>{"/hello"});
  CHECK(node.store->Resolve(reg.Host() + "/test/app@" + reg.index_digest).ok());

  // Again (pull policy Always): the manifest is resolved, the layer is not downloaded.
  int tokens = reg.token_gets;
  REQUIRE(node.puller->Pull(image, creds, nullptr).ok());
  CHECK(reg.blob_gets == 3);        // the config only
  CHECK(reg.token_gets == tokens);  // the token is reused
  // By digest.
  REQUIRE(node.puller->Pull(reg.Host() + "/test/app@" + reg.index_digest, creds, nullptr).ok());
  CHECK(fs::is_empty(node.dir.path() + "/store/tmp"));
}

TEST_CASE("registry: missing tags, redirected blobs, corrupt blobs") {
  FakeRegistry reg;
  Node node;
  auto missing = node.puller->Pull(reg.Host() + "/test/app:nope", {}, nullptr);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == Code::kNotFound);
  std::string name = reg.Host() + "/test/app:nope";
  CHECK(missing.status().message() == "failed to pull and unpack image \"" + name +
                                          "\": failed to resolve reference \"" + name + "\": " + name + ": not found");

  reg.redirect_blobs = true;
  auto pulled = node.puller->Pull(reg.Host() + "/test/app:1.0", {}, nullptr);
  INFO((pulled.ok() ? "" : pulled.status().message()));
  REQUIRE(pulled.ok());

  Node other;
  reg.blobs[reg.layer_digest] += "tampered";
  auto corrupt = other.puller->Pull(reg.Host() + "/test/app:1.0", {}, nullptr);
  REQUIRE_FALSE(corrupt.ok());
  CHECK(corrupt.status().message().find("larger than its manifest says") != std::string::npos);
  reg.blobs[reg.layer_digest] = std::string(reg.blobs[reg.layer_digest].size() - 8, 'x');
  corrupt = other.puller->Pull(reg.Host() + "/test/app:1.0", {}, nullptr);
  REQUIRE_FALSE(corrupt.ok());
  CHECK(corrupt.status().message().find("digest mismatch") != std::string::npos);
  CHECK_FALSE(other.store->Resolve(reg.Host() + "/test/app:1.0").ok());
  CHECK(fs::is_empty(other.dir.path() + "/store/tmp"));
}

TEST_CASE("registry: concurrent pulls of one image are one pull") {
  FakeRegistry reg;
  Node node;
  reg.hold_manifests = true;
  std::string image = reg.Host() + "/test/app:1.0";
  Result<ImageInfo> a = Internal("unset"), b = Internal("unset");
  std::thread ta([&] { a = node.puller->Pull(image, {}, nullptr); });
  REQUIRE(testing::WaitFor([&] { return reg.manifest_gets == 1; }));
  std::thread tb([&] { b = node.puller->Pull(image, {}, nullptr); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  reg.hold_manifests = false;
  ta.join();
  tb.join();
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->id == b->id);
  CHECK(reg.manifest_gets == 2);  // the index and the amd64 manifest, once
  CHECK(reg.blob_gets == 2);
}

}  // namespace
}  // namespace kubepp::kubelet
