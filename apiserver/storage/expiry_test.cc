#include "apiserver/storage/expiry.h"

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>

#include "common/testing/temp_dir.h"

namespace kubepp::apiserver {
namespace {

using ::kubepp::testing::TempDir;

std::string Db(const TempDir& tmp) { return tmp.Join("db.sqlite"); }

// A clock the test moves by hand, in Unix milliseconds.
struct FakeClock {
  std::shared_ptr<std::atomic<int64_t>> now = std::make_shared<std::atomic<int64_t>>(1000000);
  std::function<int64_t()> Fn() const {
    return [n = now] { return n->load(); };
  }
};

std::unique_ptr<Storage> Open(const std::string& path, const FakeClock& clock,
                              std::map<std::string, std::chrono::milliseconds> ttl) {
  SqliteOptions o;
  o.path = path;
  o.clock = clock.Fn();
  o.ttl = std::move(ttl);
  auto s = OpenSqliteStorage(o);
  REQUIRE(s.ok());
  return std::move(s).value();
}

Write Put(const std::string& resource, const std::string& name, Write::Kind kind) {
  Write w;
  w.kind = kind;
  w.resource = resource;
  w.ns = "default";
  w.name = name;
  auto doc = api::ParseJson(R"({"apiVersion":"v1","kind":"Event","metadata":{"name":")" + name +
                            R"(","namespace":"default"},"reason":"Test"})");
  w.object = std::move(*doc);
  return w;
}

std::vector<std::string> Names(const std::vector<ObjectPtr>& objects) {
  std::vector<std::string> out;
  for (const auto& o : objects) out.push_back(o->name);
  return out;
}

const std::map<std::string, std::chrono::milliseconds> kEventTtl = {
    {"events", std::chrono::milliseconds(2000)}};

TEST_CASE("expiry: an object expires its TTL after its last write", "[storage][expiry]") {
  StoredObject o;
  CHECK_FALSE(IsExpired(o, INT64_MAX));  // no expiry
  o.expires_ms = 5000;
  CHECK_FALSE(IsExpired(o, 4999));
  CHECK(IsExpired(o, 5000));
  CHECK(IsExpired(o, 6000));

  TempDir tmp;
  FakeClock clock;
  auto s = Open(Db(tmp), clock, kEventTtl);
  int64_t t0 = *clock.now;
  auto a = s->SubmitAndWait(Put("events", "a", Write::Kind::kCreate));
  REQUIRE(a.ok());
  CHECK((*a)->expires_ms == t0 + 2000);
  auto cm = s->SubmitAndWait(Put("configmaps", "c", Write::Kind::kCreate));
  REQUIRE(cm.ok());
  CHECK((*cm)->expires_ms == 0);  // no TTL for configmaps
  *clock.now += 1000;
  REQUIRE(s->SubmitAndWait(Put("events", "b", Write::Kind::kCreate)).ok());

  *clock.now = t0 + 1999;
  CHECK(s->Expired(100).empty());
  *clock.now = t0 + 2000;
  CHECK(Names(s->Expired(100)) == std::vector<std::string>{"a"});
  *clock.now = t0 + 5000;
  CHECK(Names(s->Expired(100)) == std::vector<std::string>{"a", "b"});  // earliest first
  CHECK(Names(s->Expired(1)) == std::vector<std::string>{"a"});

  // A write renews the TTL.
  REQUIRE(s->SubmitAndWait(Put("events", "a", Write::Kind::kUpdate)).ok());
  CHECK(Names(s->Expired(100)) == std::vector<std::string>{"b"});
  CHECK(s->Get("events", "default", "a")->expires_ms == t0 + 7000);
}

TEST_CASE("expiry: the sweeper deletes expired objects and watchers see it",
          "[storage][expiry]") {
  TempDir tmp;
  FakeClock clock;
  auto s = Open(Db(tmp), clock, kEventTtl);
  for (const char* name : {"a", "b", "c"}) {
    REQUIRE(s->SubmitAndWait(Put("events", name, Write::Kind::kCreate)).ok());
  }
  *clock.now += 1500;
  REQUIRE(s->SubmitAndWait(Put("events", "c", Write::Kind::kUpdate)).ok());
  std::mutex mu;
  std::vector<EventPtr> got;
  auto h = s->Watch("events", s->CurrentRevision(), Delivery::kBeforeAck,
                    [&](const EventPtr& e) {
    std::lock_guard<std::mutex> l(mu);
    got.push_back(e);
  });
  REQUIRE(h.ok());

  ExpirySweeper sweeper(s.get(), std::chrono::milliseconds(0));
  CHECK(sweeper.SweepOnce() == 0);
  *clock.now += 500;  // a and b are 2 s old, c 0.5 s
  CHECK(sweeper.SweepOnce(1) == 2);  // in batches of one
  CHECK(s->Get("events", "default", "a") == nullptr);
  CHECK(s->Get("events", "default", "b") == nullptr);
  CHECK(s->Get("events", "default", "c") != nullptr);
  {
    std::lock_guard<std::mutex> l(mu);
    REQUIRE(got.size() == 2);
    for (const auto& e : got) CHECK(e->type == EventType::kDeleted);
    CHECK(got[0]->object->name == "a");
    CHECK(got[1]->object->name == "b");
  }
  *clock.now += 1500;
  CHECK(sweeper.SweepOnce() == 1);
  CHECK(s->Count("events") == 0);
}

TEST_CASE("expiry: expiries survive a restart; objects stored without one get a full TTL",
          "[storage][expiry]") {
  TempDir tmp;
  FakeClock clock;
  int64_t t0 = *clock.now;
  {
    auto s = Open(Db(tmp), clock, {});  // no TTL yet: stored without an expiry
    REQUIRE(s->SubmitAndWait(Put("events", "old", Write::Kind::kCreate)).ok());
  }
  *clock.now += 100;
  {
    auto s = Open(Db(tmp), clock, kEventTtl);
    CHECK(s->Get("events", "default", "old")->expires_ms == t0 + 100 + 2000);
    REQUIRE(s->SubmitAndWait(Put("events", "new", Write::Kind::kCreate)).ok());
  }
  *clock.now += 1000;
  auto s = Open(Db(tmp), clock, kEventTtl);
  CHECK(s->Get("events", "default", "new")->expires_ms == t0 + 100 + 2000);  // kept
  CHECK(s->Get("events", "default", "old")->expires_ms == t0 + 1100 + 2000);  // still none stored
  *clock.now = t0 + 100 + 2000;
  CHECK(Names(s->Expired(10)) == std::vector<std::string>{"new"});
}

TEST_CASE("expiry: a database from before expiries gets the column", "[storage][expiry]") {
  TempDir tmp;
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(Db(tmp).c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db,
                       "CREATE TABLE objects(resource TEXT NOT NULL, namespace TEXT NOT NULL, "
                       "name TEXT NOT NULL, rv INTEGER NOT NULL, value BLOB NOT NULL, "
                       "UNIQUE(resource, namespace, name));"
                       "INSERT INTO objects VALUES('events','default','e',1,"
                       "'{\"metadata\":{\"name\":\"e\",\"namespace\":\"default\"}}');",
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  FakeClock clock;
  int64_t t0 = *clock.now;
  auto s = Open(Db(tmp), clock, kEventTtl);
  CHECK(s->Get("events", "default", "e")->expires_ms == t0 + 2000);
  auto w = s->SubmitAndWait(Put("events", "e", Write::Kind::kUpdate));
  REQUIRE(w.ok());
  CHECK((*w)->rv == 2);
}

TEST_CASE("expiry: sweep period follows the TTL within bounds", "[expiry]") {
  using std::chrono::milliseconds;
  CHECK(ExpirySweeper::PeriodFor(std::chrono::hours(1)) == std::chrono::seconds(10));
  CHECK(ExpirySweeper::PeriodFor(std::chrono::seconds(2)) == milliseconds(200));
  CHECK(ExpirySweeper::PeriodFor(milliseconds(10)) == milliseconds(100));
}

// Hidden (run with `apiserver_test "[.expiry-bench]"`): the cost of expiry with 10,000
// events among 10,000 other objects.
TEST_CASE("expiry: cost with 10,000 events", "[.expiry-bench]") {
  using Clock = std::chrono::steady_clock;
  auto ms_since = [](Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
  };
  TempDir tmp;
  FakeClock clock;
  auto s = Open(Db(tmp), clock, kEventTtl);
  constexpr int kN = 10000;
  auto write_all = [&](const std::string& resource) {
    std::mutex mu;
    std::condition_variable cv;
    int pending = kN;
    for (int i = 0; i < kN; ++i) {
      s->Submit(Put(resource, "o" + std::to_string(i), Write::Kind::kCreate),
                [&](Result<ObjectPtr> r) {
                  REQUIRE(r.ok());
                  std::lock_guard<std::mutex> l(mu);
                  if (--pending == 0) cv.notify_one();
                });
    }
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return pending == 0; });
  };
  auto t = Clock::now();
  write_all("configmaps");
  double no_ttl_ms = ms_since(t);
  t = Clock::now();
  write_all("events");
  double ttl_ms = ms_since(t);
  // A sweep that finds nothing (the common case, every 10 s).
  constexpr int kIdle = 100000;
  t = Clock::now();
  for (int i = 0; i < kIdle; ++i) REQUIRE(s->Expired(1000).empty());
  double idle_us = ms_since(t) * 1000 / kIdle;
  *clock.now += 2000;
  ExpirySweeper sweeper(s.get(), std::chrono::milliseconds(0));
  t = Clock::now();
  size_t deleted = sweeper.SweepOnce();
  double sweep_ms = ms_since(t);
  CHECK(deleted == kN);
  CHECK(s->Count("events") == 0);
  std::printf("| what | time |\n|---|---|\n");
  std::printf("| create 10,000 configmaps (no TTL) | %.0f ms |\n", no_ttl_ms);
  std::printf("| create 10,000 events (TTL, indexed) | %.0f ms |\n", ttl_ms);
  std::printf("| sweep with nothing expired (10,000 events) | %.2f us |\n", idle_us);
  std::printf("| sweep deleting 10,000 expired events | %.0f ms |\n", sweep_ms);
}

}  // namespace
}  // namespace kubepp::apiserver
