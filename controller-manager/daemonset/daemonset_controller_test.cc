#include "controller-manager/daemonset/daemonset_controller.h"

#include <catch2/catch.hpp>

#include "controller-manager/framework/testing.h"

namespace kubepp::controller {
namespace {

using client::kDaemonSets;
using client::kNodes;
using client::kPods;
using testing::Env;
using testing::Json;

TEST_CASE("daemonset: which nodes a daemon belongs on") {
  auto tmpl = Json(R"({"spec":{"nodeSelector":{"disk":"ssd"},"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"zone","operator":"In","values":["a","b"]}]},{"matchFields":[{"key":"metadata.name","operator":"In","values":["special"]}]}]}}}}})");
  struct Case {
    std::string node;
    bool want;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"metadata":{"name":"n","labels":{"disk":"ssd","zone":"a"}}})", true},
           {R"({"metadata":{"name":"n","labels":{"disk":"hdd","zone":"a"}}})", false},
           {R"({"metadata":{"name":"n","labels":{"disk":"ssd","zone":"c"}}})", false},
           {R"({"metadata":{"name":"special","labels":{"disk":"ssd"}}})", true},
           // Tainted: only tolerated taints (the daemon defaults cover not-ready etc.).
           {R"({"metadata":{"name":"n","labels":{"disk":"ssd","zone":"b"}},"spec":{"taints":[{"key":"dedicated","effect":"NoSchedule"}]}})", false},
           {R"({"metadata":{"name":"n","labels":{"disk":"ssd","zone":"b"}},"spec":{"taints":[{"key":"node.kubernetes.io/unreachable","effect":"NoExecute"},{"key":"x","effect":"PreferNoSchedule"}]}})", true},
       }) {
    INFO(c.node);
    CHECK(DaemonShouldRun(tmpl, Json(c.node)) == c.want);
  }
}

struct Fixture {
  Fixture()
      : dsc(env.Own(std::make_unique<DaemonSetController>(&env.fake, &env.informers, &env.clock,
                                                         &env.events))) {
    for (auto ref : {kDaemonSets, kNodes, kPods, client::kControllerRevisions}) env.Watch(ref);
    env.Start();
  }
  Status Sync() {
    env.Settle();
    Status st = dsc.Sync("ns/ds");
    env.Settle();
    return st;
  }
  void AddNode(const std::string& name, const std::string& labels = "{}") {
    env.Create(kNodes, R"({"apiVersion":"v1","kind":"Node","metadata":{"name":")" + name +
                           R"(","labels":)" + labels + "}}");
  }
  // node -> image of its daemon pod(s), comma-separated
  std::map<std::string, std::string> Placement() {
    std::map<std::string, std::string> out;
    for (auto& p : env.List(kPods, "ns")) {
      auto& slot = out[api::GetString(p, "spec.nodeName")];
      slot += (slot.empty() ? "" : ",") + api::GetString((*api::Find(p, "spec.containers"))[0], "image");
    }
    return out;
  }
  void MarkAllReady() {
    for (auto& p : env.List(kPods, "ns")) {
      auto& a = p.GetAllocator();
      api::SetString(p, "status.phase", "Running", a);
      api::SetValue(p, "status.conditions", api::Value(Json(R"([{"type":"Ready","status":"True"}])"), a), a);
      REQUIRE(env.fake.UpdateStatus(kPods, "", p).ok());
    }
  }
  Env env;
  DaemonSetController& dsc;
};

TEST_CASE("daemonset: one pod per eligible node, rolled out within maxUnavailable") {
  Fixture f;
  f.AddNode("a", R"({"role":"worker"})");
  f.AddNode("b", R"({"role":"worker"})");
  f.AddNode("c", R"({"role":"control"})");
  f.env.Create(kDaemonSets, R"({"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"ds","namespace":"ns","generation":1},
      "spec":{"selector":{"matchLabels":{"app":"d"}},"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1}},
              "template":{"metadata":{"labels":{"app":"d"}},"spec":{"nodeSelector":{"role":"worker"},"containers":[{"name":"c","image":"v1"}]}}}})");
  REQUIRE(f.Sync().ok());
  CHECK(f.Placement() == std::map<std::string, std::string>{{"a", "v1"}, {"b", "v1"}});
  // A node joins the workers: it gets a daemon too.
  auto c = f.env.Get(kNodes, "", "c");
  api::SetString(c, "metadata.labels.role", "worker", c.GetAllocator());
  REQUIRE(f.env.fake.Update(kNodes, "", c).ok());
  REQUIRE(f.Sync().ok());
  CHECK(f.Placement().size() == 3);
  f.MarkAllReady();
  REQUIRE(f.Sync().ok());
  auto ds = f.env.Get(kDaemonSets, "ns", "ds");
  CHECK(api::GetInt(ds, "status.desiredNumberScheduled") == 3);
  CHECK(api::GetInt(ds, "status.numberReady") == 3);
  CHECK(api::GetInt(ds, "status.updatedNumberScheduled") == 3);

  // New template: one node at a time.
  auto& container = (*api::FindMutable(ds, "spec.template.spec.containers"))[0];
  api::SetString(container, "image", "v2", ds.GetAllocator());
  REQUIRE(f.env.fake.Update(kDaemonSets, "", ds).ok());
  for (int round = 1; round <= 3; ++round) {
    REQUIRE(f.Sync().ok());  // deletes one old pod
    REQUIRE(f.Sync().ok());  // recreates it from the new template
    int v2 = 0, total = 0;
    for (auto& [node, image] : f.Placement()) {
      v2 += image == "v2";
      ++total;
    }
    CHECK(total == 3);
    CHECK(v2 == round);
    f.MarkAllReady();
  }
  REQUIRE(f.Sync().ok());
  CHECK(api::GetInt(f.env.Get(kDaemonSets, "ns", "ds"), "status.updatedNumberScheduled") == 3);
}

TEST_CASE("daemonset: maxSurge starts the new pod beside the old one, which goes when it is ready") {
  Fixture f;
  f.AddNode("a");
  f.AddNode("b");
  f.env.Create(kDaemonSets, R"({"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"ds","namespace":"ns","generation":1},
      "spec":{"selector":{"matchLabels":{"app":"d"}},
              "updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1,"maxUnavailable":0}},
              "template":{"metadata":{"labels":{"app":"d"}},"spec":{"containers":[{"name":"c","image":"v1"}]}}}})");
  REQUIRE(f.Sync().ok());
  f.MarkAllReady();
  REQUIRE(f.Sync().ok());
  auto ds = f.env.Get(kDaemonSets, "ns", "ds");
  auto& container = (*api::FindMutable(ds, "spec.template.spec.containers"))[0];
  api::SetString(container, "image", "v2", ds.GetAllocator());
  REQUIRE(f.env.fake.Update(kDaemonSets, "", ds).ok());

  REQUIRE(f.Sync().ok());  // one node surges: old and new side by side
  auto placement = f.Placement();
  int surging = 0;
  for (auto& [node, images] : placement) surging += images == "v1,v2" || images == "v2,v1";
  CHECK(surging == 1);
  CHECK(placement.size() == 2);
  REQUIRE(f.Sync().ok());  // the new pod is not ready yet: nothing more happens
  CHECK(f.Placement() == placement);
  CHECK(api::GetInt(f.env.Get(kDaemonSets, "ns", "ds"), "status.numberAvailable") == 2);

  f.MarkAllReady();
  REQUIRE(f.Sync().ok());  // old pod of the surged node goes; the next node surges
  REQUIRE(f.Sync().ok());
  f.MarkAllReady();
  REQUIRE(f.Sync().ok());
  REQUIRE(f.Sync().ok());
  CHECK(f.Placement() == std::map<std::string, std::string>{{"a", "v2"}, {"b", "v2"}});
  CHECK(api::GetInt(f.env.Get(kDaemonSets, "ns", "ds"), "status.updatedNumberScheduled") == 2);
}

TEST_CASE("daemonset: a ControllerRevision per template, its hash on the pods") {
  Fixture f;
  f.AddNode("a");
  f.env.Create(kDaemonSets, R"({"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"ds","namespace":"ns","generation":1},
      "spec":{"selector":{"matchLabels":{"app":"d"}},"revisionHistoryLimit":0,"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1}},
              "template":{"metadata":{"labels":{"app":"d"}},"spec":{"containers":[{"name":"c","image":"v1"}]}}}})");
  REQUIRE(f.Sync().ok());
  auto revs = f.env.List(client::kControllerRevisions, "ns");
  REQUIRE(revs.size() == 1);
  std::string hash = api::GetStringMap(revs[0], "metadata.labels")["controller-revision-hash"];
  CHECK(api::GetString(revs[0], "metadata.name") == "ds-" + hash);
  CHECK(api::GetInt(revs[0], "revision") == 1);
  CHECK(api::GetString((*api::Find(revs[0], "metadata.ownerReferences"))[0], "kind") == "DaemonSet");
  auto pods = f.env.List(kPods, "ns");
  REQUIRE(pods.size() == 1);
  CHECK(api::GetStringMap(pods[0], "metadata.labels")["controller-revision-hash"] == hash);
  f.MarkAllReady();
  auto ds = f.env.Get(kDaemonSets, "ns", "ds");
  api::SetString((*api::FindMutable(ds, "spec.template.spec.containers"))[0], "image", "v2",
                 ds.GetAllocator());
  REQUIRE(f.env.fake.Update(kDaemonSets, "", ds).ok());
  REQUIRE(f.Sync().ok());
  // Both revisions live while the old pod runs; once replaced, the limit of 0 drops the old.
  CHECK(f.env.List(client::kControllerRevisions, "ns").size() == 2);
  for (int i = 0; i < 4; ++i) {
    f.MarkAllReady();
    REQUIRE(f.Sync().ok());
  }
  CHECK(f.Placement() == std::map<std::string, std::string>{{"a", "v2"}});
  revs = f.env.List(client::kControllerRevisions, "ns");
  REQUIRE(revs.size() == 1);
  CHECK(api::GetInt(revs[0], "revision") == 2);
}

}  // namespace
}  // namespace kubepp::controller
