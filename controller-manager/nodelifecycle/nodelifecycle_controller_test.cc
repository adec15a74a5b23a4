#include "controller-manager/nodelifecycle/nodelifecycle_controller.h"

#include <catch2/catch.hpp>

#include "controller-manager/framework/conditions.h"
#include "controller-manager/framework/testing.h"

namespace kubepp::controller {
namespace {

using client::kLeases;
using client::kNodes;
using client::kPods;
using testing::Env;

struct Fixture {
  Fixture()
      : nlc(env.Own(std::make_unique<NodeLifecycleController>(&env.fake, &env.informers,
                                                              &env.clock, &env.events,
                                                              Options()))) {
    for (auto ref : {kNodes, kLeases, kPods}) env.Watch(ref);
    env.Start();
  }
  static NodeLifecycleOptions Options() {
    NodeLifecycleOptions o;
    o.grace_period_seconds = 40;
    return o;
  }
  void AddNode(const std::string& name) {
    std::string now = util::FormatRfc3339(env.clock.NowUnix());
    env.Create(kNodes, R"({"apiVersion":"v1","kind":"Node","metadata":{"name":")" + name +
                           R"("},"status":{"conditions":[{"type":"Ready","status":"True","lastHeartbeatTime":")" +
                           now + R"("},{"type":"MemoryPressure","status":"False"}]}})");
    env.Create(kLeases, R"({"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":")" +
                            name + R"(","namespace":"kube-node-lease"},"spec":{"renewTime":")" +
                            util::NowRfc3339Micro() + R"("}})");
  }
  void Renew(const std::string& name) {
    auto lease = env.Get(kLeases, "kube-node-lease", name);
    api::SetString(lease, "spec.renewTime", std::to_string(env.clock.NowUnix()), lease.GetAllocator());
    REQUIRE(env.fake.Update(kLeases, "", lease).ok());
  }
  void AddPod(const std::string& name, const std::string& node, const std::string& tolerations) {
    env.Create(kPods, R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name +
                          R"(","namespace":"ns"},"spec":{"nodeName":")" + node +
                          R"(","tolerations":)" + tolerations +
                          R"(},"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}})");
  }
  void Pass() {
    env.Settle();
    Status st = nlc.Sync(NodeLifecycleController::kMonitorKey);
    INFO(st.ToString());
    REQUIRE(st.ok());
    env.Settle();
  }
  std::string Ready(const std::string& node) {
    auto n = env.Get(kNodes, "", node);
    return api::GetString(*FindCondition(*api::Find(n, "status"), "Ready"), "status");
  }
  std::vector<std::string> Taints(const std::string& node) {
    std::vector<std::string> out;
    auto n = env.Get(kNodes, "", node);
    if (const api::Value* t = api::Find(n, "spec.taints")) {
      for (auto& x : t->GetArray()) out.push_back(api::GetString(x, "key") + ":" + api::GetString(x, "effect"));
    }
    return out;
  }
  Env env;
  NodeLifecycleController& nlc;
};

const std::string kTolerate300 = R"([{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}])";

TEST_CASE("nodelifecycle: a silent node becomes Unknown, tainted, and its pods are evicted on time") {
  Fixture f;
  for (const char* n : {"n1", "n2", "n3", "n4"}) f.AddNode(n);
  f.AddPod("tolerates-300", "n1", kTolerate300);
  f.AddPod("tolerates-forever", "n1", R"([{"operator":"Exists"}])");
  f.AddPod("no-toleration", "n1", "[]");
  f.AddPod("elsewhere", "n2", "[]");
  f.Pass();
  CHECK(f.Ready("n1") == "True");
  // 41 s later, every node but n1 has renewed its lease.
  f.env.clock.Advance(41);
  for (const char* n : {"n2", "n3", "n4"}) f.Renew(n);
  f.Pass();
  CHECK(f.Ready("n1") == "Unknown");
  CHECK(f.Ready("n2") == "True");
  auto n1_status = f.env.Get(kNodes, "", "n1");
  CHECK(api::GetString(*FindCondition(*api::Find(n1_status, "status"), "MemoryPressure"), "status") ==
        "Unknown");
  CHECK(f.Taints("n1") == std::vector<std::string>{"node.kubernetes.io/unreachable:NoSchedule",
                                                    "node.kubernetes.io/unreachable:NoExecute"});
  CHECK(f.Taints("n2").empty());
  // Its pods are no longer ready.
  auto pod = f.env.Get(kPods, "ns", "tolerates-300");
  CHECK(api::GetString(*FindCondition(*api::Find(pod, "status"), "Ready"), "status") == "False");
  // Eviction runs against the taint now in the cache: the untolerating pod goes first.
  f.Pass();
  CHECK_FALSE(f.env.Exists(kPods, "ns", "no-toleration"));
  CHECK(f.env.Exists(kPods, "ns", "tolerates-300"));
  CHECK(f.env.Exists(kPods, "ns", "elsewhere"));
  f.env.clock.Advance(299);
  for (const char* n : {"n2", "n3", "n4"}) f.Renew(n);
  f.Pass();
  CHECK(f.env.Exists(kPods, "ns", "tolerates-300"));
  f.env.clock.Advance(2);
  for (const char* n : {"n2", "n3", "n4"}) f.Renew(n);
  f.Pass();
  CHECK_FALSE(f.env.Exists(kPods, "ns", "tolerates-300"));
  CHECK(f.env.Exists(kPods, "ns", "tolerates-forever"));
  CHECK(f.env.events.Has("TaintManagerEviction"));

  // The kubelet comes back: Ready again (the kubelet writes it), the taints go.
  auto n1 = f.env.Get(kNodes, "", "n1");
  auto& ready = *const_cast<api::Value*>(FindCondition(*api::Find(n1, "status"), "Ready"));
  api::SetString(ready, "status", "True", n1.GetAllocator());
  api::SetString(ready, "lastHeartbeatTime", util::FormatRfc3339(f.env.clock.NowUnix()), n1.GetAllocator());
  REQUIRE(f.env.fake.UpdateStatus(kNodes, "", n1).ok());
  f.Pass();
  CHECK(f.Taints("n1").empty());
}

TEST_CASE("nodelifecycle: when most nodes go silent at once, nothing is evicted") {
  Fixture f;
  for (const char* n : {"n1", "n2", "n3", "n4"}) f.AddNode(n);
  f.AddPod("p", "n1", "[]");
  f.Pass();
  f.env.clock.Advance(41);
  f.Renew("n4");  // three of four silent: the control plane is probably the one cut off
  f.Pass();
  f.Pass();
  CHECK(f.nlc.Disrupted());
  CHECK(f.Ready("n1") == "Unknown");
  CHECK(f.env.Exists(kPods, "ns", "p"));
}

}  // namespace
}  // namespace kubepp::controller
