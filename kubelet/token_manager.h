// Service account tokens for pods' projected volumes (upstream pkg/kubelet/token): asks
// the apiserver for a token bound to the pod (POST serviceaccounts/<name>/token), keeps
// it, and asks again once it is older than 80 % of its lifetime or 24 hours (less a
// jitter of up to 10 s), as upstream's requiresRefresh. When a refresh fails, a token that
// has not expired yet is still served (and the refresh retried on the next sync).
//
// Thread safety: all methods may be called from any thread.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "common/api/json.h"
#include "common/status.h"
#include "kubelet/clock.h"

namespace kubepp::kubelet {

class TokenManager {
 public:
  // POSTs `request` (an authentication.k8s.io/v1 TokenRequest) to
  // serviceaccounts/<name>/token in `ns`; returns the answered TokenRequest.
  using Fetch = std::function<Result<api::Document>(const std::string& ns, const std::string& name,
                                                    const api::Value& request)>;
  TokenManager(Fetch fetch, Clock clock);

  struct Request {
    std::string ns;
    std::string service_account;
    std::string audience;        // "": the apiserver's audiences
    int64_t expiration_seconds;  // the projection's (default 3600)
    std::string pod_name, pod_uid;
  };
  // The token for `r`, from the cache or fresh. Errors name what failed:
  // `failed to fetch token: <apiserver message>`.
  Result<std::string> Get(const Request& r);
  // Forgets the tokens bound to a pod (once it is gone).
  void ForgetPod(const std::string& pod_uid);

 private:
  struct Cached {
    std::string token;
    int64_t expiration_seconds = 0;  // the requested lifetime
    int64_t expires_micros = 0;      // status.expirationTimestamp
  };
  using Key = std::tuple<std::string, std::string, std::string, int64_t, std::string>;
  bool RequiresRefresh(const Cached& c, int64_t now) const;

  Fetch fetch_;
  Clock clock_;
  std::mutex mu_;
  std::map<Key, Cached> cache_;
};

}  // namespace kubepp::kubelet
