#include "kubelet/runtime/image_reference.h"

#include <catch2/catch.hpp>
#include <vector>

namespace kubepp::kubelet {
namespace {

const std::string kDigest = "sha256:" + std::string(64, 'a');

ImageReference Parse(const std::string& s) {
  auto r = ParseImageReference(s);
  INFO(s << ": " << (r.ok() ? "" : r.status().message()));
  REQUIRE(r.ok());
  return *r;
}

TEST_CASE("image references: docker.io defaults") {
  auto r = Parse("busybox");
  CHECK(r.domain == "docker.io");
  CHECK(r.path == "library/busybox");
  CHECK(r.tag == "latest");
  CHECK(r.digest.empty());
  CHECK(r.String() == "docker.io/library/busybox:latest");
  CHECK(r.RegistryHost() == "registry-1.docker.io");
  CHECK(r.ManifestRef() == "latest");
  CHECK(Parse("team/app:1.2").String() == "docker.io/team/app:1.2");
  CHECK(Parse("docker.io/busybox").String() == "docker.io/library/busybox:latest");
  CHECK(Parse("index.docker.io/library/busybox:1").String() == "docker.io/library/busybox:1");
  CHECK(Parse("a/b/c/d").path == "a/b/c/d");
}

TEST_CASE("image references: registries with ports, localhost, IPs") {
  auto r = Parse("localhost:5000/x");
  CHECK(r.domain == "localhost:5000");
  CHECK(r.path == "x");
  CHECK(r.tag == "latest");
  r = Parse("127.0.0.1:5000/test/busybox:1.0");
  CHECK(r.domain == "127.0.0.1:5000");
  CHECK(r.path == "test/busybox");
  CHECK(r.tag == "1.0");
  CHECK(r.RegistryHost() == "127.0.0.1:5000");
  CHECK(Parse("localhost/app").domain == "localhost");
  CHECK(Parse("quay.io/coreos/etcd:v3.5").domain == "quay.io");
  CHECK(Parse("[::1]:5000/app").domain == "[::1]:5000");
  CHECK(Parse("Registry/app").domain == "Registry");  // upper case: a host
  CHECK(Parse("reg:5000/app").tag == "latest");       // the port is no tag
}

TEST_CASE("image references: digests") {
  auto r = Parse("quay.io/x/y@" + kDigest);
  CHECK(r.tag.empty());
  CHECK(r.digest == kDigest);
  CHECK(r.ManifestRef() == kDigest);
  CHECK(r.String() == "quay.io/x/y@" + kDigest);
  r = Parse("busybox:1.36@" + kDigest);
  CHECK(r.tag == "1.36");
  CHECK(r.ManifestRef() == kDigest);
  CHECK(r.String() == "docker.io/library/busybox:1.36@" + kDigest);
}

TEST_CASE("image references: the grammar's rejections") {
  for (std::string bad : std::vector<std::string>{"", "UPPER", "busybox:", ":tag", "a//b", "a/-b", "a/b-", "busybox:-x",
                          "busybox:" + std::string(129, 'a'), "x@sha256:abc", "x@md5:" + std::string(32, 'a'),
                          "x@sha256:" + std::string(64, 'A'), "bad host:5000/x", "reg:port/x", "a..b/x/",
                          "foo/bar:1/baz"}) {
    INFO(bad);
    auto r = ParseImageReference(bad);
    CHECK_FALSE(r.ok());
    if (!r.ok()) CHECK(r.status().message().find("invalid image reference") != std::string::npos);
  }
  CHECK_FALSE(ParseImageReference("reg.io/" + std::string(260, 'a')).ok());
}

TEST_CASE("image references: default pull policy as upstream") {
  CHECK(DefaultPullPolicy("busybox") == "Always");
  CHECK(DefaultPullPolicy("busybox:latest") == "Always");
  CHECK(DefaultPullPolicy("busybox:1.36") == "IfNotPresent");
  CHECK(DefaultPullPolicy("reg:5000/app") == "Always");
  CHECK(DefaultPullPolicy("busybox@" + kDigest) == "IfNotPresent");
  CHECK(DefaultPullPolicy("busybox:latest@" + kDigest) == "Always");
}

}  // namespace
}  // namespace kubepp::kubelet
