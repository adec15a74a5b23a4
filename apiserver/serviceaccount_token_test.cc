#include "apiserver/serviceaccount_token.h"

#include <catch2/catch.hpp>
#include <map>

#include "common/testing/json.h"

namespace kubepp::apiserver {
namespace {

using testing::Json;

// One RSA key for the whole file: generating one takes a while.
const jwt::Key& RsaKey() {
  static const jwt::Key key = [] {
    auto k = jwt::Key::GenerateRsa();
    REQUIRE(k.ok());
    return *k;
  }();
  return key;
}

std::string Part(const std::string& token, int i) {
  size_t a = token.find('.'), b = token.find('.', a + 1);
  if (i == 0) return token.substr(0, a);
  if (i == 1) return token.substr(a + 1, b - a - 1);
  return token.substr(b + 1);
}

api::Document Decoded(const std::string& part) {
  auto raw = jwt::Base64UrlDecode(part);
  REQUIRE(raw.ok());
  return Json(*raw);
}

TEST_CASE("jwt: base64url round trip, strict decoding") {
  for (std::string s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\xff\xfe\x00", 3)}) {
    auto back = jwt::Base64UrlDecode(jwt::Base64UrlEncode(s));
    REQUIRE(back.ok());
    CHECK(*back == s);
  }
  CHECK(jwt::Base64UrlEncode("\xfb\xff") == "-_8");
  CHECK(!jwt::Base64UrlDecode("Zg==").ok());  // padding
  CHECK(!jwt::Base64UrlDecode("Z+8").ok());   // standard alphabet
  CHECK(!jwt::Base64UrlDecode("Zh").ok());    // non-zero trailing bits
  CHECK(!jwt::Base64UrlDecode("Z").ok());
}

TEST_CASE("jwt: RS256 and ES256 tokens verify with their key only") {
  auto ec = jwt::Key::GenerateEc();
  REQUIRE(ec.ok());
  auto other = jwt::Key::GenerateEc();
  REQUIRE(other.ok());
  api::Document claims = Json(R"({"sub":"x","n":1})");
  for (const jwt::Key* key : std::vector<const jwt::Key*>{&RsaKey(), &*ec}) {
    INFO(key->alg());
    auto token = jwt::Sign(*key, claims);
    REQUIRE(token.ok());
    api::Document header = Decoded(Part(*token, 0));
    CHECK(api::GetString(header, "alg") == key->alg());
    CHECK(api::GetString(header, "kid") == key->kid());
    auto back = jwt::Verify({*key}, *token);
    REQUIRE(back.ok());
    CHECK(api::ToJson(*back) == R"({"sub":"x","n":1})");
    // With other keys only: refused.
    auto wrong = jwt::Verify({*other}, *token);
    CHECK(wrong.status().code() == Code::kUnauthorized);
    // The right key among others: accepted.
    CHECK(jwt::Verify({*other, *key}, *token).ok());
  }
  CHECK(ec->alg() == "ES256");
  CHECK(RsaKey().alg() == "RS256");
  // Upstream's key id: base64url(sha256(SPKI)), 43 characters.
  CHECK(RsaKey().kid().size() == 43);
}

TEST_CASE("jwt: tampered, unsigned and malformed tokens are Unauthorized") {
  auto token = jwt::Sign(RsaKey(), Json(R"({"sub":"alice"})"));
  REQUIRE(token.ok());
  std::vector<jwt::Key> keys = {RsaKey()};
  auto refused = [&](const std::string& t) {
    INFO(t);
    auto r = jwt::Verify(keys, t);
    REQUIRE(!r.ok());
    CHECK(r.status().code() == Code::kUnauthorized);
  };
  // Claims changed under the old signature.
  refused(Part(*token, 0) + "." + jwt::Base64UrlEncode(R"({"sub":"admin"})") + "." + Part(*token, 2));
  // Signature bytes changed.
  std::string sig = *jwt::Base64UrlDecode(Part(*token, 2));
  sig[10] ^= 1;
  refused(Part(*token, 0) + "." + Part(*token, 1) + "." + jwt::Base64UrlEncode(sig));
  // alg none, with or without a signature.
  std::string none = jwt::Base64UrlEncode(R"({"alg":"none"})");
  refused(none + "." + Part(*token, 1) + ".");
  refused(none + "." + Part(*token, 1) + "." + Part(*token, 2));
  // HS256 with the public key as secret (the classic confusion) is not even tried.
  refused(jwt::Base64UrlEncode(R"({"alg":"HS256"})") + "." + Part(*token, 1) + "." + Part(*token, 2));
  // Garbage.
  for (std::string g : std::vector<std::string>{"", ".", "..", "...", "a.b.c", "a.b", "eyJ.eyJ.", *token + ".x",
                        std::string(*token).insert(5, "="), "\xff\xfe.\x01.\x02",
                        jwt::Base64UrlEncode("[]") + "." + Part(*token, 1) + "." + Part(*token, 2),
                        jwt::Base64UrlEncode(R"({"alg":7})") + ".e30.AA"}) {
    refused(g);
  }
  // Claims that are not an object, validly signed.
  auto array = jwt::Sign(RsaKey(), Json("[1]"));
  REQUIRE(array.ok());
  refused(*array);
}

TEST_CASE("jwt: PEM key files") {
  auto pem = RsaKey().PrivatePem();
  REQUIRE(pem.ok());
  auto keys = jwt::Key::ParsePem("junk before\n" + *pem);
  REQUIRE(keys.ok());
  REQUIRE(keys->size() == 1);
  CHECK((*keys)[0].can_sign());
  CHECK((*keys)[0].kid() == RsaKey().kid());
  CHECK(!jwt::Key::ParsePem("").ok());
  CHECK(!jwt::Key::ParsePem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").ok());
  auto jwk = Json(RsaKey().PublicJwk());
  CHECK(api::GetString(jwk, "kty") == "RSA");
  CHECK(api::GetString(jwk, "e") == "AQAB");
  CHECK(api::GetString(jwk, "kid") == RsaKey().kid());
}

// A store of objects for the lookup.
struct FakeObjects {
  std::map<std::string, std::string> objects;  // "resource/ns/name" -> json

  void Put(const std::string& resource, const std::string& name, const std::string& uid,
           const std::string& extra_meta = "") {
    objects[resource + "/ns1/" + name] = R"({"metadata":{"name":")" + name + R"(","uid":")" + uid +
                                         "\"" + extra_meta + "}}";
  }
  ObjectLookup Lookup() {
    return [this](const std::string& resource, const std::string& ns,
                  const std::string& name) -> ObjectPtr {
      auto it = objects.find(resource + "/" + ns + "/" + name);
      if (it == objects.end()) return nullptr;
      auto o = std::make_shared<StoredObject>();
      o->json = it->second;
      return o;
    };
  }
};

constexpr int64_t kNow = 1'800'000'000;

TokenClaims PodClaims() {
  TokenClaims c;
  c.audiences = {"https://kubernetes.default.svc.cluster.local"};
  c.ns = "ns1";
  c.service_account = {"sa1", "sa-uid"};
  c.pod = ObjectRef{"pod1", "pod-uid"};
  c.issued_at = kNow;
  c.expiration_seconds = 3600;
  c.id = "id-1";
  return c;
}

TEST_CASE("service account token: upstream's claims") {
  TokenClaims c = PodClaims();
  c.warn_after = kNow + 3607;
  std::string json = api::ToJson(ClaimsJson(c, "https://issuer"));
  CHECK(json ==
        R"({"aud":["https://kubernetes.default.svc.cluster.local"],"exp":1800003600,"iat":1800000000,)"
        R"("iss":"https://issuer","jti":"id-1","kubernetes.io":{"namespace":"ns1","pod":{"name":"pod1",)"
        R"("uid":"pod-uid"},"serviceaccount":{"name":"sa1","uid":"sa-uid"},"warnafter":1800003607},)"
        R"("nbf":1800000000,"sub":"system:serviceaccount:ns1:sa1"})");
}

TEST_CASE("service account token: authentication checks time, audience and bound objects") {
  FakeObjects store;
  store.Put("serviceaccounts", "sa1", "sa-uid");
  store.Put("pods", "pod1", "pod-uid");
  ServiceAccountTokenOptions o;
  o.signing_key = RsaKey();
  ServiceAccountTokens tokens(o, store.Lookup());
  REQUIRE(tokens.api_audiences() == std::vector<std::string>{kDefaultServiceAccountIssuer});
  auto token = tokens.Issue(PodClaims());
  REQUIRE(token.ok());
  const auto& api = tokens.api_audiences();

  auto ok = tokens.Authenticate(*token, api, kNow + 10);
  REQUIRE(ok.ok());
  CHECK(ok->user.name == "system:serviceaccount:ns1:sa1");
  CHECK(ok->user.uid == "sa-uid");
  CHECK(ok->user.groups == std::vector<std::string>{"system:serviceaccounts",
                                                    "system:serviceaccounts:ns1",
                                                    "system:authenticated"});
  CHECK(ok->user.extra["authentication.kubernetes.io/pod-name"] == std::vector<std::string>{"pod1"});
  CHECK(ok->user.extra["authentication.kubernetes.io/credential-id"] ==
        std::vector<std::string>{"JTI=id-1"});
  CHECK(ok->audiences == api);

  auto refused = [&](const std::string& t, const std::vector<std::string>& aud, int64_t now,
                     const std::string& why) {
    auto r = tokens.Authenticate(t, aud, now);
    REQUIRE(!r.ok());
    CHECK(r.status().code() == Code::kUnauthorized);
    CHECK(r.status().message().find(why) != std::string::npos);
  };
  // Expiry, with go-jose's minute of leeway.
  CHECK(tokens.Authenticate(*token, api, kNow + 3600 + 59).ok());
  refused(*token, api, kNow + 3600 + 61, "expired");
  refused(*token, api, kNow - 120, "not valid yet");
  // Audience.
  refused(*token, {"vault"}, kNow, "audiences");
  // Another issuer's token, signed with our key.
  {
    auto foreign = jwt::Sign(RsaKey(), ClaimsJson(PodClaims(), "https://elsewhere"));
    REQUIRE(foreign.ok());
    refused(*foreign, api, kNow, "issuer");
  }
  // A forged signature.
  auto other = jwt::Key::GenerateEc();
  REQUIRE(other.ok());
  {
    auto forged = jwt::Sign(*other, ClaimsJson(PodClaims(), kDefaultServiceAccountIssuer));
    REQUIRE(forged.ok());
    refused(*forged, api, kNow, "signature");
  }
  // The bound pod recreated under the same name, then gone.
  store.Put("pods", "pod1", "pod-uid-2");
  refused(*token, api, kNow, "does not match");
  // A pod being deleted vouches for its tokens for a minute more.
  store.Put("pods", "pod1", "pod-uid", R"(,"deletionTimestamp":"2027-01-15T07:59:30Z")");
  CHECK(tokens.Authenticate(*token, api, kNow).ok());
  store.Put("pods", "pod1", "pod-uid", R"(,"deletionTimestamp":"2027-01-15T07:58:00Z")");
  refused(*token, api, kNow, "being deleted");
  store.objects.erase("pods/ns1/pod1");
  refused(*token, api, kNow, "has been deleted");
  store.Put("pods", "pod1", "pod-uid");
  // The service account deleted, or recreated.
  store.Put("serviceaccounts", "sa1", "sa-uid-2");
  refused(*token, api, kNow, "does not match");
  store.objects.erase("serviceaccounts/ns1/sa1");
  refused(*token, api, kNow, "has been deleted");
}

TEST_CASE("service account token: an unbound token needs only its service account") {
  FakeObjects store;
  store.Put("serviceaccounts", "sa1", "sa-uid");
  ServiceAccountTokenOptions o;
  o.signing_key = RsaKey();
  o.api_audiences = {"a", "b"};
  ServiceAccountTokens tokens(o, store.Lookup());
  TokenClaims c = PodClaims();
  c.pod.reset();
  c.audiences = {"b", "c"};
  auto token = tokens.Issue(c);
  REQUIRE(token.ok());
  auto r = tokens.Authenticate(*token, tokens.api_audiences(), kNow);
  REQUIRE(r.ok());
  CHECK(r->audiences == std::vector<std::string>{"b"});
  CHECK(r->user.extra.count("authentication.kubernetes.io/pod-name") == 0);
  // The JWKS lists the signing key.
  auto jwks = Json(tokens.Jwks());
  CHECK(api::GetString(jwks["keys"][0], "kid") == RsaKey().kid());
  auto oidc = Json(tokens.OpenIdConfiguration());
  CHECK(api::GetString(oidc, "jwks_uri") == std::string(kDefaultServiceAccountIssuer) + "/openid/v1/jwks");
}

constexpr const char* kPod = R"({"metadata":{"name":"p"},"spec":{
  "initContainers":[{"name":"i","image":"busybox"}],
  "containers":[{"name":"a","image":"busybox"},
                {"name":"b","image":"busybox","volumeMounts":[{"name":"own","mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}]}],
  "volumes":[{"name":"own","emptyDir":{}}]}})";

TEST_CASE("admission: the kube-api-access projected volume, upstream's shape") {
  api::Document pod = Json(kPod);
  MountServiceAccountToken(pod, "abcde", pod.GetAllocator());
  const api::Value& vols = *api::Find(pod, "spec.volumes");
  REQUIRE(vols.Size() == 2);
  CHECK(api::ToJson(vols[1]) ==
        R"({"name":"kube-api-access-abcde","projected":{"sources":[{"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},)"
        R"({"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}},)"
        R"({"downwardAPI":{"items":[{"path":"namespace","fieldRef":{"apiVersion":"v1","fieldPath":"metadata.namespace"}}]}}],"defaultMode":420}})");
  std::string mount =
      R"([{"name":"kube-api-access-abcde","readOnly":true,"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}])";
  CHECK(api::ToJson((*api::Find(pod, "spec.initContainers"))[0]["volumeMounts"]) == mount);
  const api::Value& containers = *api::Find(pod, "spec.containers");
  CHECK(api::ToJson(containers[0]["volumeMounts"]) == mount);
  // A container with its own mount at the path keeps it.
  CHECK(containers[1]["volumeMounts"].Size() == 1);
  CHECK(api::GetString(containers[1]["volumeMounts"][0], "name") == "own");

  // Admitting again (an existing kube-api-access-* volume) adds nothing.
  std::string before = api::ToJson(pod);
  MountServiceAccountToken(pod, "zzzzz", pod.GetAllocator());
  CHECK(api::ToJson(pod) == before);
}

TEST_CASE("admission: no volume when no container needs it; automount opt-outs") {
  api::Document pod = Json(R"({"spec":{"containers":[{"name":"a","volumeMounts":[{"name":"x","mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}]}]}})");
  MountServiceAccountToken(pod, "abcde", pod.GetAllocator());
  CHECK(!api::Has(pod, "spec.volumes"));

  api::Document plain = Json(R"({"spec":{"containers":[{"name":"a"}]}})");
  api::Document sa_off = Json(R"({"automountServiceAccountToken":false})");
  api::Document sa_on = Json(R"({"automountServiceAccountToken":true})");
  api::Document pod_off = Json(R"({"spec":{"automountServiceAccountToken":false}})");
  api::Document pod_on = Json(R"({"spec":{"automountServiceAccountToken":true}})");
  CHECK(ShouldAutomount(plain, nullptr));
  CHECK(!ShouldAutomount(plain, &sa_off));
  CHECK(ShouldAutomount(plain, &sa_on));
  CHECK(!ShouldAutomount(pod_off, &sa_on));  // the pod's word wins
  CHECK(ShouldAutomount(pod_on, &sa_off));
  CHECK(IsMirrorPod(Json(R"({"metadata":{"annotations":{"kubernetes.io/config.mirror":"x"}}})")));
  CHECK(!IsMirrorPod(plain));
}

}  // namespace
}  // namespace kubepp::apiserver
