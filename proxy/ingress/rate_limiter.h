// Per-client-IP limits of one Ingress, from ingress-nginx's annotations:
//   nginx.ingress.kubernetes.io/limit-rps, limit-rpm: requests per second / minute; a
//     burst of rate * limit-burst-multiplier (default 5) more requests passes at once, as
//     nginx's `limit_req ... burst=N nodelay` (so a bucket holds burst + 1 requests);
//   nginx.ingress.kubernetes.io/limit-connections: requests in progress at once;
//   nginx.ingress.kubernetes.io/limit-whitelist: comma-separated CIDRs (or addresses)
//     that no limit applies to.
// A request past a limit gets 503, as ingress-nginx's default limit-req-status-code.
//
// Thread safety: RateLimiter is safe from any thread; TokenBucket is not synchronized.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/net/ipv4.h"
#include "common/status.h"

namespace kubepp::proxy::ingress {

using SteadyTime = std::chrono::steady_clock::time_point;
using Clock = std::function<SteadyTime()>;

struct RateLimitConfig {
  double rps = 0;       // 0: no per-second limit
  double rpm = 0;       // 0: no per-minute limit
  int connections = 0;  // 0: no concurrency limit
  double burst_multiplier = 5;
  std::vector<net::Ipv4Cidr> whitelist;

  bool Enabled() const { return rps > 0 || rpm > 0 || connections > 0; }
  bool operator==(const RateLimitConfig& o) const;
};

// From an Ingress's annotations. A malformed value is BadRequest naming the annotation
// (and the Ingress then gets no limits rather than wrong ones).
Result<RateLimitConfig> ParseRateLimitAnnotations(const std::map<std::string, std::string>& a);

// `rate` tokens per second refill up to `capacity`; it starts full.
class TokenBucket {
 public:
  TokenBucket(double rate, double capacity, SteadyTime now)
      : rate_(rate), capacity_(capacity), tokens_(capacity), last_(now) {}
  // Takes one token if there is one.
  bool Take(SteadyTime now);
  // Whether it has refilled completely (an idle client: its state can be dropped).
  bool Full(SteadyTime now) const;

 private:
  void Refill(SteadyTime now);
  double rate_, capacity_, tokens_;
  SteadyTime last_;
};

class RateLimiter {
 public:
  explicit RateLimiter(RateLimitConfig config, Clock clock = std::chrono::steady_clock::now);

  const RateLimitConfig& config() const { return config_; }
  // Whether a new request from `ip` is within the request-rate limits (and counts it).
  bool AllowRequest(const std::string& ip);
  // Takes one of `ip`'s concurrent request slots; false when none is free. Every
  // successful Acquire must be followed by one Release.
  bool AcquireConnection(const std::string& ip);
  void ReleaseConnection(const std::string& ip);
  // Clients with state kept (for tests and the sweep).
  size_t TrackedClients() const;

 private:
  bool Whitelisted(const std::string& ip) const;
  // Drops full buckets once many clients are tracked. Caller holds mu_.
  void SweepLocked(SteadyTime now);

  struct Client {
    std::vector<TokenBucket> buckets;  // rps and/or rpm
  };
  const RateLimitConfig config_;
  const Clock clock_;
  mutable std::mutex mu_;
  std::map<std::string, Client> clients_;
  std::map<std::string, int> active_;  // requests in progress per IP
  size_t sweep_at_ = 1024;
};

}  // namespace kubepp::proxy::ingress
