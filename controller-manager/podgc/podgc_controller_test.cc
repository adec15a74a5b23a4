#include "controller-manager/podgc/podgc_controller.h"

#include <catch2/catch.hpp>

#include "controller-manager/framework/testing.h"

namespace kubepp::controller {
namespace {

using client::kNodes;
using client::kPods;

struct Fixture {
  explicit Fixture(int64_t threshold = 12500)
      : gc(env.Own(std::make_unique<PodGcController>(&env.fake, &env.informers, &env.clock,
                                                     Options(threshold)))) {
    env.Watch(kPods);
    env.Watch(kNodes);
    env.Start();
  }
  static PodGcOptions Options(int64_t threshold) {
    PodGcOptions o;
    o.terminated_pod_gc_threshold = threshold;
    return o;
  }
  void AddNode(const std::string& name, const std::string& ready, const std::string& taints = "[]") {
    env.Create(kNodes, R"({"apiVersion":"v1","kind":"Node","metadata":{"name":")" + name +
                           R"("},"spec":{"taints":)" + taints +
                           R"(},"status":{"conditions":[{"type":"Ready","status":")" + ready + R"("}]}})");
  }
  // `extra_metadata` and `status` are JSON fragments.
  void AddPod(const std::string& name, const std::string& node, const std::string& phase,
              const std::string& extra_metadata = "", const std::string& created = "2026-01-01T00:00:00Z") {
    env.Create(kPods, R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name +
                          R"(","namespace":"ns","creationTimestamp":")" + created + "\"" + extra_metadata +
                          R"(},"spec":{"nodeName":")" + node + R"("},"status":{"phase":")" + phase + R"("}})");
  }
  void Pass() {
    env.Settle();
    Status st = gc.Sync(PodGcController::kCheckKey);
    INFO(st.ToString());
    REQUIRE(st.ok());
    env.Settle();
  }
  std::vector<std::string> Pods() {
    std::vector<std::string> out;
    for (auto& p : env.List(kPods, "ns")) out.push_back(api::GetString(p, "metadata.name"));
    std::sort(out.begin(), out.end());
    return out;
  }
  testing::Env env;
  PodGcController& gc;
};

TEST_CASE("podgc: pods of a node gone past the quarantine are deleted, others kept") {
  Fixture f;
  f.AddNode("alive", "True");
  f.AddPod("on-alive", "alive", "Running");
  f.AddPod("on-gone", "gone", "Running");
  f.Pass();
  CHECK(f.Pods() == std::vector<std::string>{"on-alive", "on-gone"});  // quarantined
  f.env.clock.Advance(39);
  f.Pass();
  CHECK(f.Pods() == std::vector<std::string>{"on-alive", "on-gone"});
  f.env.clock.Advance(2);
  f.Pass();
  CHECK(f.Pods() == std::vector<std::string>{"on-alive"});
}

TEST_CASE("podgc: a node that comes back ends its quarantine") {
  Fixture f;
  f.AddPod("p", "late", "Running");
  f.Pass();
  f.env.clock.Advance(30);
  f.AddNode("late", "True");
  f.Pass();
  f.env.clock.Advance(60);
  f.Pass();
  CHECK(f.Pods() == std::vector<std::string>{"p"});
}

TEST_CASE("podgc: terminating pods nothing will finish are force-deleted") {
  Fixture f;
  const std::string deleting = R"(,"deletionTimestamp":"2026-01-01T00:00:00Z","finalizers":[])";
  f.AddNode("oos", "False", R"([{"key":"node.kubernetes.io/out-of-service","effect":"NoExecute"}])");
  f.AddNode("down", "False");
  f.AddPod("unscheduled", "", "Pending", deleting);
  f.AddPod("on-oos", "oos", "Running", deleting);
  f.AddPod("on-down", "down", "Running", deleting);  // no out-of-service taint: its kubelet may return
  f.AddPod("running-on-oos", "oos", "Running");       // not terminating: the taint manager's business
  f.Pass();
  CHECK(f.Pods() == std::vector<std::string>{"on-down", "running-on-oos"});
}

TEST_CASE("podgc: finished pods above the threshold go, oldest first") {
  Fixture f(2);
  f.AddNode("n", "True");
  f.AddPod("a", "n", "Succeeded", "", "2026-01-01T00:00:01Z");
  f.AddPod("b", "n", "Failed", "", "2026-01-01T00:00:02Z");
  f.AddPod("c", "n", "Succeeded", "", "2026-01-01T00:00:03Z");
  f.AddPod("d", "n", "Succeeded", "", "2026-01-01T00:00:04Z");
  f.AddPod("r", "n", "Running", "", "2026-01-01T00:00:00Z");
  f.Pass();
  CHECK(f.Pods() == std::vector<std::string>{"c", "d", "r"});
}

}  // namespace
}  // namespace kubepp::controller
