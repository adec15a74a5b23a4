#include "controller-manager/job/job_controller.h"

#include <catch2/catch.hpp>

#include "controller-manager/framework/conditions.h"
#include "controller-manager/framework/testing.h"

namespace kubepp::controller {
namespace {

using client::kJobs;
using client::kPods;
using testing::Env;

struct Fixture {
  Fixture()
      : jc(env.Own(std::make_unique<JobController>(&env.fake, &env.informers, &env.clock,
                                                   &env.events))) {
    env.Watch(kJobs);
    env.Watch(kPods);
    env.Start();
  }
  void CreateJob(const std::string& spec) {
    env.Create(kJobs, R"({"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"j","namespace":"ns"},
        "spec":{"selector":{"matchLabels":{"job":"j"}},
                "template":{"metadata":{"labels":{"job":"j"}},"spec":{"restartPolicy":"Never","containers":[{"name":"c"}]}})" +
                            spec + "}}");
  }
  Status Sync() {
    env.Settle();
    Status st = jc.Sync("ns/j");
    env.Settle();
    return st;
  }
  std::vector<std::string> Phases() {
    std::vector<std::string> out;
    for (auto& p : env.List(kPods, "ns")) out.push_back(api::GetString(p, "status.phase", "Pending"));
    std::sort(out.begin(), out.end());
    return out;
  }
  // Plays the kubelet: `n` pending pods finish with `phase`.
  void Finish(int n, const std::string& phase) {
    for (auto& p : env.List(kPods, "ns")) {
      if (n == 0) break;
      if (api::Has(p, "status.phase")) continue;
      api::SetString(p, "status.phase", phase, p.GetAllocator());
      REQUIRE(env.fake.UpdateStatus(kPods, "", p).ok());
      --n;
    }
  }
  std::string Condition(const std::string& type) {
    auto job = env.Get(kJobs, "ns", "j");
    const api::Value* status = api::Find(job, "status");
    const api::Value* c = status ? FindCondition(*status, type) : nullptr;
    return c ? api::GetString(*c, "reason") : "";
  }
  Env env;
  JobController& jc;
};

TEST_CASE("job: runs parallelism pods until completions succeed") {
  Fixture f;
  f.CreateJob(R"(,"completions":3,"parallelism":2,"backoffLimit":6)");
  REQUIRE(f.Sync().ok());
  CHECK(f.Phases() == std::vector<std::string>{"Pending", "Pending"});
  f.Finish(1, "Succeeded");
  REQUIRE(f.Sync().ok());  // one more: 3 - 1 succeeded leaves room for 2 active
  CHECK(f.Phases() == std::vector<std::string>{"Pending", "Pending", "Succeeded"});
  auto job = f.env.Get(kJobs, "ns", "j");
  CHECK(api::GetInt(job, "status.active") == 1);  // counted before the new pod was seen
  CHECK(api::GetInt(job, "status.succeeded") == 1);
  CHECK(api::Has(job, "status.startTime"));
  f.Finish(2, "Succeeded");
  REQUIRE(f.Sync().ok());
  CHECK(f.Condition("Complete") == "CompletionsReached");
  job = f.env.Get(kJobs, "ns", "j");
  CHECK(api::GetInt(job, "status.succeeded") == 3);
  CHECK(api::GetInt(job, "status.active") == 0);
  CHECK(api::Has(job, "status.completionTime"));
  // Finished jobs stay put: nothing new is created.
  REQUIRE(f.Sync().ok());
  CHECK(f.Phases().size() == 3);
}

TEST_CASE("job: failures beyond backoffLimit fail the job and stop its pods") {
  Fixture f;
  f.CreateJob(R"(,"completions":5,"parallelism":3,"backoffLimit":1)");
  REQUIRE(f.Sync().ok());
  f.Finish(2, "Failed");
  REQUIRE(f.Sync().ok());
  CHECK(f.Condition("Failed") == "BackoffLimitExceeded");
  CHECK(f.Phases() == std::vector<std::string>{"Failed", "Failed"});  // the active one is gone
  CHECK(f.env.events.Has("BackoffLimitExceeded"));
}

TEST_CASE("job: activeDeadlineSeconds and ttlSecondsAfterFinished follow the clock") {
  Fixture f;
  f.CreateJob(R"(,"completions":1,"parallelism":1,"activeDeadlineSeconds":30,"ttlSecondsAfterFinished":60)");
  REQUIRE(f.Sync().ok());
  f.env.clock.Advance(29);
  REQUIRE(f.Sync().ok());
  CHECK(f.Condition("Failed").empty());
  f.env.clock.Advance(1);
  REQUIRE(f.Sync().ok());
  CHECK(f.Condition("Failed") == "DeadlineExceeded");
  CHECK(f.env.List(kPods, "ns").empty());
  // Deleted ttlSecondsAfterFinished after the Failed condition's time.
  f.env.clock.Advance(59);
  REQUIRE(f.Sync().ok());
  CHECK(f.env.Exists(kJobs, "ns", "j"));
  f.env.clock.Advance(1);
  REQUIRE(f.Sync().ok());
  CHECK_FALSE(f.env.Exists(kJobs, "ns", "j"));
}

}  // namespace
}  // namespace kubepp::controller
