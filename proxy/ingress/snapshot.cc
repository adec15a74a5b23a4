#include "proxy/ingress/snapshot.h"

#include <algorithm>
#include <tuple>

#include "proxy/service_snapshot.h"

namespace kubepp::proxy::ingress {
namespace {

constexpr char kLegacyClassAnnotation[] = "kubernetes.io/ingress.class";

using Index = std::map<std::string, informer::ObjectPtr>;

Index IndexByKey(const std::vector<informer::ObjectPtr>& objects) {
  Index out;
  for (const auto& o : objects) out[informer::KeyOf(*o)] = o;
  return out;
}

// One Ingress being applied: reports problems against it.
class IngressBuilder {
 public:
  IngressBuilder(const informer::ObjectPtr& ing, const std::map<std::string, ServicePtr>& services,
                 const std::map<std::string, std::vector<SlicePtr>>& slices,
                 std::map<std::string, std::shared_ptr<const Upstream>>* upstreams,
                 std::vector<Problem>* problems)
      : ing_(ing), ns_(api::GetString(*ing, "metadata.namespace")), services_(services),
        slices_(slices), upstreams_(upstreams), problems_(problems) {}

  void Report(std::string reason, std::string message) {
    problems_->push_back({ing_, std::move(reason), std::move(message)});
  }

  // The upstream of an IngressBackend object, or null (reported) when unusable.
  std::shared_ptr<const Upstream> Resolve(const api::Value& backend, const std::string& where) {
    if (api::Has(backend, "resource")) {
      Report("BadBackend", where + ": resource backends are not supported");
      return nullptr;
    }
    BackendRef ref;
    ref.ns = ns_;
    ref.service = api::GetString(backend, "service.name");
    ref.port_number = NonNegativeInt(backend, "service.port.number");
    ref.port_name = api::GetString(backend, "service.port.name");
    if (ref.service.empty() ||
        (ref.port_name.empty() && (ref.port_number <= 0 || ref.port_number > 65535))) {
      Report("BadBackend",
             where + ": backend needs service.name and service.port (a name, or a number 1-65535)");
      return nullptr;
    }
    if (!ref.port_name.empty()) ref.port_number = 0;
    std::string key = ref.ToString();
    if (auto it = upstreams_->find(key); it != upstreams_->end()) return it->second;

    auto svc = services_.find(ns_ + "/" + ref.service);
    if (svc == services_.end()) {
      Report("BadBackend", where + ": service " + ns_ + "/" + ref.service + " not found");
      return nullptr;
    }
    if (svc->second->type == Service::Type::kExternalName) {
      Report("BadBackend", where + ": service " + ref.service + " is ExternalName (unsupported)");
      return nullptr;
    }
    const Service::Port* port = nullptr;
    for (const auto& p : svc->second->ports) {
      bool match = ref.port_name.empty() ? p.port == ref.port_number : p.name == ref.port_name;
      if (match) port = &p;
    }
    if (port == nullptr) {
      Report("BadBackend", where + ": service " + ref.service + " has no port " +
                               (ref.port_name.empty() ? std::to_string(ref.port_number)
                                                      : ref.port_name));
      return nullptr;
    }
    const std::string& port_name = port->name;
    std::vector<Endpoint> endpoints;
    std::set<std::pair<uint32_t, int>> seen;
    if (auto it = slices_.find(ns_ + "/" + ref.service); it != slices_.end()) {
      for (const auto& slice : it->second) {
        if (!slice->ipv4) continue;
        int target = 0;
        for (const auto& p : slice->ports) {
          if (p.name == port_name) target = p.port;
        }
        if (target <= 0) continue;
        for (const auto& ep : slice->endpoints) {
          if (ep.ready && seen.insert({ep.address, target}).second) endpoints.push_back({ep.ip(), target});
        }
      }
    }
    auto up = std::make_shared<const Upstream>(std::move(ref), std::move(endpoints));
    (*upstreams_)[key] = up;
    return up;
  }

 private:
  informer::ObjectPtr ing_;
  std::string ns_;
  const std::map<std::string, ServicePtr>& services_;
  const std::map<std::string, std::vector<SlicePtr>>& slices_;
  std::map<std::string, std::shared_ptr<const Upstream>>* upstreams_;
  std::vector<Problem>* problems_;
};

std::shared_ptr<const TlsCertificate> LoadCert(const Index& secrets, const std::string& key,
                                               BuildCache* cache, std::string* error) {
  auto it = secrets.find(key);
  if (it == secrets.end()) {
    *error = "secret " + key + " not found";
    return nullptr;
  }
  const api::Value& secret = *it->second;
  std::string rv = api::GetString(secret, "metadata.resourceVersion");
  auto& cached = cache->certs[key];
  if (cached.resource_version != rv || rv.empty()) {
    cached.resource_version = rv;
    const api::Value* data = api::Find(secret, "data");
    const api::Value* crt_v = data ? api::FindMember(*data, "tls.crt") : nullptr;
    const api::Value* key_v = data ? api::FindMember(*data, "tls.key") : nullptr;
    if (!crt_v || !key_v) {
      cached.cert = BadRequest("secret has no tls.crt and tls.key");
    } else {
      auto c = Base64Decode(api::View(*crt_v));
      auto k = Base64Decode(api::View(*key_v));
      if (!c.ok() || !k.ok()) {
        cached.cert = BadRequest("tls.crt or tls.key is not valid base64");
      } else {
        cached.cert = TlsCertificate::FromPem(*c, *k);
      }
    }
  }
  if (!cached.cert.ok()) {
    *error = "secret " + key + ": " + cached.cert.status().message();
    return nullptr;
  }
  return *cached.cert;
}

std::string CreationOrderKey(const api::Value& o) {
  return api::GetString(o, "metadata.creationTimestamp") + " " + informer::KeyOf(o);
}

}  // namespace

bool Handles(const api::Value& ing, const std::string& ingress_class, bool class_is_default) {
  std::string name = api::GetString(ing, "spec.ingressClassName");
  if (!name.empty()) return name == ingress_class;
  auto annotations = api::GetStringMap(ing, "metadata.annotations");
  if (auto it = annotations.find(kLegacyClassAnnotation); it != annotations.end()) {
    return it->second == ingress_class;
  }
  return class_is_default;
}

BuildResult Build(const BuildInput& in, BuildCache* cache) {
  BuildResult out;
  auto snapshot = std::make_shared<Snapshot>();
  bool class_is_default = false;
  for (const auto& c : in.ingress_classes) {
    if (api::GetString(*c, "metadata.name") != in.ingress_class) continue;
    auto annotations = api::GetStringMap(*c, "metadata.annotations");
    auto it = annotations.find(kDefaultClassAnnotation);
    class_is_default = it != annotations.end() && it->second == "true";
  }
  std::map<std::string, ServicePtr> services;
  for (const auto& s : in.services) services[s->Key()] = s;
  Index secrets = IndexByKey(in.secrets);
  std::map<std::string, std::vector<SlicePtr>> slices = SlicesByService(in.slices);

  for (const auto& ing : in.ingresses) {
    if (Handles(*ing, in.ingress_class, class_is_default)) out.handled.push_back(ing);
  }
  std::sort(out.handled.begin(), out.handled.end(),
            [](const informer::ObjectPtr& a, const informer::ObjectPtr& b) {
              return CreationOrderKey(*a) < CreationOrderKey(*b);
            });

  std::map<std::string, std::shared_ptr<const Upstream>> upstreams;
  std::map<std::string, std::shared_ptr<RateLimiter>> limiters;
  for (const auto& ing : out.handled) {
    const std::string key = informer::KeyOf(*ing);
    const std::string ns = api::GetString(*ing, "metadata.namespace");
    IngressBuilder b(ing, services, slices, &upstreams, &out.problems);
    auto annotations = api::GetStringMap(*ing, "metadata.annotations");

    std::shared_ptr<RateLimiter> limiter;
    if (auto limits = ParseRateLimitAnnotations(annotations); !limits.ok()) {
      b.Report("BadAnnotation", limits.status().message() + " (no limits applied)");
    } else if (limits->Enabled()) {
      auto& cached = cache->limiters[key];
      if (!cached || !(cached->config() == *limits)) {
        cached = std::make_shared<RateLimiter>(*limits, cache->clock);
      }
      limiter = cached;
      limiters[key] = cached;
    }
    auto redirect_it = annotations.find(kSslRedirectAnnotation);
    bool ssl_redirect = redirect_it == annotations.end() || redirect_it->second != "false";

    // TLS hosts with a usable certificate; "" stands for "every host of this Ingress".
    std::vector<std::string> tls_hosts;
    if (const api::Value* tls = api::Find(*ing, "spec.tls"); tls && tls->IsArray()) {
      for (const auto& t : tls->GetArray()) {
        std::string secret_name = api::GetString(t, "secretName");
        std::vector<std::string> hosts;
        if (const api::Value* h = api::FindMember(t, "hosts"); h && h->IsArray()) {
          for (const auto& x : h->GetArray()) hosts.push_back(NormalizeHost(api::View(x)));
        }
        if (secret_name.empty()) {
          b.Report("BadCertificate", "spec.tls entry without secretName skipped");
          continue;
        }
        std::string error;
        auto cert = LoadCert(secrets, ns + "/" + secret_name, cache, &error);
        if (!cert) {
          b.Report("BadCertificate", error + " (TLS for those hosts uses the default certificate)");
          continue;
        }
        if (hosts.empty()) {
          if (const api::Value* rules = api::Find(*ing, "spec.rules"); rules && rules->IsArray()) {
            for (const auto& r : rules->GetArray()) {
              std::string h = NormalizeHost(api::GetString(r, "host"));
              if (!h.empty()) hosts.push_back(h);
            }
          }
        }
        for (const auto& h : hosts) {
          snapshot->certs.emplace(h, cert);
          tls_hosts.push_back(h);
        }
      }
    }
    auto has_tls = [&](const std::string& host) {
      if (host.empty()) return false;
      for (const auto& t : tls_hosts) {
        if (t == host || HostMatches(t, host)) return true;
      }
      return false;
    };

    if (const api::Value* def = api::Find(*ing, "spec.defaultBackend"); def && def->IsObject()) {
      if (auto up = b.Resolve(*def, "spec.defaultBackend")) {
        snapshot->routes.SetDefault({key, up, limiter, false});
      }
    }
    const api::Value* rules = api::Find(*ing, "spec.rules");
    if (!rules || !rules->IsArray()) continue;
    for (rapidjson::SizeType i = 0; i < rules->Size(); ++i) {
      const api::Value& rule = (*rules)[i];
      std::string host = NormalizeHost(api::GetString(rule, "host"));
      const api::Value* paths = api::Find(rule, "http.paths");
      if (!paths || !paths->IsArray()) continue;
      for (rapidjson::SizeType j = 0; j < paths->Size(); ++j) {
        const api::Value& p = (*paths)[j];
        std::string where = "spec.rules[" + std::to_string(i) + "].http.paths[" +
                            std::to_string(j) + "]";
        std::string path = api::GetString(p, "path", "/");
        std::string type = api::GetString(p, "pathType", "ImplementationSpecific");
        if (path.empty()) path = "/";
        if (path[0] != '/') {
          b.Report("BadPath", where + ": path \"" + path + "\" must start with '/'");
          continue;
        }
        auto backend = api::Find(p, "backend");
        if (!backend) {
          b.Report("BadBackend", where + ": no backend");
          continue;
        }
        auto up = b.Resolve(*backend, where);
        if (!up) continue;
        PathType pt = type == "Exact" ? PathType::kExact : PathType::kPrefix;
        snapshot->routes.Add(host, path, pt, {key, up, limiter, ssl_redirect && has_tls(host)});
      }
    }
  }
  cache->limiters = std::move(limiters);  // forget Ingresses that are gone
  for (auto it = cache->certs.begin(); it != cache->certs.end();) {
    it = secrets.count(it->first) ? std::next(it) : cache->certs.erase(it);
  }
  out.snapshot = std::move(snapshot);
  return out;
}

}  // namespace kubepp::proxy::ingress
