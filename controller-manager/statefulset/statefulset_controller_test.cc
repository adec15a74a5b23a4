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
    env.Watch(client::kPersistentVolumeClaims);
    env.Watch(client::kControllerRevisions);
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

// name -> revision number of the set's ControllerRevisions.
std::map<std::string, int64_t> Revisions(Env& env) {
  std::map<std::string, int64_t> out;
  for (auto& r : env.List(client::kControllerRevisions, "ns")) {
    out[api::GetString(r, "metadata.name")] = api::GetInt(r, "revision");
  }
  return out;
}

TEST_CASE("statefulset: volumeClaimTemplates become claims before their pods, kept on scale-down") {
  Fixture f;
  f.Create(2, R"(,"podManagementPolicy":"Parallel","volumeClaimTemplates":[{"metadata":{"name":"data","labels":{"tier":"db"}},
      "spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}])");
  REQUIRE(f.Sync().ok());
  for (const char* ord : {"0", "1"}) {
    auto claim = f.env.Get(client::kPersistentVolumeClaims, "ns", std::string("data-db-") + ord);
    CHECK(api::GetStringMap(claim, "metadata.labels") ==
          std::map<std::string, std::string>{{"app", "db"}, {"tier", "db"}});
    CHECK(api::GetString(claim, "spec.resources.requests.storage") == "1Gi");
    CHECK_FALSE(api::Has(claim, "metadata.ownerReferences"));  // Retain
    auto pod = f.env.Get(kPods, "ns", std::string("db-") + ord);
    const api::Value& vols = *api::Find(pod, "spec.volumes");
    REQUIRE(vols.Size() == 1);
    CHECK(api::GetString(vols[0], "name") == "data");
    CHECK(api::GetString(vols[0], "persistentVolumeClaim.claimName") == std::string("data-db-") + ord);
  }
  CHECK(f.env.events.Has("SuccessfulCreate"));
  f.MarkReady();
  f.Patch(R"({"spec":{"replicas":1}})");
  REQUIRE(f.Sync().ok());
  CHECK(f.Pods().size() == 1);
  CHECK(f.env.Exists(client::kPersistentVolumeClaims, "ns", "data-db-1"));
}

TEST_CASE("statefulset: whenScaled Delete hands a condemned pod's claims to that pod") {
  Fixture f;
  f.Create(2, R"(,"podManagementPolicy":"Parallel","persistentVolumeClaimRetentionPolicy":{"whenDeleted":"Delete","whenScaled":"Delete"},
      "volumeClaimTemplates":[{"metadata":{"name":"data"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}])");
  REQUIRE(f.Sync().ok());
  auto claim = f.env.Get(client::kPersistentVolumeClaims, "ns", "data-db-1");
  CHECK(api::GetString((*api::Find(claim, "metadata.ownerReferences"))[0], "kind") == "StatefulSet");
  f.MarkReady();
  std::string pod_uid = api::GetString(f.env.Get(kPods, "ns", "db-1"), "metadata.uid");
  f.Patch(R"({"spec":{"replicas":1}})");
  REQUIRE(f.Sync().ok());
  claim = f.env.Get(client::kPersistentVolumeClaims, "ns", "data-db-1");
  const api::Value& refs = *api::Find(claim, "metadata.ownerReferences");
  REQUIRE(refs.Size() == 2);
  CHECK(api::GetString(refs[1], "kind") == "Pod");
  CHECK(api::GetString(refs[1], "uid") == pod_uid);
}

TEST_CASE("statefulset: ControllerRevisions for each template, reused on rollback, truncated") {
  Fixture f;
  f.Create(1, R"(,"revisionHistoryLimit":1)");
  REQUIRE(f.Sync().ok());
  auto revs = Revisions(f.env);
  REQUIRE(revs.size() == 1);
  std::string r1 = revs.begin()->first;
  CHECK(revs[r1] == 1);
  CHECK(r1.rfind("db-", 0) == 0);
  auto cr = f.env.Get(client::kControllerRevisions, "ns", r1);
  CHECK(api::GetStringMap(cr, "metadata.labels")["controller-revision-hash"] == r1.substr(3));
  CHECK(api::GetString(cr, "data.spec.template.$patch") == "replace");
  CHECK(api::GetString((*api::Find(cr, "data.spec.template.spec.containers"))[0], "image") == "v1");
  CHECK(api::GetString((*api::Find(cr, "metadata.ownerReferences"))[0], "kind") == "StatefulSet");
  auto pod = f.env.Get(kPods, "ns", "db-0");
  CHECK(api::GetStringMap(pod, "metadata.labels")["controller-revision-hash"] == r1);
  f.MarkReady();
  REQUIRE(f.Sync().ok());
  auto sts = f.env.Get(kStatefulSets, "ns", "db");
  CHECK(api::GetString(sts, "status.currentRevision") == r1);
  CHECK(api::GetString(sts, "status.updateRevision") == r1);

  // A new template: revision 2; the pod is replaced with it.
  f.Patch(R"({"spec":{"template":{"spec":{"containers":[{"name":"c","image":"v2"}]}}}})");
  REQUIRE(f.Sync().ok());
  revs = Revisions(f.env);
  REQUIRE(revs.size() == 2);
  std::string r2;
  for (auto& [n, v] : revs) if (v == 2) r2 = n;
  REQUIRE(!r2.empty());
  sts = f.env.Get(kStatefulSets, "ns", "db");
  CHECK(api::GetString(sts, "status.updateRevision") == r2);
  CHECK(api::GetString(sts, "status.currentRevision") == r1);
  CHECK(f.Pods().empty());  // db-0 deleted for the update
  REQUIRE(f.Sync().ok());
  CHECK(f.Pods() == Fixture::M{{"db-0", "v2"}});
  f.MarkReady();
  REQUIRE(f.Sync().ok());
  sts = f.env.Get(kStatefulSets, "ns", "db");
  CHECK(api::GetString(sts, "status.currentRevision") == r2);
  CHECK(api::GetInt(sts, "status.updatedReplicas") == 1);

  // Rollback (what `kubectl rollout undo` patches in): revision 1 becomes number 3.
  f.Patch(R"({"spec":{"template":{"metadata":{"creationTimestamp":null},"spec":{"containers":[{"name":"c","image":"v1"}]}}}})");
  REQUIRE(f.Sync().ok());
  revs = Revisions(f.env);
  CHECK(revs[r1] == 3);
  sts = f.env.Get(kStatefulSets, "ns", "db");
  CHECK(api::GetString(sts, "status.updateRevision") == r1);
  REQUIRE(f.Sync().ok());
  f.MarkReady();
  REQUIRE(f.Sync().ok());
  CHECK(f.Pods() == Fixture::M{{"db-0", "v1"}});
  // One more template: r2 is no longer used by any pod and is beyond the limit of 1
  // unused revision once the third template's revision takes over.
  f.Patch(R"({"spec":{"template":{"spec":{"containers":[{"name":"c","image":"v3"}]}}}})");
  REQUIRE(f.Sync().ok());
  REQUIRE(f.Sync().ok());
  f.MarkReady();
  REQUIRE(f.Sync().ok());
  REQUIRE(f.Sync().ok());
  revs = Revisions(f.env);
  CHECK(revs.size() == 2);
  CHECK(revs.count(r2) == 0);
  CHECK(revs.count(r1) == 1);
}

}  // namespace
}  // namespace kubepp::controller
