#include "common/informer/informer.h"

#include <catch2/catch.hpp>
#include <algorithm>
#include <mutex>
#include <thread>

namespace kubepp::informer {
namespace {

using namespace std::chrono_literals;
using client::FakeRestClient;
using client::kPods;

api::Document Pod(const std::string& name, const std::string& phase = "Pending") {
  auto doc = api::ParseJson(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name +
                            R"(","namespace":"default"},"status":{"phase":")" + phase + R"("}})");
  REQUIRE(doc.ok());
  return std::move(doc).value();
}

template <typename Pred>
bool WaitUntil(Pred pred, std::chrono::milliseconds timeout = 5s) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

int CountCalls(const FakeRestClient& fake, const std::string& prefix) {
  int n = 0;
  for (const auto& c : fake.Calls()) n += c.rfind(prefix, 0) == 0;
  return n;
}

// Records handler calls as "add a", "update a Running", "delete a".
struct Recorder {
  std::mutex mu;
  std::vector<std::string> events;
  EventHandler Handler() {
    return {
        [this](const ObjectPtr& o) { Record("add " + api::GetString(*o, "metadata.name")); },
        [this](const ObjectPtr& old_obj, const ObjectPtr& o) {
          Record("update " + api::GetString(*o, "metadata.name") + " " +
                 api::GetString(*old_obj, "status.phase") + "->" +
                 api::GetString(*o, "status.phase"));
        },
        [this](const ObjectPtr& o) { Record("delete " + api::GetString(*o, "metadata.name")); },
    };
  }
  void Record(std::string e) {
    std::lock_guard lock(mu);
    events.push_back(std::move(e));
  }
  std::vector<std::string> Events() {
    std::lock_guard lock(mu);
    return events;
  }
  bool Has(const std::string& e) {
    auto ev = Events();
    return std::find(ev.begin(), ev.end(), e) != ev.end();
  }
};

InformerOptions FastOptions() {
  InformerOptions o;
  o.initial_backoff = 100ms;
  o.max_backoff = 400ms;
  return o;
}

TEST_CASE("informer: keys") {
  CHECK(KeyOf(Pod("a")) == "default/a");
  CHECK(SplitKey("default/a") == std::pair<std::string, std::string>{"default", "a"});
  CHECK(SplitKey("node-1") == std::pair<std::string, std::string>{"", "node-1"});
}

TEST_CASE("informer: lists in pages, then follows watch events") {
  FakeRestClient fake;
  for (const char* n : {"a", "b", "c", "d", "e"}) REQUIRE(fake.Create(kPods, "", Pod(n)).ok());
  InformerOptions opts = FastOptions();
  opts.page_size = 2;
  Informer inf(&fake, kPods, opts);
  Recorder rec;
  inf.AddEventHandler(rec.Handler());
  inf.Start();
  REQUIRE(inf.WaitForSync(5s));
  CHECK(inf.HasSynced());
  CHECK(CountCalls(fake, "list pods") == 3);
  CHECK(inf.List().size() == 5);
  CHECK(rec.Events().size() == 5);
  REQUIRE(inf.Get("default/c") != nullptr);
  CHECK(inf.Get("default/zz") == nullptr);
  CHECK(inf.LastResourceVersion() == "5");

  REQUIRE(WaitUntil([&] { return fake.OpenWatches() == 1; }));
  CHECK(CountCalls(fake, "watch pods rv=5") == 1);
  REQUIRE(fake.Create(kPods, "", Pod("f")).ok());
  REQUIRE(fake.Patch(kPods, "default", "a", client::PatchType::kMerge,
                     R"({"status":{"phase":"Running"}})").ok());
  REQUIRE(fake.Delete(kPods, "default", "b").ok());
  REQUIRE(WaitUntil([&] { return rec.Has("delete b"); }));
  CHECK(rec.Has("add f"));
  CHECK(rec.Has("update a Pending->Running"));
  CHECK(inf.Get("default/b") == nullptr);
  CHECK(api::GetString(*inf.Get("default/a"), "status.phase") == "Running");
  CHECK(inf.LastResourceVersion() == std::to_string(fake.CurrentResourceVersion()));

  auto start = std::chrono::steady_clock::now();
  inf.Stop();
  CHECK(std::chrono::steady_clock::now() - start < 1s);
}

TEST_CASE("informer: cached objects lack managedFields") {
  FakeRestClient fake;
  api::Document pod = Pod("a");
  auto managed = api::ParseJson(R"([{"manager":"kubectl","operation":"Apply"}])");
  REQUIRE(managed.ok());
  api::SetValue(pod, "metadata.managedFields", api::Copy(*managed, pod.GetAllocator()),
                pod.GetAllocator());
  REQUIRE(fake.Create(kPods, "", std::move(pod)).ok());
  auto stored = fake.Get(kPods, "default", "a");
  REQUIRE(stored.ok());
  REQUIRE(api::Has(*stored, "metadata.managedFields"));  // the server has them
  Informer inf(&fake, kPods, FastOptions());
  inf.Start();
  REQUIRE(inf.WaitForSync(5s));
  REQUIRE(inf.Get("default/a") != nullptr);
  CHECK(!api::Has(*inf.Get("default/a"), "metadata.managedFields"));
  CHECK(api::GetString(*inf.Get("default/a"), "status.phase") == "Pending");
  REQUIRE(WaitUntil([&] { return fake.OpenWatches() == 1; }));
  api::Document b = Pod("b");
  api::SetValue(b, "metadata.managedFields", api::Copy(*managed, b.GetAllocator()), b.GetAllocator());
  REQUIRE(fake.Create(kPods, "", std::move(b)).ok());
  REQUIRE(WaitUntil([&] { return inf.Get("default/b") != nullptr; }));
  CHECK(!api::Has(*inf.Get("default/b"), "metadata.managedFields"));
}

TEST_CASE("informer: keys_only, handlers see whole objects and the cache keeps keys") {
  FakeRestClient fake;
  REQUIRE(fake.Create(kPods, "", Pod("a")).ok());
  InformerOptions options = FastOptions();
  options.keys_only = true;
  Informer inf(&fake, kPods, options);
  std::mutex mu;
  std::vector<std::string> seen;  // "<event> <key> <status.phase of each object given>"
  auto phase = [](const ObjectPtr& o) { return api::GetString(*o, "status.phase", "-"); };
  std::string old_rv;
  inf.AddEventHandler({
      .on_add = [&](const ObjectPtr& o) {
        std::lock_guard lock(mu);
        seen.push_back("add " + KeyOf(*o) + " " + phase(o));
      },
      .on_update = [&](const ObjectPtr& o, const ObjectPtr& n) {
        std::lock_guard lock(mu);
        seen.push_back("update " + KeyOf(*o) + " " + phase(o) + " " + phase(n));
        old_rv = api::GetString(*o, "metadata.resourceVersion");
      },
      .on_delete = [&](const ObjectPtr& o) {
        std::lock_guard lock(mu);
        seen.push_back("delete " + KeyOf(*o));
      }});
  auto has = [&](const std::string& what) {
    std::lock_guard lock(mu);
    return std::find(seen.begin(), seen.end(), what) != seen.end();
  };
  inf.Start();
  REQUIRE(inf.WaitForSync(5s));
  CHECK(has("add default/a Pending"));  // from the list
  CHECK(inf.Get("default/a") == nullptr);
  CHECK(inf.List().empty());
  REQUIRE(WaitUntil([&] { return fake.OpenWatches() == 1; }));
  auto b = fake.Create(kPods, "", Pod("b"));  // from the watch
  REQUIRE(b.ok());
  REQUIRE(WaitUntil([&] { return has("add default/b Pending"); }));
  REQUIRE(fake.Patch(kPods, "default", "b", client::PatchType::kMerge,
                     R"({"status":{"phase":"Running"}})").ok());
  // The old object is a stand-in: its key and resourceVersion.
  REQUIRE(WaitUntil([&] { return has("update default/b - Running"); }));
  {
    std::lock_guard lock(mu);
    CHECK(old_rv == api::GetString(*b, "metadata.resourceVersion"));
  }
  REQUIRE(fake.Delete(kPods, "default", "b").ok());
  REQUIRE(WaitUntil([&] { return has("delete default/b"); }));
  // A late handler is told of nothing.
  std::atomic<int> late{0};
  inf.AddEventHandler({.on_add = [&](const ObjectPtr&) { ++late; }});
  CHECK(late == 0);
}

TEST_CASE("informer: a dropped watch resumes from the last resourceVersion") {
  FakeRestClient fake;
  REQUIRE(fake.Create(kPods, "", Pod("a")).ok());
  Informer inf(&fake, kPods, FastOptions());
  inf.Start();
  REQUIRE(inf.WaitForSync(5s));
  REQUIRE(WaitUntil([&] { return fake.OpenWatches() == 1; }));
  REQUIRE(fake.Create(kPods, "", Pod("b")).ok());
  REQUIRE(WaitUntil([&] { return inf.Get("default/b") != nullptr; }));
  std::string rv = std::to_string(fake.CurrentResourceVersion());

  fake.CloseWatches();
  REQUIRE(WaitUntil([&] { return CountCalls(fake, "watch pods rv=" + rv) == 1; }));
  // A transport error: retried with backoff, still from the same resourceVersion.
  fake.FailNext("watch", Unavailable("connection refused"));
  fake.CloseWatches();
  REQUIRE(WaitUntil([&] { return CountCalls(fake, "watch pods rv=" + rv) == 3; }));
  CHECK(CountCalls(fake, "list pods") == 1);
  REQUIRE(WaitUntil([&] { return fake.OpenWatches() == 1; }));
  REQUIRE(fake.Create(kPods, "", Pod("c")).ok());
  REQUIRE(WaitUntil([&] { return inf.Get("default/c") != nullptr; }));
}

TEST_CASE("informer: 410 Gone relists and diffs against the cache") {
  FakeRestClient fake;
  REQUIRE(fake.Create(kPods, "", Pod("a")).ok());
  REQUIRE(fake.Create(kPods, "", Pod("b")).ok());
  // keys_only diffs by key and resourceVersion alike; handlers get stand-ins for the old.
  const bool keys_only = GENERATE(false, true);
  InformerOptions options = FastOptions();
  options.keys_only = keys_only;
  Informer inf(&fake, kPods, options);
  Recorder rec;
  inf.AddEventHandler(rec.Handler());
  inf.Start();
  REQUIRE(inf.WaitForSync(5s));
  REQUIRE(WaitUntil([&] { return fake.OpenWatches() == 1; }));

  // Keep the informer off the stream while history moves on and is compacted.
  int watches = CountCalls(fake, "watch pods");
  fake.FailNext("watch", Unavailable("down"), 2);
  fake.CloseWatches();
  REQUIRE(WaitUntil([&] { return CountCalls(fake, "watch pods") >= watches + 2; }));
  REQUIRE(fake.Delete(kPods, "default", "a").ok());
  REQUIRE(fake.Create(kPods, "", Pod("c")).ok());
  REQUIRE(fake.Patch(kPods, "default", "b", client::PatchType::kMerge,
                     R"({"status":{"phase":"Running"}})").ok());
  fake.Compact();

  // The re-watch from the old resourceVersion gets an ERROR 410 event, then a relist.
  REQUIRE(WaitUntil([&] { return CountCalls(fake, "list pods") == 2; }));
  REQUIRE(WaitUntil([&] { return rec.Has("add c"); }));
  CHECK(rec.Has("delete a"));
  CHECK(rec.Has(keys_only ? "update b ->Running" : "update b Pending->Running"));
  CHECK(inf.List().size() == (keys_only ? 0 : 2));
  CHECK(inf.LastResourceVersion() == std::to_string(fake.CurrentResourceVersion()));

  // A Gone status (rather than an ERROR event) relists too.
  fake.FailNext("watch", Gone("expired"));
  fake.CloseWatches();
  REQUIRE(WaitUntil([&] { return CountCalls(fake, "list pods") == 3; }));
}

TEST_CASE("informer: list failures back off and retry; late handlers get the cache") {
  FakeRestClient fake;
  REQUIRE(fake.Create(kPods, "", Pod("a")).ok());
  fake.FailNext("list", Unavailable("down"), 2);
  Informer inf(&fake, kPods, FastOptions());
  inf.Start();
  CHECK_FALSE(inf.HasSynced());
  REQUIRE(inf.WaitForSync(5s));
  CHECK(CountCalls(fake, "list pods") == 3);
  Recorder rec;
  inf.AddEventHandler(rec.Handler());
  CHECK(rec.Events() == std::vector<std::string>{"add a"});
}

TEST_CASE("informer: Run on the caller's thread ends when stop is set") {
  FakeRestClient fake;
  Informer inf(&fake, kPods, FastOptions());
  std::atomic<bool> stop{false};
  std::thread t([&] { inf.Run(&stop); });
  REQUIRE(inf.WaitForSync(5s));
  REQUIRE(WaitUntil([&] { return fake.OpenWatches() == 1; }));
  auto start = std::chrono::steady_clock::now();
  stop = true;
  t.join();
  CHECK(std::chrono::steady_clock::now() - start < 1s);
}

}  // namespace
}  // namespace kubepp::informer
