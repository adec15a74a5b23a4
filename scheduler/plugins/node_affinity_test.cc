#include "scheduler/plugins/plugins.h"
#include "scheduler/testutil.h"

using namespace kubepp::scheduler;
using namespace kubepp::scheduler::testing;

namespace {
std::string Required(const std::string& terms) {
  return R"("affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[)" +
         terms + "]}}}";
}
std::string Expr(const char* key, const char* op, const std::string& values = "") {
  return std::string(R"({"key":")") + key + R"(","operator":")" + op + "\"" +
         (values.empty() ? "" : ",\"values\":[" + values + "]") + "}";
}
}  // namespace

TEST_CASE("NodeAffinity filter: nodeSelector and required terms") {
  const auto plugin = plugins::NodeAffinity();
  const std::string miss = "node(s) didn't match Pod's node affinity/selector";
  auto snap = SnapshotOf({Info(Node("n", R"("disk":"ssd","gen":"5","zone":"a")"))});
  struct Case {
    const char* name;
    std::string pod_spec, want;
  } cases[] = {
      {"nothing asked", "", ""},
      {"selector matches", R"("nodeSelector":{"disk":"ssd"})", ""},
      {"selector misses", R"("nodeSelector":{"disk":"hdd"})", miss},
      {"In", Required(R"({"matchExpressions":[)" + Expr("zone", "In", R"("a","b")") + "]}"), ""},
      {"NotIn", Required(R"({"matchExpressions":[)" + Expr("zone", "NotIn", R"("a")") + "]}"), miss},
      {"Exists", Required(R"({"matchExpressions":[)" + Expr("disk", "Exists") + "]}"), ""},
      {"DoesNotExist", Required(R"({"matchExpressions":[)" + Expr("gpu", "DoesNotExist") + "]}"), ""},
      {"Gt", Required(R"({"matchExpressions":[)" + Expr("gen", "Gt", R"("4")") + "]}"), ""},
      {"Lt fails", Required(R"({"matchExpressions":[)" + Expr("gen", "Lt", R"("5")") + "]}"), miss},
      {"expressions ANDed",
       Required(R"({"matchExpressions":[)" + Expr("zone", "In", R"("a")") + "," +
                Expr("disk", "In", R"("hdd")") + "]}"),
       miss},
      {"terms ORed",
       Required(R"({"matchExpressions":[)" + Expr("zone", "In", R"("b")") +
                R"(]},{"matchExpressions":[)" + Expr("disk", "In", R"("ssd")") + "]}"),
       ""},
      {"matchFields name", Required(R"({"matchFields":[{"key":"metadata.name","operator":"In","values":["n"]}]})"), ""},
      {"empty term matches nothing", Required("{}"), miss},
      {"selector and affinity both needed",
       R"("nodeSelector":{"disk":"hdd"},)" +
           Required(R"({"matchExpressions":[)" + Expr("zone", "In", R"("a")") + "]}"),
       miss},
  };
  for (const auto& c : cases) {
    SECTION(c.name) { CHECK(RunFilter(*plugin, *Pod("p", c.pod_spec), "n", snap) == c.want); }
  }
}

TEST_CASE("NodeAffinity score: weights of matching preferred terms, normalised") {
  const auto plugin = plugins::NodeAffinityScore();
  auto snap = SnapshotOf({Info(Node("a", R"("zone":"a")")), Info(Node("b", R"("zone":"b")")),
                          Info(Node("c"))});
  auto pod = Pod("p", R"("affinity":{"nodeAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[)"
                      R"({"weight":10,"preference":{"matchExpressions":[{"key":"zone","operator":"In","values":["a"]}]}},)"
                      R"({"weight":5,"preference":{"matchExpressions":[{"key":"zone","operator":"Exists"}]}}]}})");
  CHECK(RunScore(*plugin, *pod, snap) == std::vector<int64_t>{100, 33, 0});
  CHECK(RunScore(*plugin, *Pod("plain"), snap) == std::vector<int64_t>{0, 0, 0});
}
