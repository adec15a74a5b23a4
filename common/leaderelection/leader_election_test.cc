#include "common/leaderelection/leader_election.h"

#include <catch2/catch.hpp>
#include <regex>
#include <thread>

namespace kubepp::leaderelection {
namespace {

using namespace std::chrono_literals;
using client::FakeRestClient;
using client::kLeases;

template <typename Pred>
bool WaitUntil(Pred pred, std::chrono::milliseconds timeout = 5s) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

// A candidate with short durations, running on its own thread.
struct Candidate {
  std::atomic<bool> stop{false};
  std::atomic<bool> leading{false};
  std::atomic<int> started{0}, stopped{0};
  std::atomic<bool> returned{false};
  std::unique_ptr<LeaderElector> elector;
  std::thread thread;

  Candidate(client::RestClient* client, const std::string& id) {
    LeaderElectionConfig cfg;
    cfg.lease_name = "sched";
    cfg.identity = id;
    cfg.lease_duration = 1000ms;
    cfg.renew_deadline = 500ms;
    cfg.retry_period = 100ms;
    cfg.callbacks.on_started_leading = [this](const std::atomic<bool>* s) {
      ++started;
      leading = true;
      while (!s->load()) std::this_thread::sleep_for(5ms);
      leading = false;
    };
    cfg.callbacks.on_stopped_leading = [this] { ++stopped; };
    elector = std::make_unique<LeaderElector>(client, cfg);
    thread = std::thread([this] {
      elector->Run(&stop);
      returned = true;
    });
  }
  ~Candidate() { Stop(); }
  void Stop() {
    stop = true;
    if (thread.joinable()) thread.join();
  }
};

api::Document GetLease(FakeRestClient& fake) {
  auto lease = fake.Get(kLeases, "kube-system", "sched");
  REQUIRE(lease.ok());
  return std::move(lease).value();
}

void PutLease(FakeRestClient& fake, const std::string& holder,
              std::chrono::system_clock::time_point renewed) {
  api::Document lease(rapidjson::kObjectType);
  auto& a = lease.GetAllocator();
  api::SetString(lease, "metadata.name", "sched", a);
  api::SetString(lease, "metadata.namespace", "kube-system", a);
  api::SetString(lease, "spec.holderIdentity", holder, a);
  api::SetInt(lease, "spec.leaseDurationSeconds", 1, a);
  api::SetString(lease, "spec.acquireTime", FormatMicroTime(renewed), a);
  api::SetString(lease, "spec.renewTime", FormatMicroTime(renewed), a);
  api::SetInt(lease, "spec.leaseTransitions", 4, a);
  REQUIRE(fake.Create(kLeases, "", lease).ok());
}

TEST_CASE("leaderelection: MicroTime format and RFC 3339 parsing") {
  auto t = std::chrono::system_clock::time_point(std::chrono::microseconds(1700000000123456));
  CHECK(FormatMicroTime(t) == "2023-11-14T22:13:20.123456Z");
  CHECK(ParseTime("2023-11-14T22:13:20.123456Z") == t);
  CHECK(ParseTime("2023-11-14T22:13:20Z") == t - 123456us);
  CHECK(ParseTime("2023-11-14T23:13:20.123456+01:00") == t);
  CHECK(ParseTime("2023-11-14T22:13:20.1234567Z") == t);  // extra digits truncated
  CHECK_FALSE(ParseTime("2023-11-14 22:13:20Z"));
  CHECK_FALSE(ParseTime("2023-11-14T22:13:20"));
  CHECK_FALSE(ParseTime("2023-11-14T22:13:20.Z"));
  CHECK(DefaultIdentity().find('_') != std::string::npos);
}

TEST_CASE("leaderelection: acquires an absent lease and renews it") {
  FakeRestClient fake;
  Candidate c(&fake, "a");
  REQUIRE(WaitUntil([&] { return c.leading.load(); }));
  CHECK(c.elector->IsLeader());
  CHECK(c.elector->Leader() == "a");
  auto lease = GetLease(fake);
  CHECK(api::GetString(lease, "apiVersion") == "coordination.k8s.io/v1");
  CHECK(api::GetString(lease, "spec.holderIdentity") == "a");
  CHECK(api::GetInt(lease, "spec.leaseDurationSeconds") == 1);
  CHECK(api::GetInt(lease, "spec.leaseTransitions") == 0);
  std::regex micro(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)");
  CHECK(std::regex_match(api::GetString(lease, "spec.renewTime"), micro));
  std::string acquired = api::GetString(lease, "spec.acquireTime");
  std::string first_renew = api::GetString(lease, "spec.renewTime");
  REQUIRE(WaitUntil([&] {
    return api::GetString(GetLease(fake), "spec.renewTime") != first_renew;
  }));
  CHECK(api::GetString(GetLease(fake), "spec.acquireTime") == acquired);

  c.Stop();
  CHECK(c.stopped == 1);
  CHECK_FALSE(c.leading);
  // Released on cancel.
  CHECK(api::GetString(GetLease(fake), "spec.holderIdentity") == "");
}

TEST_CASE("leaderelection: one leader at a time; release hands over at once") {
  FakeRestClient fake;
  Candidate a(&fake, "a");
  REQUIRE(WaitUntil([&] { return a.leading.load(); }));
  Candidate b(&fake, "b");
  std::this_thread::sleep_for(1500ms);  // longer than the lease: a keeps renewing
  CHECK(a.leading);
  CHECK_FALSE(b.leading);
  CHECK(b.elector->Leader() == "a");

  auto start = std::chrono::steady_clock::now();
  a.Stop();
  REQUIRE(WaitUntil([&] { return b.leading.load(); }));
  CHECK(std::chrono::steady_clock::now() - start < 800ms);  // no wait for expiry
  auto lease = GetLease(fake);
  CHECK(api::GetString(lease, "spec.holderIdentity") == "b");
  CHECK(api::GetInt(lease, "spec.leaseTransitions") == 1);
}

TEST_CASE("leaderelection: an expired lease is taken over at once") {
  FakeRestClient fake;
  PutLease(fake, "dead", std::chrono::system_clock::now() - 1h);
  Candidate c(&fake, "a");
  REQUIRE(WaitUntil([&] { return c.leading.load(); }, 500ms));
  CHECK(api::GetInt(GetLease(fake), "spec.leaseTransitions") == 5);
}

TEST_CASE("leaderelection: a lease that stops changing is taken over after its duration") {
  // renewTime in the future (clock skew): only the local observation can expire it.
  FakeRestClient fake;
  PutLease(fake, "skewed", std::chrono::system_clock::now() + 1h);
  auto start = std::chrono::steady_clock::now();
  Candidate c(&fake, "a");
  REQUIRE(WaitUntil([&] { return c.leading.load(); }));
  CHECK(std::chrono::steady_clock::now() - start >= 1s);
}

TEST_CASE("leaderelection: renew failures past the deadline step down") {
  FakeRestClient fake;
  Candidate c(&fake, "a");
  REQUIRE(WaitUntil([&] { return c.leading.load(); }));
  fake.FailNext("*", Unavailable("apiserver down"), -1);
  auto start = std::chrono::steady_clock::now();
  REQUIRE(WaitUntil([&] { return c.returned.load(); }));
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(took >= 400ms);
  CHECK(took < 1000ms);  // before the 1 s lease could pass to another candidate
  CHECK_FALSE(c.leading);
  CHECK(c.started == 1);
  CHECK(c.stopped == 1);
  CHECK_FALSE(c.elector->IsLeader());
}

TEST_CASE("leaderelection: a conflicting write fails one attempt only") {
  FakeRestClient fake;
  fake.FailNext("create", Conflict("someone else was faster"));
  Candidate c(&fake, "a");
  REQUIRE(WaitUntil([&] { return c.leading.load(); }));
  fake.FailNext("update", Conflict("stale resourceVersion"), 2);
  std::this_thread::sleep_for(600ms);
  CHECK(c.leading);  // two failed renewals stay within the deadline
}

}  // namespace
}  // namespace kubepp::leaderelection
