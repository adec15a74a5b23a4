#include "scheduler/plugins/plugins.h"
#include "scheduler/testutil.h"

using namespace kubepp::scheduler;
using namespace kubepp::scheduler::testing;

TEST_CASE("SelectorSpread: pods of one controller spread over nodes and zones") {
  const auto plugin = plugins::SelectorSpread();
  const std::string owner = R"("ownerReferences":[{"kind":"ReplicaSet","name":"rs","uid":"rs-1","controller":true}])";
  const std::string other = R"("ownerReferences":[{"kind":"ReplicaSet","name":"x","uid":"rs-2","controller":true}])";
  SECTION("nodes only") {
    auto snap = SnapshotOf({Info(Node("a"), {BoundPod("r1", "a", "", owner), BoundPod("r2", "a", "", owner)}),
                            Info(Node("b"), {BoundPod("r3", "b", "", owner)}),
                            Info(Node("c"), {BoundPod("x1", "c", "", other)})});
    CHECK(RunScore(*plugin, *Pod("p", "", owner), snap) == std::vector<int64_t>{0, 50, 100});
  }
  SECTION("zones weigh two thirds") {
    auto snap = SnapshotOf({Info(Node("a", R"("topology.kubernetes.io/zone":"z1")"), {BoundPod("r1", "a", "", owner)}),
                            Info(Node("b", R"("topology.kubernetes.io/zone":"z1")")),
                            Info(Node("c", R"("topology.kubernetes.io/zone":"z2")"))});
    auto s = RunScore(*plugin, *Pod("p", "", owner), snap);
    CHECK(s[0] == 0);
    CHECK(s[1] == 33);
    CHECK(s[2] == 100);
  }
  SECTION("pods without a controller are not spread") {
    auto snap = SnapshotOf({Info(Node("a"), {BoundPod("r1", "a", "", owner)}), Info(Node("b"))});
    CHECK(RunScore(*plugin, *Pod("p"), snap) == std::vector<int64_t>{0, 0});
  }
}
