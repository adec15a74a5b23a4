#include "apiserver/storage/dispatcher.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace kubepp::apiserver {
namespace {

EventPtr Event(const std::string& resource, int64_t rv) {
  auto o = std::make_shared<StoredObject>();
  o->resource = resource;
  o->name = "o" + std::to_string(rv);
  o->rv = rv;
  auto ev = std::make_shared<WatchEvent>();
  ev->type = EventType::kAdded;
  ev->object = o;
  return ev;
}

struct Seen {
  std::mutex mu;
  std::vector<int64_t> rvs;
  std::thread::id thread;
  bool concurrent = false;  // two threads in this sink at once
  int inside = 0;
};

Subscription Record(const std::string& resource, int64_t after, Seen& seen) {
  return Subscription{resource,
                      [&seen](const EventPtr& ev) {
                        {
                          std::lock_guard<std::mutex> l(seen.mu);
                          if (++seen.inside > 1) seen.concurrent = true;
                        }
                        std::this_thread::sleep_for(std::chrono::microseconds(20));
                        std::lock_guard<std::mutex> l(seen.mu);
                        --seen.inside;
                        seen.rvs.push_back(ev->object->rv);
                      },
                      after};
}

TEST_CASE("dispatcher: every subscription gets its events in order, one call at a time, "
          "from several threads", "[storage][dispatcher]") {
  Dispatcher d(4);
  constexpr int kSubs = 40;
  std::vector<std::unique_ptr<Seen>> seen;
  for (int i = 0; i < kSubs; ++i) {
    seen.push_back(std::make_unique<Seen>());
    // Half watch "b", and a few start after revision 50.
    d.Join(i, Record(i % 2 ? "a" : "b", i % 5 == 0 ? 50 : 0, *seen.back()));
  }
  Seen other;
  d.Join(1000, Record("a", 0, other));
  for (int64_t rv = 1; rv <= 200; rv += 2) {
    d.Publish({Event("a", rv), Event("b", rv + 1)});
    if (rv == 101) d.Leave(1000);  // returns with no call in progress or to come
    if (rv == 101) {
      std::lock_guard<std::mutex> l(other.mu);
      other.rvs.push_back(-1);  // nothing may follow this mark
    }
  }
  auto all_in = [&] {
    for (int i = 0; i < kSubs; ++i) {
      std::lock_guard<std::mutex> l(seen[i]->mu);
      if (seen[i]->rvs.size() < (i % 5 == 0 ? 75u : 100u)) return false;
    }
    return true;
  };
  for (int i = 0; i < 1000 && !all_in(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (int i = 0; i < kSubs; ++i) {
    std::lock_guard<std::mutex> l(seen[i]->mu);
    const auto& rvs = seen[i]->rvs;
    int64_t first = (i % 2 ? 1 : 2) + (i % 5 == 0 ? 50 : 0);
    REQUIRE(rvs.size() == (i % 5 == 0 ? 75u : 100u));
    for (size_t k = 0; k < rvs.size(); ++k) CHECK(rvs[k] == first + 2 * static_cast<int64_t>(k));
    CHECK(!seen[i]->concurrent);
  }
  std::lock_guard<std::mutex> l(other.mu);
  REQUIRE(!other.rvs.empty());
  CHECK(other.rvs.back() == -1);
}

TEST_CASE("dispatcher: a subscription that joins sees only what is published after",
          "[storage][dispatcher]") {
  Dispatcher d(2);
  Seen early, late;
  d.Join(1, Record("a", 0, early));
  d.Publish({Event("a", 1)});
  d.Join(2, Record("a", 1, late));  // as the storage does: after_rv = the revision now
  d.Publish({Event("a", 2)});
  for (int i = 0; i < 1000; ++i) {
    std::lock_guard<std::mutex> l(early.mu), l2(late.mu);
    if (early.rvs.size() == 2 && late.rvs.size() == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  std::lock_guard<std::mutex> l(early.mu), l2(late.mu);
  CHECK(early.rvs == std::vector<int64_t>{1, 2});
  CHECK(late.rvs == std::vector<int64_t>{2});
}

}  // namespace
}  // namespace kubepp::apiserver
