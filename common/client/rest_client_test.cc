#include "common/client/rest_client.h"

#include <catch2/catch.hpp>
#include <mutex>
#include <thread>

#include "common/http/server.h"
#include "common/testing/json.h"

namespace kubepp::client {
namespace {

using namespace std::chrono_literals;

http::ClientOptions Options(const http::Server& server) {
  http::ClientOptions o;
  o.server = "http://127.0.0.1:" + std::to_string(server.port());
  return o;
}

using testing::Json;

TEST_CASE("rest client: resource paths") {
  CHECK(kPods.Path("default", "web-0") == "/api/v1/namespaces/default/pods/web-0");
  CHECK(kPods.Path("") == "/api/v1/pods");
  CHECK(kPods.Path("ns", "p", "binding") == "/api/v1/namespaces/ns/pods/p/binding");
  CHECK(kNodes.Path("ignored", "n1", "status") == "/api/v1/nodes/n1/status");
  CHECK(kDeployments.Path("ns") == "/apis/apps/v1/namespaces/ns/deployments");
  CHECK(kLeases.ApiVersion() == "coordination.k8s.io/v1");
  CHECK(kPods.ApiVersion() == "v1");
}

// Records requests and answers like a tiny apiserver.
struct FakeServer {
  std::mutex mu;
  std::vector<http::Request> requests;
  std::unique_ptr<http::Server> server;

  FakeServer() {
    server = std::make_unique<http::Server>(http::ServerOptions{},
        [this](http::Request req, std::shared_ptr<http::ResponseWriter> w) {
          {
            std::lock_guard lock(mu);
            requests.push_back(req);
          }
          if (req.HasQuery("watch")) {
            w->StartStream(200, "application/json");
            w->WriteChunk(std::string(R"({"type":"ADDED","object":{"metadata":{"name":"a"}}})" "\n"));
            w->WriteChunk(std::string(R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}})" "\n"));
            if (req.Query("labelSelector") == "bad") w->WriteChunk(std::string("not json\n"));
            w->EndStream();
          } else if (req.path.find("/missing") != std::string::npos) {
            Status st = NotFound("pods \"missing\" not found").WithDetails("missing", "", "pods");
            w->Send({404, "application/json", {}, st.ToJson()});
          } else if (req.method == "DELETE") {
            w->Send({200, "application/json", {}, R"({"kind":"Status","status":"Success"})"});
          } else {
            w->Send({200, "application/json", {},
                     req.body.empty() ? R"({"kind":"Pod","metadata":{"name":"x"}})" : req.body});
          }
        });
    REQUIRE(server->Start().ok());
  }
  http::Request Last() {
    std::lock_guard lock(mu);
    return requests.back();
  }
};

TEST_CASE("rest client: HTTP verbs, paths, query and bodies") {
  FakeServer s;
  auto c = HttpRestClient::Create(Options(*s.server));
  REQUIRE(c.ok());
  RestClient& rc = **c;

  auto got = rc.Get(kPods, "default", "x");
  REQUIRE(got.ok());
  CHECK(api::GetString(*got, "kind") == "Pod");
  CHECK(s.Last().method == "GET");
  CHECK(s.Last().path == "/api/v1/namespaces/default/pods/x");

  auto missing = rc.Get(kPods, "default", "missing");
  CHECK(missing.status().code() == Code::kNotFound);
  CHECK(missing.status().message() == "pods \"missing\" not found");
  CHECK(rc.Get(kPods, "", "x").status().code() == Code::kBadRequest);  // no namespace

  ListOptions lo;
  lo.label_selector = "app=web,tier in (a,b)";
  lo.limit = 50;
  lo.continue_token = "tok/en";
  REQUIRE(rc.List(kDeployments, "", lo).ok());
  auto req = s.Last();
  CHECK(req.path == "/apis/apps/v1/deployments");
  CHECK(req.Query("labelSelector") == "app=web,tier in (a,b)");
  CHECK(req.Query("limit") == "50");
  CHECK(req.Query("continue") == "tok/en");
  CHECK_FALSE(req.HasQuery("fieldSelector"));

  auto pod = Json(R"({"metadata":{"name":"p","namespace":"ns","resourceVersion":"3"}})");
  REQUIRE(rc.Create(kPods, "", pod).ok());
  CHECK(s.Last().method == "POST");
  CHECK(s.Last().path == "/api/v1/namespaces/ns/pods");
  REQUIRE(rc.Update(kPods, "", pod).ok());
  CHECK(s.Last().method == "PUT");
  CHECK(s.Last().path == "/api/v1/namespaces/ns/pods/p");
  CHECK(api::GetString(Json(s.Last().body), "metadata.resourceVersion") == "3");
  REQUIRE(rc.UpdateStatus(kPods, "", pod).ok());
  CHECK(s.Last().path == "/api/v1/namespaces/ns/pods/p/status");

  REQUIRE(rc.Patch(kNodes, "", "n1", PatchType::kStrategic, R"({"spec":{}})", "status").ok());
  req = s.Last();
  CHECK(req.method == "PATCH");
  CHECK(req.path == "/api/v1/nodes/n1/status");
  CHECK(req.Header("content-type") == "application/strategic-merge-patch+json");
  REQUIRE(rc.Patch(kPods, "ns", "p", PatchType::kApply, "{}").ok());
  CHECK(s.Last().Query("fieldManager") == "kubepp");

  DeleteOptions del;
  del.propagation_policy = "Foreground";
  del.grace_period_seconds = 0;
  del.precondition_uid = "u1";
  REQUIRE(rc.Delete(kReplicaSets, "ns", "rs", del).ok());
  req = s.Last();
  CHECK(req.method == "DELETE");
  CHECK(req.path == "/apis/apps/v1/namespaces/ns/replicasets/rs");
  auto body = Json(req.body);
  CHECK(api::GetString(body, "propagationPolicy") == "Foreground");
  CHECK(api::GetInt(body, "gracePeriodSeconds", -1) == 0);
  CHECK(api::GetString(body, "preconditions.uid") == "u1");

  auto binding = Json(R"({"target":{"kind":"Node","name":"n1"}})");
  REQUIRE(rc.CreateSubresource(kPods, "ns", "p", "binding", binding).ok());
  CHECK(s.Last().path == "/api/v1/namespaces/ns/pods/p/binding");
}

TEST_CASE("rest client: watch parses events and reports malformed lines") {
  FakeServer s;
  auto c = HttpRestClient::Create(Options(*s.server));
  REQUIRE(c.ok());
  WatchOptions wo;
  wo.resource_version = "5";
  wo.allow_bookmarks = true;
  wo.timeout_seconds = 300;
  std::vector<std::string> seen;
  Status st = (*c)->Watch(kPods, "default", wo,
                          [&](std::string_view type, const api::Value& obj) {
                            seen.push_back(std::string(type) + " " +
                                           api::GetString(obj, "metadata.name") +
                                           api::GetString(obj, "metadata.resourceVersion"));
                            return true;
                          },
                          nullptr);
  REQUIRE(st.ok());
  CHECK(seen == std::vector<std::string>{"ADDED a", "BOOKMARK 9"});
  auto req = s.Last();
  CHECK(req.path == "/api/v1/namespaces/default/pods");
  CHECK(req.Query("watch") == "true");
  CHECK(req.Query("resourceVersion") == "5");
  CHECK(req.Query("allowWatchBookmarks") == "true");
  CHECK(req.Query("timeoutSeconds") == "300");

  wo.label_selector = "bad";
  st = (*c)->Watch(kPods, "", wo, [](std::string_view, const api::Value&) { return true; },
                   nullptr);
  CHECK(st.code() == Code::kInternal);
  CHECK(st.message().find("malformed event") != std::string::npos);
}

TEST_CASE("fake rest client: optimistic concurrency, names, selectors, patches") {
  FakeRestClient fake;
  auto pod = Json(R"({"metadata":{"generateName":"web-","labels":{"app":"web"}}})");
  auto created = fake.Create(kPods, "default", pod);
  REQUIRE(created.ok());
  std::string name = api::GetString(*created, "metadata.name");
  CHECK(name == "web-1");
  CHECK(api::GetString(*created, "metadata.resourceVersion") == "1");
  CHECK_FALSE(api::GetString(*created, "metadata.uid").empty());
  CHECK(fake.Create(kPods, "default", *created).status().code() == Code::kAlreadyExists);
  REQUIRE(fake.Create(kPods, "other", Json(R"({"metadata":{"name":"db"}})")).ok());

  api::Document stale = api::Clone(*created);
  api::SetString(stale, "spec.nodeName", "n1", stale.GetAllocator());
  REQUIRE(fake.Update(kPods, "", stale).ok());
  CHECK(fake.Update(kPods, "", stale).status().code() == Code::kConflict);

  CHECK(fake.List(kPods, "")->FindMember("items")->value.Size() == 2);
  CHECK(fake.List(kPods, "default")->FindMember("items")->value.Size() == 1);
  ListOptions lo;
  lo.label_selector = "app=web";
  CHECK(fake.List(kPods, "", lo)->FindMember("items")->value.Size() == 1);
  lo.label_selector = "app!=web";
  CHECK(fake.List(kPods, "", lo)->FindMember("items")->value.Size() == 1);
  lo.label_selector = "";
  lo.field_selector = "spec.nodeName=n1";
  CHECK(fake.List(kPods, "", lo)->FindMember("items")->value.Size() == 1);
  lo.field_selector = "";
  lo.label_selector = "app in (web,db)";
  CHECK(fake.List(kPods, "", lo)->FindMember("items")->value.Size() == 1);
  lo.label_selector = "app in (";
  CHECK(fake.List(kPods, "", lo).status().code() == Code::kBadRequest);

  auto patched = fake.Patch(kPods, "default", name, PatchType::kMerge,
                            R"({"metadata":{"labels":{"app":null,"x":"y"}}})");
  REQUIRE(patched.ok());
  CHECK(api::GetStringMap(*patched, "metadata.labels") ==
        std::map<std::string, std::string>{{"x", "y"}});

  DeleteOptions wrong;
  wrong.precondition_uid = "nope";
  CHECK(fake.Delete(kPods, "default", name, wrong).code() == Code::kConflict);
  REQUIRE(fake.Delete(kPods, "default", name).ok());
  CHECK(fake.Get(kPods, "default", name).status().code() == Code::kNotFound);

  // pods/binding sets the node once.
  auto bind = Json(R"({"target":{"name":"n2"}})");
  REQUIRE(fake.CreateSubresource(kPods, "other", "db", "binding", bind).ok());
  CHECK(api::GetString(*fake.Get(kPods, "other", "db"), "spec.nodeName") == "n2");
  CHECK(fake.CreateSubresource(kPods, "other", "db", "binding", bind).status().code() ==
        Code::kConflict);

  fake.FailNext("get", Unavailable("down"), -1);
  CHECK(fake.Get(kPods, "other", "db").status().code() == Code::kUnavailable);
  CHECK(fake.Get(kPods, "other", "db").status().code() == Code::kUnavailable);
  fake.ClearFailures();
  CHECK(fake.Get(kPods, "other", "db").ok());
}

TEST_CASE("fake rest client: watch replays history, then follows; stop is prompt") {
  FakeRestClient fake;
  REQUIRE(fake.Create(kPods, "default", Json(R"({"metadata":{"name":"a"}})")).ok());
  REQUIRE(fake.Create(kPods, "default", Json(R"({"metadata":{"name":"b"}})")).ok());
  REQUIRE(fake.Create(kNodes, "", Json(R"({"metadata":{"name":"n"}})")).ok());
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<std::string> seen;
  WatchOptions wo;
  wo.resource_version = "1";
  std::thread t([&] {
    Status st = fake.Watch(kPods, "", wo, [&](std::string_view type, const api::Value& o) {
      std::lock_guard lock(mu);
      seen.push_back(std::string(type) + " " + api::GetString(o, "metadata.name"));
      return true;
    }, &stop);
    CHECK(st.ok());
  });
  while (fake.OpenWatches() == 0) std::this_thread::sleep_for(1ms);
  REQUIRE(fake.Delete(kPods, "default", "a").ok());
  for (int i = 0; i < 200; ++i) {
    std::lock_guard lock(mu);
    if (seen.size() == 2) break;
    std::this_thread::sleep_for(5ms);
  }
  auto start = std::chrono::steady_clock::now();
  stop = true;
  t.join();
  CHECK(std::chrono::steady_clock::now() - start < 500ms);
  CHECK(seen == std::vector<std::string>{"ADDED b", "DELETED a"});
}

}  // namespace
}  // namespace kubepp::client
