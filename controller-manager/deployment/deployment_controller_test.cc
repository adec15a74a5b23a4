#include "controller-manager/deployment/deployment_controller.h"

#include <catch2/catch.hpp>

#include "controller-manager/deployment/deployment_util.h"
#include "controller-manager/framework/conditions.h"
#include "controller-manager/framework/testing.h"

namespace Catch {
template <>
struct StringMaker<std::map<std::string, int64_t>> {
  static std::string convert(const std::map<std::string, int64_t>& m) {
    std::string out = "{";
    for (const auto& [k, v] : m) out += " " + k + "=" + std::to_string(v);
    return out + " }";
  }
};
}  // namespace Catch

namespace kubepp::controller {
namespace {

using client::kDeployments;
using client::kPods;
using client::kReplicaSets;
using deployment::Revision;
using testing::Env;

std::string DeploymentJson(int replicas, const std::string& image, const std::string& strategy,
                           const std::string& extra_spec = "") {
  return R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"ns","generation":1},
            "spec":{"replicas":)" + std::to_string(replicas) +
         R"(,"selector":{"matchLabels":{"app":"web"}},"strategy":)" + strategy +
         R"(,"progressDeadlineSeconds":600,"revisionHistoryLimit":10)" + extra_spec +
         R"(,"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":")" +
         image + R"("}]}}}})";
}

std::string ImageOf(const api::Value& rs) {
  return api::GetString((*api::Find(rs, "spec.template.spec.containers"))[0], "image");
}

const std::string kSurge1 = R"({"type":"RollingUpdate","rollingUpdate":{"maxSurge":1,"maxUnavailable":0}})";

struct Fixture {
  Fixture()
      : dc(env.Own(std::make_unique<DeploymentController>(&env.fake, &env.informers,
                                                          &env.clock, &env.events))) {
    env.Watch(kDeployments);
    env.Watch(kReplicaSets);
    env.Watch(kPods);
    env.Start();
  }
  Status Sync() {
    env.Settle();
    Status st = dc.Sync("ns/web");
    env.Settle();
    return st;
  }
  // ReplicaSets by image, with their spec.replicas.
  std::map<std::string, int64_t> Sizes() {
    std::map<std::string, int64_t> out;
    for (auto& rs : env.List(kReplicaSets, "ns")) {
      out[ImageOf(rs)] = api::GetInt(rs, "spec.replicas");
    }
    return out;
  }
  // Plays the ReplicaSet controller: every ReplicaSet has its pods, all available.
  void MarkAvailable(const std::string& image_tag, int64_t available) {
    for (auto& rs : env.List(kReplicaSets, "ns")) {
      if (ImageOf(rs) != image_tag) continue;
      auto& a = rs.GetAllocator();
      int64_t n = api::GetInt(rs, "spec.replicas");
      api::SetInt(rs, "status.replicas", n, a);
      api::SetInt(rs, "status.readyReplicas", std::min(n, available), a);
      api::SetInt(rs, "status.availableReplicas", std::min(n, available), a);
      api::SetInt(rs, "status.observedGeneration", api::GetInt(rs, "metadata.generation", 1), a);
      REQUIRE(env.fake.UpdateStatus(kReplicaSets, "", rs).ok());
    }
  }
  void SetImage(const std::string& image) {
    auto d = env.Get(kDeployments, "ns", "web");
    auto& c = (*api::FindMutable(d, "spec.template.spec.containers"))[0];
    api::SetString(c, "image", image, d.GetAllocator());
    api::SetInt(d, "metadata.generation", api::GetInt(d, "metadata.generation") + 1, d.GetAllocator());
    REQUIRE(env.fake.Update(kDeployments, "", d).ok());
  }
  Env env;
  DeploymentController& dc;
};

TEST_CASE("deployment: a new Deployment gets a ReplicaSet named and labelled by its hash") {
  Fixture f;
  f.env.Create(kDeployments, DeploymentJson(5, "v1", kSurge1));
  REQUIRE(f.Sync().ok());
  auto rss = f.env.List(kReplicaSets, "ns");
  REQUIRE(rss.size() == 1);
  auto& rs = rss[0];
  std::string hash = api::GetString(rs, "metadata.labels.pod-template-hash");
  CHECK(!hash.empty());
  CHECK(api::GetString(rs, "metadata.name") == "web-" + hash);
  CHECK(api::GetString(rs, "spec.selector.matchLabels.pod-template-hash") == hash);
  CHECK(api::GetString(rs, "spec.template.metadata.labels.pod-template-hash") == hash);
  CHECK(api::GetInt(rs, "spec.replicas") == 5);
  CHECK(Revision(rs) == 1);
  CHECK(ControllerOf(rs)->kind == "Deployment");
  auto d = f.env.Get(kDeployments, "ns", "web");
  CHECK(Revision(d) == 1);
  CHECK(api::GetInt(d, "status.observedGeneration") == 1);
  const api::Value* progressing = FindCondition(*api::Find(d, "status"), "Progressing");
  REQUIRE(progressing != nullptr);
  CHECK(api::GetString(*progressing, "reason") == "NewReplicaSetCreated");
  CHECK(f.env.events.Has("ScalingReplicaSet"));
}

TEST_CASE("deployment: a rolling update steps within maxSurge and maxUnavailable") {
  Fixture f;
  f.env.Create(kDeployments, DeploymentJson(4, "v1", kSurge1));
  REQUIRE(f.Sync().ok());
  f.MarkAvailable("v1", 4);
  REQUIRE(f.Sync().ok());
  auto d = f.env.Get(kDeployments, "ns", "web");
  CHECK(api::GetInt(d, "status.availableReplicas") == 4);
  CHECK(api::GetString(*FindCondition(*api::Find(d, "status"), "Progressing"), "reason") ==
        "NewReplicaSetAvailable");

  f.SetImage("v2");
  // Each step: the sizes after a sync, then how many new pods become available.
  struct Step {
    std::map<std::string, int64_t> sizes;
    int64_t new_available;
  };
  for (const Step& s : std::vector<Step>{
           {{{"v1", 4}, {"v2", 1}}, 1},  // surge: one new pod, none removed yet
           {{{"v1", 3}, {"v2", 1}}, 1},  // the new one is available: one old goes
           {{{"v1", 3}, {"v2", 2}}, 2},
           {{{"v1", 2}, {"v2", 2}}, 2},
           {{{"v1", 2}, {"v2", 3}}, 3},
           {{{"v1", 1}, {"v2", 3}}, 3},
           {{{"v1", 1}, {"v2", 4}}, 4},
           {{{"v1", 0}, {"v2", 4}}, 4},
       }) {
    REQUIRE(f.Sync().ok());
    CHECK(f.Sizes() == s.sizes);
    int64_t total = 0;
    for (auto& [k, v] : s.sizes) total += v;
    CHECK(total <= 5);  // replicas + maxSurge
    f.MarkAvailable("v1", 4);
    f.MarkAvailable("v2", s.new_available);
  }
  REQUIRE(f.Sync().ok());
  REQUIRE(f.Sync().ok());
  d = f.env.Get(kDeployments, "ns", "web");
  CHECK(Revision(d) == 2);
  CHECK(api::GetInt(d, "status.updatedReplicas") == 4);
  CHECK(api::GetInt(d, "status.availableReplicas") == 4);
  CHECK(api::GetString(*FindCondition(*api::Find(d, "status"), "Progressing"), "reason") ==
        "NewReplicaSetAvailable");
}

TEST_CASE("deployment: scaling mid-rollout is proportional") {
  Fixture f;
  const std::string strategy = R"({"type":"RollingUpdate","rollingUpdate":{"maxSurge":3,"maxUnavailable":2}})";
  f.env.Create(kDeployments, DeploymentJson(10, "v1", strategy));
  REQUIRE(f.Sync().ok());
  f.MarkAvailable("v1", 10);
  f.SetImage("v2");
  // One sync: the new RS surges to 3, and the old one may drop by 13 - 8 - 3 = 2
  // (minimum availability 8, three new pods not yet available).
  REQUIRE(f.Sync().ok());
  CHECK(f.Sizes() == std::map<std::string, int64_t>{{"v1", 8}, {"v2", 3}});
  f.MarkAvailable("v1", 10);
  f.MarkAvailable("v2", 0);
  REQUIRE(f.Sync().ok());  // room under the surge again: the new RS grows by 2
  CHECK(f.Sizes() == std::map<std::string, int64_t>{{"v1", 8}, {"v2", 5}});
  // Scale 10 -> 20: the 13 replicas grow to 23 (20 + surge 3) in proportion to size:
  // round(8 * 23/13) = 14 and round(5 * 23/13) = 9.
  auto d = f.env.Get(kDeployments, "ns", "web");
  api::SetInt(d, "spec.replicas", 20, d.GetAllocator());
  REQUIRE(f.env.fake.Update(kDeployments, "", d).ok());
  REQUIRE(f.Sync().ok());
  CHECK(f.Sizes() == std::map<std::string, int64_t>{{"v1", 14}, {"v2", 9}});
  // And back down to 4: shares shrink the same way, the leftover off the largest.
  d = f.env.Get(kDeployments, "ns", "web");
  api::SetInt(d, "spec.replicas", 4, d.GetAllocator());
  REQUIRE(f.env.fake.Update(kDeployments, "", d).ok());
  REQUIRE(f.Sync().ok());
  auto sizes = f.Sizes();
  CHECK(sizes["v1"] + sizes["v2"] == 7);  // 4 + maxSurge 3
  CHECK(sizes["v1"] > sizes["v2"]);
}

TEST_CASE("deployment: Recreate removes old pods before making new ones") {
  Fixture f;
  f.env.Create(kDeployments, DeploymentJson(2, "v1", R"({"type":"Recreate"})"));
  REQUIRE(f.Sync().ok());
  f.MarkAvailable("v1", 2);
  auto old_rs = api::Clone(f.env.List(kReplicaSets, "ns")[0]);
  f.env.Create(kPods, R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"old-pod","namespace":"ns","labels":{"app":"web"},"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":")" +
                          api::GetString(old_rs, "metadata.name") + R"(","uid":")" +
                          api::GetString(old_rs, "metadata.uid") + R"(","controller":true}]},"status":{"phase":"Running"}})");
  f.SetImage("v2");
  REQUIRE(f.Sync().ok());
  CHECK(f.Sizes() == std::map<std::string, int64_t>{{"v1", 0}});
  REQUIRE(f.Sync().ok());  // the old pod still runs: nothing new
  CHECK(f.Sizes() == std::map<std::string, int64_t>{{"v1", 0}});
  REQUIRE(f.env.fake.Delete(kPods, "ns", "old-pod").ok());
  REQUIRE(f.Sync().ok());
  CHECK(f.Sizes() == std::map<std::string, int64_t>{{"v1", 0}, {"v2", 2}});
}

TEST_CASE("deployment: paused Deployments do not roll out; history is limited") {
  Fixture f;
  f.env.Create(kDeployments, DeploymentJson(1, "v1", kSurge1, R"(,"paused":true)"));
  REQUIRE(f.Sync().ok());
  CHECK(f.env.List(kReplicaSets, "ns").empty());
  auto d = f.env.Get(kDeployments, "ns", "web");
  CHECK(api::GetString(*FindCondition(*api::Find(d, "status"), "Progressing"), "reason") ==
        "DeploymentPaused");
  api::SetBool(d, "spec.paused", false, d.GetAllocator());
  api::SetInt(d, "spec.revisionHistoryLimit", 1, d.GetAllocator());
  REQUIRE(f.env.fake.Update(kDeployments, "", d).ok());
  // Roll through three images; only one old ReplicaSet may stay.
  for (const char* image : {"v1", "v2", "v3", "v4"}) {
    if (std::string(image) != "v1") f.SetImage(image);
    for (int i = 0; i < 6; ++i) {
      REQUIRE(f.Sync().ok());
      for (const char* tag : {"v1", "v2", "v3", "v4"}) f.MarkAvailable(tag, 1);
    }
  }
  auto sizes = f.Sizes();
  CHECK(sizes == std::map<std::string, int64_t>{{"v3", 0}, {"v4", 1}});
  CHECK(Revision(f.env.Get(kDeployments, "ns", "web")) == 4);
}

}  // namespace
}  // namespace kubepp::controller
