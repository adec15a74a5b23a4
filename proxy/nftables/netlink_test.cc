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
  auto sized = LayoutOf("typeof tcp dport . numgen random mod 1 : ip daddr . tcp dport ; size 65536 ;");
  REQUIRE(sized.ok());
  CHECK(sized->data == std::vector<Field>{Field::kIpv4, Field::kPort});
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

// What the proxier asks the kernel, and what it loads.
struct FakeLoader : ElementLoader {
  std::optional<TableObjects> objects;  // nullopt: no table
  Status next = Status::Ok();
  std::map<std::string, Set> loaded;
  Result<std::optional<TableObjects>> Objects(const std::string&, const std::string&) override {
    return objects;
  }
  Status Add(const std::string&, const std::string&, const std::string& name, const Set& s) override {
    if (!next.ok()) return std::exchange(next, Status::Ok());
    loaded[name] = s;
    return Status::Ok();
  }
};

Snapshot Snap(const std::string& second_endpoint = "10.244.1.3") {
  return BuildSnapshot({testing::Service("web", R"({"clusterIP":"10.96.0.5","type":"NodePort","ports":[{"port":80,"nodePort":30080}]})")},
                       {testing::Slice("web-a", "web", R"([{"port":8080}])",
                                       R"([{"addresses":["10.244.1.2"]},{"addresses":[")" +
                                           second_endpoint + R"("]}])")});
}

struct Fixture {
  std::vector<std::string> scripts;
  std::shared_ptr<FakeLoader> loader = std::make_shared<FakeLoader>();
  NftablesProxier proxier{RenderConfig{}, {},
                          [this](const std::string& s) {
                            scripts.push_back(s);
                            return Status::Ok();
                          },
                          loader};
};

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST_CASE("NftablesProxier: into a kernel without the table, large sets' elements go through the loader") {
  Fixture f;
  REQUIRE(f.proxier.Sync(Snap(), true).ok());
  REQUIRE(f.scripts.size() == 1);
  // The script makes the slot maps, empty; everything else has its elements.
  CHECK(f.scripts[0].rfind("add table ip kubepp\ndelete table ip kubepp\n", 0) == 0);
  CHECK(Has(f.scripts[0], "map service-endpoints-tcp { typeof"));
  CHECK_FALSE(Has(f.scripts[0], "10.96.0.5 . 80 . 0"));
  CHECK(Has(f.scripts[0], "10.96.0.5 . tcp . 80 : goto pick-cluster-tcp-2"));
  REQUIRE(f.loader->loaded.count("service-endpoints-tcp"));
  CHECK(f.loader->loaded["service-endpoints-tcp"].elements ==
        std::map<std::string, std::string>{{"10.96.0.5 . 80 . 0", "10.244.1.2 . 8080"},
                                           {"10.96.0.5 . 80 . 1", "10.244.1.3 . 8080"}});
  CHECK(f.loader->loaded["nodeport-endpoints-tcp"].elements.size() == 2);
  CHECK(f.loader->loaded["hairpin-endpoints"].elements.size() == 2);
  CHECK_FALSE(Has(f.scripts[0], "10.244.1.2 . 10.244.1.2"));
  CHECK(f.proxier.stats().last_loaded_elements == 6);
}

TEST_CASE("NftablesProxier: over a table, the other large sets are filled, then everything switches at once") {
  Fixture f;
  // The kernel's table as the first full sync left it, and a set of an older version.
  f.loader->objects = TableObjects{{"services", "pick-cluster-tcp-2", "nat-output"},
                                   {{"service-ips", true},
                                    {"service-endpoints-tcp", true},
                                    {"service-endpoints-udp", true},
                                    {"hairpin-endpoints", false},
                                    {"old-set", false}}};
  REQUIRE(f.proxier.Sync(Snap(), true).ok());
  REQUIRE(f.scripts.size() == 2);
  // 1. The new slot maps, empty; 2. (the loader fills them); 3. the switch.
  CHECK(Has(f.scripts[0], "add map ip kubepp service-endpoints-tcp-2 { typeof ip daddr . tcp dport"));
  CHECK(Has(f.scripts[0], "add map ip kubepp nodeport-endpoints-udp-2 { typeof"));
  CHECK(Has(f.scripts[0], "add set ip kubepp hairpin-endpoints-2 { typeof ip saddr . ip daddr"));
  CHECK(f.loader->loaded.count("service-endpoints-tcp-2"));
  CHECK(f.loader->loaded.count("nodeport-endpoints-tcp-2"));
  const std::string& sw = f.scripts[1];
  CHECK(sw.rfind("add table ip kubepp\nflush chain ip kubepp nat-output\n", 0) == 0);
  CHECK_FALSE(Has(sw, "delete table"));
  CHECK(Has(sw, "delete chain ip kubepp pick-cluster-tcp-2\n"));
  CHECK(Has(sw, "delete map ip kubepp service-endpoints-tcp\n"));
  CHECK(Has(sw, "delete map ip kubepp service-ips\n"));
  CHECK(Has(sw, "delete set ip kubepp old-set\n"));
  CHECK(Has(sw, "map service-ips { type"));
  CHECK_FALSE(Has(sw, "map service-endpoints-tcp-2 {"));  // there already, with its elements
  CHECK(Has(sw, "map @service-endpoints-tcp-2"));
  CHECK(Has(sw, "map @nodeport-endpoints-tcp-2"));
  CHECK(Has(sw, "@hairpin-endpoints-2 masquerade"));
  CHECK(Has(sw, "delete set ip kubepp hairpin-endpoints\n"));

  // Partial syncs write to the slot maps in use.
  REQUIRE(f.proxier.Sync(Snap("10.244.1.4"), false).ok());
  REQUIRE(f.scripts.size() == 3);
  CHECK(Has(f.scripts[2], "add element ip kubepp service-endpoints-tcp-2 { 10.96.0.5 . 80 . 1 : 10.244.1.4 . 8080 }"));

  // The next full sync switches back.
  f.loader->objects->sets = {{"service-ips", true}, {"service-endpoints-tcp-2", true}};
  f.loader->loaded.clear();
  REQUIRE(f.proxier.Sync(Snap("10.244.1.4"), true).ok());
  REQUIRE(f.scripts.size() == 5);
  CHECK(f.loader->loaded.count("service-endpoints-tcp"));
  CHECK(Has(f.scripts[4], "delete map ip kubepp service-endpoints-tcp-2\n"));
  CHECK(Has(f.scripts[4], "map @service-endpoints-tcp "));
}

TEST_CASE("NftablesProxier: large sets of both names in the kernel: the whole table in one nft transaction") {
  Fixture f;
  f.loader->objects = TableObjects{{}, {{"service-endpoints-tcp", true}, {"service-endpoints-tcp-2", true}}};
  REQUIRE(f.proxier.Sync(Snap(), true).ok());
  REQUIRE(f.scripts.size() == 1);
  CHECK(f.scripts[0].rfind("add table ip kubepp\ndelete table ip kubepp\n", 0) == 0);
  CHECK(Has(f.scripts[0], "10.96.0.5 . 80 . 1 : 10.244.1.3 . 8080"));
  CHECK(Has(f.scripts[0], "map @service-endpoints-tcp "));
  CHECK(f.loader->loaded.empty());
  CHECK(f.proxier.stats().last_loaded_elements == 0);
}

TEST_CASE("NftablesProxier: a failed load fails the sync, and the next sync is full") {
  Fixture f;
  f.loader->objects = TableObjects{{"services"}, {{"service-endpoints-tcp", true}}};
  f.loader->next = Internal("netlink: no");
  CHECK_FALSE(f.proxier.Sync(Snap(), false).ok());
  CHECK(f.proxier.stats().failed_syncs == 1);
  REQUIRE(f.scripts.size() == 1);  // the new slot maps only: the rules were not touched
  // They are in the kernel now, beside the old ones.
  f.loader->objects->sets["service-endpoints-tcp-2"] = true;
  REQUIRE(f.proxier.Sync(Snap(), false).ok());
  REQUIRE(f.scripts.size() == 2);
  CHECK(f.scripts[1].rfind("add table ip kubepp\ndelete table ip kubepp\n", 0) == 0);
  CHECK(Has(f.scripts[1], "10.96.0.5 . 80 . 1 : 10.244.1.3 . 8080"));
}

}  // namespace
}  // namespace kubepp::proxy::nft
