#include "kubelet/runtime/registry.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "common/log.h"
#include "common/util/strings.h"
#include "kubelet/volumes.h"

namespace kubepp::kubelet {

namespace {

constexpr size_t kMaxManifestBytes = 4 << 20;  // what registries must accept, and containerd's limit
constexpr int kMaxRedirects = 5;

std::string Hex(const unsigned char* md, unsigned len) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

std::string Base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Status Unauthorized(std::string m) { return Status(Code::kUnauthorized, std::move(m)); }

std::string HeaderOf(const http::Response& r, const std::string& lower_name) {
  for (auto& [k, v] : r.headers) {
    if (k == lower_name) return v;
  }
  return "";
}

// "https://index.docker.io/v1/" -> "docker.io"; "http://r:5000/x/" -> "r:5000/x".
std::string NormalizeServer(std::string s) {
  s = util::AsciiLower(s);
  if (size_t p = s.find("://"); p != std::string::npos) s = s.substr(p + 3);
  while (!s.empty() && s.back() == '/') s.pop_back();
  size_t slash = s.find('/');
  std::string host = s.substr(0, slash);
  std::string path = slash == std::string::npos ? "" : s.substr(slash);
  if (path == "/v1" || path == "/v2") path.clear();
  if (host == "index.docker.io" || host == "registry-1.docker.io" || host == "registry.hub.docker.com") {
    host = "docker.io";
  }
  return host + path;
}

// Whether a server key's host matches `host`, "*" globs matching one DNS label.
bool HostMatches(const std::string& pattern, const std::string& host) {
  auto split = [](const std::string& h, std::string* port) {
    std::string name = h;
    if (size_t c = h.rfind(':'); c != std::string::npos && h.find(']') == std::string::npos) {
      name = h.substr(0, c);
      *port = h.substr(c + 1);
    }
    std::vector<std::string> labels;
    size_t start = 0;
    while (true) {
      size_t dot = name.find('.', start);
      labels.push_back(name.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    return labels;
  };
  std::string pport, hport;
  auto pl = split(pattern, &pport), hl = split(host, &hport);
  if (pport != hport || pl.size() != hl.size()) return false;
  for (size_t i = 0; i < pl.size(); ++i) {
    if (pl[i] != "*" && pl[i] != hl[i]) return false;
  }
  return true;
}

// "https://auth.example/token?x=1" -> {"https://auth.example:443"-style base, "/token?x=1"}.
bool SplitUrl(const std::string& url, std::string* base, std::string* target) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return false;
  std::string s = url.substr(0, scheme);
  if (s != "http" && s != "https") return false;
  size_t path = url.find('/', scheme + 3);
  *base = url.substr(0, path);
  *target = path == std::string::npos ? "/" : url.substr(path);
  return base->size() > scheme + 3;
}

std::string HostOfBase(const std::string& base) { return base.substr(base.find("://") + 3); }

// Digests end up in request paths and file names: only "sha256:<64 lower-case hex>".
bool ValidDigest(const std::string& d) {
  return d.size() == 71 && d.rfind("sha256:", 0) == 0 &&
         d.find_first_not_of("0123456789abcdef", 7) == std::string::npos;
}

}  // namespace

Result<std::vector<RegistryCredential>> ParseDockerConfig(std::string_view json, bool legacy) {
  auto doc = api::ParseJson(json);
  if (!doc.ok()) return BadRequest("docker config: " + doc.status().message());
  const api::Value* auths = legacy ? &*doc : api::FindMember(*doc, "auths");
  std::vector<RegistryCredential> out;
  if (auths == nullptr) return out;
  if (!auths->IsObject()) return BadRequest("docker config: auths is not an object");
  for (auto& m : auths->GetObject()) {
    if (!m.value.IsObject()) return BadRequest("docker config: entry " + std::string(api::View(m.name)) + " is not an object");
    RegistryCredential c;
    c.server = NormalizeServer(std::string(api::View(m.name)));
    c.username = api::GetString(m.value, "username");
    c.password = api::GetString(m.value, "password");
    std::string auth = api::GetString(m.value, "auth");
    if (!auth.empty()) {
      auto decoded = DecodeBase64(auth);
      if (!decoded.ok()) return BadRequest("docker config: auth of " + c.server + " is not base64");
      size_t colon = decoded->find(':');
      if (colon == std::string::npos) {
        return BadRequest("docker config: auth of " + c.server + " is not base64 of user:password");
      }
      c.username = decoded->substr(0, colon);
      c.password = decoded->substr(colon + 1);
    }
    if (c.server.empty() || (c.username.empty() && c.password.empty())) continue;
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<RegistryCredential> CredentialsFor(const std::vector<RegistryCredential>& all,
                                               const ImageReference& ref) {
  std::string host = util::AsciiLower(ref.domain);
  std::vector<RegistryCredential> out;
  for (auto& c : all) {
    size_t slash = c.server.find('/');
    std::string chost = c.server.substr(0, slash);
    std::string cpath = slash == std::string::npos ? "" : c.server.substr(slash + 1);
    if (!HostMatches(chost, host)) continue;
    if (!cpath.empty() && !(ref.path == cpath || ref.path.rfind(cpath + "/", 0) == 0)) continue;
    out.push_back(c);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](auto& a, auto& b) { return a.server.size() > b.server.size(); });
  return out;
}

Result<AuthChallenge> ParseWwwAuthenticate(std::string_view h) {
  auto bad = [&](const std::string& why) {
    return BadRequest("malformed WWW-Authenticate \"" + std::string(h.substr(0, 200)) + "\": " + why);
  };
  size_t i = 0;
  auto skip_ws = [&] {
    while (i < h.size() && (h[i] == ' ' || h[i] == '\t')) ++i;
  };
  auto token_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  };
  skip_ws();
  AuthChallenge ch;
  while (i < h.size() && token_char(h[i])) ch.scheme += h[i++];
  if (ch.scheme.empty()) return bad("no scheme");
  ch.scheme = util::AsciiLower(ch.scheme);
  while (true) {
    skip_ws();
    while (i < h.size() && (h[i] == ',' || h[i] == ' ')) ++i;
    if (i >= h.size()) break;
    std::string key;
    while (i < h.size() && token_char(h[i])) key += h[i++];
    skip_ws();
    if (key.empty() || i >= h.size() || h[i] != '=') {
      // A second challenge ("Bearer ..., Basic realm=x") or a token68: we use the first.
      if (!key.empty() && !ch.params.empty()) break;
      return bad("expected key=value");
    }
    ++i;
    skip_ws();
    std::string value;
    if (i < h.size() && h[i] == '"') {
      ++i;
      bool closed = false;
      while (i < h.size()) {
        char c = h[i++];
        if (c == '\\' && i < h.size()) {
          value += h[i++];
        } else if (c == '"') {
          closed = true;
          break;
        } else {
          value += c;
        }
      }
      if (!closed) return bad("unterminated quoted value");
    } else {
      while (i < h.size() && token_char(h[i])) value += h[i++];
    }
    ch.params[util::AsciiLower(key)] = value;
  }
  return ch;
}

Result<Descriptor> SelectPlatformManifest(const api::Value& index, const std::string& os,
                                          const std::string& arch) {
  const api::Value* manifests = api::FindMember(index, "manifests");
  if (manifests == nullptr || !manifests->IsArray()) return BadRequest("image index has no manifests");
  std::vector<std::string> offered;
  for (auto& m : manifests->GetArray()) {
    if (!m.IsObject()) continue;
    std::string mos = api::GetString(m, "platform.os");
    std::string march = api::GetString(m, "platform.architecture");
    if (mos.empty() && march.empty()) continue;  // attestations and other non-images
    offered.push_back(mos + "/" + march);
    if (mos != os || march != arch) continue;
    Descriptor d{api::GetString(m, "mediaType"), api::GetString(m, "digest"), api::GetInt(m, "size", -1)};
    if (!ValidDigest(d.digest)) {
      return BadRequest("image index entry for " + os + "/" + arch + " has digest \"" + d.digest +
                        "\", not sha256:<hex>");
    }
    return d;
  }
  std::string list;
  for (auto& o : offered) list += (list.empty() ? "" : ", ") + o;
  return NotFound("no match for platform " + os + "/" + arch + " in manifest (offered: " +
                  (list.empty() ? "none" : list) + ")");
}

Result<ImageManifest> ParseImageManifest(const api::Value& manifest, const std::string& media_type) {
  if (!manifest.IsObject()) return BadRequest("image manifest is not a JSON object");
  if (api::GetInt(manifest, "schemaVersion") == 1) {
    return BadRequest("Docker image manifest schema 1 is not supported (push the image again with a current client)");
  }
  if (media_type != kMediaOciManifest && media_type != kMediaDockerManifest) {
    return BadRequest("unsupported manifest media type \"" + media_type + "\"");
  }
  ImageManifest out;
  out.config = {api::GetString(manifest, "config.mediaType"), api::GetString(manifest, "config.digest"),
                api::GetInt(manifest, "config.size", -1)};
  if (!ValidDigest(out.config.digest)) {
    return BadRequest("image manifest config digest \"" + out.config.digest + "\" is not sha256:<hex>");
  }
  const api::Value* layers = api::FindMember(manifest, "layers");
  if (layers == nullptr || !layers->IsArray()) return BadRequest("image manifest has no layers");
  for (auto& l : layers->GetArray()) {
    Descriptor d{api::GetString(l, "mediaType"), api::GetString(l, "digest"), api::GetInt(l, "size", -1)};
    if (!ValidDigest(d.digest)) {
      return BadRequest("image manifest layer digest \"" + d.digest + "\" is not sha256:<hex>");
    }
    // tar, tar+gzip, tar+zstd (OCI and Docker names); libarchive detects the compression.
    if (d.media_type.find("encrypted") != std::string::npos ||
        (d.media_type.find("tar") == std::string::npos && d.media_type.find("rootfs.diff") == std::string::npos)) {
      return BadRequest("unsupported layer media type \"" + d.media_type + "\"");
    }
    out.layers.push_back(std::move(d));
  }
  return out;
}

std::string Sha256Digest(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return "sha256:" + Hex(md, len);
}

DigestVerifier::DigestVerifier(std::string expected) : expected_(std::move(expected)) {
  auto* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  ctx_ = ctx;
}

DigestVerifier::~DigestVerifier() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void DigestVerifier::Update(std::string_view data) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size());
}

Status DigestVerifier::Verify() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), md, &len);
  std::string got = "sha256:" + Hex(md, len);
  if (got != expected_) return BadRequest("digest mismatch: expected " + expected_ + ", got " + got);
  return Status::Ok();
}

std::vector<std::string> ParseInsecureRegistries(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string e = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    e.erase(0, e.find_first_not_of(" \t"));
    e.erase(e.find_last_not_of(" \t") + 1);
    if (!e.empty()) out.push_back(util::AsciiLower(e));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

bool MatchesInsecure(const std::vector<std::string>& patterns, const std::string& host) {
  std::string h = util::AsciiLower(host);
  for (auto& p : patterns) {
    if (p == h) return true;
    if (p.size() > 2 && p.compare(p.size() - 2, 2, ":*") == 0) {
      std::string prefix = p.substr(0, p.size() - 1);  // "127.0.0.1:"
      if (h.rfind(prefix, 0) == 0 && h.find_first_not_of("0123456789", prefix.size()) == std::string::npos) {
        return true;
      }
      if (h == p.substr(0, p.size() - 2)) return true;  // no port at all
    }
  }
  return false;
}

RegistryClient::RegistryClient(RegistryOptions options) : options_(std::move(options)) {}
RegistryClient::~RegistryClient() = default;

Result<http::Client*> RegistryClient::ClientFor(const std::string& base, bool insecure_tls) {
  std::lock_guard lock(mu_);
  std::string key = base + (insecure_tls ? "#insecure" : "");
  auto& c = clients_[key];
  if (!c) {
    http::ClientOptions o;
    o.server = base;
    o.ca_file = options_.ca_file;
    o.insecure_skip_verify = insecure_tls;
    o.timeout_seconds = options_.timeout_seconds;
    o.user_agent = "kubepp-kubelet";
    auto created = http::Client::Create(o);
    if (!created.ok()) {
      clients_.erase(key);
      return created.status();
    }
    c = std::move(created).value();
  }
  return c.get();
}

Result<RegistryClient::Origin> RegistryClient::OriginFor(const std::string& host) {
  if (!MatchesInsecure(options_.insecure_registries, host)) {
    ASSIGN_OR_RETURN(auto* c, ClientFor("https://" + host, false));
    return Origin{"https://" + host, c};
  }
  std::string scheme;
  {
    std::lock_guard lock(mu_);
    if (auto it = schemes_.find(host); it != schemes_.end()) scheme = it->second;
  }
  if (scheme.empty()) {
    // Probe /v2/ over https (unverified, as docker for insecure registries), else http.
    ASSIGN_OR_RETURN(auto* tls, ClientFor("https://" + host, true));
    scheme = tls->Do("GET", "/v2/").ok() ? "https" : "http";
    ASSIGN_OR_RETURN(auto* plain, ClientFor("http://" + host, false));
    // Remembered only once the registry answered, so that a registry that was down is probed again.
    if (scheme == "https" || plain->Do("GET", "/v2/").ok()) {
      std::lock_guard lock(mu_);
      schemes_[host] = scheme;
    }
  }
  ASSIGN_OR_RETURN(auto* c, ClientFor(scheme + "://" + host, scheme == "https"));
  return Origin{scheme + "://" + host, c};
}

Result<std::string> RegistryClient::Authorize(const AuthChallenge& challenge, const ImageReference& ref,
                                              const RegistryCredential* credential) {
  std::string basic = credential ? "Basic " + Base64(credential->username + ":" + credential->password) : "";
  if (challenge.scheme == "basic") {
    if (!credential) return Unauthorized("the registry " + ref.domain + " requires credentials (none in the pod's imagePullSecrets)");
    return basic;
  }
  if (challenge.scheme != "bearer") {
    return Unauthorized("unsupported registry authentication scheme \"" + challenge.scheme + "\"");
  }
  auto realm = challenge.params.find("realm");
  if (realm == challenge.params.end()) return Unauthorized("Bearer challenge without a realm");
  std::string base, target;
  if (!SplitUrl(realm->second, &base, &target)) {
    return Unauthorized("Bearer challenge realm \"" + realm->second + "\" is not an http(s) URL");
  }
  // Credentials never travel in clear text to a host not allowed plain http.
  if (base.rfind("http://", 0) == 0 && !MatchesInsecure(options_.insecure_registries, HostOfBase(base))) {
    return Unauthorized("token realm " + base + " is plain http and not an insecure registry");
  }
  std::string query;
  auto add = [&](const std::string& k, const std::string& v) {
    query += (query.empty() ? "" : "&") + k + "=" + http::PercentEncode(v);
  };
  if (auto s = challenge.params.find("service"); s != challenge.params.end()) add("service", s->second);
  std::string scope = "repository:" + ref.path + ":pull";
  add("scope", scope);
  if (auto s = challenge.params.find("scope"); s != challenge.params.end() && s->second != scope) {
    add("scope", s->second);
  }
  target += (target.find('?') == std::string::npos ? "?" : "&") + query;
  ASSIGN_OR_RETURN(auto* client, ClientFor(base, false));
  http::Headers h;
  if (credential) h["Authorization"] = basic;
  ASSIGN_OR_RETURN(auto resp, client->Do("GET", target, "", "", h));
  if (resp.status == 401 || resp.status == 403) {
    return Unauthorized("the token server " + base + " refused the " +
                        std::string(credential ? "credentials" : "anonymous request") + " (HTTP " +
                        std::to_string(resp.status) + ")");
  }
  if (resp.status != 200) {
    return Unavailable("token server " + base + " answered HTTP " + std::to_string(resp.status));
  }
  auto doc = api::ParseJson(resp.body);
  if (!doc.ok()) return Unavailable("token server " + base + ": " + doc.status().message());
  std::string token = api::GetString(*doc, "token");
  if (token.empty()) token = api::GetString(*doc, "access_token");
  if (token.empty()) return Unavailable("token server " + base + " returned no token");
  return "Bearer " + token;
}

Result<http::Response> RegistryClient::Get(const ImageReference& ref, const RegistryCredential* credential,
                                           const std::string& target, const http::Headers& headers,
                                           const std::function<bool(std::string_view)>* on_data,
                                           const std::atomic<bool>* stop) {
  std::string host = ref.RegistryHost();
  ASSIGN_OR_RETURN(Origin origin, OriginFor(host));
  std::string auth_key = host + "/" + ref.path + "\n" + (credential ? credential->username : "");
  std::string auth;
  {
    std::lock_guard lock(mu_);
    if (auto it = auth_.find(auth_key); it != auth_.end()) auth = it->second;
  }
  http::Client* client = origin.client;
  std::string url_target = target;
  bool same_origin = true;
  for (int attempt = 0, redirects = 0;;) {
    http::Headers h = headers;
    if (!auth.empty() && same_origin) h["Authorization"] = auth;
    auto resp = on_data ? client->Download(url_target, *on_data, stop, h) : client->Do("GET", url_target, "", "", h);
    if (!resp.ok()) return resp.status();
    if (resp->status == 401 && same_origin && attempt == 0) {
      ++attempt;
      std::string header = HeaderOf(*resp, "www-authenticate");
      if (header.empty()) return Unauthorized("the registry " + ref.domain + " answered 401 without a challenge");
      ASSIGN_OR_RETURN(auto challenge, ParseWwwAuthenticate(header));
      ASSIGN_OR_RETURN(auth, Authorize(challenge, ref, credential));
      std::lock_guard lock(mu_);
      auth_[auth_key] = auth;
      continue;
    }
    if (resp->status >= 300 && resp->status < 400 && resp->status != 304) {
      std::string location = HeaderOf(*resp, "location");
      if (location.empty() || ++redirects > kMaxRedirects) {
        return Unavailable("the registry " + ref.domain + " redirected without a usable Location");
      }
      if (location.front() == '/') {
        url_target = location;
        continue;
      }
      std::string base;
      if (!SplitUrl(location, &base, &url_target)) {
        return Unavailable("the registry " + ref.domain + " redirected to \"" + location + "\"");
      }
      if (base.rfind("http://", 0) == 0 && !MatchesInsecure(options_.insecure_registries, HostOfBase(base))) {
        return Unavailable("the registry " + ref.domain + " redirected to plain http " + base);
      }
      // The registry's Authorization is for the registry, never for a storage backend.
      same_origin = base == origin.base;
      ASSIGN_OR_RETURN(client, ClientFor(base, false));
      continue;
    }
    return std::move(resp).value();
  }
}

Result<http::Response> RegistryClient::FetchManifest(const ImageReference& ref,
                                                     const RegistryCredential* credential,
                                                     const std::string& reference,
                                                     const std::atomic<bool>* stop) {
  http::Headers h;
  h["Accept"] = std::string(kMediaOciIndex) + ", " + kMediaOciManifest + ", " + kMediaDockerList + ", " +
                kMediaDockerManifest;
  ASSIGN_OR_RETURN(auto resp, Get(ref, credential, "/v2/" + ref.path + "/manifests/" + reference, h, nullptr, stop));
  if (resp.status == 404) return NotFound(ref.String() + ": not found");
  if (resp.status == 401 || resp.status == 403) {
    return Unauthorized("pull access denied for " + ref.Repository() + ", repository does not exist or may require authorization (HTTP " +
                        std::to_string(resp.status) + ")");
  }
  if (resp.status != 200) {
    return Unavailable("unexpected status from GET request to " + ref.domain + ": HTTP " +
                       std::to_string(resp.status));
  }
  if (resp.body.size() > kMaxManifestBytes) return BadRequest("manifest of " + ref.String() + " exceeds 4 MiB");
  return resp;
}

Result<ResolvedImage> RegistryClient::Resolve(const ImageReference& ref, const RegistryCredential* credential,
                                              const std::atomic<bool>* stop) {
  ResolvedImage out;
  std::string reference = ref.ManifestRef();
  for (int depth = 0; depth < 2; ++depth) {
    ASSIGN_OR_RETURN(auto resp, FetchManifest(ref, credential, reference, stop));
    std::string digest = Sha256Digest(resp.body);
    if (reference.rfind("sha256:", 0) == 0 && digest != reference) {
      return BadRequest("manifest " + reference + " of " + ref.Repository() + " has digest " + digest);
    }
    ASSIGN_OR_RETURN(auto doc, api::ParseJson(resp.body));
    std::string media_type = resp.content_type.substr(0, resp.content_type.find(';'));
    if (media_type.empty() || media_type == "application/json" || media_type == "text/plain") {
      media_type = api::GetString(doc, "mediaType");
      if (media_type.empty()) media_type = api::Has(doc, "manifests") ? kMediaOciIndex : kMediaOciManifest;
    }
    if (depth == 0) out.repo_digest = digest;
    if (media_type == kMediaOciIndex || media_type == kMediaDockerList) {
      if (depth > 0) return BadRequest("image index " + reference + " points at another index");
      ASSIGN_OR_RETURN(auto d, SelectPlatformManifest(doc, options_.os, options_.arch));
      reference = d.digest;
      continue;
    }
    ASSIGN_OR_RETURN(out.manifest, ParseImageManifest(doc, media_type));
    out.manifest_digest = digest;
    return out;
  }
  return BadRequest("image index nesting too deep");
}

Status RegistryClient::FetchBlob(const ImageReference& ref, const RegistryCredential* credential,
                                 const Descriptor& desc, const std::string& dest,
                                 const std::atomic<bool>* stop) {
  std::FILE* f = std::fopen(dest.c_str(), "wb");
  if (f == nullptr) return Internal("cannot write " + dest);
  DigestVerifier verify(desc.digest);
  int64_t size = 0;
  bool write_failed = false, too_big = false;
  std::function<bool(std::string_view)> on_data = [&](std::string_view data) {
    size += static_cast<int64_t>(data.size());
    if (desc.size >= 0 && size > desc.size) {
      too_big = true;
      return false;
    }
    verify.Update(data);
    if (std::fwrite(data.data(), 1, data.size(), f) != data.size()) {
      write_failed = true;
      return false;
    }
    return true;
  };
  auto resp = Get(ref, credential, "/v2/" + ref.path + "/blobs/" + desc.digest, {{"Accept", "*/*"}}, &on_data, stop);
  bool closed_ok = std::fclose(f) == 0;
  auto fail = [&](Status st) {
    std::error_code ec;
    std::filesystem::remove(dest, ec);
    return st;
  };
  if (too_big) return fail(BadRequest("blob " + desc.digest + " is larger than its manifest says (" + std::to_string(desc.size) + " bytes)"));
  if (write_failed || !closed_ok) return fail(Internal("writing " + dest + " failed (disk full?)"));
  if (!resp.ok()) return fail(resp.status());
  if (resp->status == 404) return fail(NotFound("blob " + desc.digest + " of " + ref.Repository() + ": not found"));
  if (resp->status != 200) {
    return fail(Unavailable("GET blob " + desc.digest + " from " + ref.domain + ": HTTP " + std::to_string(resp->status)));
  }
  if (desc.size >= 0 && size != desc.size) {
    return fail(BadRequest("blob " + desc.digest + " has " + std::to_string(size) + " bytes, its manifest says " +
                           std::to_string(desc.size)));
  }
  if (Status st = verify.Verify(); !st.ok()) return fail(BadRequest("blob of " + ref.Repository() + ": " + st.message()));
  return Status::Ok();
}

}  // namespace kubepp::kubelet
