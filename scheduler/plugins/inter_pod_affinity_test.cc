#include "scheduler/plugins/plugins.h"
#include "scheduler/testutil.h"

using namespace kubepp::scheduler;
using namespace kubepp::scheduler::testing;

namespace {
std::string Term(const char* kind, const char* app, const char* key, const std::string& extra = "") {
  return std::string(R"("affinity":{")") + kind +
         R"(":{"requiredDuringSchedulingIgnoredDuringExecution":[{"labelSelector":{"matchLabels":{"app":")" +
         app + R"("}},"topologyKey":")" + key + "\"" + extra + "}]}}";
}
std::string AppLabel(const char* app) { return std::string(R"("labels":{"app":")") + app + "\"}"; }
}  // namespace

TEST_CASE("InterPodAffinity filter") {
  const auto plugin = plugins::InterPodAffinity();
  // Zone z1: n1 (runs a db pod), n2; zone z2: n3 (runs a web pod with anti-affinity to
  // "batch" per host).
  auto n1 = Info(Node("n1", R"("zone":"z1","kubernetes.io/hostname":"n1")"),
                 {BoundPod("db", "n1", "", AppLabel("db"))});
  auto n2 = Info(Node("n2", R"("zone":"z1","kubernetes.io/hostname":"n2")"));
  auto n3 = Info(Node("n3", R"("zone":"z2","kubernetes.io/hostname":"n3")"),
                 {BoundPod("web", "n3", Term("podAntiAffinity", "batch", "kubernetes.io/hostname"),
                           AppLabel("web"))});
  auto n4 = Info(Node("n4", R"("kubernetes.io/hostname":"n4")"));
  auto snap = SnapshotOf({n1, n2, n3, n4});
  const std::string aff = "node(s) didn't match pod affinity rules";
  const std::string anti = "node(s) didn't match pod anti-affinity rules";
  const std::string existing = "node(s) didn't satisfy existing pods anti-affinity rules";
  struct Case {
    const char* name;
    std::string spec, meta, node, want;
  } cases[] = {
      {"affinity zone with db", Term("podAffinity", "db", "zone"), "", "n2", ""},
      {"affinity other zone", Term("podAffinity", "db", "zone"), "", "n3", aff},
      {"affinity node lacks key", Term("podAffinity", "db", "zone"), "", "n4", aff},
      {"affinity other namespace",
       Term("podAffinity", "db", "zone", R"(,"namespaces":["other"])"), "", "n1", aff},
      {"affinity via namespaceSelector {}",
       Term("podAffinity", "db", "zone", R"(,"namespaceSelector":{})"), "", "n1", ""},
      {"first of its group", Term("podAffinity", "cache", "zone"), AppLabel("cache"), "n3", ""},
      {"no match, not self", Term("podAffinity", "cache", "zone"), "", "n3", aff},
      {"anti-affinity zone with db", Term("podAntiAffinity", "db", "zone"), "", "n2", anti},
      {"anti-affinity elsewhere", Term("podAntiAffinity", "db", "zone"), "", "n3", ""},
      {"existing anti-affinity", "", AppLabel("batch"), "n3", existing},
      {"existing anti-affinity other host", "", AppLabel("batch"), "n2", ""},
  };
  for (const auto& c : cases) {
    SECTION(c.name) { CHECK(RunFilter(*plugin, *Pod("p", c.spec, c.meta), c.node, snap) == c.want); }
  }
}

TEST_CASE("InterPodAffinity score: preferred terms by domain") {
  const auto plugin = plugins::InterPodAffinityScore();
  auto snap = SnapshotOf({Info(Node("n1", R"("zone":"z1")"), {BoundPod("db", "n1", "", AppLabel("db"))}),
                          Info(Node("n2", R"("zone":"z1")")), Info(Node("n3", R"("zone":"z2")"))});
  auto pref = [](const char* kind) {
    return std::string(R"("affinity":{")") + kind +
           R"(":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":50,"podAffinityTerm":{"labelSelector":{"matchLabels":{"app":"db"}},"topologyKey":"zone"}}]}})";
  };
  CHECK(RunScore(*plugin, *Pod("p", pref("podAffinity")), snap) == std::vector<int64_t>{100, 100, 0});
  CHECK(RunScore(*plugin, *Pod("p", pref("podAntiAffinity")), snap) == std::vector<int64_t>{0, 0, 100});
}
