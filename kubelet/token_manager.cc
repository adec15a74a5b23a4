#include "kubelet/token_manager.h"

#include <optional>

#include "common/log.h"
#include "common/util/random.h"
#include "common/util/time.h"

namespace kubepp::kubelet {

namespace {
constexpr int64_t kMicros = 1'000'000;
constexpr int64_t kMaxTtlMicros = 24 * 3600 * kMicros;
constexpr int64_t kMaxJitterSeconds = 10;
}  // namespace

TokenManager::TokenManager(Fetch fetch, Clock clock) : fetch_(std::move(fetch)), clock_(std::move(clock)) {}

bool TokenManager::RequiresRefresh(const Cached& c, int64_t now) const {
  int64_t iat = c.expires_micros - c.expiration_seconds * kMicros;
  int64_t jitter = static_cast<int64_t>(util::RandomBelow(kMaxJitterSeconds + 1)) * kMicros;
  if (now > iat + kMaxTtlMicros - jitter) return true;
  // Within 20 % of the lifetime (plus the jitter) of the expiry.
  return now > c.expires_micros - (c.expiration_seconds * 20 / 100) * kMicros - jitter;
}

Result<std::string> TokenManager::Get(const Request& r) {
  Key key{r.ns, r.service_account, r.audience, r.expiration_seconds, r.pod_uid};
  int64_t now = clock_();
  std::optional<Cached> have;
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) have = it->second;
  }
  if (have && !RequiresRefresh(*have, now)) return have->token;

  api::Document req;
  req.SetObject();
  auto& a = req.GetAllocator();
  api::SetString(req, "apiVersion", "authentication.k8s.io/v1", a);
  api::SetString(req, "kind", "TokenRequest", a);
  api::Value& spec = api::Ensure(req, "spec", a);
  if (!r.audience.empty()) {
    api::Value aud(rapidjson::kArrayType);
    aud.PushBack(api::Str(r.audience, a), a);
    spec.AddMember("audiences", aud, a);
  }
  spec.AddMember("expirationSeconds", r.expiration_seconds, a);
  api::Value ref(rapidjson::kObjectType);
  ref.AddMember("apiVersion", "v1", a);
  ref.AddMember("kind", "Pod", a);
  ref.AddMember("name", api::Str(r.pod_name, a), a);
  ref.AddMember("uid", api::Str(r.pod_uid, a), a);
  spec.AddMember("boundObjectRef", ref, a);

  Status err = Status::Ok();
  auto answer = fetch_(r.ns, r.service_account, req);
  if (answer.ok()) {
    Cached c;
    c.token = api::GetString(*answer, "status.token");
    c.expiration_seconds = api::GetInt(*answer, "spec.expirationSeconds", r.expiration_seconds);
    auto exp = util::ParseRfc3339Micros(api::GetString(*answer, "status.expirationTimestamp"));
    if (c.token.empty() || !exp.ok() || c.expiration_seconds <= 0) {
      err = Internal("the apiserver's TokenRequest answer has no token or expirationTimestamp");
    } else {
      c.expires_micros = *exp;
      std::lock_guard lock(mu_);
      cache_[key] = c;
      return c.token;
    }
  } else {
    err = answer.status();
  }
  if (!have) return Status(err.code(), "failed to fetch token: " + err.message());
  if (now >= have->expires_micros) {
    return Status(err.code(), "token for service account " + r.ns + "/" + r.service_account +
                                  " expired and refresh failed: " + err.message());
  }
  LOG(WARNING) << "couldn't refresh the token of service account " << r.ns << "/"
               << r.service_account << " for pod " << r.pod_name << ": " << err.message();
  return have->token;
}

void TokenManager::ForgetPod(const std::string& pod_uid) {
  std::lock_guard lock(mu_);
  for (auto it = cache_.begin(); it != cache_.end();) {
    it = std::get<4>(it->first) == pod_uid ? cache_.erase(it) : std::next(it);
  }
}

}  // namespace kubepp::kubelet
