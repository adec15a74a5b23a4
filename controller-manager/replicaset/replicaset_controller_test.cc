#include "controller-manager/replicaset/replicaset_controller.h"

#include <catch2/catch.hpp>

#include "controller-manager/framework/conditions.h"
#include "controller-manager/framework/testing.h"
#include "common/util/time.h"

namespace kubepp::controller {
namespace {

using client::kPods;
using client::kReplicaSets;
using testing::Env;

std::string Rs(const std::string& name, int replicas, int min_ready = 0) {
  return R"({"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":")" + name +
         R"(","namespace":"ns","generation":3},"spec":{"replicas":)" + std::to_string(replicas) +
         R"(,"minReadySeconds":)" + std::to_string(min_ready) +
         R"(,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web","tier":"fe"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}})";
}

// A pod; `ready_since` 0 means not ready.
std::string Pod(const std::string& name, const std::string& labels, const std::string& node,
                int64_t ready_since, const std::string& owner_refs = "[]",
                const std::string& created = "2024-01-01T00:00:00Z") {
  std::string cond = ready_since == 0 ? "False" : "True";
  return R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name +
         R"(","namespace":"ns","creationTimestamp":")" + created + R"(","labels":)" + labels +
         R"(,"ownerReferences":)" + owner_refs + R"(},"spec":{"nodeName":")" + node +
         R"("},"status":{"phase":"Running","conditions":[{"type":"Ready","status":")" + cond +
         R"(","lastTransitionTime":")" + util::FormatRfc3339(ready_since) + R"("}]}})";
}

std::string OwnedBy(const api::Value& rs) {
  return R"([{"apiVersion":"apps/v1","kind":"ReplicaSet","name":")" +
         api::GetString(rs, "metadata.name") + R"(","uid":")" + api::GetString(rs, "metadata.uid") +
         R"(","controller":true}])";
}

struct Fixture {
  Fixture()
      : rsc(env.Own(std::make_unique<ReplicaSetController>(&env.fake, &env.informers,
                                                            &env.clock, &env.events))) {
    env.Watch(kPods);
    env.Watch(kReplicaSets);
    env.Start();
  }
  Status Sync(const std::string& key = "ns/web") {
    env.Settle();
    Status st = rsc.Sync(key);
    env.Settle();
    return st;
  }
  std::vector<std::string> PodNames() {
    std::vector<std::string> names;
    for (auto& p : env.List(kPods, "ns")) names.push_back(api::GetString(p, "metadata.name"));
    std::sort(names.begin(), names.end());
    return names;
  }
  Env env;
  ReplicaSetController& rsc;
};

TEST_CASE("replicaset: creates pods from the template with a controller reference") {
  Fixture f;
  auto rs = f.env.Create(kReplicaSets, Rs("web", 3));
  REQUIRE(f.Sync().ok());
  auto pods = f.env.List(kPods, "ns");
  REQUIRE(pods.size() == 3);
  for (auto& p : pods) {
    auto ref = ControllerOf(p);
    REQUIRE(ref);
    CHECK(ref->uid == api::GetString(rs, "metadata.uid"));
    CHECK(ref->kind == "ReplicaSet");
    CHECK(api::GetString(p, "metadata.labels.tier") == "fe");
    CHECK(api::GetString(p, "spec.containers.0.image").empty());  // arrays are not paths
    CHECK(api::ToJson(*api::Find(p, "spec.containers")) == R"([{"name":"c","image":"nginx"}])");
  }
  // The status counts the pods the cache had; the next sync (their add events enqueue
  // it) sees the new ones and creates nothing more.
  REQUIRE(f.Sync().ok());
  CHECK(f.env.List(kPods, "ns").size() == 3);
  auto got = f.env.Get(kReplicaSets, "ns", "web");
  CHECK(api::GetInt(got, "status.replicas") == 3);
  CHECK(api::GetInt(got, "status.fullyLabeledReplicas") == 3);
  CHECK(api::GetInt(got, "status.readyReplicas") == 0);
  CHECK(api::GetInt(got, "status.observedGeneration") == 3);
}

TEST_CASE("replicaset: expectations stop a second round of creations until they are seen") {
  Fixture f;
  f.env.Create(kReplicaSets, Rs("web", 2));
  f.rsc.expectations().ExpectCreations("ns/web", 2);  // as if a sync just created two
  REQUIRE(f.Sync().ok());
  CHECK(f.env.List(kPods, "ns").empty());
  f.rsc.expectations().CreationObserved("ns/web");
  f.rsc.expectations().CreationObserved("ns/web");
  REQUIRE(f.Sync().ok());
  CHECK(f.env.List(kPods, "ns").size() == 2);
}

TEST_CASE("replicaset: scale down deletes unscheduled, then not ready, then newest pods") {
  Fixture f;
  auto rs = f.env.Create(kReplicaSets, Rs("web", 5));
  std::string labels = R"({"app":"web","tier":"fe"})";
  int64_t t = f.env.clock.NowUnix() - 1000;
  f.env.Create(kPods, Pod("a-ready-old", labels, "n1", t, OwnedBy(rs), "2024-01-01T00:00:00Z"));
  f.env.Create(kPods, Pod("b-ready-new", labels, "n1", t, OwnedBy(rs), "2024-01-02T00:00:00Z"));
  f.env.Create(kPods, Pod("c-not-ready", labels, "n1", 0, OwnedBy(rs)));
  f.env.Create(kPods, Pod("d-unscheduled", labels, "", 0, OwnedBy(rs)));
  f.env.Create(kPods, Pod("e-ready-recently", labels, "n1", t + 500, OwnedBy(rs)));
  struct Case {
    int replicas;
    std::vector<std::string> left;
  };
  for (const Case& c : std::vector<Case>{
           {4, {"a-ready-old", "b-ready-new", "c-not-ready", "e-ready-recently"}},
           {3, {"a-ready-old", "b-ready-new", "e-ready-recently"}},
           {2, {"a-ready-old", "b-ready-new"}},
           {1, {"a-ready-old"}},
       }) {
    auto cur = f.env.Get(kReplicaSets, "ns", "web");
    api::SetInt(cur, "spec.replicas", c.replicas, cur.GetAllocator());
    REQUIRE(f.env.fake.Update(kReplicaSets, "", cur).ok());
    REQUIRE(f.Sync().ok());
    CHECK(f.PodNames() == c.left);
  }
}

TEST_CASE("replicaset: adopts matching orphans and releases pods that stop matching") {
  Fixture f;
  auto rs = f.env.Create(kReplicaSets, Rs("web", 2));
  f.env.Create(kPods, Pod("orphan", R"({"app":"web"})", "n1", 0));
  f.env.Create(kPods, Pod("owned-but-relabeled", R"({"app":"db"})", "n1", 0, OwnedBy(rs)));
  f.env.Create(kPods, Pod("other", R"({"app":"db"})", "n1", 0));
  REQUIRE(f.Sync().ok());
  auto orphan = f.env.Get(kPods, "ns", "orphan");
  REQUIRE(ControllerOf(orphan));
  CHECK(ControllerOf(orphan)->uid == api::GetString(rs, "metadata.uid"));
  CHECK_FALSE(ControllerOf(f.env.Get(kPods, "ns", "owned-but-relabeled")));
  CHECK_FALSE(ControllerOf(f.env.Get(kPods, "ns", "other")));
  // One adopted, one created: two pods carry the app=web label.
  int web = 0;
  for (auto& p : f.env.List(kPods, "ns")) web += api::GetString(p, "metadata.labels.app") == "web";
  CHECK(web == 2);
  // Pods controlled by another owner are left alone.
  f.env.Create(kPods, Pod("foreign", R"({"app":"web"})", "n1", 0,
                          R"([{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"x","uid":"other","controller":true}])"));
  REQUIRE(f.Sync().ok());
  CHECK(ControllerOf(f.env.Get(kPods, "ns", "foreign"))->uid == "other");
}

TEST_CASE("replicaset: availableReplicas honours minReadySeconds") {
  Fixture f;
  auto rs = f.env.Create(kReplicaSets, Rs("web", 2, 30));
  std::string labels = R"({"app":"web","tier":"fe"})";
  int64_t now = f.env.clock.NowUnix();
  f.env.Create(kPods, Pod("p1", labels, "n1", now - 100, OwnedBy(rs)));
  f.env.Create(kPods, Pod("p2", labels, "n1", now - 10, OwnedBy(rs)));
  REQUIRE(f.Sync().ok());
  auto got = f.env.Get(kReplicaSets, "ns", "web");
  CHECK(api::GetInt(got, "status.readyReplicas") == 2);
  CHECK(api::GetInt(got, "status.availableReplicas") == 1);
  f.env.clock.Advance(25);
  REQUIRE(f.Sync().ok());
  CHECK(api::GetInt(f.env.Get(kReplicaSets, "ns", "web"), "status.availableReplicas") == 2);
}

TEST_CASE("replicaset: a failed creation is a ReplicaFailure condition and an event") {
  Fixture f;
  f.env.Create(kReplicaSets, Rs("web", 3));
  f.env.Settle();
  f.env.fake.FailNext("create", Status(Code::kForbidden, "exceeded quota"), 1);
  Status st = f.Sync();
  CHECK(st.code() == Code::kForbidden);
  CHECK(f.env.events.Has("FailedCreate"));
  auto got = f.env.Get(kReplicaSets, "ns", "web");
  const api::Value* cond = FindCondition(*api::Find(got, "status"), "ReplicaFailure");
  REQUIRE(cond != nullptr);
  CHECK(api::GetString(*cond, "reason") == "FailedCreate");
  // The slow start stopped after the first failed batch of one: nothing was created, and
  // the expectations do not wait for creations that never happened.
  CHECK(f.env.List(kPods, "ns").empty());
  REQUIRE(f.Sync().ok());
  CHECK(f.env.List(kPods, "ns").size() == 3);
  CHECK(FindCondition(*api::Find(f.env.Get(kReplicaSets, "ns", "web"), "status"),
                      "ReplicaFailure") == nullptr);
}

}  // namespace
}  // namespace kubepp::controller
