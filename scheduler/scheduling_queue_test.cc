#include "scheduler/scheduling_queue.h"

#include "scheduler/testutil.h"

using namespace kubepp::scheduler;
using namespace kubepp::scheduler::testing;
using namespace std::chrono_literals;

namespace {
struct FakeClock {
  Clock::time_point t = Clock::time_point(1000h);
  QueueOptions Options() {
    QueueOptions o;
    o.now = [this] { return t; };
    return o;
  }
};
PodPtr WithPriority(const std::string& name, int priority) {
  return Pod(name, R"("priority":)" + std::to_string(priority));
}
std::string PopName(SchedulingQueue& q) {
  auto qp = q.TryPop();
  return qp ? qp->pod->name : "";
}
}  // namespace

TEST_CASE("queue: higher priority first, then first in") {
  FakeClock clock;
  SchedulingQueue q(clock.Options());
  q.Add(WithPriority("low", 0));
  clock.t += 1ms;
  q.Add(WithPriority("high", 100));
  clock.t += 1ms;
  q.Add(WithPriority("low2", 0));
  CHECK(PopName(q) == "high");
  CHECK(PopName(q) == "low");
  CHECK(PopName(q) == "low2");
  CHECK(PopName(q) == "");
}

TEST_CASE("queue: adding a queued pod again keeps one entry") {
  SchedulingQueue q;
  q.Add(Pod("a"));
  q.Add(Pod("a"));
  CHECK(q.GetCounts().active == 1);
}

TEST_CASE("queue: unschedulable pods wait for a cluster change, then back off") {
  FakeClock clock;
  SchedulingQueue q(clock.Options());
  q.Add(Pod("a"));
  auto qp = q.TryPop();
  REQUIRE(qp);
  q.AddUnschedulable(*qp);
  CHECK(q.GetCounts().unschedulable == 1);
  CHECK(PopName(q) == "");
  clock.t += 500ms;
  q.MoveAllToActiveOrBackoff();
  // attempt 1: 1 s backoff from the failure.
  CHECK(q.GetCounts().backoff == 1);
  CHECK(PopName(q) == "");
  clock.t += 600ms;
  CHECK(PopName(q) == "a");
}

TEST_CASE("queue: backoff doubles per attempt up to the maximum") {
  FakeClock clock;
  SchedulingQueue q(clock.Options());
  q.Add(Pod("a"));
  struct Step {
    int attempt;
    Clock::duration backoff;
  } steps[] = {{1, 1s}, {2, 2s}, {3, 4s}, {4, 8s}, {5, 10s}, {6, 10s}};
  for (const auto& s : steps) {
    auto qp = q.TryPop();
    REQUIRE(qp);
    CHECK(qp->attempts == s.attempt);
    q.AddBackoff(*qp);
    clock.t += s.backoff - 1ms;
    CHECK(PopName(q) == "");
    clock.t += 1ms;
  }
}

TEST_CASE("queue: a change during the attempt sends the failed pod to backoff") {
  FakeClock clock;
  SchedulingQueue q(clock.Options());
  q.Add(Pod("a"));
  auto qp = q.TryPop();
  q.MoveAllToActiveOrBackoff();  // e.g. a node was added while "a" was being scheduled
  q.AddUnschedulable(*qp);
  CHECK(q.GetCounts().backoff == 1);
  CHECK(q.GetCounts().unschedulable == 0);
}

TEST_CASE("queue: parked pods are retried after at most 5 minutes") {
  FakeClock clock;
  SchedulingQueue q(clock.Options());
  q.Add(Pod("a"));
  q.AddUnschedulable(*q.TryPop());
  clock.t += 4min;
  CHECK(PopName(q) == "");
  clock.t += 1min + 1s;
  CHECK(PopName(q) == "a");
}

TEST_CASE("queue: a spec update moves a parked pod; a status-only update does not") {
  FakeClock clock;
  SchedulingQueue q(clock.Options());
  q.Add(Pod("a"));
  q.AddUnschedulable(*q.TryPop());
  clock.t += 2s;
  q.Update(Pod("a", "", R"("annotations":{"x":"y"})"));  // same spec and labels
  CHECK(q.GetCounts().unschedulable == 1);
  q.Update(Pod("a", R"("nodeSelector":{"disk":"ssd"})"));
  CHECK(PopName(q) == "a");
}

TEST_CASE("queue: moves can be filtered; deleted pods vanish, also in flight") {
  FakeClock clock;
  SchedulingQueue q(clock.Options());
  q.Add(Pod("plain"));
  q.Add(Pod("affine", R"("affinity":{"podAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"labelSelector":{},"topologyKey":"zone"}]}})"));
  q.AddUnschedulable(*q.TryPop());
  q.AddUnschedulable(*q.TryPop());
  clock.t += 20s;
  q.MoveAllToActiveOrBackoff([](const PodInfo& p) { return !p.required_affinity.empty(); });
  CHECK(PopName(q) == "affine");
  CHECK(q.GetCounts().unschedulable == 1);
  q.Delete("default/plain");
  CHECK(q.GetCounts().unschedulable == 0);

  q.Add(Pod("gone"));
  auto qp = q.TryPop();
  q.Delete("default/gone");
  q.AddUnschedulable(*qp);  // the attempt ends after the delete: dropped
  CHECK_FALSE(q.Contains("default/gone"));
}

TEST_CASE("queue: Pop blocks until a pod arrives or the queue closes") {
  SchedulingQueue q;
  std::thread t([&] {
    std::this_thread::sleep_for(20ms);
    q.Add(Pod("a"));
  });
  auto qp = q.Pop();
  t.join();
  REQUIRE(qp);
  CHECK(qp->pod->name == "a");
  std::thread closer([&] { q.Close(); });
  CHECK_FALSE(q.Pop());
  closer.join();
}
