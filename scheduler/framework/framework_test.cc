#include "scheduler/framework/framework.h"

#include "scheduler/plugins/plugins.h"
#include "scheduler/testutil.h"

using namespace kubepp::scheduler;
using namespace kubepp::scheduler::testing;

TEST_CASE("FitError message in upstream's form, reasons sorted") {
  FitError e;
  e.num_nodes = 3;
  e.node_reasons["a"] = {"Insufficient cpu"};
  e.node_reasons["b"] = {"Insufficient cpu"};
  e.node_reasons["c"] = {"node(s) had untolerated taint {k: v}"};
  CHECK(e.Message() ==
        "0/3 nodes are available: 1 node(s) had untolerated taint {k: v}, 2 Insufficient cpu.");
  CHECK(e.DetailJson(1) ==
        R"({"nodes":3,"reasons":[{"reason":"Insufficient cpu","count":2,"nodes":["a"]},)"
        R"({"reason":"node(s) had untolerated taint {k: v}","count":1,"nodes":["c"]}]})");
  FitError empty;
  CHECK(empty.Message() == "0/0 nodes are available:");
}

TEST_CASE("numFeasibleNodesToFind: upstream's adaptive percentage") {
  Framework adaptive(plugins::DefaultProfile(), 0);
  CHECK(adaptive.NumFeasibleNodesToFind(50) == 50);
  CHECK(adaptive.NumFeasibleNodesToFind(500) == 230);     // 46%
  CHECK(adaptive.NumFeasibleNodesToFind(5000) == 500);    // 10%
  CHECK(adaptive.NumFeasibleNodesToFind(100000) == 5000); // 5% floor
  Framework fixed(plugins::DefaultProfile(), 1);
  CHECK(fixed.NumFeasibleNodesToFind(5000) == 100);       // at least 100
  Framework all(plugins::DefaultProfile(), 100);
  CHECK(all.NumFeasibleNodesToFind(5000) == 5000);
}

TEST_CASE("Schedule: filters, scores and explains") {
  Framework fw(plugins::DefaultProfile(), 0);
  auto snap = SnapshotOf({Info(Node("small", "", "", R"({"conditions":[{"type":"Ready","status":"True"}],"allocatable":{"cpu":"1","memory":"1Gi","pods":"10"}})")),
                          Info(Node("big")),
                          Info(Node("tainted", "", R"("taints":[{"key":"k","value":"v","effect":"NoSchedule"}])"))});
  auto pod = Pod("p", R"("containers":[{"name":"c","resources":{"requests":{"cpu":"2"}}}])");
  for (int i = 0; i < 5; ++i) CHECK(fw.Schedule(*pod, snap).node == "big");
  auto huge = Pod("h", R"("containers":[{"name":"c","resources":{"requests":{"cpu":"64"}}}])");
  ScheduleResult r = fw.Schedule(*huge, snap);
  CHECK(r.node.empty());
  CHECK(r.error.Message() ==
        "0/3 nodes are available: 1 node(s) had untolerated taint {k: v}, 2 Insufficient cpu.");
}

TEST_CASE("Schedule: equal nodes are chosen at random") {
  Framework fw(plugins::DefaultProfile(), 0);
  std::vector<NodeInfo> nodes;
  for (int i = 0; i < 4; ++i) nodes.push_back(Info(Node("n" + std::to_string(i))));
  auto snap = SnapshotOf(nodes);
  std::set<std::string> chosen;
  for (int i = 0; i < 200; ++i) chosen.insert(fw.Schedule(*Pod("p"), snap).node);
  CHECK(chosen.size() == 4);
}
