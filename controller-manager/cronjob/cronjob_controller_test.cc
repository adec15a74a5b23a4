#include "controller-manager/cronjob/cronjob_controller.h"

#include <catch2/catch.hpp>

#include "common/util/time.h"
#include "controller-manager/framework/owner.h"
#include "controller-manager/framework/pods.h"
#include "controller-manager/framework/testing.h"

namespace kubepp::controller {
namespace {

using client::kCronJobs;
using client::kJobs;
using testing::Env;

struct Fixture {
  Fixture()
      : cc(env.Own(std::make_unique<CronJobController>(&env.fake, &env.informers, &env.clock,
                                                       &env.events))) {
    env.Watch(kCronJobs);
    env.Watch(kJobs);
    env.Start();
  }
  // Creates the CronJob (the fake server stamps the real time) and sets the fake clock
  // to 30 s into the minute it was created in (minute 0 of the tests' schedule).
  void CreateCronJob(const std::string& extra_spec) {
    auto cj = env.Create(kCronJobs, R"({"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"cj","namespace":"ns"},
        "spec":{"schedule":"* * * * *","jobTemplate":{"metadata":{"labels":{"from":"cj"}},"spec":{"template":{"spec":{"containers":[{"name":"c"}]}}}})" +
                               extra_spec + "}}");
    base_minute = TimeField(cj, "metadata.creationTimestamp") / 60;
    env.clock.Set(base_minute * 60 + 30);
  }
  Status Sync() {
    env.Settle();
    Status st = cc.Sync("ns/cj");
    env.Settle();
    return st;
  }
  std::vector<std::string> Jobs() {
    std::vector<std::string> out;
    for (auto& j : env.List(kJobs, "ns")) out.push_back(api::GetString(j, "metadata.name"));
    std::sort(out.begin(), out.end());
    return out;
  }
  void FinishAll(const std::string& type) {
    for (auto& j : env.List(kJobs, "ns")) {
      auto& a = j.GetAllocator();
      api::SetValue(j, "status.conditions",
                    api::Value(testing::Json(R"([{"type":")" + type + R"(","status":"True"}])"), a), a);
      api::SetString(j, "status.startTime", util::FormatRfc3339(env.clock.NowUnix()), a);
      REQUIRE(env.fake.UpdateStatus(kJobs, "", j).ok());
    }
  }
  // The Job of minute `n` after the CronJob's creation: "cj-<minutes since epoch>".
  std::string JobFor(int n) const { return "cj-" + std::to_string(base_minute + n); }
  std::string TimeOf(int n) const { return util::FormatRfc3339((base_minute + n) * 60); }
  int64_t base_minute = 0;
  Env env;
  CronJobController& cc;
};

TEST_CASE("cronjob: one Job per scheduled time, named by it") {
  Fixture f;
  f.CreateCronJob("");
  REQUIRE(f.Sync().ok());
  CHECK(f.Jobs().empty());  // minute 1 has not come yet
  f.env.clock.Advance(40);  // 10 s into minute 1
  REQUIRE(f.Sync().ok());
  REQUIRE(f.Jobs() == std::vector<std::string>{f.JobFor(1)});
  auto job = f.env.Get(kJobs, "ns", f.JobFor(1));
  CHECK(api::GetString(job, "metadata.labels.from") == "cj");
  CHECK(ControllerOf(job)->kind == "CronJob");
  auto cj = f.env.Get(kCronJobs, "ns", "cj");
  CHECK(api::GetString(cj, "status.lastScheduleTime") == f.TimeOf(1));
  CHECK(api::Find(cj, "status.active")->Size() == 1);
  REQUIRE(f.Sync().ok());  // idempotent within the same minute
  CHECK(f.Jobs().size() == 1);
}

TEST_CASE("cronjob: concurrency policies") {
  SECTION("Forbid skips while a Job runs") {
    Fixture f;
    f.CreateCronJob(R"(,"concurrencyPolicy":"Forbid")");
    f.env.clock.Advance(40);
    REQUIRE(f.Sync().ok());
    f.env.clock.Advance(60);
    REQUIRE(f.Sync().ok());
    CHECK(f.Jobs().size() == 1);
    CHECK(f.env.events.Has("JobAlreadyActive"));
  }
  SECTION("Replace deletes the running Job") {
    Fixture f;
    f.CreateCronJob(R"(,"concurrencyPolicy":"Replace")");
    f.env.clock.Advance(40);
    REQUIRE(f.Sync().ok());
    f.env.clock.Advance(60);
    REQUIRE(f.Sync().ok());
    CHECK(f.Jobs() == std::vector<std::string>{f.JobFor(2)});
  }
  SECTION("Allow runs them side by side") {
    Fixture f;
    f.CreateCronJob("");
    f.env.clock.Advance(40);
    REQUIRE(f.Sync().ok());
    f.env.clock.Advance(60);
    REQUIRE(f.Sync().ok());
    CHECK(f.Jobs().size() == 2);
  }
}

TEST_CASE("cronjob: suspend, startingDeadlineSeconds and history limits") {
  Fixture f;
  f.CreateCronJob(R"(,"suspend":true,"startingDeadlineSeconds":30,"successfulJobsHistoryLimit":1)");
  f.env.clock.Advance(40);
  REQUIRE(f.Sync().ok());
  CHECK(f.Jobs().empty());
  auto cj = f.env.Get(kCronJobs, "ns", "cj");
  api::SetBool(cj, "spec.suspend", false, cj.GetAllocator());
  REQUIRE(f.env.fake.Update(kCronJobs, "", cj).ok());
  f.env.clock.Advance(25);  // 35 s late for minute 1, beyond the 30 s deadline
  REQUIRE(f.Sync().ok());
  CHECK(f.Jobs().empty());
  // Three more minutes, each synced 10 s after its scheduled time: three Jobs, of which
  // only the newest successful one is kept.
  for (int i = 0; i < 3; ++i) {
    f.env.clock.Set((f.env.clock.NowUnix() / 60 + 1) * 60 + 10);
    REQUIRE(f.Sync().ok());
    f.FinishAll("Complete");
  }
  REQUIRE(f.Sync().ok());
  CHECK(f.Jobs() == std::vector<std::string>{f.JobFor(4)});
}

TEST_CASE("cronjob: bad schedules and zones are events, not retries") {
  Fixture f;
  f.CreateCronJob(R"(,"timeZone":"Nowhere/Atlantis")");
  f.env.clock.Advance(40);
  REQUIRE(f.Sync().ok());
  CHECK(f.Jobs().empty());
  CHECK(f.env.events.Has("UnknownTimeZone"));
}

}  // namespace
}  // namespace kubepp::controller
