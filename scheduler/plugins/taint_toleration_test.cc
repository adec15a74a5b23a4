#include "scheduler/plugins/plugins.h"
#include "scheduler/testutil.h"

using namespace kubepp::scheduler;
using namespace kubepp::scheduler::testing;

TEST_CASE("TaintToleration filter: NoSchedule and NoExecute must be tolerated") {
  const auto plugin = plugins::TaintToleration();
  const std::string taint = R"("taints":[{"key":"k","value":"v","effect":"NoSchedule"}])";
  struct Case {
    const char* name;
    std::string node_spec, pod_spec, want;
  } cases[] = {
      {"no taints", "", "", ""},
      {"untolerated", taint, "", "node(s) had untolerated taint {k: v}"},
      {"Equal toleration", taint,
       R"("tolerations":[{"key":"k","operator":"Equal","value":"v","effect":"NoSchedule"}])", ""},
      {"wrong value", taint, R"("tolerations":[{"key":"k","value":"x"}])",
       "node(s) had untolerated taint {k: v}"},
      {"Exists, any effect", taint, R"("tolerations":[{"key":"k","operator":"Exists"}])", ""},
      {"empty key Exists tolerates all", taint, R"("tolerations":[{"operator":"Exists"}])", ""},
      {"other effect", taint,
       R"("tolerations":[{"key":"k","operator":"Exists","effect":"NoExecute"}])",
       "node(s) had untolerated taint {k: v}"},
      {"NoExecute", R"("taints":[{"key":"e","value":"","effect":"NoExecute"}])", "",
       "node(s) had untolerated taint {e: }"},
      {"PreferNoSchedule does not filter",
       R"("taints":[{"key":"k","value":"v","effect":"PreferNoSchedule"}])", "", ""},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      auto snap = SnapshotOf({Info(Node("n", "", c.node_spec))});
      CHECK(RunFilter(*plugin, *Pod("p", c.pod_spec), "n", snap) == c.want);
    }
  }
}

TEST_CASE("TaintToleration score: fewer untolerated PreferNoSchedule taints win") {
  const auto plugin = plugins::TaintTolerationScore();
  auto prefer = [](const char* k) {
    return std::string(R"({"key":")") + k + R"(","value":"","effect":"PreferNoSchedule"})";
  };
  auto snap = SnapshotOf({Info(Node("none")),
                          Info(Node("one", "", R"("taints":[)" + prefer("a") + "]")),
                          Info(Node("two", "", R"("taints":[)" + prefer("a") + "," + prefer("b") + "]"))});
  CHECK(RunScore(*plugin, *Pod("p"), snap) == std::vector<int64_t>{100, 50, 0});
  auto tolerant = Pod("t", R"("tolerations":[{"key":"a","operator":"Exists","effect":"PreferNoSchedule"}])");
  CHECK(RunScore(*plugin, *tolerant, snap) == std::vector<int64_t>{100, 100, 0});
}
