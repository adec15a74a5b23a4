#include "proxy/nftables/proxier.h"

#include <catch2/catch.hpp>

#include "proxy/testutil.h"

namespace kubepp::proxy::nft {
namespace {

using testing::Service;
using testing::Slice;

struct Recorder {
  std::vector<std::string> scripts;
  Status next = Status::Ok();
  ScriptRunner Runner() {
    return [this](const std::string& s) {
      scripts.push_back(s);
      return std::exchange(next, Status::Ok());
    };
  }
};

Snapshot Snap(const std::string& endpoint_ip) {
  return BuildSnapshot({Service("web", R"({"clusterIP":"10.96.0.5","ports":[{"port":80}]})"),
                        Service("kube-dns", R"({"clusterIP":"10.96.0.10","ports":[{"port":53,"protocol":"UDP"}]})")},
                       {Slice("web-a", "web", R"([{"port":8080}])",
                              R"([{"addresses":[")" + endpoint_ip + R"("]}])")});
}

TEST_CASE("NftablesProxier: full first, nothing when unchanged, a diff after a change") {
  Recorder rec;
  NftablesProxier p(RenderConfig{}, {"10.96.0.10"}, rec.Runner());
  REQUIRE(p.Sync(Snap("10.244.1.2"), false).ok());
  REQUIRE(rec.scripts.size() == 1);
  CHECK(rec.scripts[0].rfind("add table ip kubepp\ndelete table ip kubepp\n", 0) == 0);
  // The locally served DNS address is neither DNATed nor rejected.
  CHECK(rec.scripts[0].find("10.96.0.10") == std::string::npos);

  REQUIRE(p.Sync(Snap("10.244.1.2"), false).ok());
  CHECK(rec.scripts.size() == 1);
  CHECK(p.stats().skipped_syncs == 1);

  REQUIRE(p.Sync(Snap("10.244.1.3"), false).ok());
  REQUIRE(rec.scripts.size() == 2);
  CHECK(rec.scripts[1].find("table ip kubepp {") == std::string::npos);
  CHECK(rec.scripts[1].find("dnat to 10.244.1.3:8080") != std::string::npos);
  CHECK(rec.scripts[1].find("flush chain ip kubepp service-") != std::string::npos);
  CHECK(rec.scripts[1].find("delete element ip kubepp hairpin-endpoints { 10.244.1.2 . 10.244.1.2 }") !=
        std::string::npos);

  REQUIRE(p.Sync(Snap("10.244.1.3"), true).ok());  // periodic full sync
  CHECK(rec.scripts[2].rfind("add table ip kubepp\n", 0) == 0);
}

TEST_CASE("NftablesProxier: after a failed transaction the next sync is full") {
  Recorder rec;
  NftablesProxier p(RenderConfig{}, {}, rec.Runner());
  REQUIRE(p.Sync(Snap("10.244.1.2"), false).ok());
  rec.next = Internal("nft: boom");
  CHECK_FALSE(p.Sync(Snap("10.244.1.3"), false).ok());
  CHECK(p.stats().failed_syncs == 1);
  REQUIRE(p.Sync(Snap("10.244.1.3"), false).ok());
  CHECK(rec.scripts.back().find("table ip kubepp {") != std::string::npos);
  REQUIRE(p.Cleanup().ok());
  CHECK(rec.scripts.back() == "add table ip kubepp\ndelete table ip kubepp\n");
}

}  // namespace
}  // namespace kubepp::proxy::nft
