#include "apiserver/storage/storage.h"

#include <catch2/catch.hpp>
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

namespace kubepp::apiserver {
namespace {

// Databases live under one directory per test process, removed when it exits.
struct TempRoot {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("kubepp-storage-test-" + std::to_string(::getpid()));
  ~TempRoot() { std::filesystem::remove_all(dir); }
};

std::string TempDb() {
  static TempRoot root;
  static int n = 0;
  auto dir = root.dir / std::to_string(n++);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return (dir / "db.sqlite").string();
}

Write Create(const std::string& name, const std::string& extra = "") {
  Write w;
  w.kind = Write::Kind::kCreate;
  w.resource = "configmaps";
  w.ns = "default";
  w.name = name;
  auto doc = api::ParseJson(R"({"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":")" +
                            name + R"(","namespace":"default","labels":{"app":"x"}},"data":{"k":")" +
                            extra + "\"}}");
  w.object = std::move(*doc);
  return w;
}

std::unique_ptr<Storage> Open(const std::string& path, size_t history = 10000,
                              size_t step = 1000) {
  SqliteOptions o;
  o.path = path;
  o.history = history;
  o.compact_step = step;
  auto s = OpenSqliteStorage(o);
  REQUIRE(s.ok());
  return std::move(s).value();
}

TEST_CASE("storage: create, get, update with precondition, delete", "[storage]") {
  auto s = Open(TempDb());
  auto a = s->SubmitAndWait(Create("a"));
  REQUIRE(a.ok());
  CHECK((*a)->rv == 1);
  CHECK((*a)->json.find(R"("resourceVersion":"1")") != std::string::npos);
  CHECK((*a)->labels.at("app") == "x");
  CHECK(s->SubmitAndWait(Create("a")).status().code() == Code::kAlreadyExists);

  Write u = Create("a", "v2");
  u.kind = Write::Kind::kUpdate;
  u.expected_rv = 7;
  CHECK(s->SubmitAndWait(std::move(u)).status().code() == Code::kConflict);
  Write u2 = Create("a", "v2");
  u2.kind = Write::Kind::kUpdate;
  u2.expected_rv = 1;
  auto updated = s->SubmitAndWait(std::move(u2));
  REQUIRE(updated.ok());
  CHECK((*updated)->rv == 2);
  CHECK(s->Get("configmaps", "default", "a")->json.find("v2") != std::string::npos);

  Write d;
  d.kind = Write::Kind::kDelete;
  d.resource = "configmaps";
  d.ns = "default";
  d.name = "a";
  auto deleted = s->SubmitAndWait(std::move(d));
  REQUIRE(deleted.ok());
  CHECK((*deleted)->rv == 3);
  CHECK(s->Get("configmaps", "default", "a") == nullptr);
  CHECK(s->CurrentRevision() == 3);
}

TEST_CASE("storage: acknowledged writes survive reopen and revisions continue", "[storage]") {
  std::string path = TempDb();
  {
    auto s = Open(path);
    std::vector<std::thread> ts;
    for (int t = 0; t < 8; ++t) {
      ts.emplace_back([&, t] {
        for (int i = 0; i < 50; ++i) {
          REQUIRE(s->SubmitAndWait(Create("c" + std::to_string(t) + "-" + std::to_string(i))).ok());
        }
      });
    }
    for (auto& t : ts) t.join();
    CHECK(s->Count("configmaps") == 400);
  }
  auto s = Open(path);
  CHECK(s->Count("configmaps") == 400);
  CHECK(s->CurrentRevision() == 400);
  auto next = s->SubmitAndWait(Create("after"));
  REQUIRE(next.ok());
  CHECK((*next)->rv == 401);
}

TEST_CASE("storage: list pages by key", "[storage]") {
  auto s = Open(TempDb());
  for (auto n : {"c", "a", "b"}) REQUIRE(s->SubmitAndWait(Create(n)).ok());
  bool more = false;
  auto page = s->List("configmaps", "default", {}, 2, &more);
  REQUIRE(page.items.size() == 2);
  CHECK(page.items[0]->name == "a");
  CHECK(more);
  auto rest = s->List("configmaps", "default", {"default", "b"}, 2, &more);
  REQUIRE(rest.items.size() == 1);
  CHECK(rest.items[0]->name == "c");
  CHECK(!more);
  CHECK(s->List("configmaps", "other").items.empty());
}

TEST_CASE("storage: watch from a revision, from zero, and gone after compaction",
          "[storage]") {
  std::string path = TempDb();
  auto s = Open(path, /*history=*/20, /*step=*/5);
  for (int i = 0; i < 10; ++i) REQUIRE(s->SubmitAndWait(Create("w" + std::to_string(i))).ok());

  std::mutex mu;
  std::vector<EventPtr> got;
  auto h = s->Watch("configmaps", 5, Delivery::kBeforeAck, [&](const EventPtr& e) {
    std::lock_guard<std::mutex> l(mu);
    got.push_back(e);
  });
  REQUIRE(h.ok());
  {
    std::lock_guard<std::mutex> l(mu);
    REQUIRE(got.size() == 5);  // revisions 6..10
    CHECK(got.front()->object->rv == 6);
    CHECK(got.front()->line->rfind(R"({"type":"ADDED","object":{)", 0) == 0);
  }
  REQUIRE(s->SubmitAndWait(Create("live")).ok());
  {
    std::lock_guard<std::mutex> l(mu);
    REQUIRE(got.size() == 6);
    CHECK(got.back()->object->name == "live");
  }
  h->reset();

  std::vector<EventPtr> initial;
  auto h0 = s->Watch("configmaps", 0, Delivery::kBeforeAck,
                     [&](const EventPtr& e) { initial.push_back(e); });
  REQUIRE(h0.ok());
  CHECK(initial.size() == 11);

  // Push the log past history + step so the oldest entries are compacted.
  for (int i = 0; i < 30; ++i) REQUIRE(s->SubmitAndWait(Create("x" + std::to_string(i))).ok());
  auto old = s->Watch("configmaps", 1, Delivery::kBeforeAck, [](const EventPtr&) {});
  CHECK(old.status().code() == Code::kGone);

  // After a restart the kept history still serves resumption.
  int64_t rv = s->CurrentRevision();
  h0->reset();  // a handle must not outlive its storage
  s.reset();
  auto s2 = Open(path, 20, 5);
  std::vector<EventPtr> resumed;
  auto h2 = s2->Watch("configmaps", rv - 3, Delivery::kBeforeAck,
                      [&](const EventPtr& e) { resumed.push_back(e); });
  REQUIRE(h2.ok());
  CHECK(resumed.size() == 3);
}

TEST_CASE("storage: after-ack watchers that join while writes go on see every event once, "
          "in order, and none once unsubscribed", "[storage]") {
  auto s = Open(TempDb());
  for (int i = 0; i < 20; ++i) REQUIRE(s->SubmitAndWait(Create("pre" + std::to_string(i))).ok());
  constexpr int kWrites = 300;
  std::atomic<bool> writing{true};
  std::thread writer([&] {
    for (int i = 0; i < kWrites; ++i) {
      // Asynchronous submits, so that batches hold several events.
      s->Submit(Create("live" + std::to_string(i)), [](Result<ObjectPtr>) {});
      if (i % 10 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    writing = false;
  });
  struct Seen {
    std::mutex mu;
    int64_t from = 0;
    std::vector<int64_t> rvs;
  };
  std::vector<std::unique_ptr<Seen>> seen;
  std::vector<std::unique_ptr<WatchHandle>> handles;
  std::atomic<bool> dropped_called{false};
  std::atomic<bool> dropped{false};
  while (writing || seen.size() < 8) {
    auto& w = *seen.emplace_back(std::make_unique<Seen>());
    // Every other watcher starts from a revision, the rest from the current state.
    w.from = seen.size() % 2 ? s->CurrentRevision() / 2 : 0;
    auto h = s->Watch("configmaps", w.from, Delivery::kAfterAck, [&w](const EventPtr& e) {
      std::lock_guard<std::mutex> l(w.mu);
      w.rvs.push_back(e->object->rv);
    });
    REQUIRE(h.ok());
    handles.push_back(std::move(h).value());
    if (seen.size() == 3) {  // one that leaves while events still flow
      auto gone = s->Watch("configmaps", 0, Delivery::kAfterAck, [&](const EventPtr&) {
        if (dropped) dropped_called = true;
      });
      REQUIRE(gone.ok());
      gone->reset();
      dropped = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  writer.join();
  int64_t last = 20 + kWrites;
  for (int i = 0; i < 500 && s->CurrentRevision() < last; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(s->CurrentRevision() == last);
  auto all_delivered = [&] {
    for (auto& w : seen) {
      std::lock_guard<std::mutex> l(w->mu);
      if (w->rvs.size() < static_cast<size_t>(last - w->from)) return false;
    }
    return true;
  };
  for (int i = 0; i < 500 && !all_delivered(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (auto& w : seen) {
    std::lock_guard<std::mutex> l(w->mu);
    // From zero: an ADDED per object at subscription (in key order), then live events in
    // revision order; from a revision: exactly the revisions after it, each once.
    std::vector<int64_t> rvs = w->rvs;
    if (w->from == 0) {
      std::sort(rvs.begin(), rvs.end());
    } else {
      REQUIRE(std::is_sorted(rvs.begin(), rvs.end()));
    }
    REQUIRE(rvs.size() == static_cast<size_t>(last - w->from));
    for (size_t i = 0; i < rvs.size(); ++i) {
      CHECK(rvs[i] == w->from + 1 + static_cast<int64_t>(i));
    }
  }
  CHECK(!dropped_called);
  handles.clear();
}

TEST_CASE("storage: deletes carry the deletion revision and the previous object", "[storage]") {
  auto s = Open(TempDb());
  REQUIRE(s->SubmitAndWait(Create("d")).ok());
  std::vector<EventPtr> got;
  auto h = s->Watch("configmaps", 1, Delivery::kBeforeAck,
                    [&](const EventPtr& e) { got.push_back(e); });
  REQUIRE(h.ok());
  Write d;
  d.kind = Write::Kind::kDelete;
  d.resource = "configmaps";
  d.ns = "default";
  d.name = "d";
  REQUIRE(s->SubmitAndWait(std::move(d)).ok());
  REQUIRE(got.size() == 1);
  CHECK(got[0]->type == EventType::kDeleted);
  CHECK(got[0]->object->json.find(R"("resourceVersion":"2")") != std::string::npos);
  CHECK(got[0]->prev->rv == 1);
}

TEST_CASE("storage: backup copies a live database", "[storage]") {
  std::string path = TempDb();
  auto s = Open(path);
  REQUIRE(s->SubmitAndWait(Create("b")).ok());
  std::string dest = path + ".backup";
  REQUIRE(BackupDatabase(path, dest).ok());
  s.reset();
  auto restored = Open(dest);
  CHECK(restored->Get("configmaps", "default", "b") != nullptr);
}

}  // namespace
}  // namespace kubepp::apiserver
