#include "scheduler/plugins/plugins.h"
#include "scheduler/testutil.h"

using namespace kubepp::scheduler;
using namespace kubepp::scheduler::testing;

namespace {
std::string Spread(int skew, const char* when, const std::string& extra = "") {
  return R"("topologySpreadConstraints":[{"maxSkew":)" + std::to_string(skew) +
         R"(,"topologyKey":"zone","whenUnsatisfiable":")" + when +
         R"(","labelSelector":{"matchLabels":{"app":"s"}})" + extra + "}]";
}
const std::string kLabels = R"("labels":{"app":"s"})";
}  // namespace

TEST_CASE("PodTopologySpread filter: DoNotSchedule keeps the skew") {
  const auto plugin = plugins::PodTopologySpread();
  // z1 has two matching pods, z2 one, z3 none; n-nozone has no zone label.
  auto snap = SnapshotOf({
      Info(Node("a", R"("zone":"z1")"), {BoundPod("s1", "a", "", kLabels), BoundPod("s2", "a", "", kLabels)}),
      Info(Node("b", R"("zone":"z2")"), {BoundPod("s3", "b", "", kLabels)}),
      Info(Node("c", R"("zone":"z3")"), {BoundPod("other", "c")}),
      Info(Node("nozone")),
  });
  const std::string skew = "node(s) didn't match pod topology spread constraints";
  struct Case {
    const char* name;
    std::string spec, node, want;
  } cases[] = {
      {"emptiest zone", Spread(1, "DoNotSchedule"), "c", ""},
      {"skew 2 > 1", Spread(1, "DoNotSchedule"), "b", skew},
      {"skew 3 > 2", Spread(2, "DoNotSchedule"), "a", skew},
      {"skew 2 <= 2", Spread(2, "DoNotSchedule"), "b", ""},
      {"missing label", Spread(1, "DoNotSchedule"), "nozone", skew + " (missing required label)"},
      {"ScheduleAnyway does not filter", Spread(1, "ScheduleAnyway"), "a", ""},
      {"minDomains above domains: min is 0", Spread(2, "DoNotSchedule", R"(,"minDomains":5)"), "b", ""},
      {"minDomains above domains: skew 3 > 2", Spread(2, "DoNotSchedule", R"(,"minDomains":5)"), "a", skew},
      {"node affinity narrows domains",
       Spread(1, "DoNotSchedule") + R"(,"nodeSelector":{"zone":"z2"})", "b", ""},
  };
  for (const auto& c : cases) {
    SECTION(c.name) { CHECK(RunFilter(*plugin, *Pod("p", c.spec, kLabels), c.node, snap) == c.want); }
  }
}

TEST_CASE("PodTopologySpread score: ScheduleAnyway prefers emptier domains") {
  const auto plugin = plugins::PodTopologySpreadScore();
  auto snap = SnapshotOf({
      Info(Node("a", R"("zone":"z1")"), {BoundPod("s1", "a", "", kLabels), BoundPod("s2", "a", "", kLabels)}),
      Info(Node("b", R"("zone":"z2")"), {BoundPod("s3", "b", "", kLabels)}),
      Info(Node("c", R"("zone":"z3")")),
      Info(Node("nozone")),
  });
  auto scores = RunScore(*plugin, *Pod("p", Spread(1, "ScheduleAnyway"), kLabels), snap);
  CHECK(scores[2] == 100);
  CHECK(scores[2] > scores[1]);
  CHECK(scores[1] > scores[0]);
  CHECK(scores[3] == 0);
}
