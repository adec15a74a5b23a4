#include "scheduler/plugins/plugins.h"
#include "scheduler/testutil.h"

using namespace kubepp::scheduler;
using namespace kubepp::scheduler::testing;

namespace {
std::string Requests(const std::string& req, const std::string& init = "") {
  std::string s = R"("containers":[{"name":"c","resources":{"requests":{)" + req + "}}}]";
  if (!init.empty()) s += R"(,"initContainers":[{"name":"i","resources":{"requests":{)" + init + "}}}]";
  return s;
}
}  // namespace

TEST_CASE("NodeResourcesFit: requests against allocatable minus bound pods") {
  const auto plugin = plugins::NodeResourcesFit();
  // Node: 4 cpu, 8Gi, 110 pods; an existing pod requests 3 cpu and 6Gi.
  auto existing = BoundPod("old", "n", Requests(R"("cpu":"3","memory":"6Gi")"));
  struct Case {
    const char* name;
    std::string pod_spec, status, want;
  } cases[] = {
      {"fits", Requests(R"("cpu":"500m","memory":"1Gi")"), "", ""},
      {"exactly full", Requests(R"("cpu":"1","memory":"2Gi")"), "", ""},
      {"cpu", Requests(R"("cpu":"1500m")"), "", "Insufficient cpu"},
      {"cpu and memory", Requests(R"("cpu":"2","memory":"3Gi")"), "",
       "Insufficient cpu; Insufficient memory"},
      {"init container max rule", Requests(R"("cpu":"100m")", R"("cpu":"2")"), "",
       "Insufficient cpu"},
      {"limits stand in for requests",
       R"("containers":[{"name":"c","resources":{"limits":{"memory":"4Gi"}}}])", "",
       "Insufficient memory"},
      {"best effort fits a full node", "", "", ""},
      {"too many pods", "", R"({"conditions":[{"type":"Ready","status":"True"}],"allocatable":{"cpu":"4","memory":"8Gi","pods":"1"}})",
       "Too many pods"},
      {"extended resource", Requests(R"("example.com/gpu":"1")"), "", "Insufficient example.com/gpu"},
      {"ephemeral storage", Requests(R"("ephemeral-storage":"1Gi")"), "",
       "Insufficient ephemeral-storage"},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      auto snap = SnapshotOf({Info(Node("n", "", "", c.status), {existing})});
      CHECK(RunFilter(*plugin, *Pod("p", c.pod_spec), "n", snap) == c.want);
    }
  }
}

TEST_CASE("LeastAllocated: emptier nodes score higher") {
  const auto plugin = plugins::LeastAllocated();
  auto snap = SnapshotOf({Info(Node("empty")),
                          Info(Node("half"), {BoundPod("o", "half", Requests(R"("cpu":"2","memory":"4Gi")"))})});
  auto pod = Pod("p", Requests(R"("cpu":"0","memory":"0")"));
  CHECK(RunScore(*plugin, *pod, snap) == std::vector<int64_t>{100, 50});
}

TEST_CASE("BalancedAllocation: even cpu/memory use scores higher") {
  const auto plugin = plugins::BalancedAllocation();
  auto snap = SnapshotOf({Info(Node("even"), {BoundPod("o", "even", Requests(R"("cpu":"2","memory":"4Gi")"))}),
                          Info(Node("skewed"), {BoundPod("o2", "skewed", Requests(R"("cpu":"4","memory":"0")"))})});
  auto pod = Pod("p", Requests(R"("cpu":"0","memory":"0")"));
  auto scores = RunScore(*plugin, *pod, snap);
  CHECK(scores[0] == 100);
  CHECK(scores[1] == 50);
}
