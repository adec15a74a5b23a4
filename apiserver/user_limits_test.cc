#include "apiserver/user_limits.h"

#include <catch2/catch.hpp>

namespace kubepp::apiserver {
namespace {

TEST_CASE("user limits: in flight per user, long-running requests not counted") {
  UserLimiter l({.max_inflight = 2});
  CHECK(l.Admit("jane", false));
  CHECK(l.Admit("jane", false));
  CHECK_FALSE(l.Admit("jane", false));
  CHECK(l.Admit("jane", true));  // a watch
  CHECK(l.Admit("bob", false));  // others are not affected
  l.Done("jane");
  CHECK(l.Admit("jane", false));
  l.Done("nobody");  // harmless
}

TEST_CASE("user limits: a token bucket per user") {
  auto now = std::chrono::steady_clock::time_point{};
  UserLimiter l({.qps = 2, .burst = 3}, [&] { return now; });
  for (int i = 0; i < 3; ++i) CHECK(l.Admit("jane", true));
  CHECK_FALSE(l.Admit("jane", true));
  CHECK(l.Admit("bob", true));
  now += std::chrono::milliseconds(500);  // one token back at 2/s
  CHECK(l.Admit("jane", true));
  CHECK_FALSE(l.Admit("jane", true));
  now += std::chrono::seconds(10);  // refills up to the burst only
  for (int i = 0; i < 3; ++i) CHECK(l.Admit("jane", true));
  CHECK_FALSE(l.Admit("jane", true));
}

}  // namespace
}  // namespace kubepp::apiserver
