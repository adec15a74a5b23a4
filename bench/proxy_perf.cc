// Service proxy sync cost: N Services x M endpoints through the real NftablesProxier, fed
// by a SnapshotBuilder as the proxy's sync loop does. A full sync into a kernel without
// the table (snapshot -> ruleset -> `nft -f -`, the slot maps' elements through netlink),
// a full resync over that table (one `nft -f -` transaction), then one-Service incremental
// updates (a Service's endpoints change) and removals, each timed from the event to the
// applied transaction, with the part spent in nft and netlink reported apart. RSS at the
// end (VmRSS) and its peak (VmHWM).
// Run it as root in a throw-away network namespace (bench/proxy.sh does), never in the
// host's: it programs nftables for real.
//   proxy_perf [services=10000] [endpoints=10] [updates=50] [dry|verify|iptables|iptables-legacy]
// PROXY_PERF_NODES=N spreads the endpoints over N nodes (nodeName, as the EndpointSlice
// controller writes it) with the proxier on one of them; unset, endpoints name no node.
// `dry` hands the scripts to nobody: the proxy's own cost, without nft (no root needed).
// `verify` also changes the number of endpoints and checks that the kernel's table after
// the partial syncs (`nft list table`) is the one a full resync then writes; use it with a
// few hundred Services (listing is slow). CI runs it (e2e_nft_sync).
// `iptables` / `iptables-legacy`: the IptablesProxier instead (the host's iptables, or
// iptables-legacy): one full sync, then `updates` one-Service endpoint changes, each a
// whole iptables-restore.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/api/json.h"
#include "common/util/exec.h"
#include "proxy/iptables/proxier.h"
#include "proxy/nftables/proxier.h"
#include "proxy/service_snapshot.h"

using namespace kubepp;
using Clock = std::chrono::steady_clock;

namespace {

double Ms(Clock::time_point since) {
  return std::chrono::duration<double, std::milli>(Clock::now() - since).count();
}

api::Document Parse(const std::string& json) {
  auto doc = api::ParseJson(json);
  if (!doc.ok()) std::abort();
  return std::move(doc).value();
}

std::string Ip(int base, int n) {
  return std::to_string(base) + "." + std::to_string((n >> 16) & 255) + "." +
         std::to_string((n >> 8) & 255) + "." + std::to_string(n & 255);
}

// As the proxy holds it (proxy::ServiceOf, done by its Services store as events arrive).
proxy::ServicePtr Service(int i) {
  return proxy::ServiceOf(Parse(R"({"metadata":{"name":"s)" + std::to_string(i) +
               R"(","namespace":"bench"},"spec":{"type":"NodePort","clusterIP":")" +
               Ip(10, 0x600000 + i) + R"(","ports":[{"name":"http","port":80,"nodePort":)" +
               std::to_string(30000 + i % 2768) + "}]}}"));
}

// Endpoints spread over this many nodes ("nodeName": "node<k>"; the proxier is node0's);
// 0: no nodeName.
int g_nodes = 0;

// As the proxy holds it (proxy::SliceOf, done by its EndpointSlices store as events arrive).
proxy::SlicePtr Slice(int i, int endpoints, int generation) {
  std::string eps;
  for (int e = 0; e < endpoints; ++e) {
    eps += std::string(e ? "," : "") + R"({"addresses":[")" +
           Ip(10, 0xF40000 + ((i * endpoints + e + generation) & 0xFFFF)) + "\"]" +
           (g_nodes > 0 ? R"(,"nodeName":"node)" + std::to_string((i + e) % g_nodes) + "\"" : "") + "}";
  }
  return proxy::SliceOf(Parse(R"({"metadata":{"name":"s)" + std::to_string(i) +
               R"(-1","namespace":"bench","labels":{"kubernetes.io/service-name":"s)" +
               std::to_string(i) + R"("}},"addressType":"IPv4","ports":[{"name":"http","port":8080}],"endpoints":[)" +
               eps + "]}"));
}

long StatusKb(const std::string& field) {
  std::ifstream f("/proc/self/status");
  std::string key;
  long value = 0;
  while (f >> key) {
    if (key == field) {
      f >> value;
      return value;
    }
  }
  return 0;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 10000;
  int m = argc > 2 ? std::atoi(argv[2]) : 10;
  int updates = argc > 3 ? std::atoi(argv[3]) : 50;
  bool dry = argc > 4 && std::string(argv[4]) == "dry";
  bool verify = argc > 4 && std::string(argv[4]) == "verify";
  if (n < 2 || m < 1 || updates < 1) {
    std::fprintf(stderr, "usage: proxy_perf [services>=2] [endpoints>=1] [updates>=1]\n");
    return 2;
  }
  std::string mode = argc > 4 ? argv[4] : "";
  if (const char* nodes = std::getenv("PROXY_PERF_NODES")) g_nodes = std::atoi(nodes);
  proxy::nft::RenderConfig nft_config;
  if (g_nodes > 0) nft_config.node_name = "node0";
  proxy::SnapshotInputs builder;
  {
    std::vector<proxy::ServicePtr> services;
    std::vector<proxy::SlicePtr> slices;
    for (int i = 0; i < n; ++i) {
      services.push_back(Service(i));
      slices.push_back(Slice(i, m, 0));
    }
    builder.Reset(services, slices);
  }
  if (mode == "iptables" || mode == "iptables-legacy") {
    proxy::ipt::IptablesProxier proxier(proxy::ipt::RenderConfig{},
                                        mode == "iptables" ? "" : "legacy");
    auto t = Clock::now();
    Status st = proxier.Sync(builder.Build(), true);
    double full_ms = Ms(t);
    std::vector<double> incr;
    for (int u = 1; u <= updates && st.ok(); ++u) {
      builder.SetSlice(Slice((u * 37) % n, m, u * 7919));
      t = Clock::now();
      st = proxier.Sync(builder.Build(), false);
      incr.push_back(Ms(t));
    }
    if (!st.ok()) {
      std::fprintf(stderr, "%s\n", st.ToString().c_str());
      return 1;
    }
    std::printf("| %s: %d x %d | full sync %.0f ms | one-Service update p50 %.0f ms, p99 %.0f ms "
                "(%d) | RSS %.0f MB (peak %.0f MB) |\n",
                mode.c_str(), n, m, full_ms, Percentile(incr, 0.5), Percentile(incr, 0.99),
                updates, StatusKb("VmRSS:") / 1024.0, StatusKb("VmHWM:") / 1024.0);
    return proxier.Cleanup().ok() ? 0 : 1;
  }
  double nft_ms = 0, load_ms = 0;  // time in nft, in the element loader, since the sync began
  proxy::nft::NftRunner nft_runner;
  // The netlink loader, its time added to nft's.
  struct TimedLoader : proxy::nft::NetlinkElementLoader {
    double* ms;
    explicit TimedLoader(double* m) : ms(m) {}
    Status Add(const std::string& family, const std::string& table, const std::string& name,
               const proxy::nft::Set& s) override {
      auto t = Clock::now();
      Status st = NetlinkElementLoader::Add(family, table, name, s);
      *ms += Ms(t);
      return st;
    }
  };
  proxy::nft::NftablesProxier proxier(
      nft_config, {},
      [&](const std::string& script) {
        auto t = Clock::now();
        Status st = dry ? Status::Ok() : nft_runner(script);
        nft_ms += Ms(t);
        return st;
      },
      dry ? nullptr : std::make_shared<TimedLoader>(&load_ms));

  auto t = Clock::now();
  auto snap = builder.Build();
  double snapshot_ms = Ms(t);
  // The Service and EndpointSlice objects and the snapshot: what the proxy's stores hold.
  long inputs_rss = StatusKb("VmRSS:");
  t = Clock::now();
  nft_ms = load_ms = 0;
  Status st = proxier.Sync(snap, true);
  double full_ms = Ms(t), full_nft_ms = nft_ms, full_load_ms = load_ms;
  if (!st.ok()) {
    std::fprintf(stderr, "full sync: %s\n", st.ToString().c_str());
    return 1;
  }
  size_t full_bytes = proxier.stats().last_script_bytes;
  size_t loaded = proxier.stats().last_loaded_elements;
  // Again over the table now there: one nft transaction (`verify` skips it, so that the
  // partial syncs start from the elements the loader wrote).
  double again_ms = 0, again_nft_ms = 0, again_load_ms = 0;
  if (!verify) {
    t = Clock::now();
    nft_ms = load_ms = 0;
    st = proxier.Sync(snap, true);
    again_ms = Ms(t), again_nft_ms = nft_ms, again_load_ms = load_ms;
    if (!st.ok()) {
      std::fprintf(stderr, "full resync: %s\n", st.ToString().c_str());
      return 1;
    }
  }

  // Incremental: event -> Build -> Sync, as one sync of the proxy's loop.
  std::vector<double> incr, incr_nft, incr_snap;
  size_t incr_bytes = 0;
  for (int u = 1; u <= updates; ++u) {
    // One Service's endpoints change; `verify` also changes their number (a Service
    // moves to another shared chain, which may be created or deleted).
    int count = verify ? std::max(1, m - 1 + u % 3) : m;
    auto changed = Slice((u * 37) % n, count, u * 7919);
    t = Clock::now();
    builder.SetSlice(changed);
    snap = builder.Build();
    incr_snap.push_back(Ms(t));
    nft_ms = 0;
    st = proxier.Sync(snap, false);
    incr.push_back(Ms(t));
    incr_nft.push_back(nft_ms);
    incr_bytes += proxier.stats().last_script_bytes;
    if (!st.ok() || proxier.stats().partial_syncs != static_cast<uint64_t>(u)) {
      std::fprintf(stderr, "incremental sync %d: %s\n", u, st.ToString().c_str());
      return 1;
    }
  }
  // A Service removed (its last endpoint first, then the Service).
  std::vector<double> removal;
  for (int u = 0; u < std::min(updates, n / 2) && u < 10; ++u) {
    int i = n - 1 - u;
    auto slice = Slice(i, m, 0);
    auto service = Service(i);
    t = Clock::now();
    builder.DeleteSlice(slice->Key());
    builder.DeleteService(service->Key());
    snap = builder.Build();
    st = proxier.Sync(snap, false);
    removal.push_back(Ms(t));
    if (!st.ok()) {
      std::fprintf(stderr, "removal: %s\n", st.ToString().c_str());
      return 1;
    }
  }
  long rss = StatusKb("VmRSS:"), hwm = StatusKb("VmHWM:");
  if (verify) {
    // The table's listing with its chains, sets and maps in name order (nft lists them in
    // the order they were created, which partial syncs change).
    // The large sets' names lose their suffix: a full resync switches it.
    auto list = [] {
      auto r = util::RunCommand({"nft", "list", "table", "ip", "kubepp"});
      if (!r.ok() || r->exit_code != 0) return std::string("nft list failed");
      std::vector<std::string> blocks;
      std::string out, block;
      std::istringstream in(r->out);
      const std::string suffix = proxy::nft::kOtherLargeSetSuffix;
      for (std::string line; std::getline(in, line);) {
        for (const char* name : {"-endpoints-tcp", "-endpoints-udp", "-endpoints-sctp", "hairpin-endpoints"}) {
          for (size_t at; (at = line.find(name + suffix)) != std::string::npos;) {
            line.erase(at + std::strlen(name), suffix.size());
          }
        }
        if (line.rfind("\t\tsize ", 0) == 0) continue;  // from the count at the last full sync
        if (!block.empty() || line.rfind("\tchain ", 0) == 0 || line.rfind("\tmap ", 0) == 0 ||
            line.rfind("\tset ", 0) == 0) {
          block += line + "\n";
          if (line == "\t}") blocks.push_back(std::exchange(block, std::string()));
        } else if (!line.empty()) {
          out += line + "\n";
        }
      }
      std::sort(blocks.begin(), blocks.end());
      for (const auto& b : blocks) out += b;
      return out;
    };
    std::string partial = list();
    st = proxier.Sync(snap, true);  // the slot maps switch, their elements loaded by netlink
    std::string full = list();
    // And as nft alone writes it, every element parsed by nft.
    proxy::nft::NftablesProxier nft_only(nft_config, {}, nft_runner);
    Status nft_st = nft_only.Sync(snap, true);
    std::string plain = list();
    bool same = st.ok() && nft_st.ok() && partial == full && full == plain &&
                partial.find("service-ips") != std::string::npos;
    std::fprintf(stderr,
                 "verify: table after %d partial syncs %s the full resync's and nft's alone (%zu bytes)\n",
                 updates + static_cast<int>(removal.size()), same ? "equals" : "DIFFERS FROM",
                 full.size());
    if (!same) {
      if (const char* dump = std::getenv("PROXY_PERF_DUMP")) {
        std::ofstream(std::string(dump) + ".partial") << partial;
        std::ofstream(std::string(dump) + ".full") << full;
        std::ofstream(std::string(dump) + ".nft") << plain;
      }
      return 1;
    }
  }
  std::printf("| services x endpoints | snapshot build | full sync, no table yet (nft + netlink) | "
              "its script + loaded elements | full resync over the table (nft + netlink) | "
              "incremental p50 / p99 (%d updates) | nft part p50 / p99 | snapshot part p50 | "
              "script | Service removal p50 | RSS: objects + snapshot / end (peak) |\n", updates);
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
  std::printf("| %d x %d | %.0f ms | %.0f ms (%.0f + %.0f ms) | %.1f MB + %zu | %.0f ms (%.0f + %.0f ms) | "
              "%.1f / %.1f ms | %.1f / %.1f ms | "
              "%.2f ms | %.1f KB | %.1f ms | %.0f / %.0f MB (%.0f MB) |\n",
              n, m, snapshot_ms, full_ms, full_nft_ms, full_load_ms, full_bytes / 1e6, loaded,
              again_ms, again_nft_ms, again_load_ms, Percentile(incr, 0.5),
              Percentile(incr, 0.99), Percentile(incr_nft, 0.5), Percentile(incr_nft, 0.99),
              Percentile(incr_snap, 0.5), incr_bytes / 1e3 / updates, Percentile(removal, 0.5),
              inputs_rss / 1024.0, rss / 1024.0, hwm / 1024.0);
  return proxier.Cleanup().ok() ? 0 : 1;
}
