#include "scheduler/plugins/plugins.h"
#include "scheduler/testutil.h"

using namespace kubepp::scheduler;
using namespace kubepp::scheduler::testing;

TEST_CASE("NodeName: a named node is the only fit") {
  const auto plugin = plugins::NodeName();
  auto snap = SnapshotOf({Info(Node("a")), Info(Node("b"))});
  struct Case {
    const char* name;
    std::string pod_spec, node, want;
  } cases[] = {
      {"no name", "", "a", ""},
      {"named node", R"("nodeName":"a")", "a", ""},
      {"other node", R"("nodeName":"a")", "b", "node(s) didn't match the requested node name"},
  };
  for (const auto& c : cases) {
    SECTION(c.name) { CHECK(RunFilter(*plugin, *Pod("p", c.pod_spec), c.node, snap) == c.want); }
  }
}
