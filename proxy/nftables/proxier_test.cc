#include "proxy/nftables/proxier.h"

#include <catch2/catch.hpp>
#include <random>
#include <regex>
#include <sstream>

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

TEST_CASE("PackElementKey: shared elements' keys in 64 bits, others not") {
  CHECK(PackElementKey("10.96.0.5 . tcp . 80") == 0x0A600005'06'0050ull);
  CHECK(PackElementKey("udp . 30053") == 0x11'7565ull);
  CHECK(PackElementKey("10.244.1.2 . 10.244.1.2") == 0x0AF40102'0AF40102ull);
  CHECK(PackElementKey("sctp . 0") == 0x84'0000ull);
  CHECK_FALSE(PackElementKey("10.0.0.1 . 10.0.0.2 . tcp").has_value());  // 9 bytes
  CHECK_FALSE(PackElementKey("10.96.0.5 . tcp . 65536").has_value());
  CHECK_FALSE(PackElementKey("10.96.0.5 . icmp").has_value());
  CHECK_FALSE(PackElementKey("10.96.0 . tcp . 80").has_value());
  CHECK_FALSE(PackElementKey("").has_value());
  CHECK_FALSE(PackElementKey("tcp . 80 ").has_value());

  ElementMap<int> m;
  m["10.96.0.5 . tcp . 80"] = 1;
  m["10.96.0.5 . tcp . 81"] = 2;
  m["fd00::1 . tcp . 80"] = 3;  // kept as text
  REQUIRE(m.Find("10.96.0.5 . tcp . 80"));
  CHECK(*m.Find("10.96.0.5 . tcp . 80") == 1);
  CHECK(*m.Find("10.96.0.5 . tcp . 81") == 2);
  CHECK(*m.Find("fd00::1 . tcp . 80") == 3);
  CHECK_FALSE(m.Find("10.96.0.5 . udp . 80"));
  m.Erase("10.96.0.5 . tcp . 80");
  m.Erase("fd00::1 . tcp . 80");
  CHECK_FALSE(m.Find("10.96.0.5 . tcp . 80"));
  CHECK_FALSE(m.Find("fd00::1 . tcp . 80"));
  CHECK(m.Find("10.96.0.5 . tcp . 81"));
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
  CHECK(rec.scripts[1].find("add element ip kubepp service-endpoints-tcp { 10.96.0.5 . 80 . 0 : 10.244.1.3 . 8080 }") !=
        std::string::npos);
  CHECK(rec.scripts[1].find("chain") == std::string::npos);
  CHECK(rec.scripts[1].find("delete element ip kubepp hairpin-endpoints { 10.244.1.2 . 10.244.1.2 }") !=
        std::string::npos);

  REQUIRE(p.Sync(Snap("10.244.1.3"), true).ok());  // periodic full sync
  CHECK(rec.scripts[2].rfind("add table ip kubepp\n", 0) == 0);
}

TEST_CASE("NftRunner: a script nft cannot parse is an error naming the line, in process and in a child") {
  NftRunner run;
  Status small = run("add chain ip kubepp-test-nonexistent\nthis is not nft\n");
  REQUIRE_FALSE(small.ok());
  CHECK(small.message().find("libnftables") != std::string::npos);
  CHECK(small.message().find("syntax error") != std::string::npos);
  // Past the in-process limit: a child nft (or, without nft installed, a failed exec).
  Status large = run("# " + std::string(300 << 10, 'x') + "\nthis is not nft\n");
  CHECK_FALSE(large.ok());
  // The context is still usable after an error.
  CHECK_FALSE(run("this is not nft either\n").ok());
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

namespace kubepp::proxy::nft {
namespace {

// A stand-in for the kernel: holds the table a full script installs and applies the
// statements of partial transactions one by one, refusing what nft would refuse (an
// element added twice, a chain deleted while in use or not empty, a jump to a chain that
// does not exist after the transaction).
class FakeKernel {
 public:
  // `full` is the table a full script installs (the caller checks the script renders it).
  void Install(Ruleset full) { table_ = std::move(full); }
  const Ruleset& table() const { return table_; }

  void Apply(const std::string& script) {
    std::istringstream in(script);
    std::string line;
    while (std::getline(in, line)) Statement(line);
    CheckReferences();
  }

 private:
  static bool Eat(std::string& s, const std::string& prefix) {
    if (s.rfind(prefix, 0) != 0) return false;
    s.erase(0, prefix.size());
    return true;
  }
  // "NAME { a, b }" -> NAME and the items.
  static std::pair<std::string, std::vector<std::string>> Braced(const std::string& s) {
    auto sp = s.find(" { ");
    REQUIRE(sp != std::string::npos);
    std::string body = s.substr(sp + 3, s.size() - sp - 5);
    std::vector<std::string> items;
    for (size_t start = 0;;) {
      auto comma = body.find(", ", start);
      items.push_back(body.substr(start, comma - start));
      if (comma == std::string::npos) break;
      start = comma + 2;
    }
    return {s.substr(0, sp), items};
  }

  void Statement(std::string s) {
    INFO(s);
    if (Eat(s, "add chain ip kubepp ")) {
      REQUIRE(table_.chains.count(s) == 0);
      table_.chains[s];
    } else if (Eat(s, "flush chain ip kubepp ")) {
      REQUIRE(table_.chains.count(s) == 1);
      table_.chains[s].rules.clear();
    } else if (Eat(s, "delete chain ip kubepp ")) {
      REQUIRE(table_.chains.count(s) == 1);
      REQUIRE(table_.chains[s].rules.empty());
      table_.chains.erase(s);
      for (const auto& [name, c] : table_.chains) {
        for (const auto& r : c.rules) CHECK_FALSE(Refers(r, s));
      }
      for (const auto& [name, set] : table_.sets) {
        for (const auto& [k, v] : set.elements) CHECK(v != "goto " + s);
      }
    } else if (Eat(s, "add rule ip kubepp ")) {
      auto sp = s.find(' ');
      REQUIRE(table_.chains.count(s.substr(0, sp)) == 1);
      table_.chains[s.substr(0, sp)].rules.push_back(s.substr(sp + 1));
    } else if (Eat(s, "add set ip kubepp ") || Eat(s, "add map ip kubepp ")) {
      auto sp = s.find(" { ");
      std::string name = s.substr(0, sp);
      REQUIRE(table_.sets.count(name) == 0);
      table_.sets[name].decl = s.substr(sp + 3, s.size() - sp - 5);
    } else if (Eat(s, "delete set ip kubepp ") || Eat(s, "delete map ip kubepp ")) {
      REQUIRE(table_.sets.count(s) == 1);
      for (const auto& [name, c] : table_.chains) {
        for (const auto& r : c.rules) CHECK(r.find("@" + s + " ") == std::string::npos);
      }
      table_.sets.erase(s);
    } else if (Eat(s, "add element ip kubepp ")) {
      auto [name, items] = Braced(s);
      REQUIRE(table_.sets.count(name) == 1);
      Set& set = table_.sets[name];
      for (const auto& item : items) {
        auto colon = item.find(" : ");
        std::string key = set.is_map() ? item.substr(0, colon) : item;
        REQUIRE(set.elements.count(key) == 0);
        set.elements[key] = set.is_map() ? item.substr(colon + 3) : "";
      }
    } else if (Eat(s, "delete element ip kubepp ")) {
      auto [name, items] = Braced(s);
      REQUIRE(table_.sets.count(name) == 1);
      for (const auto& key : items) REQUIRE(table_.sets[name].elements.erase(key) == 1);
    } else {
      FAIL("unexpected statement");
    }
  }

  static bool Refers(const std::string& rule, const std::string& chain) {
    for (const char* verb : {"goto ", "jump "}) {
      auto at = rule.find(verb + chain);
      if (at != std::string::npos && at + 5 + chain.size() == rule.size()) return true;
    }
    return false;
  }

  void CheckReferences() {
    auto target = [&](const std::string& text) {
      for (const char* verb : {"goto ", "jump "}) {
        auto at = text.find(verb);
        if (at != std::string::npos) CHECK(table_.chains.count(text.substr(at + 5)) == 1);
      }
    };
    for (const auto& [name, c] : table_.chains) {
      for (const auto& r : c.rules) {
        target(r);
        for (auto at = r.find('@'); at != std::string::npos; at = r.find('@', at + 1)) {
          CHECK(table_.sets.count(r.substr(at + 1, r.find(' ', at) - at - 1)) == 1);
        }
      }
    }
    for (const auto& [name, set] : table_.sets) {
      for (const auto& [k, v] : set.elements) target(v);
    }
  }

  Ruleset table_;
};

// Drives a proxier and a FakeKernel together; after every sync the kernel's table must be
// what BuildRuleset says for the snapshot, however the proxier got there.
struct Harness {
  explicit Harness(RenderConfig c = {})
      : config(std::move(c)), proxier(config, {}, [this](const std::string& s) { return Run(s); }) {}

  Status Run(const std::string& s) {
    scripts.push_back(s);
    if (s.rfind("add table ip kubepp\ndelete table ip kubepp\n", 0) == 0) {
      Ruleset want = BuildRuleset(current, config);
      // The large sets are declared with a size (from their element counts) as well.
      CHECK(std::regex_replace(s, std::regex(" size [0-9]+ ;"), "") == RenderFull(want));
      kernel.Install(std::move(want));
    } else {
      kernel.Apply(s);
    }
    return Status::Ok();
  }

  RenderConfig config;
  std::vector<std::string> scripts;
  FakeKernel kernel;
  Snapshot current;
  NftablesProxier proxier;

  void Sync(const Snapshot& snap, bool full = false) {
    current = snap;
    size_t before = scripts.size();
    REQUIRE(proxier.Sync(snap, full).ok());
    if (scripts.size() > before) CHECK(kernel.table() == BuildRuleset(snap, config));
  }
  std::string Last() const { return scripts.empty() ? "" : scripts.back(); }
};

const char* kWeb = R"({"clusterIP":"10.96.0.5","ports":[{"port":80}]})";

Snapshot Web(const std::string& endpoints) {
  return BuildSnapshot({Service("web", kWeb)},
                       {Slice("web-a", "web", R"([{"port":8080}])", endpoints)});
}

TEST_CASE("NftablesProxier partial sync: the commands one Service's changes produce") {
  Harness h;
  const std::string chain = "pick-cluster-tcp-1";
  h.Sync(Web(R"([{"addresses":["10.244.1.2"]}])"));
  REQUIRE(h.proxier.stats().full_syncs == 1);

  SECTION("an endpoint replaced: its slot and its hairpin element, no rule") {
    h.Sync(Web(R"([{"addresses":["10.244.1.3"]}])"));
    CHECK(h.Last() ==
          "delete element ip kubepp hairpin-endpoints { 10.244.1.2 . 10.244.1.2 }\n"
          "add element ip kubepp hairpin-endpoints { 10.244.1.3 . 10.244.1.3 }\n"
          "delete element ip kubepp service-endpoints-tcp { 10.96.0.5 . 80 . 0 }\n"
          "add element ip kubepp service-endpoints-tcp { 10.96.0.5 . 80 . 0 : 10.244.1.3 . 8080 }\n");
    CHECK(h.proxier.stats().partial_syncs == 1);
  }
  SECTION("a second endpoint: the ClusterIP moves to the shared chain for two") {
    h.Sync(Web(R"([{"addresses":["10.244.1.2"]},{"addresses":["10.244.1.3"]}])"));
    CHECK(h.Last() ==
          "add chain ip kubepp pick-cluster-tcp-2\n"
          "add rule ip kubepp pick-cluster-tcp-2 ip saddr != 10.244.0.0/16 jump mark-for-masquerade\n"
          "add rule ip kubepp pick-cluster-tcp-2 meta l4proto tcp dnat ip to "
          "ip daddr . tcp dport . numgen random mod 2 map @service-endpoints-tcp\n"
          "add element ip kubepp hairpin-endpoints { 10.244.1.3 . 10.244.1.3 }\n"
          "add element ip kubepp service-endpoints-tcp { 10.96.0.5 . 80 . 1 : 10.244.1.3 . 8080 }\n"
          "delete element ip kubepp service-ips { 10.96.0.5 . tcp . 80 }\n"
          "add element ip kubepp service-ips { 10.96.0.5 . tcp . 80 : goto pick-cluster-tcp-2 }\n"
          "flush chain ip kubepp " + chain + "\n"
          "delete chain ip kubepp " + chain + "\n");
  }
  SECTION("the last endpoint gone: the ClusterIP rejects, the chain goes after its element") {
    h.Sync(Web("[]"));
    CHECK(h.Last() ==
          "delete element ip kubepp hairpin-endpoints { 10.244.1.2 . 10.244.1.2 }\n"
          "add element ip kubepp no-endpoint-services { 10.96.0.5 . tcp . 80 : goto reject-chain }\n"
          "delete element ip kubepp service-endpoints-tcp { 10.96.0.5 . 80 . 0 }\n"
          "delete element ip kubepp service-ips { 10.96.0.5 . tcp . 80 }\n"
          "flush chain ip kubepp " + chain + "\n"
          "delete chain ip kubepp " + chain + "\n");
    // And back.
    h.Sync(Web(R"([{"addresses":["10.244.1.2"]}])"));
    CHECK(h.Last().rfind("add chain ip kubepp " + chain + "\n", 0) == 0);
  }
  SECTION("the Service removed") {
    h.Sync(Snapshot{});
    CHECK(h.Last() ==
          "delete element ip kubepp hairpin-endpoints { 10.244.1.2 . 10.244.1.2 }\n"
          "delete element ip kubepp service-endpoints-tcp { 10.96.0.5 . 80 . 0 }\n"
          "delete element ip kubepp service-ips { 10.96.0.5 . tcp . 80 }\n"
          "flush chain ip kubepp " + chain + "\n"
          "delete chain ip kubepp " + chain + "\n");
    h.Sync(Snapshot{});
    CHECK(h.proxier.stats().skipped_syncs == 1);
  }
  SECTION("another Service added: only its elements (the shared chain is there)") {
    Snapshot two = BuildSnapshot(
        {Service("web", kWeb), Service("api", R"({"clusterIP":"10.96.0.6","ports":[{"port":443}]})")},
        {Slice("web-a", "web", R"([{"port":8080}])", R"([{"addresses":["10.244.1.2"]}])"),
         Slice("api-a", "api", R"([{"port":8443}])", R"([{"addresses":["10.244.1.9"]}])")});
    h.Sync(two);
    CHECK(h.Last() ==
          "add element ip kubepp hairpin-endpoints { 10.244.1.9 . 10.244.1.9 }\n"
          "add element ip kubepp service-endpoints-tcp { 10.96.0.6 . 443 . 0 : 10.244.1.9 . 8443 }\n"
          "add element ip kubepp service-ips { 10.96.0.6 . tcp . 443 : goto " + chain + " }\n");
    CHECK(h.proxier.stats().last_changed_ports == 1);
  }
}

TEST_CASE("NftablesProxier partial sync: elements two Services share") {
  Harness h;
  // Both use endpoint 10.244.1.2 (one hairpin element, a's on port 8080, b's on 9090) and
  // claim external IP 192.0.2.1:80; b has ClientIP affinity (a chain of its own).
  auto svc = [](const std::string& name, const std::string& ip, const std::string& extra) {
    return Service(name, R"({"clusterIP":")" + ip + R"(","externalIPs":["192.0.2.1"],"ports":[{"port":80}])" +
                             extra + "}");
  };
  auto slice = [](const std::string& name, int port) {
    return Slice(name + "-a", name, R"([{"port":)" + std::to_string(port) + "}]",
                 R"([{"addresses":["10.244.1.2"]}])");
  };
  const std::string affinity = R"(,"sessionAffinity":"ClientIP")";
  Snapshot both = BuildSnapshot({svc("a", "10.96.0.5", ""), svc("b", "10.96.0.6", "")},
                                {slice("a", 8080), slice("b", 9090)});
  Snapshot only_a = BuildSnapshot({svc("a", "10.96.0.5", "")}, {slice("a", 8080)});
  Snapshot b_affinity = BuildSnapshot({svc("a", "10.96.0.5", ""), svc("b", "10.96.0.6", affinity)},
                                      {slice("a", 8080), slice("b", 9090)});
  const std::string ext_key = "192.0.2.1 . tcp . 80", ext_slot = "192.0.2.1 . 80 . 0";
  const std::string ext_b = "external-" + ShortHash("ns/b/tcp/") + "-ns/b/tcp/";
  auto element = [&](const std::string& set, const std::string& key) {
    const auto& elements = h.kernel.table().sets.at(set).elements;
    auto it = elements.find(key);
    return it == elements.end() ? std::string("none") : it->second;
  };
  h.Sync(both);
  CHECK(element("service-endpoints-tcp", ext_slot) == "10.244.1.2 . 9090");

  h.Sync(only_a);  // b, the winner of the shared key, goes: a's claim takes over
  CHECK(h.Last().find("hairpin-endpoints") == std::string::npos);  // a still uses it
  CHECK(h.Last().find("delete element ip kubepp service-endpoints-tcp { 10.96.0.6 . 80 . 0, " + ext_slot +
                      " }\n"
                      "add element ip kubepp service-endpoints-tcp { " + ext_slot + " : 10.244.1.2 . 8080 }\n") !=
        std::string::npos);

  h.Sync(both);  // b back: it wins again
  CHECK(element("service-endpoints-tcp", ext_slot) == "10.244.1.2 . 9090");
  h.Sync(b_affinity);  // b wins with its own chain: the key's slots go
  CHECK(element("service-ips", ext_key) == "goto " + ext_b);
  CHECK(element("service-endpoints-tcp", ext_slot) == "none");
  h.Sync(both);
  CHECK(element("service-endpoints-tcp", ext_slot) == "10.244.1.2 . 9090");
  h.Sync(Snapshot{});
  CHECK(h.kernel.table() == BuildRuleset(Snapshot{}, h.config));
}

TEST_CASE("NftablesProxier: a partial sync that would outgrow a large set's size is a full sync") {
  Harness h;
  h.Sync(Web(R"([{"addresses":["10.244.1.2"]}])"));
  CHECK(h.Last().find("map service-endpoints-tcp { typeof ip daddr . tcp dport . numgen random mod 1 : "
                      "ip daddr . tcp dport ; size 4096 ;") != std::string::npos);
  CHECK(h.Last().find("set hairpin-endpoints { typeof ip saddr . ip daddr ; size 4096 ;") != std::string::npos);
  // 2,100 Services x 2 endpoints: 4,200 slots, more than 4,096.
  auto many = [](int n) {
    std::vector<ServicePtr> services;
    std::vector<SlicePtr> slices;
    for (int i = 0; i < n; ++i) {
      std::string name = "s" + std::to_string(i), ip = std::to_string(i / 250) + "." + std::to_string(i % 250);
      services.push_back(Service(name, R"({"clusterIP":"10.96.)" + ip + R"(","ports":[{"port":80}]})"));
      slices.push_back(Slice(name + "-a", name, R"([{"port":8080}])",
                             R"([{"addresses":["10.244.)" + ip + R"("]},{"addresses":["10.245.)" + ip + R"("]}])"));
    }
    return BuildSnapshot(services, slices);
  };
  h.Sync(many(2000));  // 4,000 slots: still fits
  CHECK(h.Last().rfind("add table", 0) != 0);
  CHECK(h.proxier.stats().full_syncs == 1);
  h.Sync(many(2100));
  CHECK(h.proxier.stats().full_syncs == 2);
  // Room to double again.
  CHECK(h.Last().find("map service-endpoints-tcp { typeof ip daddr . tcp dport . numgen random mod 1 : "
                      "ip daddr . tcp dport ; size 16384 ;") != std::string::npos);
}

TEST_CASE("NftablesProxier: partial syncs reach the table a full sync writes") {
  // Random changes to a few Services (endpoints, their nodes, NodePorts, external IPs that
  // collide, affinity, traffic policies, removal); after each one the fake kernel must hold
  // BuildRuleset's table. The full resync at the end must write that table too.
  RenderConfig config;
  config.node_name = "n1";
  Harness h(config);
  std::mt19937 rng(42);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  struct Svc {
    bool present = true;
    std::string spec, endpoints;
  };
  std::vector<Svc> svcs(6);
  auto mutate = [&](Svc& s, int i) {
    s.present = pick(6) != 0;
    std::string type = pick(2) ? "NodePort" : "ClusterIP";
    std::string spec = R"({"type":")" + type + R"(","clusterIP":"10.96.0.)" + std::to_string(10 + i) + "\"";
    if (pick(3) == 0) spec += R"(,"externalIPs":["192.0.2.)" + std::to_string(pick(2)) + "\"]";
    if (pick(4) == 0) {
      spec += R"(,"sessionAffinity":"ClientIP","sessionAffinityConfig":{"clientIP":{"timeoutSeconds":)" +
              std::to_string(pick(2) ? 60 : 120) + "}}";
    }
    if (pick(3) == 0) spec += R"(,"externalTrafficPolicy":"Local")";
    if (pick(4) == 0) spec += R"(,"internalTrafficPolicy":"Local")";
    spec += R"(,"ports":[{"name":"http","port":80,"nodePort":)" + std::to_string(30000 + pick(3)) +
            R"(},{"name":"dns","port":53,"protocol":"UDP"}]})";
    s.spec = spec;
    std::string eps = "[";
    for (int e = 0, n = pick(4); e < n; ++e) {
      eps += std::string(e ? "," : "") + R"({"addresses":["10.244.1.)" + std::to_string(pick(5)) +
             R"("],"nodeName":"n)" + std::to_string(1 + pick(2)) + "\"}";
    }
    s.endpoints = eps + "]";
  };
  auto snapshot = [&] {
    std::vector<ServicePtr> services;
    std::vector<SlicePtr> slices;
    for (size_t i = 0; i < svcs.size(); ++i) {
      if (!svcs[i].present) continue;
      std::string name = "s" + std::to_string(i);
      services.push_back(Service(name, svcs[i].spec));
      slices.push_back(Slice(name + "-a", name,
                             R"([{"name":"http","port":8080},{"name":"dns","port":5353,"protocol":"UDP"}])",
                             svcs[i].endpoints));
    }
    return BuildSnapshot(services, slices);
  };
  for (size_t i = 0; i < svcs.size(); ++i) mutate(svcs[i], static_cast<int>(i));
  h.Sync(snapshot());
  for (int step = 0; step < 200; ++step) {
    INFO("step " << step);
    for (int k = 0, n = 1 + pick(2); k < n; ++k) {
      int i = pick(static_cast<int>(svcs.size()));
      mutate(svcs[i], i);
    }
    h.Sync(snapshot());
  }
  CHECK(h.proxier.stats().partial_syncs > 100);
  CHECK(h.proxier.stats().failed_syncs == 0);
  h.Sync(snapshot(), true);
  CHECK(h.Last().rfind("add table ip kubepp\n", 0) == 0);
}

TEST_CASE("NftablesProxier with a SnapshotBuilder: unchanged ports are not rendered again") {
  Harness h;
  SnapshotInputs b;
  b.Reset({Service("web", kWeb), Service("api", R"({"clusterIP":"10.96.0.6","ports":[{"port":443}]})")},
          {Slice("web-a", "web", R"([{"port":8080}])", R"([{"addresses":["10.244.1.2"]}])")});
  h.Sync(b.Build());
  b.SetSlice(Slice("api-a", "api", R"([{"port":8443}])", R"([{"addresses":["10.244.1.9"]}])"));
  Snapshot snap = b.Build();
  h.Sync(snap);
  CHECK(h.proxier.stats().last_changed_ports == 1);
  CHECK(h.Last().find("web") == std::string::npos);
  // The slice moves to another Service by its label; then the Service goes.
  b.SetSlice(Slice("api-a", "web", R"([{"port":8080}])", R"([{"addresses":["10.244.1.9"]}])"));
  h.Sync(b.Build());
  CHECK(h.proxier.stats().last_changed_ports == 2);
  b.DeleteService("ns/web");
  h.Sync(b.Build());
  CHECK(h.proxier.stats().last_changed_ports == 1);
  CHECK(h.Last().find("delete element ip kubepp service-ips { 10.96.0.5 . tcp . 80 }") != std::string::npos);
}

}  // namespace
}  // namespace kubepp::proxy::nft
