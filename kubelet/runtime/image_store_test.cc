#include "kubelet/runtime/image_store.h"

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "kubelet/testing/test_util.h"

namespace kubepp::kubelet {
namespace {

namespace fs = std::filesystem;

struct Entry {
  std::string name;
  char type = 'f';  // f file, d dir, l symlink
  std::string data = "";  // content or link target
};

// Writes a tar (gzip-compressed with `gzip`) holding `entries`.
std::string Tar(const std::vector<Entry>& entries, bool gzip = false) {
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (gzip) archive_write_add_filter_gzip(a);
  std::vector<char> buf(1 << 20);
  size_t used = 0;
  archive_write_open_memory(a, buf.data(), buf.size(), &used);
  for (auto& e : entries) {
    archive_entry* ae = archive_entry_new();
    archive_entry_set_pathname(ae, e.name.c_str());
    archive_entry_set_mtime(ae, 1700000000, 0);
    if (e.type == 'd') {
      archive_entry_set_filetype(ae, AE_IFDIR);
      archive_entry_set_perm(ae, 0755);
    } else if (e.type == 'l') {
      archive_entry_set_filetype(ae, AE_IFLNK);
      archive_entry_set_symlink(ae, e.data.c_str());
      archive_entry_set_perm(ae, 0777);
    } else {
      archive_entry_set_filetype(ae, AE_IFREG);
      archive_entry_set_perm(ae, 0644);
      archive_entry_set_size(ae, static_cast<la_int64_t>(e.data.size()));
    }
    archive_write_header(a, ae);
    if (e.type == 'f') archive_write_data(a, e.data.data(), e.data.size());
    archive_entry_free(ae);
  }
  archive_write_close(a);
  archive_write_free(a);
  return std::string(buf.data(), used);
}

std::string Sha256(const std::string& data) {
  unsigned char md[32];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  std::string out;
  static const char* hex = "0123456789abcdef";
  for (unsigned i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

void Write(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary);
  f << data;
}

const std::string kConfig =
    R"({"architecture":"amd64","os":"linux","config":{"Entrypoint":["/bin/app"],"Cmd":["--serve"],)"
    R"("Env":["PATH=/bin","MODE=prod"],"WorkingDir":"/srv","User":"10:20"}})";

TEST_CASE("image store: docker-save import, layers with whiteouts, resolve by name") {
  testing::TempDir dir;
  std::string layer1 = Tar({{"bin", 'd'}, {"bin/a", 'f', "one"}, {"bin/b", 'f', "bee"},
                            {"d", 'd'}, {"d/f1", 'f', "f1"}, {"bin/link", 'l', "a"}});
  std::string layer2 = Tar({{"bin", 'd'}, {"bin/.wh.a", 'f', ""}, {"d", 'd'},
                            {"d/.wh..wh..opq", 'f', ""}, {"d/f2", 'f', "f2"}});
  std::string manifest = R"([{"Config":"cfg.json","RepoTags":["tiny:1","example.com:5000/team/tiny:2"],)"
                         R"("Layers":["l1/layer.tar","l2/layer.tar"]}])";
  std::string tarball = dir.path() + "/image.tar";
  Write(tarball, Tar({{"l1", 'd'}, {"l1/layer.tar", 'f', layer1}, {"l2", 'd'}, {"l2/layer.tar", 'f', layer2},
                      {"cfg.json", 'f', kConfig}, {"manifest.json", 'f', manifest}}));
  auto store = ImageStore::Open(dir.path() + "/store");
  REQUIRE(store.ok());
  auto imported = (*store)->Import(tarball);
  REQUIRE(imported.ok());
  REQUIRE(imported->size() == 1);
  CHECK((*imported)[0].id == "sha256:" + Sha256(kConfig));
  CHECK((*imported)[0].repo_tags ==
        std::vector<std::string>{"docker.io/library/tiny:1", "example.com:5000/team/tiny:2"});

  for (const std::string& name : std::vector<std::string>{"tiny:1", "docker.io/library/tiny:1", "example.com:5000/team/tiny:2",
                           "sha256:" + Sha256(kConfig), Sha256(kConfig).substr(0, 12)}) {
    INFO(name);
    auto img = (*store)->Resolve(name);
    REQUIRE(img.ok());
    CHECK(img->config.entrypoint == std::vector<std::string>{"/bin/app"});
    CHECK(img->config.cmd == std::vector<std::string>{"--serve"});
    CHECK(img->config.working_dir == "/srv");
    CHECK(img->config.user == "10:20");
    REQUIRE(img->layer_dirs.size() == 2);
  }
  CHECK((*store)->Resolve("tiny").status().code() == Code::kNotFound);  // :latest
  auto img = *(*store)->Resolve("tiny:1");
  const std::string& l1 = img.layer_dirs[0];
  const std::string& l2 = img.layer_dirs[1];
  CHECK(fs::path(l1).filename() == Sha256(layer1));
  std::ifstream a(l1 + "/bin/a");
  std::string content;
  a >> content;
  CHECK(content == "one");
  CHECK(fs::is_symlink(l1 + "/bin/link"));
  CHECK_FALSE(fs::exists(l2 + "/bin/.wh.a"));
  CHECK(fs::exists(l2 + "/d/f2"));
  if (geteuid() == 0) {
    struct stat st {};
    REQUIRE(lstat((l2 + "/bin/a").c_str(), &st) == 0);
    CHECK(S_ISCHR(st.st_mode));
    CHECK(st.st_rdev == 0);
    char v[4] = {};
    CHECK(getxattr((l2 + "/d").c_str(), "trusted.overlay.opaque", v, sizeof(v)) == 1);
    CHECK(v[0] == 'y');
  }

  // The store survives a reopen; a second import of the same layers reuses them.
  auto reopened = ImageStore::Open(dir.path() + "/store");
  REQUIRE(reopened.ok());
  CHECK((*reopened)->List().size() == 1);
  CHECK((*reopened)->Import(tarball).ok());
  CHECK((*reopened)->List().size() == 1);
}

TEST_CASE("image store: OCI layout with a gzip layer") {
  testing::TempDir dir;
  std::string layer = Tar({{"etc", 'd'}, {"etc/motd", 'f', "hello"}}, true);
  std::string layer_digest = Sha256(layer);
  std::string config_digest = Sha256(kConfig);
  std::string manifest = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
                         R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:)" +
                         config_digest + R"(","size":1},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:)" +
                         layer_digest + R"(","size":1}]})";
  std::string manifest_digest = Sha256(manifest);
  std::string index = R"({"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:)" +
                      manifest_digest + R"(","size":1,"annotations":{"org.opencontainers.image.ref.name":"registry.local/oci/tiny:3"}}]})";
  std::string tarball = dir.path() + "/oci.tar";
  Write(tarball, Tar({{"oci-layout", 'f', R"({"imageLayoutVersion":"1.0.0"})"},
                      {"index.json", 'f', index},
                      {"blobs", 'd'}, {"blobs/sha256", 'd'},
                      {"blobs/sha256/" + manifest_digest, 'f', manifest},
                      {"blobs/sha256/" + config_digest, 'f', kConfig},
                      {"blobs/sha256/" + layer_digest, 'f', layer}}));
  auto store = ImageStore::Open(dir.path() + "/store");
  REQUIRE(store.ok());
  auto imported = (*store)->Import(tarball);
  REQUIRE(imported.ok());
  auto img = (*store)->Resolve("registry.local/oci/tiny:3");
  REQUIRE(img.ok());
  REQUIRE(img->layer_dirs.size() == 1);
  std::ifstream motd(img->layer_dirs[0] + "/etc/motd");
  std::string content;
  motd >> content;
  CHECK(content == "hello");
}

TEST_CASE("image store: bad tarballs are rejected cleanly") {
  testing::TempDir dir;
  auto store = ImageStore::Open(dir.path() + "/store");
  REQUIRE(store.ok());
  std::string junk = dir.path() + "/junk.tar";
  Write(junk, "this is not a tar");
  CHECK_FALSE((*store)->Import(junk).ok());
  std::string empty = dir.path() + "/empty.tar";
  Write(empty, Tar({{"hello.txt", 'f', "x"}}));
  CHECK((*store)->Import(empty).status().code() == Code::kBadRequest);
  std::string escape = dir.path() + "/escape.tar";
  Write(escape, Tar({{"../../evil", 'f', "x"}}));
  CHECK_FALSE((*store)->Import(escape).ok());
  CHECK_FALSE(fs::exists(dir.path() + "/evil"));
  CHECK((*store)->List().empty());
  CHECK(fs::is_empty(dir.path() + "/store/tmp"));
}

TEST_CASE("image store: removing an image removes the layers no other image shares") {
  testing::TempDir dir;
  std::string base = Tar({{"etc", 'd'}, {"etc/base", 'f', std::string(100000, 'b')}});
  std::string top_a = Tar({{"a", 'f', "only in a"}});
  std::string top_b = Tar({{"b", 'f', "only in b"}});
  std::string cfg_b = R"({"config":{"Cmd":["b"]}})";
  auto save = [&](const std::string& name, const std::string& cfg, const std::string& tag,
                  const std::string& top) {
    std::string manifest = R"([{"Config":"cfg.json","RepoTags":[")" + tag +
                           R"("],"Layers":["base/layer.tar","top/layer.tar"]}])";
    std::string path = dir.path() + "/" + name;
    Write(path, Tar({{"base", 'd'}, {"base/layer.tar", 'f', base}, {"top", 'd'}, {"top/layer.tar", 'f', top},
                     {"cfg.json", 'f', cfg}, {"manifest.json", 'f', manifest}}));
    return path;
  };
  auto store = ImageStore::Open(dir.path() + "/store");
  REQUIRE(store.ok());
  auto a = (*store)->Import(save("a.tar", kConfig, "a:1", top_a));
  auto b = (*store)->Import(save("b.tar", cfg_b, "b:1", top_b));
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  std::string id_a = (*a)[0].id, id_b = (*b)[0].id;
  std::string layers = dir.path() + "/store/layers/";
  REQUIRE(fs::is_directory(layers + Sha256(base)));
  CHECK((*a)[0].stored_at > 0);
  CHECK((*a)[0].last_used_at == 0);

  // Use is recorded and survives a reopen.
  REQUIRE((*store)->MarkUsed(id_a, 1234).ok());
  CHECK((*store)->MarkUsed("sha256:nothere", 1).code() == Code::kNotFound);
  int64_t stored_a = (*a)[0].stored_at;
  store = ImageStore::Open(dir.path() + "/store");
  REQUIRE(store.ok());
  auto resolved = (*store)->Resolve("a:1");
  REQUIRE(resolved.ok());
  CHECK(resolved->last_used_at == 1234);
  CHECK(resolved->stored_at == stored_a);
  // Importing it again keeps both times.
  REQUIRE((*store)->Import(dir.path() + "/a.tar").ok());
  CHECK((*store)->Resolve("a:1")->last_used_at == 1234);
  CHECK((*store)->Resolve("a:1")->stored_at == stored_a);

  auto removed = (*store)->Remove(id_a);
  REQUIRE(removed.ok());
  CHECK(removed->found);
  CHECK(removed->layers == 1);  // a's top layer; the base is b's too
  CHECK(removed->disk_bytes > 0);
  CHECK_FALSE(fs::exists(layers + Sha256(top_a)));
  CHECK(fs::is_directory(layers + Sha256(base)));
  CHECK((*store)->Resolve("a:1").status().code() == Code::kNotFound);
  CHECK((*store)->List().size() == 1);
  // Idempotent.
  auto again = (*store)->Remove(id_a);
  REQUIRE(again.ok());
  CHECK_FALSE(again->found);

  // b added again with its top layer as another blob (gzip, as from a registry): the
  // new layer is b's, the old one stays b's too (containers may stack it) until b goes.
  // A directory no record names is never touched.
  fs::create_directories(layers + "0123unknown");
  std::string top_b_gz = Tar({{"b", 'f', "only in b"}}, true);
  std::string manifest = R"([{"Config":"cfg.json","RepoTags":["b:1"],"Layers":["base/layer.tar","top/layer.tar.gz"]}])";
  Write(dir.path() + "/b2.tar", Tar({{"base", 'd'}, {"base/layer.tar", 'f', base}, {"top", 'd'},
                                     {"top/layer.tar.gz", 'f', top_b_gz}, {"cfg.json", 'f', cfg_b},
                                     {"manifest.json", 'f', manifest}}));
  auto b2 = (*store)->Import(dir.path() + "/b2.tar");
  REQUIRE(b2.ok());
  CHECK((*b2)[0].id == id_b);
  CHECK(fs::path((*store)->Resolve("b:1")->layer_dirs[1]).filename() == Sha256(top_b_gz));
  CHECK((*store)->Resolve("b:1")->former_layers == std::vector<std::string>{Sha256(top_b)});
  REQUIRE(fs::is_directory(layers + Sha256(top_b)));
  removed = (*store)->Remove(id_b);
  REQUIRE(removed.ok());
  CHECK(removed->layers == 3);
  CHECK(removed->disk_bytes >= 100000);
  CHECK_FALSE(fs::exists(layers + Sha256(top_b)));
  CHECK_FALSE(fs::exists(layers + Sha256(top_b_gz)));
  CHECK_FALSE(fs::exists(layers + Sha256(base)));
  CHECK(fs::is_directory(layers + "0123unknown"));
  CHECK(fs::is_empty(dir.path() + "/store/images"));
  CHECK(fs::is_empty(dir.path() + "/store/tmp"));
  store = ImageStore::Open(dir.path() + "/store");
  REQUIRE(store.ok());
  CHECK((*store)->List().empty());
  // And it can come back.
  REQUIRE((*store)->Import(dir.path() + "/b.tar").ok());
  CHECK(fs::exists((*store)->Resolve("b:1")->layer_dirs[1] + "/b"));
}

TEST_CASE("image names normalize as docker's") {
  CHECK(NormalizeImageName("busybox") == "docker.io/library/busybox:latest");
  CHECK(NormalizeImageName("busybox:1.36") == "docker.io/library/busybox:1.36");
  CHECK(NormalizeImageName("team/app") == "docker.io/team/app:latest");
  CHECK(NormalizeImageName("localhost/app") == "localhost/app:latest");
  CHECK(NormalizeImageName("reg:5000/app:2") == "reg:5000/app:2");
  CHECK(NormalizeImageName("quay.io/x/y@sha256:abc") == "quay.io/x/y@sha256:abc");
}

}  // namespace
}  // namespace kubepp::kubelet
