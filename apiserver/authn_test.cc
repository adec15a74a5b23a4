#include "apiserver/authn.h"

#include <catch2/catch.hpp>

namespace kubepp::apiserver {
namespace {

TEST_CASE("authn: token file records, quoted groups, skipped and bad lines") {
  auto f = TokenFile::Parse(
      "\xEF\xBB\xBF"
      "t1,alice,uid-1\n"
      "t2,bob,uid-2,\"dev, ops,,qa\"\r\n"
      "\n"
      ",nobody,uid-0\n"
      "t3,\"carol \"\"c\"\"\",uid-3,admins,extra column\n"
      "t1,alice2,uid-9\n",
      "tokens.csv");
  REQUIRE(f.ok());
  CHECK(f->size() == 3);
  const UserInfo* u = f->Find("t1");
  REQUIRE(u != nullptr);
  CHECK(u->name == "alice2");  // the last record of a repeated token wins
  CHECK(u->uid == "uid-9");
  CHECK(u->groups.empty());
  u = f->Find("t2");
  REQUIRE(u != nullptr);
  CHECK(u->groups == std::vector<std::string>{"dev", "ops", "qa"});
  u = f->Find("t3");
  REQUIRE(u != nullptr);
  CHECK(u->name == "carol \"c\"");
  CHECK(u->groups == std::vector<std::string>{"admins"});
  CHECK(f->Find("") == nullptr);
  CHECK(f->Find("t4") == nullptr);

  auto bad = TokenFile::Parse("t1,alice,uid-1\nt2,bob\n", "tokens.csv");
  CHECK(bad.status().code() == Code::kBadRequest);
  CHECK(bad.status().message() ==
        "token file tokens.csv line 2: must have at least 3 columns (token, user name, user "
        "uid), found 2");
  bad = TokenFile::Parse("t1,alice,uid,\"unterminated\n", "f");
  CHECK(bad.status().message() == "token file f line 1: unterminated quoted field");
  bad = TokenFile::Parse("\nt1,al\"ice,uid\n", "f");
  CHECK(bad.status().message().find("line 2: bare \"") != std::string::npos);
  bad = TokenFile::Parse("t1,\"alice\"x,uid\n", "f");
  CHECK(bad.status().message().find("line 1: extraneous") != std::string::npos);
  CHECK(TokenFile::Load("/nonexistent/tokens.csv").status().code() == Code::kBadRequest);
}

http::Request Req(const std::string& path) {
  http::Request r;
  r.method = "GET";
  r.path = path;
  return r;
}

TEST_CASE("authn: certificate, then token, then anonymous") {
  char tmpl[] = "/tmp/kubepp-authn-XXXXXX";
  int fd = mkstemp(tmpl);
  REQUIRE(fd >= 0);
  std::string text =
      "secret-token,tina,uid-7,\"viewers\"\n"
      "sa-token,system:serviceaccount:ns1:robot,uid-8\n";
  REQUIRE(write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  close(fd);
  AuthnOptions o;
  o.token_auth_file = tmpl;
  auto a = Authenticator::Create(o);
  unlink(tmpl);
  REQUIRE(a.ok());

  auto req = Req("/api/v1/pods");
  req.peer_cn = "kubernetes-admin";
  req.peer_orgs = {"system:masters"};
  req.headers["authorization"] = "Bearer secret-token";
  auto u = (*a)->Authenticate(req);  // the certificate wins
  REQUIRE(u.ok());
  CHECK(u->name == "kubernetes-admin");
  CHECK(u->groups == std::vector<std::string>{"system:masters", "system:authenticated"});

  req = Req("/api/v1/pods");
  req.headers["authorization"] = "bearer secret-token";
  u = (*a)->Authenticate(req);
  REQUIRE(u.ok());
  CHECK(u->name == "tina");
  CHECK(u->uid == "uid-7");
  CHECK(u->groups == std::vector<std::string>{"viewers", "system:authenticated"});

  req.headers["authorization"] = "Bearer sa-token";
  u = (*a)->Authenticate(req);
  REQUIRE(u.ok());
  CHECK(u->groups == std::vector<std::string>{"system:serviceaccounts",
                                              "system:serviceaccounts:ns1",
                                              "system:authenticated"});

  req.headers["authorization"] = "Bearer wrong";
  CHECK((*a)->Authenticate(req).status().code() == Code::kUnauthorized);

  u = (*a)->Authenticate(Req("/api/v1/pods"));
  REQUIRE(u.ok());
  CHECK(u->name == "system:anonymous");
  CHECK(u->groups == std::vector<std::string>{"system:unauthenticated"});

  o.anonymous = false;
  auto strict = Authenticator::Create(o);
  CHECK_FALSE(strict.ok());  // the token file is gone now
  o.token_auth_file.clear();
  strict = Authenticator::Create(o);
  REQUIRE(strict.ok());
  CHECK((*strict)->Authenticate(Req("/healthz")).status().code() == Code::kUnauthorized);
}

// Records what reached the wrapped handler, or the answer the wrapper sent.
struct Recorder : http::ResponseWriter {
  http::Response sent;
  bool answered = false;
  void Send(http::Response r) override {
    sent = std::move(r);
    answered = true;
  }
  void StartStream(int, const std::string&, std::vector<std::pair<std::string, std::string>>) override {}
  bool WriteChunk(std::shared_ptr<const std::string>) override { return false; }
  void EndStream() override {}
  bool Closed() const override { return false; }
  void OnClose(std::function<void()>) override {}
};

TEST_CASE("authn: anonymous requests pass on as system:anonymous, bad tokens get 401") {
  auto a = Authenticator::Create({});
  REQUIRE(a.ok());
  std::vector<std::string> reached;
  auto handler = WithAuthentication(std::shared_ptr<const Authenticator>(std::move(*a)),
                                    [&](http::Request r, std::shared_ptr<http::ResponseWriter>) {
                                      reached.push_back(r.path + " " + r.user);
                                    });
  for (const char* path : {"/healthz", "/api/v1/namespaces"}) {
    auto w = std::make_shared<Recorder>();
    handler(Req(path), w);
    CHECK_FALSE(w->answered);
  }
  CHECK(reached == std::vector<std::string>{"/healthz system:anonymous",
                                            "/api/v1/namespaces system:anonymous"});
  auto req = Req("/api/v1/namespaces");
  req.headers["authorization"] = "Bearer nope";
  auto w = std::make_shared<Recorder>();
  handler(req, w);
  CHECK(w->sent.status == 401);
  CHECK(w->sent.body.find("\"reason\":\"Unauthorized\"") != std::string::npos);
  req = Req("/api/v1/namespaces");
  req.peer_cn = "someone";
  handler(req, std::make_shared<Recorder>());
  CHECK(reached.back() == "/api/v1/namespaces someone");
}

}  // namespace
}  // namespace kubepp::apiserver
