#include "controller-manager/garbagecollector/garbage_collector.h"

#include <catch2/catch.hpp>

#include "controller-manager/framework/resources.h"
#include "controller-manager/framework/testing.h"

namespace kubepp::controller {
namespace {

using client::kConfigMaps;
using client::kPods;
using client::kReplicaSets;
using testing::Env;

struct Fixture {
  Fixture() : gc(env.Own(std::make_unique<GarbageCollector>(&env.fake, &env.informers))) {
    for (const auto& r : KnownResources()) {
      if (r.ref.plural != "events") env.Watch(r.ref);
    }
    env.Start();
  }
  // Syncs an object the way the queue would name it.
  Status Sync(const client::ResourceRef& ref, const std::string& key) {
    env.Settle();
    size_t index = 0;
    for (const auto& r : KnownResources()) {
      if (r.ref.plural == "events") continue;
      if (r.ref.plural == ref.plural && r.ref.group == ref.group) break;
      ++index;
    }
    Status st = gc.Sync(std::to_string(index) + "|" + key);
    env.Settle();
    return st;
  }
  api::Document Owner(const std::string& name, const std::string& extra_meta = "") {
    return env.Create(kReplicaSets, R"({"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":")" +
                                        name + R"(","namespace":"ns")" + extra_meta + "}}");
  }
  void Dependent(const std::string& name, const std::string& refs) {
    env.Create(kPods, R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name +
                          R"(","namespace":"ns","ownerReferences":)" + refs + "}}");
  }
  Env env;
  GarbageCollector& gc;
};

std::string Ref(const std::string& name, const std::string& uid, bool block = false) {
  return R"({"apiVersion":"apps/v1","kind":"ReplicaSet","name":")" + name + R"(","uid":")" + uid +
         R"(","controller":true,"blockOwnerDeletion":)" + (block ? "true" : "false") + "}";
}

TEST_CASE("gc: dependents of a deleted owner are deleted; live owners keep theirs") {
  Fixture f;
  auto owner = f.Owner("rs");
  std::string uid = api::GetString(owner, "metadata.uid");
  f.Dependent("kept", "[" + Ref("rs", uid) + "]");
  f.Dependent("orphaned", "[" + Ref("gone", "no-such-uid") + "]");
  f.Dependent("replaced", "[" + Ref("rs", "old-uid-of-rs") + "]");  // a namesake is not the owner
  REQUIRE(f.Sync(kPods, "ns/kept").ok());
  REQUIRE(f.Sync(kPods, "ns/orphaned").ok());
  REQUIRE(f.Sync(kPods, "ns/replaced").ok());
  CHECK(f.env.Exists(kPods, "ns", "kept"));
  CHECK_FALSE(f.env.Exists(kPods, "ns", "orphaned"));
  CHECK_FALSE(f.env.Exists(kPods, "ns", "replaced"));
  // Deleting the owner wakes its dependents.
  REQUIRE(f.env.fake.Delete(kReplicaSets, "ns", "rs").ok());
  f.env.Settle();
  CHECK(f.gc.QueueLength() > 0);
  REQUIRE(f.Sync(kPods, "ns/kept").ok());
  CHECK_FALSE(f.env.Exists(kPods, "ns", "kept"));
}

TEST_CASE("gc: only dangling references are dropped when another owner lives") {
  Fixture f;
  auto owner = f.Owner("rs");
  f.Dependent("two-owners", "[" + Ref("rs", api::GetString(owner, "metadata.uid")) + "," +
                                Ref("gone", "no-such-uid") + "]");
  REQUIRE(f.Sync(kPods, "ns/two-owners").ok());
  auto pod = f.env.Get(kPods, "ns", "two-owners");
  auto refs = OwnerRefsOf(pod);
  REQUIRE(refs.size() == 1);
  CHECK(refs[0].name == "rs");
}

TEST_CASE("gc: orphan and foreground finalizers") {
  Fixture f;
  auto orphaning = f.Owner("orphaning", R"(,"deletionTimestamp":"2024-01-01T00:00:00Z","finalizers":["orphan"])");
  f.Dependent("left", "[" + Ref("orphaning", api::GetString(orphaning, "metadata.uid")) + "]");
  REQUIRE(f.Sync(kReplicaSets, "ns/orphaning").ok());
  CHECK(OwnerRefsOf(f.env.Get(kPods, "ns", "left")).empty());
  CHECK(api::Find(f.env.Get(kReplicaSets, "ns", "orphaning"), "metadata.finalizers")->Empty());

  auto fg = f.Owner("fg", R"(,"deletionTimestamp":"2024-01-01T00:00:00Z","finalizers":["foregroundDeletion"])");
  std::string uid = api::GetString(fg, "metadata.uid");
  f.Dependent("blocking", "[" + Ref("fg", uid, true) + "]");
  // First pass deletes the dependents; the finalizer stays while a blocking one existed.
  REQUIRE(f.Sync(kReplicaSets, "ns/fg").ok());
  CHECK_FALSE(f.env.Exists(kPods, "ns", "blocking"));
  // The dependent's deletion woke the owner: now it can go.
  REQUIRE(f.Sync(kReplicaSets, "ns/fg").ok());
  CHECK(api::Find(f.env.Get(kReplicaSets, "ns", "fg"), "metadata.finalizers")->Empty());
}

TEST_CASE("gc: owners in the index need no lookup; unknown kinds are never gone") {
  Fixture f;
  // A ConfigMap owned by a ReplicaSet in the index: kept without asking the server
  // (the GET that would fail is never made).
  auto owner = f.Owner("rs");
  f.env.Create(kConfigMaps, R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm","namespace":"ns","ownerReferences":[)" +
                                Ref("rs", api::GetString(owner, "metadata.uid")) + "]}}");
  f.env.fake.FailNext("get", Status(Code::kUnavailable, "apiserver down"));
  CHECK(f.Sync(kConfigMaps, "ns/cm").ok());  // the owner is in the index: no GET needed
  f.env.fake.ClearFailures();
  CHECK(f.env.Exists(kConfigMaps, "ns", "cm"));
  // An owner of an unknown kind is never assumed gone.
  f.env.Create(kConfigMaps, R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm2","namespace":"ns","ownerReferences":[{"apiVersion":"example.com/v1","kind":"Widget","name":"w","uid":"u"}]}})");
  REQUIRE(f.Sync(kConfigMaps, "ns/cm2").ok());
  CHECK(f.env.Exists(kConfigMaps, "ns", "cm2"));
}

}  // namespace
}  // namespace kubepp::controller
