#include "common/informer/workqueue.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

namespace kubepp::informer {
namespace {

using namespace std::chrono_literals;

TEST_CASE("workqueue: a queued key is stored once, FIFO order") {
  WorkQueue q;
  q.Add("a");
  q.Add("b");
  q.Add("a");
  CHECK(q.Len() == 2);
  std::string k;
  REQUIRE(q.Get(&k));
  CHECK(k == "a");
  REQUIRE(q.Get(&k));
  CHECK(k == "b");
  CHECK(q.Len() == 0);
}

TEST_CASE("workqueue: a key re-added while processing is queued again after Done") {
  WorkQueue q;
  q.Add("a");
  std::string k;
  REQUIRE(q.Get(&k));
  q.Add("a");
  q.Add("a");
  CHECK(q.Len() == 0);  // held by a worker: not handed out twice
  q.Done("a");
  CHECK(q.Len() == 1);
  REQUIRE(q.Get(&k));
  CHECK(k == "a");
  q.Done("a");
  CHECK(q.Len() == 0);
}

TEST_CASE("workqueue: concurrent workers never hold the same key") {
  WorkQueue q;
  std::atomic<int> in_flight_a{0};
  std::atomic<bool> overlap{false};
  std::atomic<int> processed{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      std::string k;
      while (q.Get(&k)) {
        if (k == "a" && in_flight_a.fetch_add(1) != 0) overlap = true;
        std::this_thread::sleep_for(200us);
        if (k == "a") in_flight_a.fetch_sub(1);
        processed++;
        q.Done(k);
      }
    });
  }
  for (int i = 0; i < 2000; ++i) {
    q.Add("a");
    q.Add(i % 2 ? "b" : "c");
    if (i % 100 == 0) std::this_thread::sleep_for(1ms);
  }
  std::this_thread::sleep_for(50ms);
  q.ShutDown();
  for (auto& t : workers) t.join();
  CHECK_FALSE(overlap);
  CHECK(processed > 3);
}

TEST_CASE("workqueue: Get drains ready keys after ShutDown, then returns false") {
  WorkQueue q;
  q.Add("a");
  q.ShutDown();
  q.Add("b");  // ignored
  std::string k;
  REQUIRE(q.Get(&k));
  CHECK(k == "a");
  CHECK_FALSE(q.Get(&k));
  CHECK(q.ShuttingDown());
}

TEST_CASE("workqueue: ShutDown wakes a blocked Get") {
  WorkQueue q;
  std::thread t([&] {
    std::this_thread::sleep_for(20ms);
    q.ShutDown();
  });
  std::string k;
  CHECK_FALSE(q.Get(&k));
  t.join();
}

TEST_CASE("workqueue: exponential backoff doubles from 5 ms and caps at 1000 s") {
  ExponentialBackoff b(5ms, 1000s);
  CHECK(b.When("x") == 5ms);
  CHECK(b.When("x") == 10ms);
  CHECK(b.When("x") == 20ms);
  CHECK(b.When("y") == 5ms);
  CHECK(b.NumRequeues("x") == 3);
  for (int i = 0; i < 30; ++i) (void)b.When("x");
  CHECK(b.When("x") == 1000s);
  for (int i = 0; i < 100; ++i) (void)b.When("x");
  CHECK(b.When("x") == 1000s);  // no overflow far past the cap
  b.Forget("x");
  CHECK(b.NumRequeues("x") == 0);
  CHECK(b.When("x") == 5ms);
}

TEST_CASE("workqueue: AddRateLimited delays by the backoff; Forget resets it") {
  WorkQueue q(WorkQueueOptions{20ms, 1s});
  q.AddRateLimited("a");
  q.AddRateLimited("a");  // 40 ms, the earlier 20 ms entry wins
  CHECK(q.NumRequeues("a") == 2);
  CHECK(q.Len() == 0);
  auto start = std::chrono::steady_clock::now();
  std::string k;
  REQUIRE(q.Get(&k));
  auto waited = std::chrono::steady_clock::now() - start;
  CHECK(k == "a");
  CHECK(waited >= 15ms);
  CHECK(waited < 500ms);
  q.Done("a");
  q.Forget("a");
  CHECK(q.NumRequeues("a") == 0);
}

TEST_CASE("workqueue: AddAfter keeps the earliest time and merges with Add") {
  WorkQueue q;
  q.AddAfter("late", 300ms);
  q.AddAfter("soon", 30ms);
  q.AddAfter("late", 60ms);   // earlier: replaces 300 ms
  q.AddAfter("soon", 500ms);  // later: ignored
  q.AddAfter("now", 0ms);
  std::string k;
  REQUIRE(q.Get(&k));
  CHECK(k == "now");
  auto start = std::chrono::steady_clock::now();
  REQUIRE(q.Get(&k));
  CHECK(k == "soon");
  REQUIRE(q.Get(&k));
  CHECK(k == "late");
  CHECK(std::chrono::steady_clock::now() - start < 250ms);
  std::this_thread::sleep_for(20ms);
  CHECK(q.Len() == 0);
}

TEST_CASE("workqueue: delayed keys become visible in Len when due") {
  WorkQueue q;
  q.AddAfter("a", 20ms);
  CHECK(q.Len() == 0);
  std::this_thread::sleep_for(40ms);
  CHECK(q.Len() == 1);
}

}  // namespace
}  // namespace kubepp::informer
