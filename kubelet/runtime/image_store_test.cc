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
