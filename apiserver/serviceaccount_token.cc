#include "apiserver/serviceaccount_token.h"

#include <algorithm>
#include <cmath>

#include "common/util/time.h"

namespace kubepp::apiserver {

namespace {

constexpr int64_t kLeewaySeconds = 60;  // go-jose's jwt.DefaultLeeway
// A pod marked for deletion longer ago than this no longer vouches for its tokens.
constexpr int64_t kDeletedPodGraceSeconds = 60;
constexpr const char* kServiceAccountPrefix = "system:serviceaccount:";
constexpr const char* kVolumePrefix = "kube-api-access-";
constexpr const char* kMountPath = "/var/run/secrets/kubernetes.io/serviceaccount";

Status Invalid401(const std::string& why) { return Status(Code::kUnauthorized, why); }

api::Value Ref(const ObjectRef& r, api::Allocator& a) {
  api::Value v(rapidjson::kObjectType);
  v.AddMember("name", api::Str(r.name, a), a);
  v.AddMember("uid", api::Str(r.uid, a), a);
  return v;
}

// A NumericDate claim: a JSON number (fractions allowed), or nullopt.
std::optional<int64_t> NumericDate(const api::Value& claims, const char* name) {
  const api::Value* v = api::FindMember(claims, name);
  if (v == nullptr || !v->IsNumber()) return std::nullopt;
  double d = v->GetDouble();
  if (!std::isfinite(d) || d < -9e15 || d > 9e15) return std::nullopt;
  return static_cast<int64_t>(std::floor(d));
}

// Checks that the object a token names still exists with the token's uid.
Status CheckRef(const ObjectLookup& lookup, const char* resource, const std::string& ns,
                const api::Value* ref, int64_t now, bool* present) {
  *present = false;
  if (ref == nullptr) return Status::Ok();
  if (!ref->IsObject()) return Invalid401(std::string(resource) + " reference is not an object");
  *present = true;
  std::string name = api::GetString(*ref, "name"), uid = api::GetString(*ref, "uid");
  ObjectPtr obj = lookup(resource, ns, name);
  if (obj == nullptr) {
    return Invalid401(std::string(resource) + " \"" + ns + "/" + name + "\" has been deleted");
  }
  auto doc = api::ParseJson(obj->json);
  if (!doc.ok()) return Invalid401("unreadable " + std::string(resource));
  std::string have = api::GetString(*doc, "metadata.uid");
  if (have != uid) {
    return Invalid401(std::string(resource) + " UID (" + have + ") does not match claim (" + uid +
                      ")");
  }
  std::string deleted = api::GetString(*doc, "metadata.deletionTimestamp");
  if (!deleted.empty()) {
    auto when = util::ParseRfc3339(deleted);
    if (when.ok() && *when + kDeletedPodGraceSeconds < now) {
      return Invalid401(std::string(resource) + " \"" + ns + "/" + name +
                        "\" is being deleted");
    }
  }
  return Status::Ok();
}

}  // namespace

api::Document ClaimsJson(const TokenClaims& c, const std::string& issuer) {
  api::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  api::Value aud(rapidjson::kArrayType);
  for (const auto& s : c.audiences) aud.PushBack(api::Str(s, a), a);
  d.AddMember("aud", aud, a);
  d.AddMember("exp", c.issued_at + c.expiration_seconds, a);
  d.AddMember("iat", c.issued_at, a);
  if (!issuer.empty()) d.AddMember("iss", api::Str(issuer, a), a);
  if (!c.id.empty()) d.AddMember("jti", api::Str(c.id, a), a);
  api::Value k8s(rapidjson::kObjectType);
  k8s.AddMember("namespace", api::Str(c.ns, a), a);
  if (c.pod) k8s.AddMember("pod", Ref(*c.pod, a), a);
  if (c.secret) k8s.AddMember("secret", Ref(*c.secret, a), a);
  k8s.AddMember("serviceaccount", Ref(c.service_account, a), a);
  if (c.warn_after != 0) k8s.AddMember("warnafter", c.warn_after, a);
  d.AddMember("kubernetes.io", k8s, a);
  d.AddMember("nbf", c.issued_at, a);
  if (!issuer.empty()) {
    d.AddMember("sub",
                api::Str(kServiceAccountPrefix + c.ns + ":" + c.service_account.name, a), a);
  }
  return d;
}

ServiceAccountTokens::ServiceAccountTokens(ServiceAccountTokenOptions options, ObjectLookup lookup)
    : options_(std::move(options)), lookup_(std::move(lookup)) {
  if (options_.api_audiences.empty()) options_.api_audiences = {options_.issuer};
  if (options_.signing_key) {
    bool known = std::any_of(options_.verification_keys.begin(), options_.verification_keys.end(),
                             [&](const jwt::Key& k) { return k.kid() == options_.signing_key->kid(); });
    if (!known) options_.verification_keys.push_back(*options_.signing_key);
  }
}

Result<std::string> ServiceAccountTokens::Issue(const TokenClaims& claims) const {
  if (!options_.signing_key) return Internal("no service account signing key");
  return jwt::Sign(*options_.signing_key, ClaimsJson(claims, options_.issuer));
}

Result<ServiceAccountTokens::Authenticated> ServiceAccountTokens::Authenticate(
    std::string_view token, const std::vector<std::string>& audiences, int64_t now) const {
  ASSIGN_OR_RETURN(api::Document claims, jwt::Verify(options_.verification_keys, token));
  if (api::GetString(claims, "iss") != options_.issuer) return Invalid401("unknown issuer");
  // Time: exp and nbf/iat with leeway, as go-jose's Claims.Validate.
  auto exp = NumericDate(claims, "exp");
  if (!exp) return Invalid401("the token has no expiry");
  if (now > *exp + kLeewaySeconds) return Invalid401("service account token has expired");
  if (auto nbf = NumericDate(claims, "nbf"); nbf && now + kLeewaySeconds < *nbf) {
    return Invalid401("service account token is not valid yet");
  }
  if (auto iat = NumericDate(claims, "iat"); iat && now + kLeewaySeconds < *iat) {
    return Invalid401("service account token was issued in the future");
  }
  // Audiences: a string or an array of strings (RFC 7519 §4.1.3).
  std::vector<std::string> token_aud;
  if (const api::Value* aud = api::FindMember(claims, "aud")) {
    if (aud->IsString()) {
      token_aud.emplace_back(api::View(*aud));
    } else if (aud->IsArray()) {
      for (const auto& v : aud->GetArray()) {
        if (v.IsString()) token_aud.emplace_back(api::View(v));
      }
    }
  }
  Authenticated out;
  for (const auto& want : audiences) {
    if (std::find(token_aud.begin(), token_aud.end(), want) != token_aud.end()) {
      out.audiences.push_back(want);
    }
  }
  if (out.audiences.empty()) return Invalid401("token audiences are invalid for the target audiences");
  // The private claims and the objects they name.
  const api::Value* k8s = api::FindMember(claims, "kubernetes.io");
  if (k8s == nullptr || !k8s->IsObject()) return Invalid401("the token has no kubernetes.io claims");
  std::string ns = api::GetString(*k8s, "namespace");
  const api::Value* sa_ref = api::FindMember(*k8s, "serviceaccount");
  std::string sa_name = sa_ref && sa_ref->IsObject() ? api::GetString(*sa_ref, "name") : "";
  if (ns.empty() || sa_name.empty()) return Invalid401("the token names no service account");
  if (api::GetString(claims, "sub") != kServiceAccountPrefix + ns + ":" + sa_name) {
    return Invalid401("the token's subject does not match its service account");
  }
  bool present = false;
  RETURN_IF_ERROR(CheckRef(lookup_, "serviceaccounts", ns, sa_ref, now, &present));
  const api::Value* pod_ref = api::FindMember(*k8s, "pod");
  const api::Value* secret_ref = api::FindMember(*k8s, "secret");
  bool has_pod = false, has_secret = false;
  RETURN_IF_ERROR(CheckRef(lookup_, "pods", ns, pod_ref, now, &has_pod));
  RETURN_IF_ERROR(CheckRef(lookup_, "secrets", ns, secret_ref, now, &has_secret));

  UserInfo& u = out.user;
  u.name = kServiceAccountPrefix + ns + ":" + sa_name;
  u.uid = api::GetString(*sa_ref, "uid");
  u.groups = {"system:serviceaccounts", "system:serviceaccounts:" + ns, kAuthenticatedGroup};
  if (has_pod) {
    u.extra["authentication.kubernetes.io/pod-name"] = {api::GetString(*pod_ref, "name")};
    u.extra["authentication.kubernetes.io/pod-uid"] = {api::GetString(*pod_ref, "uid")};
  }
  if (std::string jti = api::GetString(claims, "jti"); !jti.empty()) {
    u.extra["authentication.kubernetes.io/credential-id"] = {"JTI=" + jti};
  }
  return out;
}

std::string ServiceAccountTokens::OpenIdConfiguration() const {
  api::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  auto list = [&](std::vector<std::string> v) {
    api::Value arr(rapidjson::kArrayType);
    for (auto& s : v) arr.PushBack(api::Str(s, a), a);
    return arr;
  };
  std::vector<std::string> algs;
  for (const auto& k : options_.verification_keys) {
    if (std::find(algs.begin(), algs.end(), k.alg()) == algs.end()) algs.push_back(k.alg());
  }
  std::sort(algs.begin(), algs.end());
  d.AddMember("issuer", api::Str(options_.issuer, a), a);
  d.AddMember("jwks_uri", api::Str(options_.issuer + "/openid/v1/jwks", a), a);
  d.AddMember("response_types_supported", list({"id_token"}), a);
  d.AddMember("subject_types_supported", list({"public"}), a);
  d.AddMember("id_token_signing_alg_values_supported", list(algs), a);
  return api::ToJson(d);
}

std::string ServiceAccountTokens::Jwks() const {
  std::string out = R"({"keys":[)";
  for (size_t i = 0; i < options_.verification_keys.size(); ++i) {
    out += (i ? "," : "") + options_.verification_keys[i].PublicJwk();
  }
  return out + "]}";
}

bool ShouldAutomount(const api::Value& pod, const api::Value* sa) {
  const api::Value* p = api::Find(pod, "spec.automountServiceAccountToken");
  if (p != nullptr && p->IsBool()) return p->GetBool();
  const api::Value* s = sa ? api::FindMember(*sa, "automountServiceAccountToken") : nullptr;
  if (s != nullptr && s->IsBool()) return s->GetBool();
  return true;
}

bool IsMirrorPod(const api::Value& pod) {
  const api::Value* ann = api::Find(pod, "metadata.annotations");
  return ann != nullptr && ann->IsObject() && api::FindMember(*ann, "kubernetes.io/config.mirror");
}

void MountServiceAccountToken(api::Value& pod, const std::string& suffix, api::Allocator& a) {
  api::Value& spec = api::Ensure(pod, "spec", a);
  std::string volume_name;
  if (const api::Value* vols = api::FindMember(spec, "volumes"); vols && vols->IsArray()) {
    for (const auto& v : vols->GetArray()) {
      std::string n = api::GetString(v, "name");
      if (n.rfind(kVolumePrefix, 0) == 0) {
        volume_name = n;
        break;
      }
    }
  }
  bool has_volume = !volume_name.empty();
  if (!has_volume) volume_name = kVolumePrefix + suffix;
  bool needed = false;
  for (const char* list : {"initContainers", "containers"}) {
    api::Value* cs = api::FindMutable(spec, list);
    if (cs == nullptr || !cs->IsArray()) continue;
    for (auto& c : cs->GetArray()) {
      if (!c.IsObject()) continue;
      api::Value* mounts = api::FindMutable(c, "volumeMounts");
      bool mounted = false;
      if (mounts != nullptr && mounts->IsArray()) {
        for (const auto& m : mounts->GetArray()) mounted = mounted || api::GetString(m, "mountPath") == kMountPath;
      }
      if (mounted) continue;
      if (mounts == nullptr || !mounts->IsArray()) {
        api::SetValue(c, "volumeMounts", api::Value(rapidjson::kArrayType), a);
        mounts = api::FindMutable(c, "volumeMounts");
      }
      api::Value m(rapidjson::kObjectType);
      m.AddMember("name", api::Str(volume_name, a), a);
      m.AddMember("readOnly", true, a);
      m.AddMember("mountPath", api::Str(kMountPath, a), a);
      mounts->PushBack(m, a);
      needed = true;
    }
  }
  if (has_volume || !needed) return;
  auto doc = api::ParseJson(
      R"({"projected":{"sources":[{"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},)"
      R"({"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}},)"
      R"({"downwardAPI":{"items":[{"path":"namespace","fieldRef":{"apiVersion":"v1","fieldPath":"metadata.namespace"}}]}}],)"
      R"("defaultMode":420}})");
  api::Value vol(rapidjson::kObjectType);
  vol.AddMember("name", api::Str(volume_name, a), a);
  vol.AddMember("projected", api::Copy((*doc)["projected"], a), a);
  api::Value* vols = api::FindMutable(spec, "volumes");
  if (vols == nullptr || !vols->IsArray()) {
    api::SetValue(spec, "volumes", api::Value(rapidjson::kArrayType), a);
    vols = api::FindMutable(spec, "volumes");
  }
  vols->PushBack(vol, a);
}

}  // namespace kubepp::apiserver
