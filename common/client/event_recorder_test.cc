#include "common/client/event_recorder.h"

#include <catch2/catch.hpp>

#include <future>
#include <set>

using namespace kubepp;
using namespace std::chrono_literals;

TEST_CASE("EventRecorder writes core/v1 events about an object") {
  client::FakeRestClient c;
  client::EventRecorder rec(&c, {.component = "default-scheduler", .host = "", .instance = "",
                                 .workers = 1, .max_queued = 10});
  client::ObjectReference pod{"Pod", "v1", "ns1", "web", "uid-1", "7"};
  rec.Record(pod, "Normal", "Scheduled", "Successfully assigned ns1/web to n1");
  rec.Record(pod, "Warning", "FailedScheduling", "0/1 nodes are available: 1 Too many pods.");
  REQUIRE(rec.WaitIdle(5s));
  auto list = c.List(client::kEvents, "ns1");
  REQUIRE(list.ok());
  const auto& items = (*list)["items"];
  REQUIRE(items.Size() == 2);
  std::set<std::string> names;
  for (const auto& e : items.GetArray()) {
    names.insert(api::GetString(e, "metadata.name"));
    CHECK(api::GetString(e, "metadata.name").rfind("web.", 0) == 0);
    CHECK(api::GetString(e, "involvedObject.kind") == "Pod");
    CHECK(api::GetString(e, "involvedObject.uid") == "uid-1");
    CHECK(api::GetString(e, "source.component") == "default-scheduler");
    CHECK(api::GetInt(e, "count") == 1);
    CHECK_FALSE(api::GetString(e, "firstTimestamp").empty());
  }
  CHECK(names.size() == 2);
  CHECK(rec.dropped() == 0);
  CHECK(rec.failed() == 0);
}

// An apiserver that hangs: every create waits until released, then fails.
class HangingClient : public client::FakeRestClient {
 public:
  Result<api::Document> Create(const client::ResourceRef&, const std::string&,
                               const api::Value&) override {
    released_.wait();
    return Unavailable("down");
  }
  void Release() { release_.set_value(); }

 private:
  std::promise<void> release_;
  std::shared_future<void> released_ = release_.get_future().share();
};

TEST_CASE("EventRecorder drops events beyond its queue instead of blocking") {
  HangingClient c;
  client::EventRecorder rec(&c, {.component = "x", .host = "", .instance = "", .workers = 1,
                                 .max_queued = 2});
  // The worker hangs on its first event: at most that one and two queued are kept.
  for (int i = 0; i < 50; ++i) rec.Record({"Pod", "v1", "ns", "p", "u", ""}, "Normal", "R", "m");
  CHECK(rec.dropped() >= 47);
  c.Release();
  REQUIRE(rec.WaitIdle(5s));
  CHECK(rec.dropped() + rec.failed() == 50);
}
