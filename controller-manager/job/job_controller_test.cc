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

namespace kubepp::controller {
namespace {

TEST_CASE("job: completed index lists parse and print as upstream's") {
  CHECK(FormatIndexes(ParseIndexes("0-2,4,6-7", 100)) == "0-2,4,6-7");
  CHECK(FormatIndexes(ParseIndexes("5,1,2,3", 100)) == "1-3,5");
  CHECK(FormatIndexes(ParseIndexes("0-9", 3)) == "0-2");           // bounded by completions
  CHECK(FormatIndexes(ParseIndexes("x,3-1,,-2,7", 100)) == "7");   // malformed parts dropped
  CHECK(FormatIndexes({}) == "");
}

TEST_CASE("job: Indexed mode runs one pod per index until every index succeeded") {
  testing::Env env;
  auto& jc = env.Own(std::make_unique<JobController>(&env.fake, &env.informers, &env.clock, &env.events));
  env.Watch(kJobs);
  env.Watch(kPods);
  env.Start();
  env.Create(kJobs, R"({"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"ix","namespace":"ns"},
      "spec":{"completions":3,"parallelism":2,"completionMode":"Indexed",
              "selector":{"matchLabels":{"job":"ix"}},
              "template":{"metadata":{"labels":{"job":"ix"}},
                          "spec":{"restartPolicy":"Never","containers":[{"name":"c"}]}}}})");
  auto sync = [&] {
    env.Settle();
    REQUIRE(jc.Sync("ns/ix").ok());
    env.Settle();
  };
  auto member = [](const api::Value& p, const char* map) {
    const api::Value* v = api::FindMember(*api::Find(p, map), JobController::kCompletionIndexAnnotation);
    return v ? std::string(v->GetString()) : std::string();
  };
  auto index_of = [&](const api::Value& p) { return member(p, "metadata.annotations"); };
  auto finish = [&](const std::string& index, const std::string& phase) {
    for (auto& p : env.List(kPods, "ns")) {
      if (index_of(p) != index || api::Has(p, "status.phase")) continue;
      api::SetString(p, "status.phase", phase, p.GetAllocator());
      REQUIRE(env.fake.UpdateStatus(kPods, "", p).ok());
    }
  };
  sync();
  auto pods = env.List(kPods, "ns");
  REQUIRE(pods.size() == 2);
  std::set<std::string> indexes;
  for (auto& p : pods) {
    std::string i = index_of(p);
    indexes.insert(i);
    CHECK(member(p, "metadata.labels") == i);
    CHECK(api::GetString(p, "spec.hostname") == "ix-" + i);
    CHECK(api::GetString(p, "metadata.generateName") == "ix-" + i + "-");
    const api::Value& env0 = (*api::Find(p, "spec.containers"))[0]["env"][0];
    CHECK(api::GetString(env0, "name") == "JOB_COMPLETION_INDEX");
    CHECK(api::GetString(env0, "valueFrom.fieldRef.fieldPath") ==
          "metadata.annotations['batch.kubernetes.io/job-completion-index']");
  }
  CHECK(indexes == std::set<std::string>{"0", "1"});
  finish("1", "Succeeded");
  finish("0", "Failed");  // a failed index is run again
  sync();
  sync();
  auto job = env.Get(kJobs, "ns", "ix");
  CHECK(api::GetString(job, "status.completedIndexes") == "1");
  CHECK(api::GetInt(job, "status.succeeded") == 1);
  CHECK(api::GetInt(job, "status.failed") == 1);
  indexes.clear();
  for (auto& p : env.List(kPods, "ns")) {
    if (!api::Has(p, "status.phase")) indexes.insert(index_of(p));
  }
  CHECK(indexes == std::set<std::string>{"0", "2"});
  finish("0", "Succeeded");
  finish("2", "Succeeded");
  sync();
  job = env.Get(kJobs, "ns", "ix");
  CHECK(api::GetString(job, "status.completedIndexes") == "0-2");
  CHECK(api::GetInt(job, "status.succeeded") == 3);
  const api::Value* c = FindCondition(*api::Find(job, "status"), "Complete");
  REQUIRE(c != nullptr);
  CHECK(api::GetString(*c, "status") == "True");
}

}  // namespace
}  // namespace kubepp::controller
