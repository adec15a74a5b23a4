#include "scheduler/scheduler.h"

#include <catch2/catch.hpp>

#include <thread>

#include "common/api/json.h"
#include "common/testing/json.h"

using namespace kubepp;
using namespace kubepp::scheduler;
using namespace std::chrono_literals;

namespace {

using testing::Json;

void CreateNode(client::FakeRestClient& c, const std::string& name, const std::string& cpu) {
  REQUIRE(c.Create(client::kNodes, "",
                   Json(R"({"metadata":{"name":")" + name + R"("},"status":{"conditions":[{"type":"Ready","status":"True"}],"allocatable":{"cpu":")" +
                        cpu + R"(","memory":"8Gi","pods":"110"}}})"))
              .ok());
}

void CreatePod(client::FakeRestClient& c, const std::string& name, const std::string& cpu,
               const std::string& scheduler = "default-scheduler") {
  REQUIRE(c.Create(client::kPods, "default",
                   Json(R"({"metadata":{"name":")" + name + R"(","namespace":"default"},"spec":{"schedulerName":")" +
                        scheduler + R"(","containers":[{"name":"c","resources":{"requests":{"cpu":")" + cpu +
                        R"("}}}]},"status":{"phase":"Pending"}})"))
              .ok());
}

std::string NodeOf(client::FakeRestClient& c, const std::string& pod) {
  auto p = c.Get(client::kPods, "default", pod);
  return p.ok() ? api::GetString(*p, "spec.nodeName") : "";
}

bool Eventually(const std::function<bool()>& f) {
  for (int i = 0; i < 500; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return f();
}

}  // namespace

TEST_CASE("scheduler binds pending pods, counting assumed ones, and explains the rest") {
  client::FakeRestClient c;
  CreateNode(c, "n1", "2");
  CreateNode(c, "n2", "2");
  // 1.5 cpu each: one per node; the third fits nowhere.
  CreatePod(c, "a", "1500m");
  CreatePod(c, "b", "1500m");
  CreatePod(c, "other", "1", "my-scheduler");  // not ours
  Scheduler s(&c, {});
  REQUIRE(s.Start(5s).ok());
  REQUIRE(Eventually([&] { return !NodeOf(c, "a").empty() && !NodeOf(c, "b").empty(); }));
  CHECK(NodeOf(c, "a") != NodeOf(c, "b"));

  CreatePod(c, "c", "1500m");
  REQUIRE(Eventually([&] {
    auto p = c.Get(client::kPods, "default", "c");
    return p.ok() && api::Has(*p, "status.conditions") && api::Has(*p, "metadata.annotations");
  }));
  auto p = c.Get(client::kPods, "default", "c");
  REQUIRE(p.ok());
  const api::Value* conds = api::Find(*p, "status.conditions");
  REQUIRE(conds);
  REQUIRE(conds->IsArray());
  CHECK(api::GetString((*conds)[0], "reason") == "Unschedulable");
  CHECK(api::GetString((*conds)[0], "message") == "0/2 nodes are available: 2 Insufficient cpu.");
  const api::Value* detail =
      api::FindMember(*api::Find(*p, "metadata.annotations"), kLastAttemptAnnotation);
  REQUIRE(detail);
  CHECK(api::View(*detail) ==
        R"({"nodes":2,"reasons":[{"reason":"Insufficient cpu","count":2,"nodes":["n1","n2"]}]})");

  // A new node is a cluster change: the parked pod is retried and fits.
  CreateNode(c, "n3", "4");
  REQUIRE(Eventually([&] { return NodeOf(c, "c") == "n3"; }));
  CHECK(NodeOf(c, "other").empty());

  REQUIRE(Eventually([&] {
    auto evs = c.List(client::kEvents, "default");
    int scheduled = 0, failed = 0;
    for (const auto& e : (*evs)["items"].GetArray()) {
      scheduled += api::GetString(e, "reason") == "Scheduled";
      failed += api::GetString(e, "reason") == "FailedScheduling";
    }
    return scheduled == 3 && failed == 1;
  }));
  s.Stop();
}

TEST_CASE("scheduler: a failed binding is forgotten and retried") {
  client::FakeRestClient c;
  CreateNode(c, "n1", "2");
  CreatePod(c, "a", "1");
  c.FailNext("create", Unavailable("apiserver down"), 1);  // the first binding POST
  Scheduler s(&c, {});
  REQUIRE(s.Start(5s).ok());
  REQUIRE(Eventually([&] { return NodeOf(c, "a") == "n1"; }));
  REQUIRE(Eventually([&] { return s.cache().GetStats().assumed == 0; }));
  CHECK(s.cache().GetStats().pods == 1);
  s.Stop();
}
