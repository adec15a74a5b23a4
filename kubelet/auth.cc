#include "kubelet/auth.h"

#include <algorithm>

#include "common/api/json.h"
#include "common/log.h"

namespace kubepp::kubelet {

namespace {

constexpr const char* kAnonymousUser = "system:anonymous";
constexpr const char* kUnauthenticatedGroup = "system:unauthenticated";
constexpr const char* kAuthenticatedGroup = "system:authenticated";

const client::ResourceRef kTokenReviews{"authentication.k8s.io", "v1", "tokenreviews", false};
const client::ResourceRef kSubjectAccessReviews{"authorization.k8s.io", "v1",
                                                "subjectaccessreviews", false};

// upstream's isSubpath: `path` is `prefix` or below it.
bool IsSubpath(const std::string& path, const std::string& prefix) {
  return path == prefix || (path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0 &&
                            path[prefix.size()] == '/');
}

void AddGroup(std::vector<std::string>& groups, const std::string& g) {
  if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);
}

api::Value StringArray(const std::vector<std::string>& v, api::Allocator& a) {
  api::Value arr(rapidjson::kArrayType);
  for (const auto& s : v) arr.PushBack(api::Str(s, a), a);
  return arr;
}

std::string Describe(const UserInfo& u, const NodeRequestAttributes& attrs) {
  return "(user=" + u.name + ", verb=" + attrs.verb + ", resource=" + attrs.resource +
         ", subresource=" + attrs.subresource + ")";
}

http::Response Text(int status, std::string body) {
  http::Response r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(body);
  return r;
}

template <typename Map>
void MakeRoom(Map& m, std::chrono::steady_clock::time_point now, size_t max) {
  if (m.size() < max) return;
  std::erase_if(m, [&](const auto& kv) { return kv.second.expires <= now; });
  if (m.size() >= max) m.clear();
}

}  // namespace

NodeRequestAttributes RequestAttributesFor(const std::string& method, const std::string& path,
                                           const std::string& node_name) {
  NodeRequestAttributes a;
  if (method == "POST") a.verb = "create";
  if (method == "GET") a.verb = "get";
  if (method == "PUT") a.verb = "update";
  if (method == "PATCH") a.verb = "patch";
  if (method == "DELETE") a.verb = "delete";
  a.name = node_name;
  a.path = path;
  a.subresource = "proxy";
  if (IsSubpath(path, "/stats")) {
    a.subresource = "stats";
  } else if (IsSubpath(path, "/metrics")) {
    a.subresource = "metrics";
  } else if (IsSubpath(path, "/logs")) {
    a.subresource = "log";  // as pods/log
  } else if (IsSubpath(path, "/spec")) {
    a.subresource = "spec";
  }
  return a;
}

TokenReviewFn ApiTokenReview(client::RestClient* client) {
  return [client](const std::string& token) -> Result<std::optional<UserInfo>> {
    api::Document review(rapidjson::kObjectType);
    auto& a = review.GetAllocator();
    api::SetString(review, "apiVersion", "authentication.k8s.io/v1", a);
    api::SetString(review, "kind", "TokenReview", a);
    api::SetString(review, "spec.token", token, a);
    ASSIGN_OR_RETURN(auto out, client->Create(kTokenReviews, "", review));
    if (!api::GetBool(out, "status.authenticated")) return std::optional<UserInfo>();
    UserInfo u;
    u.name = api::GetString(out, "status.user.username");
    u.uid = api::GetString(out, "status.user.uid");
    if (const api::Value* gs = api::Find(out, "status.user.groups"); gs && gs->IsArray()) {
      for (const auto& g : gs->GetArray()) {
        if (g.IsString()) u.groups.emplace_back(api::View(g));
      }
    }
    return std::optional<UserInfo>(std::move(u));
  };
}

AccessReviewFn ApiAccessReview(client::RestClient* client) {
  return [client](const UserInfo& user, const NodeRequestAttributes& attrs) -> Result<bool> {
    api::Document review(rapidjson::kObjectType);
    auto& a = review.GetAllocator();
    api::SetString(review, "apiVersion", "authorization.k8s.io/v1", a);
    api::SetString(review, "kind", "SubjectAccessReview", a);
    api::SetString(review, "spec.user", user.name, a);
    if (!user.uid.empty()) api::SetString(review, "spec.uid", user.uid, a);
    api::SetValue(review, "spec.groups", StringArray(user.groups, a), a);
    api::SetString(review, "spec.resourceAttributes.verb", attrs.verb, a);
    api::SetString(review, "spec.resourceAttributes.group", "", a);
    api::SetString(review, "spec.resourceAttributes.version", "v1", a);
    api::SetString(review, "spec.resourceAttributes.resource", attrs.resource, a);
    api::SetString(review, "spec.resourceAttributes.subresource", attrs.subresource, a);
    api::SetString(review, "spec.resourceAttributes.name", attrs.name, a);
    ASSIGN_OR_RETURN(auto out, client->Create(kSubjectAccessReviews, "", review));
    return api::GetBool(out, "status.allowed");
  };
}

KubeletAuth::KubeletAuth(KubeletAuthOptions options) : options_(std::move(options)) {}

Result<UserInfo> KubeletAuth::Authenticate(const http::Request& req) {
  return DoAuthenticate(req, true);
}

Status KubeletAuth::Authorize(const UserInfo& user, const NodeRequestAttributes& attrs) {
  return DoAuthorize(user, attrs, true);
}

Result<UserInfo> KubeletAuth::DoAuthenticate(const http::Request& req, bool may_block) {
  if (!req.peer_cn.empty()) {
    UserInfo u{req.peer_cn, "", req.peer_orgs};
    AddGroup(u.groups, kAuthenticatedGroup);
    return u;
  }
  std::string_view auth = req.Header("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (options_.token_review && auth.size() > kBearer.size() &&
      http::ToLower(auth.substr(0, kBearer.size())) == "bearer ") {
    std::string token(auth.substr(kBearer.size()));
    token.erase(0, token.find_first_not_of(' '));
    auto now = options_.now();
    {
      std::lock_guard l(mu_);
      auto it = tokens_.find(token);
      if (it != tokens_.end() && it->second.expires > now) {
        if (it->second.value) return *it->second.value;
        return Status(Code::kUnauthorized, "Unauthorized");
      }
    }
    if (!may_block) return Status(Code::kTimeout, "needs a token review");
    auto reviewed = options_.token_review(token);
    if (!reviewed.ok()) {
      // As upstream: an error is a failed authentication, never a fall back to anonymous.
      LOG(WARNING) << "token review failed: " << reviewed.status().ToString();
      return Status(Code::kUnauthorized, "Unauthorized");
    }
    std::optional<UserInfo> user = std::move(reviewed).value();
    if (user) AddGroup(user->groups, kAuthenticatedGroup);
    {
      std::lock_guard l(mu_);
      MakeRoom(tokens_, now, kMaxEntries);
      tokens_[token] = {user, now + options_.token_ttl};
    }
    if (user) return *user;
    return Status(Code::kUnauthorized, "Unauthorized");
  }
  if (options_.anonymous) return UserInfo{kAnonymousUser, "", {kUnauthenticatedGroup}};
  return Status(Code::kUnauthorized, "Unauthorized");
}

Status KubeletAuth::DoAuthorize(const UserInfo& user, const NodeRequestAttributes& attrs,
                                bool may_block) {
  if (!options_.access_review) return Status::Ok();
  std::string key = user.name + '\0' + user.uid + '\0' + attrs.verb + '\0' + attrs.subresource +
                    '\0' + attrs.name;
  for (const auto& g : user.groups) key += '\0' + g;
  auto now = options_.now();
  std::optional<bool> allowed;
  {
    std::lock_guard l(mu_);
    auto it = decisions_.find(key);
    if (it != decisions_.end() && it->second.expires > now) allowed = it->second.value;
  }
  if (!allowed) {
    if (!may_block) return Status(Code::kTimeout, "needs an access review");
    auto reviewed = options_.access_review(user, attrs);
    if (!reviewed.ok()) {
      LOG(WARNING) << "subject access review " << Describe(user, attrs)
                   << " failed: " << reviewed.status().ToString();
      return Internal("Authorization error " + Describe(user, attrs));
    }
    allowed = *reviewed;
    std::lock_guard l(mu_);
    MakeRoom(decisions_, now, kMaxEntries);
    decisions_[key] = {*allowed, now + (*allowed ? options_.allowed_ttl : options_.denied_ttl)};
  }
  if (*allowed) return Status::Ok();
  return Status(Code::kForbidden, "Forbidden " + Describe(user, attrs));
}

std::optional<http::Response> KubeletAuth::Check(const http::Request& req) {
  auto user = Authenticate(req);
  if (!user.ok()) return Text(401, "Unauthorized");
  Status st = Authorize(*user, RequestAttributesFor(req.method, req.path, options_.node_name));
  if (st.ok()) return std::nullopt;
  return Text(st.http_status(), st.message());
}

KubeletAuth::Verdict KubeletAuth::CheckCached(const http::Request& req, http::Response* denial) {
  auto user = DoAuthenticate(req, false);
  if (!user.ok() && user.status().code() == Code::kTimeout) return Verdict::kNeedsReview;
  if (!user.ok()) {
    *denial = Text(401, "Unauthorized");
    return Verdict::kDenied;
  }
  Status st =
      DoAuthorize(*user, RequestAttributesFor(req.method, req.path, options_.node_name), false);
  if (st.ok()) return Verdict::kAllowed;
  if (st.code() == Code::kTimeout) return Verdict::kNeedsReview;
  *denial = Text(st.http_status(), st.message());
  return Verdict::kDenied;
}

}  // namespace kubepp::kubelet
