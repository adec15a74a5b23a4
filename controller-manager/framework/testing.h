// Test support for controller unit tests: a FakeRestClient with shared informers over
// it, a fake clock, an event recorder that remembers reasons, and Settle(), which waits
// until every informer's cache equals the fake server's state, so a test can call Sync
// directly and look at the result deterministically.
// Thread safety: one test thread; the informers run their own threads.
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/client/rest_client.h"
#include "controller-manager/framework/clock.h"
#include "controller-manager/framework/controller.h"
#include "controller-manager/framework/events.h"
#include "controller-manager/framework/informers.h"

namespace kubepp::controller::testing {

class RecordingEvents : public EventRecorder {
 public:
  RecordingEvents() : EventRecorder(nullptr, "test") {}
  void Event(const api::Value& object, const std::string& type, const std::string& reason,
             const std::string& message) override {
    std::lock_guard lock(mu_);
    reasons_.push_back(reason);
    messages_.push_back(message);
  }
  bool Has(const std::string& reason) {
    std::lock_guard lock(mu_);
    return std::find(reasons_.begin(), reasons_.end(), reason) != reasons_.end();
  }

 private:
  std::mutex mu_;
  std::vector<std::string> reasons_, messages_;
};

inline api::Document Json(const std::string& text) {
  auto d = api::ParseJson(text);
  if (!d.ok()) FAIL("bad test JSON: " << d.status().message() << ": " << text);
  return std::move(d).value();
}

class Env {
 public:
  Env() : informers(&fake), clock(1'700'000'000) {}
  // Informer handlers call into the controllers: stop them before the controllers go.
  ~Env() {
    informers.Stop();
    controllers_.clear();
  }

  // Keeps a controller alive until the informers have stopped.
  template <typename T>
  T& Own(std::unique_ptr<T> controller) {
    T& ref = *controller;
    controllers_.push_back(std::move(controller));
    return ref;
  }

  // Registers a resource whose informer Settle() should wait for (controllers call
  // informers.For themselves; list each resource they watch here too).
  void Watch(const client::ResourceRef& ref) {
    refs_.push_back(ref);
    informers.For(ref);
  }
  void Start() {
    informers.Start();
    REQUIRE(informers.WaitForSync(std::chrono::seconds(5), nullptr));
  }
  // Waits until every watched informer mirrors the fake server.
  void Settle() {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < until) {
      if (InSync()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    FAIL("informers did not catch up with the fake server");
  }

  api::Document Create(const client::ResourceRef& ref, const std::string& json) {
    auto r = fake.Create(ref, "", Json(json));
    REQUIRE(r.ok());
    return std::move(r).value();
  }
  std::vector<api::Document> List(const client::ResourceRef& ref, const std::string& ns = "") {
    auto r = fake.List(ref, ns);
    REQUIRE(r.ok());
    std::vector<api::Document> out;
    for (auto& item : (*r)["items"].GetArray()) out.push_back(api::Clone(item));
    return out;
  }
  api::Document Get(const client::ResourceRef& ref, const std::string& ns, const std::string& name) {
    auto r = fake.Get(ref, ns, name);
    REQUIRE(r.ok());
    return std::move(r).value();
  }
  bool Exists(const client::ResourceRef& ref, const std::string& ns, const std::string& name) {
    return fake.Get(ref, ns, name).ok();
  }

  client::FakeRestClient fake;
  SharedInformers informers;
  FakeClock clock;
  RecordingEvents events;

 private:
  bool InSync() {
    for (const auto& ref : refs_) {
      auto list = fake.List(ref, "");
      if (!list.ok()) return false;
      std::map<std::string, std::string> want;
      for (auto& item : (*list)["items"].GetArray()) {
        want[informer::KeyOf(item)] = api::GetString(item, "metadata.resourceVersion");
      }
      auto cached = informers.For(ref).List();
      if (cached.size() != want.size()) return false;
      for (const auto& o : cached) {
        auto it = want.find(informer::KeyOf(*o));
        if (it == want.end() || it->second != api::GetString(*o, "metadata.resourceVersion")) {
          return false;
        }
      }
    }
    return true;
  }
  std::vector<client::ResourceRef> refs_;
  std::vector<std::unique_ptr<QueueController>> controllers_;
};

}  // namespace kubepp::controller::testing
