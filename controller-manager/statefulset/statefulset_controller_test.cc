#include "controller-manager/statefulset/statefulset_controller.h"

#include <catch2/catch.hpp>

#include "controller-manager/framework/testing.h"

namespace kubepp::controller {
namespace {

using client::kPods;
using client::kStatefulSets;
using testing::Env;
using testing::Json;

struct Fixture {
  Fixture()
      : ssc(env.Own(std::make_unique<StatefulSetController>(&env.fake, &env.informers,
                                                           &env.clock, &env.events))) {
    env.Watch(kStatefulSets);
    env.Watch(kPods);
    env.Start();
  }
  void Create(int replicas, const std::string& extra_spec = "") {
    env.Create(kStatefulSets, R"({"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"db","namespace":"ns","generation":1},
        "spec":{"replicas":)" + std::to_string(replicas) +
                                  R"(,"serviceName":"db","selector":{"matchLabels":{"app":"db"}},
                "template":{"metadata":{"labels":{"app":"db"}},"spec":{"containers":[{"name":"c","image":"v1"}]}})" +
                                  extra_spec + "}}");
  }
  Status Sync() {
    env.Settle();
    Status st = ssc.Sync("ns/db");
    env.Settle();
    return st;
  }
  // name -> image, for pods that exist.
  std::map<std::string, std::string> Pods() {
    std::map<std::string, std::string> out;
    for (auto& p : env.List(kPods, "ns")) {
      out[api::GetString(p, "metadata.name")] =
          api::GetString((*api::Find(p, "spec.containers"))[0], "image");
    }
    return out;
  }
  void MarkReady() {
    for (auto& p : env.List(kPods, "ns")) {
      auto& a = p.GetAllocator();
      api::SetString(p, "status.phase", "Running", a);
      api::SetValue(p, "status.conditions", api::Value(Json(R"([{"type":"Ready","status":"True"}])"), a), a);
      REQUIRE(env.fake.UpdateStatus(kPods, "", p).ok());
    }
  }
  void Patch(const std::string& merge) {
    REQUIRE(env.fake.Patch(kStatefulSets, "ns", "db", client::PatchType::kMerge, merge).ok());
  }
  using M = std::map<std::string, std::string>;
  Env env;
  StatefulSetController& ssc;
};

TEST_CASE("statefulset: OrderedReady creates one ordinal at a time") {
  Fixture f;
  f.Create(3);
  REQUIRE(f.Sync().ok());
  CHECK(f.Pods() == Fixture::M{{"db-0", "v1"}});
  auto pod = f.env.Get(kPods, "ns", "db-0");
  CHECK(api::GetString(pod, "spec.hostname") == "db-0");
  CHECK(api::GetString(pod, "spec.subdomain") == "db");
  CHECK(api::GetStringMap(pod, "metadata.labels")["statefulset.kubernetes.io/pod-name"] == "db-0");
  REQUIRE(f.Sync().ok());  // db-0 is not ready yet: wait
  CHECK(f.Pods().size() == 1);
  f.MarkReady();
  REQUIRE(f.Sync().ok());
  CHECK(f.Pods().size() == 2);
  f.MarkReady();
  REQUIRE(f.Sync().ok());
  f.MarkReady();
  REQUIRE(f.Sync().ok());
  CHECK(f.Pods() == Fixture::M{{"db-0", "v1"}, {"db-1", "v1"}, {"db-2", "v1"}});
  auto sts = f.env.Get(kStatefulSets, "ns", "db");
  CHECK(api::GetInt(sts, "status.readyReplicas") == 3);
  CHECK(api::GetString(sts, "status.currentRevision") == api::GetString(sts, "status.updateRevision"));
  // Scale down: the highest ordinal goes first.
  f.Patch(R"({"spec":{"replicas":1}})");
  REQUIRE(f.Sync().ok());
  CHECK(f.Pods() == Fixture::M{{"db-0", "v1"}, {"db-1", "v1"}});
  REQUIRE(f.Sync().ok());
  CHECK(f.Pods() == Fixture::M{{"db-0", "v1"}});
}

TEST_CASE("statefulset: Parallel, and a rolling update down to the partition") {
  Fixture f;
  f.Create(3, R"(,"podManagementPolicy":"Parallel","updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":1}})");
  REQUIRE(f.Sync().ok());
  CHECK(f.Pods().size() == 3);  // all at once
  f.MarkReady();
  f.Patch(R"({"spec":{"template":{"spec":{"containers":[{"name":"c","image":"v2"}]}}}})");
  REQUIRE(f.Sync().ok());  // db-2 goes first
  CHECK(f.Pods() == Fixture::M{{"db-0", "v1"}, {"db-1", "v1"}});
  REQUIRE(f.Sync().ok());
  CHECK(f.Pods() == Fixture::M{{"db-0", "v1"}, {"db-1", "v1"}, {"db-2", "v2"}});
  REQUIRE(f.Sync().ok());  // db-2 not ready yet: db-1 waits
  CHECK(f.Pods().count("db-1") == 1);
  f.MarkReady();
  REQUIRE(f.Sync().ok());
  REQUIRE(f.Sync().ok());
  f.MarkReady();
  REQUIRE(f.Sync().ok());
  // db-0 is below the partition and keeps the old template.
  CHECK(f.Pods() == Fixture::M{{"db-0", "v1"}, {"db-1", "v2"}, {"db-2", "v2"}});
  auto sts = f.env.Get(kStatefulSets, "ns", "db");
  CHECK(api::GetInt(sts, "status.updatedReplicas") == 2);
  CHECK(api::GetString(sts, "status.currentRevision") != api::GetString(sts, "status.updateRevision"));
}

}  // namespace
}  // namespace kubepp::controller
