#include "kubelet/backoff.h"

#include <catch2/catch.hpp>

namespace kubepp::kubelet {
namespace {

constexpr int64_t kSec = 1'000'000;

TEST_CASE("restart backoff: immediate first restart, then 10s doubling to 5 min") {
  ManualClock clock;
  RestartBackoff b(clock.AsClock());
  const std::string key = "uid/c";
  CHECK(b.Remaining(key, clock.Now()) == 0);
  b.Next(key);
  CHECK(b.Current(key) == 10 * kSec);
  // Died again right now: wait 10 s from the finish.
  CHECK(b.Remaining(key, clock.Now()) == 10 * kSec);
  clock.AdvanceSeconds(4);
  CHECK(b.Remaining(key, clock.Now() - 4 * kSec) == 6 * kSec);
  int64_t expect = 10;
  for (int i = 0; i < 8; ++i) {
    b.Next(key);
    expect = std::min<int64_t>(expect * 2, 300);
    CHECK(b.Current(key) == expect * kSec);
  }
  CHECK(b.Current(key) == 300 * kSec);
}

TEST_CASE("restart backoff: forgotten after 10 minutes without restarts") {
  ManualClock clock;
  RestartBackoff b(clock.AsClock());
  b.Next("k");
  b.Next("k");
  CHECK(b.Current("k") == 20 * kSec);
  clock.AdvanceSeconds(601);
  CHECK(b.Remaining("k", clock.Now()) == 0);
  b.Next("k");
  CHECK(b.Current("k") == 10 * kSec);
}

TEST_CASE("restart backoff: ForgetPrefix drops a pod's keys only") {
  ManualClock clock;
  RestartBackoff b(clock.AsClock());
  b.Next("uid1/a");
  b.Next("uid1/b");
  b.Next("uid2/a");
  b.ForgetPrefix("uid1/");
  CHECK(b.Current("uid1/a") == 0);
  CHECK(b.Current("uid1/b") == 0);
  CHECK(b.Current("uid2/a") == 10 * kSec);
}

}  // namespace
}  // namespace kubepp::kubelet
