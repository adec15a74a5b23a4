#include "scheduler/plugins/plugins.h"
#include "scheduler/testutil.h"

using namespace kubepp::scheduler;
using namespace kubepp::scheduler::testing;

TEST_CASE("NodeUnschedulable: readiness and cordon, unless tolerated") {
  const auto plugin = plugins::NodeUnschedulable();
  const std::string not_ready = R"({"conditions":[{"type":"Ready","status":"False"}]})";
  struct Case {
    const char* name;
    std::string node_spec, node_status, pod_spec, want;
  } cases[] = {
      {"ready node", "", "", "", ""},
      {"not ready", "", not_ready, "",
       "node(s) had untolerated taint {node.kubernetes.io/not-ready: }"},
      {"no conditions at all", "", R"({})", "",
       "node(s) had untolerated taint {node.kubernetes.io/not-ready: }"},
      {"not ready, tolerated", "", not_ready,
       R"("tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists"}])", ""},
      {"cordoned", R"("unschedulable":true)", "", "", "node(s) were unschedulable"},
      {"cordoned, tolerated", R"("unschedulable":true)", "",
       R"("tolerations":[{"key":"node.kubernetes.io/unschedulable","operator":"Exists","effect":"NoSchedule"}])",
       ""},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      auto snap = SnapshotOf({Info(Node("n", "", c.node_spec, c.node_status))});
      CHECK(RunFilter(*plugin, *Pod("p", c.pod_spec), "n", snap) == c.want);
    }
  }
}
