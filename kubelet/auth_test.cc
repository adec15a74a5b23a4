#include "kubelet/auth.h"

#include <catch2/catch.hpp>

namespace kubepp::kubelet {
namespace {

using std::chrono::seconds;

http::Request Req(const std::string& method, const std::string& path) {
  http::Request r;
  r.method = method;
  r.path = path;
  return r;
}

// A clock the test moves by hand.
struct FakeClock {
  std::chrono::steady_clock::time_point t{};
  std::function<std::chrono::steady_clock::time_point()> Fn() {
    return [this] { return t; };
  }
};

TEST_CASE("kubelet auth: request attributes follow upstream's mapping") {
  auto a = RequestAttributesFor("GET", "/containerLogs/ns/p/c", "node-1");
  CHECK(a.verb == "get");
  CHECK(a.resource == "nodes");
  CHECK(a.subresource == "proxy");
  CHECK(a.name == "node-1");
  CHECK(a.path == "/containerLogs/ns/p/c");
  CHECK(RequestAttributesFor("POST", "/x", "n").verb == "create");
  CHECK(RequestAttributesFor("PUT", "/x", "n").verb == "update");
  CHECK(RequestAttributesFor("PATCH", "/x", "n").verb == "patch");
  CHECK(RequestAttributesFor("DELETE", "/x", "n").verb == "delete");
  CHECK(RequestAttributesFor("HEAD", "/x", "n").verb == "");
  auto sub = [](const std::string& path) { return RequestAttributesFor("GET", path, "n").subresource; };
  CHECK(sub("/stats") == "stats");
  CHECK(sub("/stats/") == "stats");
  CHECK(sub("/stats/summary") == "stats");
  CHECK(sub("/statsz") == "proxy");  // a prefix, not a subpath
  CHECK(sub("/metrics") == "metrics");
  CHECK(sub("/metrics/cadvisor") == "metrics");
  CHECK(sub("/logs/") == "log");
  CHECK(sub("/logs/syslog") == "log");
  CHECK(sub("/spec/") == "spec");
  CHECK(sub("/pods") == "proxy");
  CHECK(sub("/healthz") == "proxy");
  CHECK(sub("/containerLogs/a/b/c") == "proxy");
}

TEST_CASE("kubelet auth: client certificates, tokens and anonymous requests") {
  int reviews = 0;
  FakeClock clock;
  KubeletAuthOptions o;
  o.node_name = "n";
  o.now = clock.Fn();
  o.token_review = [&](const std::string& token) -> Result<std::optional<UserInfo>> {
    ++reviews;
    if (token == "good") return std::optional<UserInfo>(UserInfo{"alice", "u-1", {"devs"}});
    if (token == "broken") return Unavailable("apiserver down");
    return std::optional<UserInfo>();
  };
  KubeletAuth auth(o);

  // A verified client certificate (the TLS layer sets peer_cn/peer_orgs).
  auto r = Req("GET", "/pods");
  r.peer_cn = "kube-apiserver-kubelet-client";
  r.peer_orgs = {"system:masters"};
  auto u = auth.Authenticate(r);
  REQUIRE(u.ok());
  CHECK(u->name == "kube-apiserver-kubelet-client");
  CHECK(u->groups == std::vector<std::string>{"system:masters", "system:authenticated"});
  CHECK(reviews == 0);

  // Nothing at all, anonymous off: 401.
  CHECK(auth.Authenticate(Req("GET", "/pods")).status().code() == Code::kUnauthorized);

  // A good token, then the cache; a bad one and a failed review are 401.
  auto t = Req("GET", "/pods");
  t.headers["authorization"] = "Bearer good";
  u = auth.Authenticate(t);
  REQUIRE(u.ok());
  CHECK(u->name == "alice");
  CHECK(u->uid == "u-1");
  CHECK(u->groups == std::vector<std::string>{"devs", "system:authenticated"});
  REQUIRE(auth.Authenticate(t).ok());
  CHECK(reviews == 1);
  clock.t += seconds(121);
  REQUIRE(auth.Authenticate(t).ok());
  CHECK(reviews == 2);
  t.headers["authorization"] = "Bearer bad";
  CHECK(auth.Authenticate(t).status().code() == Code::kUnauthorized);
  t.headers["authorization"] = "Bearer broken";
  CHECK(auth.Authenticate(t).status().code() == Code::kUnauthorized);
  CHECK(auth.Authenticate(t).status().code() == Code::kUnauthorized);
  CHECK(reviews == 5);  // errors are not cached

  // Anonymous on: no credentials pass as system:anonymous, a bad token still does not.
  o.anonymous = true;
  KubeletAuth anon(o);
  u = anon.Authenticate(Req("GET", "/pods"));
  REQUIRE(u.ok());
  CHECK(u->name == "system:anonymous");
  CHECK(u->groups == std::vector<std::string>{"system:unauthenticated"});
  t.headers["authorization"] = "Bearer bad";
  CHECK(anon.Authenticate(t).status().code() == Code::kUnauthorized);

  // Without the token webhook a bearer token is not looked at.
  o.token_review = nullptr;
  KubeletAuth no_webhook(o);
  t.headers["authorization"] = "Bearer good";
  CHECK(no_webhook.Authenticate(t)->name == "system:anonymous");
}

TEST_CASE("kubelet auth: SubjectAccessReview decisions, their cache and upstream's texts") {
  int reviews = 0;
  bool fail = false;
  std::vector<NodeRequestAttributes> asked;
  FakeClock clock;
  KubeletAuthOptions o;
  o.node_name = "node-7";
  o.now = clock.Fn();
  o.access_review = [&](const UserInfo& u, const NodeRequestAttributes& a) -> Result<bool> {
    ++reviews;
    asked.push_back(a);
    if (fail) return Unavailable("apiserver down");
    return u.name == "admin";
  };
  KubeletAuth auth(o);
  UserInfo admin{"admin", "", {"system:authenticated"}};
  UserInfo jane{"jane", "", {"system:authenticated"}};
  auto logs = RequestAttributesFor("GET", "/containerLogs/ns/p/c", "node-7");

  CHECK(auth.Authorize(admin, logs).ok());
  REQUIRE(asked.size() == 1);
  CHECK(asked[0].name == "node-7");
  CHECK(asked[0].subresource == "proxy");
  CHECK(auth.Authorize(admin, logs).ok());
  CHECK(reviews == 1);  // cached
  clock.t += seconds(301);
  CHECK(auth.Authorize(admin, logs).ok());
  CHECK(reviews == 2);  // allowed decisions live 5 minutes

  Status st = auth.Authorize(jane, logs);
  CHECK(st.code() == Code::kForbidden);
  CHECK(st.message() == "Forbidden (user=jane, verb=get, resource=nodes, subresource=proxy)");
  CHECK_FALSE(auth.Authorize(jane, logs).ok());
  CHECK(reviews == 3);
  clock.t += seconds(31);
  CHECK_FALSE(auth.Authorize(jane, logs).ok());
  CHECK(reviews == 4);  // denied ones 30 s

  // Another subresource, another group: another decision.
  CHECK(auth.Authorize(admin, RequestAttributesFor("GET", "/stats/summary", "node-7")).ok());
  UserInfo admin2 = admin;
  admin2.groups.push_back("extra");
  CHECK(auth.Authorize(admin2, logs).ok());
  CHECK(reviews == 6);

  fail = true;
  st = auth.Authorize(jane, RequestAttributesFor("DELETE", "/pods", "node-7"));
  CHECK(st.code() == Code::kInternal);
  CHECK(st.message() ==
        "Authorization error (user=jane, verb=delete, resource=nodes, subresource=proxy)");

  // AlwaysAllow: no review function.
  KubeletAuthOptions allow;
  allow.node_name = "node-7";
  CHECK(KubeletAuth(allow).Authorize(jane, logs).ok());
}

TEST_CASE("kubelet auth: Check answers 401 and 403 as upstream; CheckCached never reviews") {
  int reviews = 0;
  KubeletAuthOptions o;
  o.node_name = "n";
  o.access_review = [&](const UserInfo& u, const NodeRequestAttributes&) -> Result<bool> {
    ++reviews;
    return u.name == "admin";
  };
  KubeletAuth auth(o);
  auto denied = auth.Check(Req("GET", "/pods"));
  REQUIRE(denied);
  CHECK(denied->status == 401);
  CHECK(denied->body == "Unauthorized");
  CHECK(denied->content_type.rfind("text/plain", 0) == 0);

  auto r = Req("GET", "/pods");
  r.peer_cn = "jane";
  http::Response resp;
  CHECK(auth.CheckCached(r, &resp) == KubeletAuth::Verdict::kNeedsReview);
  CHECK(reviews == 0);
  denied = auth.Check(r);
  REQUIRE(denied);
  CHECK(denied->status == 403);
  CHECK(denied->body == "Forbidden (user=jane, verb=get, resource=nodes, subresource=proxy)");
  CHECK(auth.CheckCached(r, &resp) == KubeletAuth::Verdict::kDenied);
  CHECK(resp.status == 403);

  r.peer_cn = "admin";
  CHECK_FALSE(auth.Check(r));
  CHECK(auth.CheckCached(r, &resp) == KubeletAuth::Verdict::kAllowed);
  CHECK(auth.CheckCached(Req("GET", "/pods"), &resp) == KubeletAuth::Verdict::kDenied);
  CHECK(resp.status == 401);
  CHECK(reviews == 2);
}

}  // namespace
}  // namespace kubepp::kubelet
