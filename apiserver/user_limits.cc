#include "apiserver/user_limits.h"

#include <algorithm>
#include <atomic>

#include "common/status.h"

namespace kubepp::apiserver {

UserLimiter::UserLimiter(UserLimitOptions options, Clock clock)
    : options_(options), clock_(std::move(clock)) {
  if (options_.burst <= 0) options_.burst = std::max(1, static_cast<int>(options_.qps));
}

bool UserLimiter::Admit(const std::string& user, bool long_running) {
  std::lock_guard lock(mu_);
  State& s = users_[user];
  if (!long_running && options_.max_inflight > 0 && s.inflight >= options_.max_inflight) return false;
  if (options_.qps > 0) {
    auto now = clock_();
    if (s.tokens < 0) {
      s.tokens = options_.burst;
    } else {
      double elapsed = std::chrono::duration<double>(now - s.last).count();
      s.tokens = std::min<double>(options_.burst, s.tokens + elapsed * options_.qps);
    }
    s.last = now;
    if (s.tokens < 1) return false;
    s.tokens -= 1;
  }
  if (!long_running) ++s.inflight;
  return true;
}

void UserLimiter::Done(const std::string& user) {
  std::lock_guard lock(mu_);
  auto it = users_.find(user);
  if (it != users_.end() && it->second.inflight > 0) --it->second.inflight;
}

namespace {

bool LongRunning(const http::Request& req) {
  auto has = [&](const char* key) {
    auto it = req.query.find(key);
    return it != req.query.end() && (it->second == "true" || it->second == "1");
  };
  if (has("watch") || has("follow")) return true;
  return req.path.find("/watch/") != std::string::npos;
}

// Ends the request's in-flight slot once: at its response, or when the handler lets go of
// the writer without answering (the connection went away).
class ReleasingWriter : public http::ResponseWriter {
 public:
  ReleasingWriter(std::shared_ptr<http::ResponseWriter> next, std::function<void()> release)
      : next_(std::move(next)), release_(std::move(release)) {}
  ~ReleasingWriter() override { Release(); }
  void Send(http::Response response) override {
    next_->Send(std::move(response));
    Release();
  }
  void StartStream(int status, const std::string& content_type,
                   std::vector<std::pair<std::string, std::string>> headers) override {
    next_->StartStream(status, content_type, std::move(headers));
    Release();
  }
  bool WriteChunk(std::shared_ptr<const std::string> data) override { return next_->WriteChunk(std::move(data)); }
  void EndStream() override { next_->EndStream(); }
  bool Closed() const override { return next_->Closed(); }
  void OnClose(std::function<void()> fn) override { next_->OnClose(std::move(fn)); }

 private:
  void Release() {
    if (!done_.exchange(true)) release_();
  }
  std::shared_ptr<http::ResponseWriter> next_;
  std::function<void()> release_;
  std::atomic<bool> done_{false};
};

}  // namespace

http::Handler WithUserLimits(std::shared_ptr<UserLimiter> limiter, http::Handler next) {
  return [limiter = std::move(limiter), next = std::move(next)](
             http::Request req, std::shared_ptr<http::ResponseWriter> w) {
    if (std::find(req.groups.begin(), req.groups.end(), "system:masters") != req.groups.end()) {
      return next(std::move(req), std::move(w));
    }
    bool long_running = LongRunning(req);
    std::string user = req.user;
    if (!limiter->Admit(user, long_running)) {
      Status st(Code::kTooManyRequests,
                "too many requests from user \"" + user + "\", please try again later");
      http::Response r;
      r.status = st.http_status();
      r.body = st.ToJson();
      r.headers.push_back({"Retry-After", "1"});
      return w->Send(std::move(r));
    }
    if (long_running) return next(std::move(req), std::move(w));
    auto writer = std::make_shared<ReleasingWriter>(std::move(w), [limiter, user] { limiter->Done(user); });
    next(std::move(req), std::move(writer));
  };
}

}  // namespace kubepp::apiserver
