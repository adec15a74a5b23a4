#include "scheduler/cache.h"

#include "scheduler/testutil.h"

using namespace kubepp::scheduler;
using namespace kubepp::scheduler::testing;

namespace {
const std::string kCpu = R"("containers":[{"name":"c","resources":{"requests":{"cpu":"1"}}}])";
// A cache and the one snapshot kept up to date from it (snapshots are incremental, as
// on the scheduling thread).
struct Fixture {
  Cache cache;
  Snapshot snapshot;
  int64_t RequestedCpu(const std::string& node) {
    cache.UpdateSnapshot(&snapshot);
    const NodeInfo* n = snapshot.Get(node);
    return n ? n->requested.milli_cpu : -1;
  }
};
}  // namespace

TEST_CASE("cache: an assumed pod counts at once; confirmation keeps one copy") {
  Fixture f;
  Cache& cache = f.cache;
  cache.AddOrUpdateNode(Node("n"));
  cache.AddOrUpdateNode(Node("m"));
  REQUIRE(cache.AssumePod(BoundPod("p", "n", kCpu)).ok());
  CHECK(cache.IsAssumed("default/p"));
  CHECK(f.RequestedCpu("n") == 1000);
  CHECK_FALSE(cache.AssumePod(BoundPod("p", "n", kCpu)).ok());  // known already

  cache.FinishBinding("default/p");
  cache.AddPod(BoundPod("p", "n", kCpu));  // the informer sees the binding
  CHECK_FALSE(cache.IsAssumed("default/p"));
  CHECK(f.RequestedCpu("n") == 1000);
  cache.ForgetPod("default/p");  // no effect once confirmed
  CHECK(f.RequestedCpu("n") == 1000);
  cache.RemovePod("default/p");
  CHECK(f.RequestedCpu("n") == 0);
}

TEST_CASE("cache: a failed binding forgets; a pod bound elsewhere moves") {
  Fixture f;
  Cache& cache = f.cache;
  cache.AddOrUpdateNode(Node("n"));
  cache.AddOrUpdateNode(Node("m"));
  REQUIRE(cache.AssumePod(BoundPod("p", "n", kCpu)).ok());
  cache.ForgetPod("default/p");
  CHECK_FALSE(cache.Contains("default/p"));
  CHECK(f.RequestedCpu("n") == 0);

  REQUIRE(cache.AssumePod(BoundPod("q", "n", kCpu)).ok());
  cache.AddPod(BoundPod("q", "m", kCpu));
  CHECK(f.RequestedCpu("n") == 0);
  CHECK(f.RequestedCpu("m") == 1000);
  CHECK(cache.GetStats().pods == 1);
  CHECK(cache.GetStats().assumed == 0);
}

TEST_CASE("cache: node changes, pods of unknown nodes, incremental snapshots") {
  Fixture f;
  Cache& cache = f.cache;
  CHECK(cache.AddOrUpdateNode(Node("n")));
  CHECK_FALSE(cache.AddOrUpdateNode(Node("n")));  // same as before
  CHECK(cache.AddOrUpdateNode(Node("n", R"("disk":"ssd")")));
  cache.AddPod(BoundPod("early", "later", kCpu));  // bound before its node is seen
  Snapshot s;
  cache.UpdateSnapshot(&s);
  CHECK(s.nodes().size() == 1);
  cache.AddOrUpdateNode(Node("later"));
  cache.UpdateSnapshot(&s);
  REQUIRE(s.Get("later"));
  CHECK(s.Get("later")->requested.milli_cpu == 1000);
  const NodeInfo* before = s.Get("n");
  cache.AddPod(BoundPod("x", "later", kCpu));
  cache.UpdateSnapshot(&s);
  CHECK(s.Get("n") == before);  // untouched nodes are not copied again
  cache.RemoveNode("n");
  cache.UpdateSnapshot(&s);
  CHECK(s.Get("n") == nullptr);
  CHECK(s.nodes().size() == 1);
}
