#include "controller-manager/deployment/deployment_util.h"

#include <catch2/catch.hpp>

#include "controller-manager/framework/testing.h"

namespace kubepp::controller::deployment {
namespace {

using testing::Json;

ObjectPtr Rs(int64_t replicas, const std::string& extra_meta = "") {
  return std::make_shared<const api::Document>(
      Json(R"({"metadata":{"name":"x")" + extra_meta + R"(},"spec":{"replicas":)" +
           std::to_string(replicas) + "}}"));
}

api::Document Deployment(int64_t replicas, const std::string& surge, const std::string& unavail,
                         const std::string& type = "RollingUpdate") {
  return Json(R"({"metadata":{"name":"d","generation":2},"spec":{"replicas":)" +
              std::to_string(replicas) + R"(,"strategy":{"type":")" + type +
              R"(","rollingUpdate":{"maxSurge":)" + surge + R"(,"maxUnavailable":)" + unavail +
              "}}}}");
}

TEST_CASE("deployment util: maxSurge rounds up, maxUnavailable down, never both zero") {
  struct Case {
    std::string surge, unavailable;
    int64_t replicas, want_surge, want_unavailable;
  };
  for (const Case& c : std::vector<Case>{
           {R"("25%")", R"("25%")", 10, 3, 2},
           {R"("25%")", R"("25%")", 4, 1, 1},
           {R"("25%")", R"("25%")", 1, 1, 0},
           {R"("25%")", R"("25%")", 50, 13, 12},
           {"1", "0", 5, 1, 0},
           {"0", "0", 5, 0, 1},               // fencepost: unavailable becomes 1
           {R"("0%")", R"("10%")", 5, 0, 1},  // 0.5 rounds down to 0, then the fencepost
           {R"("100%")", "0", 3, 3, 0},
           {"2", R"("50%")", 3, 2, 1},
       }) {
    INFO(c.surge << " " << c.unavailable << " of " << c.replicas);
    auto d = Deployment(c.replicas, c.surge, c.unavailable);
    CHECK(MaxSurge(d) == c.want_surge);
    CHECK(MaxUnavailable(d) == c.want_unavailable);
  }
  // maxUnavailable is capped at the replica count; Recreate has neither.
  CHECK(MaxUnavailable(Deployment(2, "0", "5")) == 2);
  CHECK(MaxSurge(Deployment(10, "3", "3", "Recreate")) == 0);
  CHECK(MaxUnavailable(Deployment(10, "3", "3", "Recreate")) == 0);
  CHECK(MaxUnavailable(Deployment(0, "1", "1")) == 0);
}

TEST_CASE("deployment util: how far the new ReplicaSet grows") {
  struct Case {
    int64_t replicas;
    std::string surge;
    std::vector<int64_t> old_sizes;
    int64_t new_size, want;
  };
  for (const Case& c : std::vector<Case>{
           {10, "3", {10}, 0, 3},      // surge of 3 above 10
           {10, "3", {10}, 3, 3},      // at the cap: no growth
           {10, "3", {7}, 3, 6},       // old shrank by 3: grow by 3
           {10, "3", {0}, 8, 10},      // never beyond the desired count
           {5, R"("25%")", {5}, 0, 2}, // 25% of 5 rounds up to 2
           {5, "1", {4, 2}, 0, 0},     // already above max total
       }) {
    auto d = Deployment(c.replicas, c.surge, "0");
    std::vector<ObjectPtr> all;
    for (int64_t s : c.old_sizes) all.push_back(Rs(s));
    auto new_rs = Rs(c.new_size);
    all.push_back(new_rs);
    CHECK(NewRSNewReplicas(d, all, new_rs.get()) == c.want);
  }
  CHECK(NewRSNewReplicas(Deployment(7, "1", "1", "Recreate"), {Rs(3)}, nullptr) == 7);
}

TEST_CASE("deployment util: proportional shares of a scaling event") {
  // Deployment scaled from 10 (max 13 with surge 3) to 20 (max 26): sizes double.
  auto d = Deployment(20, "3", "3");
  api::SetInt(d, "status.replicas", 13, d.GetAllocator());
  auto rs = Rs(6, R"(,"annotations":{"deployment.kubernetes.io/max-replicas":"13"})");
  // 6 * 23 / 13 = 10.6 -> 11: a share of 5, within what is left to add.
  CHECK(ReplicaSetProportion(*rs, d, 10, 0) == 5);
  CHECK(ReplicaSetProportion(*rs, d, 10, 8) == 2);  // only 2 left
  CHECK(ReplicaSetProportion(*rs, d, 0, 0) == 0);
  // Scaling to zero takes everything away.
  auto zero = Deployment(0, "3", "3");
  CHECK(ReplicaSetProportion(*rs, zero, -6, 0) == -6);
}

TEST_CASE("deployment util: template identity ignores the hash label and unset fields") {
  auto a = Json(R"({"metadata":{"labels":{"app":"x"}},"spec":{"containers":[{"name":"c","image":"i"}]}})");
  auto b = Json(R"({"spec":{"containers":[{"image":"i","name":"c"}]},"metadata":{"creationTimestamp":null,"labels":{"app":"x","pod-template-hash":"abc"}}})");
  auto c = Json(R"({"metadata":{"labels":{"app":"x"}},"spec":{"containers":[{"name":"c","image":"j"}]}})");
  CHECK(EqualIgnoreHash(a, b));
  CHECK_FALSE(EqualIgnoreHash(a, c));
  CHECK(ComputeHash(a, 0) == ComputeHash(a, 0));
  CHECK(ComputeHash(a, 0) != ComputeHash(c, 0));
  CHECK(ComputeHash(a, 0) != ComputeHash(a, 1));  // collisions move the name
  for (char ch : ComputeHash(a, 0)) CHECK(std::string("bcdfghjklmnpqrstvwxz2456789").find(ch) != std::string::npos);
}

TEST_CASE("deployment util: completion and progress deadline") {
  auto d = Deployment(3, "1", "0");
  api::SetInt(d, "spec.progressDeadlineSeconds", 600, d.GetAllocator());
  CHECK(DeploymentComplete(d, Json(R"({"updatedReplicas":3,"replicas":3,"availableReplicas":3,"observedGeneration":2})")));
  CHECK_FALSE(DeploymentComplete(d, Json(R"({"updatedReplicas":3,"replicas":4,"availableReplicas":3,"observedGeneration":2})")));
  CHECK_FALSE(DeploymentComplete(d, Json(R"({"updatedReplicas":3,"replicas":3,"availableReplicas":3,"observedGeneration":1})")));
  auto progressing = Json(R"({"conditions":[{"type":"Progressing","status":"True","reason":"ReplicaSetUpdated","lastUpdateTime":"2024-01-01T00:00:00Z"}]})");
  int64_t t0 = 1704067200;  // 2024-01-01T00:00:00Z
  CHECK_FALSE(DeploymentTimedOut(d, progressing, t0 + 600));
  CHECK(DeploymentTimedOut(d, progressing, t0 + 601));
  CHECK(HasProgressDeadline(d));
}

}  // namespace
}  // namespace kubepp::controller::deployment
