#include "proxy/nftables/netlink.h"

#include <catch2/catch.hpp>
#include <cstring>

#include "proxy/nftables/proxier.h"
#include "proxy/testutil.h"

namespace kubepp::proxy::nft {
namespace {

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s.push_back(static_cast<char>(x));
  return s;
}

std::string HostU32(uint32_t v) {
  std::string s(4, '\0');
  std::memcpy(s.data(), &v, 4);
  return s;
}

TEST_CASE("LayoutOf: the fields of the slot maps' typeof declarations") {
  auto l = LayoutOf("typeof ip daddr . tcp dport . numgen random mod 1 : ip daddr . tcp dport ;");
  REQUIRE(l.ok());
  CHECK(l->key == std::vector<Field>{Field::kIpv4, Field::kPort, Field::kHostU32});
  CHECK(l->data == std::vector<Field>{Field::kIpv4, Field::kPort});
  auto np = LayoutOf("typeof udp dport . numgen random mod 1 : ip daddr . udp dport ;");
  REQUIRE(np.ok());
  CHECK(np->key == std::vector<Field>{Field::kPort, Field::kHostU32});
  auto set = LayoutOf("typeof ip saddr . ip daddr");
  REQUIRE(set.ok());
  CHECK(set->data.empty());

  CHECK_FALSE(LayoutOf("type ipv4_addr . inet_proto . inet_service : verdict ;").ok());
  CHECK_FALSE(LayoutOf("typeof meta mark : ip daddr ;").ok());
  CHECK_FALSE(LayoutOf("typeof ip daddr . tcp flags ;").ok());
}

TEST_CASE("Encode: fields as the kernel's registers hold them (what nft --debug=netlink prints)") {
  // nft: "element 0100600a 00005000 00000003  : 0201f40a 0000901f" (host-order words).
  auto key = Encode({Field::kIpv4, Field::kPort, Field::kHostU32}, "10.96.0.1 . 80 . 3");
  REQUIRE(key.ok());
  CHECK(*key == Bytes({10, 96, 0, 1, 0, 80, 0, 0}) + HostU32(3));
  auto data = Encode({Field::kIpv4, Field::kPort}, "10.244.1.2 . 8080");
  REQUIRE(data.ok());
  CHECK(*data == Bytes({10, 244, 1, 2, 0x1f, 0x90, 0, 0}));
  auto np = Encode({Field::kPort, Field::kHostU32}, "30001 . 2");
  REQUIRE(np.ok());
  CHECK(*np == Bytes({0x75, 0x31, 0, 0}) + HostU32(2));

  const std::vector<Field> f{Field::kIpv4, Field::kPort};
  CHECK_FALSE(Encode(f, "10.96.0.1").ok());                 // too few fields
  CHECK_FALSE(Encode(f, "10.96.0.1 . 80 . 1").ok());        // too many
  CHECK_FALSE(Encode(f, "10.96.0.256 . 80").ok());          // not an address
  CHECK_FALSE(Encode(f, "10.96.0.1 . 65536").ok());         // not a port
  CHECK_FALSE(Encode(f, "10.96.0.1 . 80x").ok());
  CHECK_FALSE(Encode({Field::kHostU32}, "-1").ok());
}

// A kernel in memory: which tables exist, what was loaded.
struct FakeLoader : ElementLoader {
  bool exists = false;
  Status next = Status::Ok();
  std::map<std::string, Set> loaded;
  Result<bool> TableExists(const std::string&, const std::string&) override { return exists; }
  Status Add(const std::string&, const std::string&, const std::string& name, const Set& s) override {
    if (!next.ok()) return std::exchange(next, Status::Ok());
    loaded[name] = s;
    return Status::Ok();
  }
};

Snapshot Snap() {
  return BuildSnapshot({testing::Service("web", R"({"clusterIP":"10.96.0.5","type":"NodePort","ports":[{"port":80,"nodePort":30080}]})")},
                       {testing::Slice("web-a", "web", R"([{"port":8080}])",
                                       R"([{"addresses":["10.244.1.2"]},{"addresses":["10.244.1.3"]}])")});
}

TEST_CASE("NftablesProxier: into a kernel without the table, slot elements go through the loader") {
  std::vector<std::string> scripts;
  auto loader = std::make_shared<FakeLoader>();
  NftablesProxier p(RenderConfig{}, {},
                    [&](const std::string& s) {
                      scripts.push_back(s);
                      return Status::Ok();
                    },
                    loader);
  REQUIRE(p.Sync(Snap(), true).ok());
  REQUIRE(scripts.size() == 1);
  // The script makes the slot maps, empty; everything else has its elements.
  CHECK(scripts[0].find("map service-endpoints-tcp { typeof") != std::string::npos);
  CHECK(scripts[0].find("10.96.0.5 . 80 . 0") == std::string::npos);
  CHECK(scripts[0].find("10.96.0.5 . tcp . 80 : goto pick-cluster-tcp-2") != std::string::npos);
  REQUIRE(loader->loaded.count("service-endpoints-tcp"));
  CHECK(loader->loaded["service-endpoints-tcp"].elements ==
        std::map<std::string, std::string>{{"10.96.0.5 . 80 . 0", "10.244.1.2 . 8080"},
                                           {"10.96.0.5 . 80 . 1", "10.244.1.3 . 8080"}});
  CHECK(loader->loaded["nodeport-endpoints-tcp"].elements.size() == 2);
  CHECK(p.stats().last_loaded_elements == 4);

  // Over the table now there: one nft transaction with every element, the loader unused.
  loader->exists = true;
  loader->loaded.clear();
  REQUIRE(p.Sync(Snap(), true).ok());
  REQUIRE(scripts.size() == 2);
  CHECK(scripts[1].find("10.96.0.5 . 80 . 0 : 10.244.1.2 . 8080") != std::string::npos);
  CHECK(loader->loaded.empty());
  CHECK(p.stats().last_loaded_elements == 0);
}

TEST_CASE("NftablesProxier: a failed load fails the sync, and the next sync is full") {
  std::vector<std::string> scripts;
  auto loader = std::make_shared<FakeLoader>();
  NftablesProxier p(RenderConfig{}, {},
                    [&](const std::string& s) {
                      scripts.push_back(s);
                      return Status::Ok();
                    },
                    loader);
  loader->next = Internal("netlink: no");
  CHECK_FALSE(p.Sync(Snap(), false).ok());
  CHECK(p.stats().failed_syncs == 1);
  loader->exists = true;  // the failed sync's nft made it
  REQUIRE(p.Sync(Snap(), false).ok());
  REQUIRE(scripts.size() == 2);
  CHECK(scripts[1].rfind("add table ip kubepp\ndelete table ip kubepp\n", 0) == 0);
  CHECK(scripts[1].find("10.96.0.5 . 80 . 1 : 10.244.1.3 . 8080") != std::string::npos);
}

}  // namespace
}  // namespace kubepp::proxy::nft
