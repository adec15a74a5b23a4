#include "proxy/ingress/rate_limiter.h"

#include <catch2/catch.hpp>

namespace kubepp::proxy::ingress {
namespace {

using std::chrono::milliseconds;

constexpr char kP[] = "nginx.ingress.kubernetes.io/";

struct FakeClock {
  SteadyTime now{};
  Clock fn() {
    return [this] { return now; };
  }
};

int Allowed(RateLimiter& l, const std::string& ip, int tries) {
  int n = 0;
  for (int i = 0; i < tries; ++i) n += l.AllowRequest(ip) ? 1 : 0;
  return n;
}

TEST_CASE("token bucket: starts full, refills at its rate, never above capacity") {
  SteadyTime t{};
  TokenBucket b(2, 3, t);
  CHECK(b.Take(t));
  CHECK(b.Take(t));
  CHECK(b.Take(t));
  CHECK_FALSE(b.Take(t));
  CHECK_FALSE(b.Full(t));
  t += milliseconds(500);  // one token at 2/s
  CHECK(b.Take(t));
  CHECK_FALSE(b.Take(t));
  t += std::chrono::seconds(10);
  CHECK(b.Full(t));
  CHECK(b.Take(t));
  CHECK(b.Take(t));
  CHECK(b.Take(t));
  CHECK_FALSE(b.Take(t));
}

TEST_CASE("annotations parse like ingress-nginx's") {
  auto c = ParseRateLimitAnnotations({{std::string(kP) + "limit-rps", "2"},
                                      {std::string(kP) + "limit-whitelist", "10.0.0.0/8, 192.168.1.7"}});
  REQUIRE(c.ok());
  CHECK(c->rps == 2);
  CHECK(c->burst_multiplier == 5);
  CHECK(c->whitelist.size() == 2);
  CHECK(c->Enabled());
  CHECK_FALSE(ParseRateLimitAnnotations({})->Enabled());
  CHECK_FALSE(ParseRateLimitAnnotations({{std::string(kP) + "limit-rps", "lots"}}).ok());
  CHECK_FALSE(ParseRateLimitAnnotations({{std::string(kP) + "limit-rpm", "-1"}}).ok());
  CHECK_FALSE(ParseRateLimitAnnotations({{std::string(kP) + "limit-whitelist", "10.0.0.0/99"}}).ok());
}

TEST_CASE("rps with burst: rps * multiplier + 1 at once, then the rate, per client") {
  FakeClock clock;
  RateLimitConfig c;
  c.rps = 2;
  c.burst_multiplier = 2;
  RateLimiter l(c, clock.fn());
  CHECK(Allowed(l, "1.1.1.1", 10) == 5);
  CHECK(Allowed(l, "2.2.2.2", 10) == 5);  // another client has its own bucket
  clock.now += milliseconds(1000);
  CHECK(Allowed(l, "1.1.1.1", 10) == 2);
  CHECK(l.TrackedClients() == 2);
}

TEST_CASE("rpm and rps together: a request must pass both") {
  FakeClock clock;
  RateLimitConfig c;
  c.rps = 100;
  c.rpm = 1;
  c.burst_multiplier = 1;
  RateLimiter l(c, clock.fn());
  CHECK(Allowed(l, "1.1.1.1", 10) == 2);  // rpm bucket: 1 * 1 + 1
  clock.now += std::chrono::seconds(60);
  CHECK(Allowed(l, "1.1.1.1", 10) == 1);
}

TEST_CASE("whitelisted clients are never limited") {
  FakeClock clock;
  auto c = ParseRateLimitAnnotations({{std::string(kP) + "limit-rps", "1"},
                                      {std::string(kP) + "limit-burst-multiplier", "1"},
                                      {std::string(kP) + "limit-connections", "1"},
                                      {std::string(kP) + "limit-whitelist", "127.0.0.0/8"}});
  REQUIRE(c.ok());
  RateLimiter l(*c, clock.fn());
  CHECK(Allowed(l, "127.0.0.5", 50) == 50);
  CHECK(l.AcquireConnection("127.0.0.5"));
  CHECK(l.AcquireConnection("127.0.0.5"));
  CHECK(Allowed(l, "10.0.0.1", 50) == 2);
}

TEST_CASE("concurrent request slots per client") {
  RateLimitConfig c;
  c.connections = 2;
  RateLimiter l(c);
  CHECK(l.AllowRequest("1.1.1.1"));  // no rate limit configured
  CHECK(l.AcquireConnection("1.1.1.1"));
  CHECK(l.AcquireConnection("1.1.1.1"));
  CHECK_FALSE(l.AcquireConnection("1.1.1.1"));
  CHECK(l.AcquireConnection("2.2.2.2"));
  l.ReleaseConnection("1.1.1.1");
  CHECK(l.AcquireConnection("1.1.1.1"));
}

TEST_CASE("idle clients are swept once many are tracked") {
  FakeClock clock;
  RateLimitConfig c;
  c.rps = 10;
  RateLimiter l(c, clock.fn());
  for (int i = 0; i < 1024; ++i) l.AllowRequest("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256));
  CHECK(l.TrackedClients() == 1024);
  clock.now += std::chrono::seconds(60);  // every bucket is full again
  l.AllowRequest("10.9.9.9");
  CHECK(l.TrackedClients() == 1);
}

}  // namespace
}  // namespace kubepp::proxy::ingress
