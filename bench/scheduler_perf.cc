// scheduler_perf: upstream's scheduler_perf workloads against a running apiserver +
// scheduler. Creates --nodes Node objects (Ready, 4 cpu / 32Gi / 110 pods each, 10
// zones), schedules --init-pods, then creates --pods pods through the apiserver and
// watches for their bindings. Prints one line: throughput from the first create to
// the last binding observed by the watch, and per-pod create -> bound latency.
//
//   scheduler_perf --server http://127.0.0.1:6443 --nodes 5000 --pods 10000
//                  [--init-pods 1000] [--concurrency 32] [--mode basic|anti-affinity|spread]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/api/json.h"
#include "common/flags.h"
#include "common/http/client.h"

namespace {

using namespace kubepp;
using Clock = std::chrono::steady_clock;

std::string NodeJson(int i) {
  std::string n = "node-" + std::to_string(i);
  return R"({"apiVersion":"v1","kind":"Node","metadata":{"name":")" + n +
         R"(","labels":{"kubernetes.io/hostname":")" + n +
         R"(","topology.kubernetes.io/zone":"zone-)" + std::to_string(i % 10) +
         R"("}},"status":{"conditions":[{"type":"Ready","status":"True"}],)"
         R"("capacity":{"cpu":"4","memory":"32Gi","pods":"110"},)"
         R"("allocatable":{"cpu":"4","memory":"32Gi","pods":"110"}}})";
}

std::string PodJson(const std::string& name, const std::string& mode) {
  std::string affinity;
  std::string labels = R"("app":"bench")";
  if (mode == "anti-affinity") {
    labels = R"("color":"green")";
    affinity = R"(,"affinity":{"podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":)"
               R"([{"labelSelector":{"matchLabels":{"color":"green"}},)"
               R"("topologyKey":"kubernetes.io/hostname"}]}})";
  } else if (mode == "spread") {
    labels = R"("app":"spread")";
    affinity = R"(,"topologySpreadConstraints":[{"maxSkew":1,)"
               R"("topologyKey":"topology.kubernetes.io/zone","whenUnsatisfiable":"DoNotSchedule",)"
               R"("labelSelector":{"matchLabels":{"app":"spread"}}}])";
  }
  return R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name + R"(","labels":{)" +
         labels + R"(}},"spec":{"containers":[{"name":"c","image":"registry.k8s.io/pause:3.9",)"
         R"("resources":{"requests":{"cpu":"100m","memory":"500Mi"}}}])" + affinity + "}}";
}

// Runs `n` POSTs of make(i) to `path` with `concurrency` threads; calls on_start(i)
// just before each request.
void CreateMany(http::Client& client, const std::string& path, int n, int concurrency,
                const std::function<std::string(int)>& make,
                const std::function<void(int)>& on_start = nullptr) {
  std::atomic<int> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < n; i = next++) {
        if (on_start) on_start(i);
        for (int attempt = 0; attempt < 20; ++attempt) {
          auto r = client.Do("POST", path, make(i));
          if (r.ok() && (r->status == 201 || r->status == 409)) break;
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
      }
    });
  }
  for (auto& t : threads) t.join();
}

}  // namespace

int main(int argc, char** argv) {
  std::string server = "http://127.0.0.1:6443", mode = "basic", ns = "default";
  int nodes = 5000, pods = 10000, init_pods = 1000, concurrency = 32;
  FlagSet flags("scheduler_perf", "Scheduler throughput benchmark (upstream scheduler_perf).");
  flags.String("server", &server, "apiserver URL");
  flags.String("mode", &mode, "basic, anti-affinity or spread");
  flags.Int("nodes", &nodes, "nodes to create");
  flags.Int("pods", &pods, "pods to measure");
  flags.Int("init-pods", &init_pods, "pods scheduled before the measurement");
  flags.Int("concurrency", &concurrency, "concurrent create requests");
  if (auto st = flags.Parse(argc, argv); !st.ok() || flags.help_requested()) {
    std::fputs(flags.Usage().c_str(), stderr);
    return 2;
  }
  http::ClientOptions co;
  co.server = server;
  co.timeout_seconds = 120;
  auto client = http::Client::Create(co);
  if (!client.ok()) return 1;
  http::Client& c = **client;

  CreateMany(c, "/api/v1/nodes", nodes, concurrency, NodeJson);

  // Bindings are observed on one watch of the namespace's pods.
  std::mutex mu;
  std::unordered_map<std::string, Clock::time_point> created, bound;
  std::atomic<int> bound_count{0}, init_bound{0};
  std::atomic<bool> stop{false};
  auto list = c.Do("GET", "/api/v1/namespaces/" + ns + "/pods?limit=1");
  std::string rv = "0";
  if (list.ok()) {
    if (auto d = api::ParseJson(list->body); d.ok()) {
      rv = api::GetString(*d, "metadata.resourceVersion", "0");
    }
  }
  std::thread watcher([&] {
    (void)c.StreamLines(
        "/api/v1/namespaces/" + ns + "/pods?watch=1&resourceVersion=" + rv,
        [&](std::string_view line) {
          if (line.find("\"nodeName\"") == std::string_view::npos) return true;
          auto ev = api::ParseJson(line);
          if (!ev.ok()) return true;
          const api::Value* obj = api::Find(*ev, "object");
          if (!obj || api::GetString(*obj, "spec.nodeName").empty()) return true;
          std::string name = api::GetString(*obj, "metadata.name");
          auto now = Clock::now();
          std::lock_guard lock(mu);
          if (name.rfind("init-", 0) == 0) {
            ++init_bound;
          } else if (bound.emplace(name, now).second) {
            ++bound_count;
          }
          return true;
        },
        &stop);
  });

  CreateMany(c, "/api/v1/namespaces/" + ns + "/pods", init_pods, concurrency,
             [&](int i) { return PodJson("init-" + std::to_string(i), mode); });
  auto wait_until = [&](const std::function<bool()>& done, int seconds) {
    auto deadline = Clock::now() + std::chrono::seconds(seconds);
    while (!done() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return done();
  };
  if (!wait_until([&] { return init_bound.load() >= init_pods; }, 300)) {
    std::fprintf(stderr, "init pods not bound: %d/%d\n", init_bound.load(), init_pods);
  }

  auto start = Clock::now();
  CreateMany(
      c, "/api/v1/namespaces/" + ns + "/pods", pods, concurrency,
      [&](int i) { return PodJson("pod-" + std::to_string(i), mode); },
      [&](int i) {
        std::lock_guard lock(mu);
        created["pod-" + std::to_string(i)] = Clock::now();
      });
  auto created_at = Clock::now();
  bool all = wait_until([&] { return bound_count.load() >= pods; }, 600);
  stop = true;
  watcher.join();

  std::vector<double> latencies;
  Clock::time_point last = start;
  for (const auto& [name, t] : bound) {
    last = std::max(last, t);
    auto it = created.find(name);
    if (it != created.end()) latencies.push_back(std::chrono::duration<double, std::milli>(t - it->second).count());
  }
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    return latencies.empty() ? 0.0 : latencies[std::min(latencies.size() - 1, static_cast<size_t>(p * latencies.size()))];
  };
  double secs = std::chrono::duration<double>(last - start).count();
  double create_secs = std::chrono::duration<double>(created_at - start).count();
  std::printf("mode=%s nodes=%d pods=%d bound=%zu%s seconds=%.2f throughput=%.0f/s "
              "create_rate=%.0f/s p50=%.0fms p99=%.0fms\n",
              mode.c_str(), nodes, pods, bound.size(), all ? "" : " (INCOMPLETE)", secs,
              static_cast<double>(bound.size()) / secs, pods / create_secs, pct(0.5), pct(0.99));
  return all ? 0 : 1;
}
