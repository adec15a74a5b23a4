// Per-user limits on the secure port, so that one client (a runaway controller, a script
// in a loop) cannot starve the others: at most `max_inflight` requests of one user in
// progress at once, and at most `qps` requests per second on average with bursts of
// `burst` (a token bucket per user). Long-running requests (watches, followed logs) count
// for the rate but not in flight, as upstream's max-in-flight filter. Members of
// system:masters are exempt, as upstream's flow control exempts them. A refused request
// gets 429 TooManyRequests with Retry-After: 1 and changes nothing.
// Thread safety: every method is safe from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/http/server.h"

namespace kubepp::apiserver {

struct UserLimitOptions {
  int max_inflight = 0;  // per user; 0: no limit
  double qps = 0;        // per user; 0: no limit
  int burst = 0;         // bucket size; 0: max(1, qps)
};

class UserLimiter {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  explicit UserLimiter(UserLimitOptions options, Clock clock = std::chrono::steady_clock::now);

  // Whether `user` may start a request now; when `long_running` is false and it may, the
  // request is in flight until Done(user).
  bool Admit(const std::string& user, bool long_running);
  void Done(const std::string& user);

 private:
  struct State {
    double tokens = -1;  // -1: a full bucket not yet touched
    std::chrono::steady_clock::time_point last;
    int inflight = 0;
  };
  UserLimitOptions options_;
  Clock clock_;
  std::mutex mu_;
  std::map<std::string, State, std::less<>> users_;
};

// `next` behind `limiter` for authenticated users (run after WithAuthentication).
http::Handler WithUserLimits(std::shared_ptr<UserLimiter> limiter, http::Handler next);

}  // namespace kubepp::apiserver
