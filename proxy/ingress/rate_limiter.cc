#include "proxy/ingress/rate_limiter.h"

#include <algorithm>
#include <cstdlib>
#include <sstream>

namespace kubepp::proxy::ingress {
namespace {

constexpr char kPrefix[] = "nginx.ingress.kubernetes.io/";

Result<double> ParseNumber(const std::map<std::string, std::string>& a, const std::string& name,
                           double fallback, bool allow_fraction) {
  auto it = a.find(kPrefix + name);
  if (it == a.end()) return fallback;
  const std::string& s = it->second;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || v < 0 || v > 1e9 ||
      (!allow_fraction && v != static_cast<int64_t>(v))) {
    return BadRequest("annotation " + std::string(kPrefix) + name + ": bad value \"" + s + "\"");
  }
  return v;
}

}  // namespace

bool RateLimitConfig::operator==(const RateLimitConfig& o) const {
  if (rps != o.rps || rpm != o.rpm || connections != o.connections ||
      burst_multiplier != o.burst_multiplier || whitelist.size() != o.whitelist.size()) {
    return false;
  }
  for (size_t i = 0; i < whitelist.size(); ++i) {
    if (whitelist[i].base != o.whitelist[i].base || whitelist[i].prefix != o.whitelist[i].prefix) {
      return false;
    }
  }
  return true;
}

Result<RateLimitConfig> ParseRateLimitAnnotations(const std::map<std::string, std::string>& a) {
  RateLimitConfig c;
  ASSIGN_OR_RETURN(c.rps, ParseNumber(a, "limit-rps", 0, false));
  ASSIGN_OR_RETURN(c.rpm, ParseNumber(a, "limit-rpm", 0, false));
  ASSIGN_OR_RETURN(double conns, ParseNumber(a, "limit-connections", 0, false));
  c.connections = static_cast<int>(conns);
  ASSIGN_OR_RETURN(c.burst_multiplier, ParseNumber(a, "limit-burst-multiplier", 5, false));
  if (c.burst_multiplier < 1) c.burst_multiplier = 1;
  if (auto it = a.find(std::string(kPrefix) + "limit-whitelist"); it != a.end()) {
    std::stringstream in(it->second);
    std::string item;
    while (std::getline(in, item, ',')) {
      item.erase(std::remove_if(item.begin(), item.end(), ::isspace), item.end());
      if (item.empty()) continue;
      if (item.find('/') == std::string::npos) item += "/32";
      auto cidr = net::ParseIpv4Cidr(item);
      if (!cidr.ok()) {
        return BadRequest("annotation " + std::string(kPrefix) + "limit-whitelist: bad CIDR \"" +
                          item + "\"");
      }
      c.whitelist.push_back(*cidr);
    }
  }
  return c;
}

void TokenBucket::Refill(SteadyTime now) {
  if (now > last_) {
    double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(capacity_, tokens_ + elapsed * rate_);
    last_ = now;
  }
}

bool TokenBucket::Take(SteadyTime now) {
  Refill(now);
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

bool TokenBucket::Full(SteadyTime now) const {
  double elapsed = now > last_ ? std::chrono::duration<double>(now - last_).count() : 0;
  return tokens_ + elapsed * rate_ >= capacity_;
}

RateLimiter::RateLimiter(RateLimitConfig config, Clock clock)
    : config_(std::move(config)), clock_(std::move(clock)) {}

bool RateLimiter::Whitelisted(const std::string& ip) const {
  if (config_.whitelist.empty()) return false;
  auto addr = net::ParseIpv4(ip);
  if (!addr.ok()) return false;
  for (const auto& c : config_.whitelist) {
    if (c.Contains(*addr)) return true;
  }
  return false;
}

void RateLimiter::SweepLocked(SteadyTime now) {
  for (auto it = clients_.begin(); it != clients_.end();) {
    bool idle = std::all_of(it->second.buckets.begin(), it->second.buckets.end(),
                            [&](const TokenBucket& b) { return b.Full(now); });
    it = idle ? clients_.erase(it) : std::next(it);
  }
  // Sweep again once the map doubled, so the cost stays amortized.
  sweep_at_ = std::max<size_t>(1024, clients_.size() * 2);
}

bool RateLimiter::AllowRequest(const std::string& ip) {
  if ((config_.rps <= 0 && config_.rpm <= 0) || Whitelisted(ip)) return true;
  SteadyTime now = clock_();
  std::lock_guard<std::mutex> l(mu_);
  auto it = clients_.find(ip);
  if (it == clients_.end()) {
    if (clients_.size() >= sweep_at_) SweepLocked(now);
    Client c;
    if (config_.rps > 0) {
      c.buckets.emplace_back(config_.rps, config_.rps * config_.burst_multiplier + 1, now);
    }
    if (config_.rpm > 0) {
      c.buckets.emplace_back(config_.rpm / 60, config_.rpm * config_.burst_multiplier + 1, now);
    }
    it = clients_.emplace(ip, std::move(c)).first;
  }
  bool ok = true;
  // Every bucket is charged only when all of them have a token, as nginx counts a
  // request rejected by one zone against none.
  for (const auto& b : it->second.buckets) {
    TokenBucket probe = b;
    if (!probe.Take(now)) ok = false;
  }
  if (!ok) return false;
  for (auto& b : it->second.buckets) (void)b.Take(now);
  return true;
}

bool RateLimiter::AcquireConnection(const std::string& ip) {
  if (config_.connections <= 0 || Whitelisted(ip)) return true;
  std::lock_guard<std::mutex> l(mu_);
  int& n = active_[ip];
  if (n >= config_.connections) {
    if (n == 0) active_.erase(ip);
    return false;
  }
  ++n;
  return true;
}

void RateLimiter::ReleaseConnection(const std::string& ip) {
  if (config_.connections <= 0 || Whitelisted(ip)) return;
  std::lock_guard<std::mutex> l(mu_);
  auto it = active_.find(ip);
  if (it == active_.end()) return;
  if (--it->second <= 0) active_.erase(it);
}

size_t RateLimiter::TrackedClients() const {
  std::lock_guard<std::mutex> l(mu_);
  return clients_.size();
}

}  // namespace kubepp::proxy::ingress
