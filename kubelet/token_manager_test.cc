#include "kubelet/token_manager.h"

#include <catch2/catch.hpp>

#include "common/util/time.h"
#include "kubelet/testing/test_util.h"

namespace kubepp::kubelet {
namespace {

constexpr int64_t kSecond = 1'000'000;

// A fake apiserver: answers token N with the requested lifetime from the clock's now.
struct FakeIssuer {
  ManualClock* clock;
  int calls = 0;
  Status fail = Status::Ok();
  std::string last_request;

  TokenManager::Fetch AsFetch() {
    return [this](const std::string& ns, const std::string& name,
                  const api::Value& req) -> Result<api::Document> {
      ++calls;
      last_request = ns + "/" + name + " " + api::ToJson(req);
      if (!fail.ok()) return fail;
      int64_t exp = api::GetInt(req, "spec.expirationSeconds");
      int64_t now = clock->Now() / kSecond;
      return testing::Json(R"({"spec":{"expirationSeconds":)" + std::to_string(exp) +
                           R"(},"status":{"token":"t)" + std::to_string(calls) +
                           R"(","expirationTimestamp":")" + util::FormatRfc3339(now + exp) + R"("}})");
    };
  }
};

TokenManager::Request Req(int64_t exp = 3600) { return {"ns", "sa", "", exp, "web", "uid-1"}; }

TEST_CASE("token manager: bound request, cached, refreshed at 80% of the lifetime") {
  ManualClock clock;
  FakeIssuer issuer{&clock};
  TokenManager m(issuer.AsFetch(), clock.AsClock());
  auto t = m.Get(Req());
  REQUIRE(t.ok());
  CHECK(*t == "t1");
  CHECK(issuer.last_request ==
        R"(ns/sa {"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"expirationSeconds":3600,)"
        R"("boundObjectRef":{"apiVersion":"v1","kind":"Pod","name":"web","uid":"uid-1"}}})");
  clock.AdvanceSeconds(0.7 * 3600);
  CHECK(*m.Get(Req()) == "t1");
  CHECK(issuer.calls == 1);
  clock.AdvanceSeconds(0.1 * 3600 + 1);  // past 80 %
  CHECK(*m.Get(Req()) == "t2");
  // Another audience or lifetime is another token.
  TokenManager::Request vault = Req();
  vault.audience = "vault";
  CHECK(*m.Get(vault) == "t3");
  CHECK(issuer.last_request.find(R"("audiences":["vault"])") != std::string::npos);
}

TEST_CASE("token manager: long-lived tokens are refreshed after 24 hours") {
  ManualClock clock;
  FakeIssuer issuer{&clock};
  TokenManager m(issuer.AsFetch(), clock.AsClock());
  CHECK(*m.Get(Req(30 * 86400)) == "t1");
  clock.AdvanceSeconds(23 * 3600);
  CHECK(*m.Get(Req(30 * 86400)) == "t1");
  clock.AdvanceSeconds(3600 + 1);
  CHECK(*m.Get(Req(30 * 86400)) == "t2");
}

TEST_CASE("token manager: failures") {
  ManualClock clock;
  FakeIssuer issuer{&clock};
  TokenManager m(issuer.AsFetch(), clock.AsClock());
  issuer.fail = NotFound("serviceaccounts \"sa\" not found");
  auto first = m.Get(Req());
  CHECK(first.status().code() == Code::kNotFound);
  CHECK(first.status().message() == "failed to fetch token: serviceaccounts \"sa\" not found");
  issuer.fail = Status::Ok();
  CHECK(*m.Get(Req()) == "t2");
  // A failed refresh keeps serving the token until it expires.
  issuer.fail = Unavailable("apiserver down");
  clock.AdvanceSeconds(0.9 * 3600);
  CHECK(*m.Get(Req()) == "t2");
  clock.AdvanceSeconds(0.2 * 3600);
  auto expired = m.Get(Req());
  REQUIRE_FALSE(expired.ok());
  CHECK(expired.status().message().find("expired and refresh failed: apiserver down") != std::string::npos);
  // Forgetting the pod drops its tokens.
  issuer.fail = Status::Ok();
  CHECK(*m.Get(Req()) == "t5");
  m.ForgetPod("uid-1");
  CHECK(*m.Get(Req()) == "t6");
}

}  // namespace
}  // namespace kubepp::kubelet
