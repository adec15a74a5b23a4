// Service proxy sync cost: N Services x M endpoints through the real NftablesProxier.
// Full sync (snapshot -> ruleset -> `nft -f -`) and one-Service incremental updates.
// Run it as root in a throw-away network namespace (bench/proxy.sh does), never in the
// host's: it programs nftables for real.
//   proxy_perf [services=10000] [endpoints=10] [updates=20]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "common/api/json.h"
#include "proxy/nftables/proxier.h"
#include "proxy/service_snapshot.h"

using namespace kubepp;
using Clock = std::chrono::steady_clock;

namespace {

double Ms(Clock::time_point since) {
  return std::chrono::duration<double, std::milli>(Clock::now() - since).count();
}

proxy::ObjectPtr Parse(const std::string& json) {
  auto doc = api::ParseJson(json);
  if (!doc.ok()) std::abort();
  return std::make_shared<const api::Document>(std::move(doc).value());
}

std::string Ip(int base, int n) {
  return std::to_string(base) + "." + std::to_string((n >> 16) & 255) + "." +
         std::to_string((n >> 8) & 255) + "." + std::to_string(n & 255);
}

proxy::ObjectPtr Service(int i) {
  return Parse(R"({"metadata":{"name":"s)" + std::to_string(i) +
               R"(","namespace":"bench"},"spec":{"type":"NodePort","clusterIP":")" +
               Ip(10, 0x600000 + i) + R"(","ports":[{"name":"http","port":80,"nodePort":)" +
               std::to_string(30000 + i % 2768) + "}]}}");
}

proxy::ObjectPtr Slice(int i, int endpoints, int generation) {
  std::string eps;
  for (int e = 0; e < endpoints; ++e) {
    eps += std::string(e ? "," : "") + R"({"addresses":[")" +
           Ip(10, 0xF40000 + ((i * endpoints + e + generation) & 0xFFFF)) + R"("]})";
  }
  return Parse(R"({"metadata":{"name":"s)" + std::to_string(i) +
               R"(-1","namespace":"bench","labels":{"kubernetes.io/service-name":"s)" +
               std::to_string(i) + R"("}},"addressType":"IPv4","ports":[{"name":"http","port":8080}],"endpoints":[)" +
               eps + "]}");
}

long RssKb() {
  std::ifstream f("/proc/self/status");
  std::string key;
  long value = 0;
  while (f >> key) {
    if (key == "VmRSS:") {
      f >> value;
      return value;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 10000;
  int m = argc > 2 ? std::atoi(argv[2]) : 10;
  int updates = argc > 3 ? std::atoi(argv[3]) : 20;
  std::vector<proxy::ObjectPtr> services, slices;
  for (int i = 0; i < n; ++i) {
    services.push_back(Service(i));
    slices.push_back(Slice(i, m, 0));
  }
  proxy::nft::NftablesProxier proxier(proxy::nft::RenderConfig{});

  auto t = Clock::now();
  auto snap = proxy::BuildSnapshot(services, slices);
  double snapshot_ms = Ms(t);
  t = Clock::now();
  Status st = proxier.Sync(snap, true);
  double full_ms = Ms(t);
  if (!st.ok()) {
    std::fprintf(stderr, "full sync: %s\n", st.ToString().c_str());
    return 1;
  }
  size_t full_bytes = proxier.stats().last_script_bytes;

  double total_incr = 0, max_incr = 0, total_snap = 0;
  for (int u = 1; u <= updates; ++u) {
    slices[u % n] = Slice(u % n, m, u * 7919);  // one Service's endpoints change
    t = Clock::now();
    snap = proxy::BuildSnapshot(services, slices);
    total_snap += Ms(t);
    st = proxier.Sync(snap, false);
    double ms = Ms(t);
    if (!st.ok()) {
      std::fprintf(stderr, "incremental sync: %s\n", st.ToString().c_str());
      return 1;
    }
    total_incr += ms;
    max_incr = std::max(max_incr, ms);
  }
  std::printf("| services | endpoints each | snapshot build | full sync (render + nft) | script | "
              "incremental sync (mean / max, %d runs, incl. snapshot) | of which snapshot | RSS |\n",
              updates);
  std::printf("|---|---|---|---|---|---|---|---|\n");
  std::printf("| %d | %d | %.0f ms | %.0f ms | %.1f MB | %.1f / %.1f ms | %.1f ms | %.0f MB |\n", n, m,
              snapshot_ms, full_ms, full_bytes / 1e6, total_incr / updates, max_incr,
              total_snap / updates, RssKb() / 1024.0);
  return proxier.Cleanup().ok() ? 0 : 1;
}
