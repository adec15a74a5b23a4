// Service account tokens on the API: the serviceaccounts/token subresource (upstream's
// pkg/registry/core/serviceaccount/storage/token.go), the authentication.k8s.io/v1
// reviews, and the ServiceAccount admission plugin's pod mutation.
#include <algorithm>

#include "apiserver/api.h"
#include "common/util/random.h"
#include "common/util/time.h"

namespace kubepp::apiserver {

namespace {

constexpr int64_t kMaxTokenExpirationSeconds = int64_t{1} << 32;

api::Value StringArray(const std::vector<std::string>& v, api::Allocator& a) {
  api::Value arr(rapidjson::kArrayType);
  for (const auto& s : v) arr.PushBack(api::Str(s, a), a);
  return arr;
}

api::Value UserJson(const UserInfo& u, api::Allocator& a) {
  api::Value user(rapidjson::kObjectType);
  user.AddMember("username", api::Str(u.name, a), a);
  if (!u.uid.empty()) user.AddMember("uid", api::Str(u.uid, a), a);
  user.AddMember("groups", StringArray(u.groups, a), a);
  if (!u.extra.empty()) {
    api::Value extra(rapidjson::kObjectType);
    for (const auto& [k, v] : u.extra) extra.AddMember(api::Str(k, a), StringArray(v, a), a);
    user.AddMember("extra", extra, a);
  }
  return user;
}

// The body as an object of the expected kind (apiVersion/kind may be left out).
Result<api::Document> DecodeKind(const http::Request& req, const std::string& api_version,
                                 const std::string& kind) {
  ASSIGN_OR_RETURN(api::Document doc, DecodeBody(req));
  if (!doc.IsObject()) return BadRequest("the request body must be a JSON object");
  auto& a = doc.GetAllocator();
  std::string v = api::GetString(doc, "apiVersion", api_version);
  std::string k = api::GetString(doc, "kind", kind);
  if (v != api_version || k != kind) {
    return BadRequest("the API version in the data (" + v + ", " + k +
                      ") does not match the expected API version (" + api_version + ", " + kind +
                      ")");
  }
  api::SetString(doc, "apiVersion", v, a);
  api::SetString(doc, "kind", k, a);
  api::Ensure(doc, "metadata", a);
  return doc;
}

Status InvalidTokenRequest(const std::string& name, const std::string& field,
                           const std::string& detail) {
  Status st = Invalid("TokenRequest.authentication.k8s.io \"" + name + "\" is invalid: " + field +
                      ": " + detail);
  st.mutable_details().name = name;
  st.mutable_details().group = "authentication.k8s.io";
  st.mutable_details().kind = "TokenRequest";
  st.mutable_details().causes.push_back({"FieldValueInvalid", detail, field});
  return st;
}

}  // namespace

void Api::AdmitServiceAccount(api::Document& pod, const std::string& ns) {
  // Without a signer there is no token to mount: pods of a plain-HTTP-only server keep
  // their spec (the name was defaulted to "default" with the other pod defaults).
  if (tokens_ == nullptr || IsMirrorPod(pod)) return;
  // Upstream rejects a pod whose ServiceAccount does not exist yet (the controller-
  // manager makes `default` right after the namespace); this server admits it and lets
  // the kubelet's token request wait for the account instead.
  std::string sa_name = api::GetString(pod, "spec.serviceAccountName");
  ObjectPtr sa = storage_->Get("serviceaccounts", ns, sa_name);
  api::Document sa_doc;
  if (sa != nullptr) {
    auto parsed = api::ParseJson(sa->json);
    if (parsed.ok()) sa_doc = std::move(*parsed);
  }
  if (!ShouldAutomount(pod, sa_doc.IsObject() ? &sa_doc : nullptr)) return;
  MountServiceAccountToken(pod, util::RandomSuffix(5), pod.GetAllocator());
}

void Api::TokenRequest(const http::Request& req, const RequestInfo& info, const Writer& w) {
  if (tokens_ == nullptr) {
    return SendStatus(w, NotFound("the server could not find the requested resource (service "
                                  "account tokens need the secure port)"));
  }
  auto body = DecodeKind(req, "authentication.k8s.io/v1", "TokenRequest");
  if (!body.ok()) return SendStatus(w, body.status());
  api::Document& doc = *body;
  auto& a = doc.GetAllocator();
  const std::string& name = info.name;
  std::string body_name = api::GetString(doc, "metadata.name");
  if (!body_name.empty() && body_name != name) {
    return SendStatus(w, BadRequest("the name of the object (" + body_name +
                                    ") does not match the name on the URL (" + name + ")"));
  }
  std::string body_ns = api::GetString(doc, "metadata.namespace");
  if (!body_ns.empty() && body_ns != info.ns) {
    return SendStatus(w, BadRequest("the namespace of the provided object does not match the "
                                    "namespace sent on the request"));
  }
  api::SetString(doc, "metadata.name", name, a);
  api::SetString(doc, "metadata.namespace", info.ns, a);
  api::Value& spec = api::Ensure(doc, "spec", a);

  // Validation (ValidateTokenRequest) and defaulting.
  const api::Value* exp_v = api::FindMember(spec, "expirationSeconds");
  int64_t exp = kDefaultTokenExpirationSeconds;
  if (exp_v != nullptr && !exp_v->IsNull()) {
    if (!exp_v->IsInt64()) {
      return SendStatus(w, BadRequest("spec.expirationSeconds must be an integer"));
    }
    exp = exp_v->GetInt64();
  }
  if (exp < kMinTokenExpirationSeconds) {
    return SendStatus(w, InvalidTokenRequest(name, "spec.expirationSeconds",
                                             "Invalid value: " + std::to_string(exp) +
                                                 ": may not specify a duration less than 10 "
                                                 "minutes"));
  }
  if (exp > kMaxTokenExpirationSeconds) {
    return SendStatus(w, InvalidTokenRequest(name, "spec.expirationSeconds",
                                             "Invalid value: " + std::to_string(exp) +
                                                 ": may not specify a duration larger than 2^32 "
                                                 "seconds"));
  }
  api::SetInt(spec, "expirationSeconds", exp, a);
  std::vector<std::string> audiences;
  if (const api::Value* aud = api::FindMember(spec, "audiences"); aud != nullptr && !aud->IsNull()) {
    if (!aud->IsArray()) return SendStatus(w, BadRequest("spec.audiences must be a list of strings"));
    for (const auto& v : aud->GetArray()) {
      if (!v.IsString()) return SendStatus(w, BadRequest("spec.audiences must be a list of strings"));
      audiences.emplace_back(api::View(v));
    }
  }
  if (audiences.empty()) audiences = tokens_->api_audiences();
  api::SetValue(spec, "audiences", StringArray(audiences, a), a);

  if (auto na = NodeAdmission(req, info, AdmissionOperation::kCreate)) {
    AdmissionAttributes na_with_body = *na;
    na_with_body.object = &doc;
    if (auto st = AdmitNode(na_with_body); !st.ok()) return SendStatus(w, st);
  }
  ObjectPtr sa = storage_->Get("serviceaccounts", info.ns, name);
  if (sa == nullptr) {
    return SendStatus(w, NotFound("serviceaccounts \"" + name + "\" not found")
                             .WithDetails(name, "", "serviceaccounts"));
  }
  auto sa_doc = api::ParseJson(sa->json);
  if (!sa_doc.ok()) return SendStatus(w, Internal("unreadable service account"));

  TokenClaims claims;
  claims.ns = info.ns;
  claims.service_account = {name, api::GetString(*sa_doc, "metadata.uid")};
  claims.audiences = audiences;
  claims.issued_at = util::NowUnix();
  claims.expiration_seconds = exp;
  claims.id = util::NewUuid();
  const api::Value* ref = api::FindMember(spec, "boundObjectRef");
  if (ref != nullptr && !ref->IsNull()) {
    if (!ref->IsObject()) return SendStatus(w, BadRequest("spec.boundObjectRef must be an object"));
    std::string kind = api::GetString(*ref, "kind");
    std::string api_version = api::GetString(*ref, "apiVersion");
    std::string ref_name = api::GetString(*ref, "name");
    std::string ref_uid = api::GetString(*ref, "uid");
    if ((kind != "Pod" && kind != "Secret") || (api_version != "v1" && !api_version.empty())) {
      std::string gvk = (api_version.empty() ? "" : api_version + ", ") + "Kind=" + kind;
      return SendStatus(w, BadRequest("cannot bind token to object of type " + gvk));
    }
    const char* resource = kind == "Pod" ? "pods" : "secrets";
    ObjectPtr obj = storage_->Get(resource, info.ns, ref_name);
    if (obj == nullptr) {
      return SendStatus(w, NotFound(std::string(resource) + " \"" + ref_name + "\" not found")
                               .WithDetails(ref_name, "", resource));
    }
    auto obj_doc = api::ParseJson(obj->json);
    if (!obj_doc.ok()) return SendStatus(w, Internal("unreadable bound object"));
    std::string uid = api::GetString(*obj_doc, "metadata.uid");
    if (kind == "Pod") {
      std::string pod_sa = api::GetString(*obj_doc, "spec.serviceAccountName");
      if (pod_sa != name) {
        return SendStatus(w, BadRequest("cannot bind token for serviceaccount \"" + name +
                                        "\" to pod running with different serviceaccount name."));
      }
      claims.pod = ObjectRef{ref_name, uid};
    } else {
      claims.secret = ObjectRef{ref_name, uid};
    }
    if (!ref_uid.empty() && ref_uid != uid) {
      return SendStatus(w, Conflict("Operation cannot be fulfilled on " + kind + " \"" + ref_name +
                                    "\": the UID in the bound object reference (" + ref_uid +
                                    ") does not match the UID in record (" + uid +
                                    "). The object might have been deleted and then recreated")
                               .WithDetails(ref_name, "", kind));
    }
  }
  // The kubelet's token volume: a year-long token that warns after the requested 3607 s,
  // when it is for the API and bound to a pod.
  if (tokens_->extend_expiration() && claims.pod &&
      exp == kWarnOnlyBoundTokenExpirationSeconds) {
    const auto& api_aud = tokens_->api_audiences();
    bool kube = std::all_of(audiences.begin(), audiences.end(), [&](const std::string& s) {
      return std::find(api_aud.begin(), api_aud.end(), s) != api_aud.end();
    });
    if (kube) {
      claims.warn_after = claims.issued_at + exp;
      claims.expiration_seconds = kExpirationExtensionSeconds;
    }
  }
  auto token = tokens_->Issue(claims);
  if (!token.ok()) return SendStatus(w, Internal("failed to generate token: " + token.status().message()));
  api::Remove(doc, "status");
  api::Value status(rapidjson::kObjectType);
  status.AddMember("token", api::Str(*token, a), a);
  status.AddMember("expirationTimestamp", api::Str(util::FormatRfc3339(claims.issued_at + exp), a), a);
  doc.AddMember("status", status, a);
  if (!api::Has(doc, "metadata.creationTimestamp")) {
    api::SetValue(doc, "metadata.creationTimestamp", api::Value(), a);
  }
  SendJson(req, w, 201, api::ToJson(doc));
}

void Api::AuthenticationReview(const http::Request& req, const RequestInfo& info, const Writer& w) {
  const ResourceInfo& r = *info.resource;
  if (authenticator_ == nullptr) {
    return SendStatus(w, NotFound("the server could not find the requested resource "
                                  "(authentication reviews need the secure port)"));
  }
  auto body = DecodeKind(req, r.ApiVersion(), r.kind);
  if (!body.ok()) return SendStatus(w, body.status());
  api::Document& doc = *body;
  auto& a = doc.GetAllocator();
  api::Remove(doc, "status");
  api::Value status(rapidjson::kObjectType);
  if (r.kind == "SelfSubjectReview") {
    UserInfo u;
    u.name = req.user;
    u.groups = req.groups;
    // uid and extra are the authenticator's; the request carries only name and groups.
    if (auto again = authenticator_->Authenticate(req); again.ok() && again->name == req.user) {
      u = std::move(*again);
    }
    status.AddMember("userInfo", UserJson(u, a), a);
  } else {
    std::string token = api::GetString(doc, "spec.token");
    if (token.empty()) {
      return SendStatus(w, BadRequest("token is required for TokenReview in authentication"));
    }
    std::vector<std::string> audiences;
    if (const api::Value* aud = api::Find(doc, "spec.audiences"); aud && aud->IsArray()) {
      for (const auto& v : aud->GetArray()) {
        if (v.IsString()) audiences.emplace_back(api::View(v));
      }
    }
    if (audiences.empty()) audiences = tokens_->api_audiences();
    std::vector<std::string> matched;
    auto user = authenticator_->AuthenticateToken(token, audiences, &matched);
    status.AddMember("authenticated", user.ok(), a);
    if (user.ok()) {
      status.AddMember("user", UserJson(*user, a), a);
      status.AddMember("audiences", StringArray(matched, a), a);
    } else {
      status.AddMember("user", api::Value(rapidjson::kObjectType), a);
      status.AddMember("error", "invalid bearer token", a);
    }
  }
  doc.AddMember("status", status, a);
  SendJson(req, w, 201, api::ToJson(doc));
}

}  // namespace kubepp::apiserver
