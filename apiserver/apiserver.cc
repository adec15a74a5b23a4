#include "apiserver/apiserver.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "apiserver/api.h"
#include "apiserver/audit.h"
#include "apiserver/authn.h"
#include "apiserver/bootstrap_policy.h"
#include "apiserver/jwt.h"
#include "apiserver/pki.h"
#include "apiserver/serviceaccount_token.h"
#include "apiserver/resources.h"
#include "apiserver/storage/encryption.h"
#include "apiserver/storage/expiry.h"
#include "apiserver/user_limits.h"
#include "common/client/kubeconfig.h"
#include "common/log.h"
#include "common/util/file.h"
#include "common/util/random.h"
#include "common/util/time.h"

namespace kubepp::apiserver {

namespace {

bool IsLoopback(const std::string& addr) {
  return addr.rfind("127.", 0) == 0 || addr == "::1" || addr == "localhost";
}

class ApiServerImpl : public ApiServer {
 public:
  ~ApiServerImpl() override { Stop(); }
  int port() const override { return server_->port(); }
  int secure_port() const override { return secure_server_ ? secure_server_->port() : 0; }
  void Stop() override {
    if (secure_server_) secure_server_->Stop();
    if (server_) server_->Stop();
    sweeper_.reset();  // before the storage (in api_) goes
    api_.reset();
  }

  std::unique_ptr<Api> api_;
  std::unique_ptr<ExpirySweeper> sweeper_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<http::Server> secure_server_;
};

bool IsWildcard(const std::string& addr) { return addr == "0.0.0.0" || addr == "::"; }

// The machine's IPv4 addresses other than loopback: what clients on other nodes dial
// when the server listens on every interface.
std::vector<std::string> HostAddresses() {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
    char buf[INET_ADDRSTRLEN];
    auto* sin = reinterpret_cast<sockaddr_in*>(a->ifa_addr);
    if (inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf) == nullptr) continue;
    std::string ip = buf;
    if (!IsLoopback(ip) && std::find(out.begin(), out.end(), ip) == out.end()) out.push_back(ip);
  }
  freeifaddrs(list);
  return out;
}

// What the secure port serves with.
struct TlsSetup {
  std::string cert_file, key_file, client_ca_file;
  bool generated = false;  // from EnsurePki: `pki` is set
  pki::PkiFiles pki;
};

// The given certificate files, or the generated PKI (created or reused) whose serving
// certificate covers every name clients use: localhost, the bind address (or, when
// that is every interface, the host's addresses and name), the `kubernetes` Service's
// IP and its DNS names.
Result<TlsSetup> PrepareTls(const ApiServerOptions& o, const std::string& service_ip) {
  if (o.tls_cert_file.empty() != o.tls_private_key_file.empty()) {
    return BadRequest("--tls-cert-file and --tls-private-key-file must be given together");
  }
  TlsSetup t;
  t.cert_file = o.tls_cert_file;
  t.key_file = o.tls_private_key_file;
  t.client_ca_file = o.client_ca_file;
  if (!t.cert_file.empty()) return t;
  pki::PkiOptions p;
  p.dir = (std::filesystem::path(o.data_dir) / "pki").string();
  p.serving_dns_names = {"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                         "kubernetes.default.svc.cluster.local"};
  p.serving_ip_addresses = {"127.0.0.1", service_ip};
  auto add_ip = [&](const std::string& ip) {
    auto& v = p.serving_ip_addresses;
    if (std::find(v.begin(), v.end(), ip) == v.end()) v.push_back(ip);
  };
  if (IsWildcard(o.bind_address)) {
    for (const auto& ip : HostAddresses()) add_ip(ip);
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) == 0 && host[0] != '\0') {
      p.serving_dns_names.push_back(host);
    }
  } else if (o.bind_address != "localhost") {
    add_ip(o.bind_address);
  }
  ASSIGN_OR_RETURN(t.pki, pki::EnsurePki(p));
  t.generated = true;
  t.cert_file = t.pki.serving_cert;
  t.key_file = t.pki.serving_key;
  if (t.client_ca_file.empty()) t.client_ca_file = t.pki.ca_cert;
  return t;
}

// <data-dir>/pki/admin.kubeconfig: the admin client certificate and the CA inline, so
// the file works when copied elsewhere.
Status WriteAdminKubeconfig(const ApiServerOptions& o, const TlsSetup& t, int port) {
  client::KubeconfigParams k;
  std::string host = IsWildcard(o.bind_address) || IsLoopback(o.bind_address) ? "127.0.0.1"
                                                                              : o.bind_address;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  k.server = "https://" + host + ":" + std::to_string(port);
  ASSIGN_OR_RETURN(k.ca_data, util::ReadFile(t.pki.ca_cert));
  ASSIGN_OR_RETURN(k.client_cert_data, util::ReadFile(t.pki.admin_cert));
  ASSIGN_OR_RETURN(k.client_key_data, util::ReadFile(t.pki.admin_key));
  k.name = "kubepp-admin";
  return client::WriteKubeconfig(
      (std::filesystem::path(t.pki.admin_cert).parent_path() / "admin.kubeconfig").string(), k);
}

// The client side of pods/log (pod_log.cc): HTTPS with the given or generated
// kubelet client certificate; the kubelets' serving certificates verified only against
// a given CA, as upstream. Files are read once here, so a bad one stops the start.
Result<http::ClientOptions> KubeletClientOptions(const ApiServerOptions& o, const TlsSetup& t) {
  if (o.kubelet_client_certificate.empty() != o.kubelet_client_key.empty()) {
    return BadRequest("--kubelet-client-certificate and --kubelet-client-key must be given together");
  }
  std::string cert = o.kubelet_client_certificate, key = o.kubelet_client_key;
  if (cert.empty() && t.generated) {
    cert = t.pki.kubelet_client_cert;
    key = t.pki.kubelet_client_key;
  }
  http::ClientOptions co;
  co.server = "https://127.0.0.1:1";  // replaced per call
  co.user_agent = "kube-apiserver/kubepp";
  if (!cert.empty()) {
    ASSIGN_OR_RETURN(co.client_cert_data, util::ReadFile(cert));
    ASSIGN_OR_RETURN(co.client_key_data, util::ReadFile(key));
  }
  if (o.kubelet_certificate_authority.empty()) {
    co.insecure_skip_verify = true;
  } else {
    ASSIGN_OR_RETURN(co.ca_data, util::ReadFile(o.kubelet_certificate_authority));
  }
  if (auto check = http::Client::Create(co); !check.ok()) {
    return BadRequest("kubelet client credentials: " + check.status().message());
  }
  LOG(INFO) << "calling kubelets over HTTPS "
            << (cert.empty() ? "without a client certificate" : "as " + cert)
            << (co.insecure_skip_verify ? ", their certificates not verified"
                                        : ", verified against " + o.kubelet_certificate_authority);
  return co;
}

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    std::string item = s.substr(start, comma - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
    start = comma + 1;
  }
  return out;
}

// The service account token issuer: the signing key from its file, or <key_dir>/sa.key
// (generated at first start, as kubeadm's), plus the verification key files. Objects the
// tokens name are looked up in `storage`, which must outlive the result.
Result<std::shared_ptr<const ServiceAccountTokens>> PrepareServiceAccountTokens(
    const ApiServerOptions& o, const std::string& key_dir, Storage* storage) {
  ServiceAccountTokenOptions so;
  so.issuer = o.service_account_issuer;
  if (so.issuer.empty()) return BadRequest("--service-account-issuer must not be empty");
  so.api_audiences = SplitList(o.api_audiences);
  so.extend_expiration = o.service_account_extend_token_expiration;
  std::string key_file = o.service_account_signing_key_file;
  if (key_file.empty()) {
    key_file = (std::filesystem::path(key_dir) / "sa.key").string();
    std::error_code ec;
    if (!std::filesystem::exists(key_file, ec)) {
      LOG(INFO) << "generating the service account signing key " << key_file;
      ASSIGN_OR_RETURN(auto key, jwt::Key::GenerateRsa());
      ASSIGN_OR_RETURN(std::string pem, key.PrivatePem());
      RETURN_IF_ERROR(util::WriteFileAtomic(key_file, pem, 0600));
    }
  }
  ASSIGN_OR_RETURN(std::string pem, util::ReadFile(key_file));
  auto keys = jwt::Key::ParsePem(pem);
  if (!keys.ok()) return BadRequest("service account signing key " + key_file + ": " + keys.status().message());
  for (auto& k : *keys) {
    if (k.can_sign() && !so.signing_key) so.signing_key = k;
  }
  if (!so.signing_key) return BadRequest("service account signing key " + key_file + ": no private key");
  for (const auto& file : SplitList(o.service_account_key_file)) {
    ASSIGN_OR_RETURN(std::string text, util::ReadFile(file));
    auto more = jwt::Key::ParsePem(text);
    if (!more.ok()) return BadRequest("--service-account-key-file " + file + ": " + more.status().message());
    for (auto& k : *more) so.verification_keys.push_back(std::move(k));
  }
  return std::shared_ptr<const ServiceAccountTokens>(std::make_shared<ServiceAccountTokens>(
      std::move(so), [storage](const std::string& resource, const std::string& ns,
                               const std::string& name) { return storage->Get(resource, ns, name); }));
}

// Data dirs from before the Node authorizer hold a system:node ClusterRoleBinding of the
// group system:nodes, which would let every kubelet read every Secret through RBAC
// whatever the Node authorizer says. Upstream leaves such a binding to "tightening
// reconciliation"; this server had it only as a stopgap, so it drops that one subject
// itself, unless the binding was edited or opted out of updates (autoupdate != "true").
Status UnbindNodesGroup(Storage* storage) {
  const std::string resource = "clusterrolebindings.rbac.authorization.k8s.io";
  ObjectPtr cur = storage->Get(resource, "", "system:node");
  if (cur == nullptr) return Status::Ok();
  auto doc = api::ParseJson(cur->json);
  if (!doc.ok() || !doc->IsObject()) return Status::Ok();
  const api::Value* annotations = api::Find(*doc, "metadata.annotations");
  const api::Value* autoupdate =
      annotations != nullptr ? api::FindMember(*annotations, "rbac.authorization.kubernetes.io/autoupdate")
                             : nullptr;
  const api::Value* subjects = api::FindMember(*doc, "subjects");
  if (autoupdate == nullptr || api::View(*autoupdate) != "true" || subjects == nullptr ||
      !subjects->IsArray() || subjects->Size() != 1 ||
      api::GetString((*subjects)[0], "kind") != "Group" ||
      api::GetString((*subjects)[0], "name") != kNodesGroup) {
    return Status::Ok();
  }
  api::Remove(*doc, "subjects");
  api::Remove(*doc, "metadata.resourceVersion");
  Write w;
  w.kind = Write::Kind::kUpdate;
  w.resource = resource;
  w.name = "system:node";
  w.expected_rv = cur->rv;
  w.object = std::move(*doc);
  auto r = storage->SubmitAndWait(std::move(w));
  if (!r.ok()) return r.status();
  LOG(INFO) << "rbac: ClusterRoleBinding system:node no longer binds the group system:nodes "
               "(kubelets are authorized by the Node mode)";
  return Status::Ok();
}

Result<PortAllocator> ParsePortRange(const std::string& range) {
  int first = 0, last = 0;
  char dash = 0;
  if (std::sscanf(range.c_str(), "%d%c%d", &first, &dash, &last) != 3 || dash != '-' ||
      first < 1 || last > 65535 || first > last) {
    return BadRequest("invalid port range \"" + range + "\": want FIRST-LAST");
  }
  return PortAllocator(first, last);
}

}  // namespace

Status Api::BootstrapPolicy() {
  ASSIGN_OR_RETURN(auto modes, Authorizer::ParseModes(options_.authorization_mode));
  for (const auto& plugin : SplitList(options_.disable_admission_plugins)) {
    if (plugin != "NodeRestriction") {
      return BadRequest("--disable-admission-plugins: unsupported plugin \"" + plugin +
                        "\" (the one that can be disabled: NodeRestriction)");
    }
    node_restriction_ = false;
  }
  RETURN_IF_ERROR(rbac_.Subscribe(storage_.get()));
  if (std::find(modes.begin(), modes.end(), kModeNode) != modes.end()) {
    RETURN_IF_ERROR(node_graph_.Subscribe(storage_.get()));
    node_authorizer_ = std::make_unique<const NodeAuthorizer>(&node_graph_, NodePolicyRules());
  }
  authorizer_ = std::make_shared<const Authorizer>(std::move(modes), &rbac_, node_authorizer_.get());
  RETURN_IF_ERROR(UnbindNodesGroup(storage_.get()));
  int created = 0;
  for (auto& obj : apiserver::BootstrapPolicy()) {
    if (storage_->Get(obj.resource, "", obj.name) != nullptr) continue;  // users may edit them
    auto doc = api::ParseJson(obj.json);
    if (!doc.ok()) return Internal("bootstrap policy " + obj.name + ": " + doc.status().message());
    auto& a = doc->GetAllocator();
    api::SetString(*doc, "metadata.uid", util::NewUuid(), a);
    api::SetString(*doc, "metadata.creationTimestamp", util::NowRfc3339(), a);
    Write w;
    w.kind = Write::Kind::kCreate;
    w.resource = obj.resource;
    w.name = obj.name;
    w.object = std::move(*doc);
    auto r = storage_->SubmitAndWait(std::move(w));
    if (!r.ok() && r.status().code() != Code::kAlreadyExists) return r.status();
    ++created;
  }
  if (created > 0) LOG(INFO) << "rbac: created " << created << " default roles and bindings";
  return Status::Ok();
}

Status Api::Bootstrap(int served_port) {
  server_address_ = options_.bind_address + ":" + std::to_string(served_port);
  // Rebuild the allocators from what is stored.
  for (const auto& svc : storage_->List("services", "", {}, 0, nullptr).items) {
    auto doc = api::ParseJson(svc->json);
    if (!doc.ok()) continue;
    std::string ip = api::GetString(*doc, "spec.clusterIP");
    if (!ip.empty() && ip != "None" && ips_.Contains(ip)) (void)ips_.Allocate(ip);
    if (const api::Value* ps = api::Find(*doc, "spec.ports"); ps && ps->IsArray()) {
      for (auto& p : ps->GetArray()) {
        int64_t np = api::GetInt(p, "nodePort", 0);
        if (np) (void)ports_.Allocate(static_cast<int>(np));
      }
    }
  }
  auto create = [&](const std::string& resource, const std::string& ns, const std::string& name,
                    const std::string& json) -> Status {
    if (storage_->Get(resource, ns, name) != nullptr) return Status::Ok();
    auto doc = api::ParseJson(json);
    if (!doc.ok()) return doc.status();
    auto& a = doc->GetAllocator();
    api::SetString(*doc, "metadata.uid", util::NewUuid(), a);
    api::SetString(*doc, "metadata.creationTimestamp", util::NowRfc3339(), a);
    Write w;
    w.kind = Write::Kind::kCreate;
    w.resource = resource;
    w.ns = ns;
    w.name = name;
    w.object = std::move(*doc);
    auto r = storage_->SubmitAndWait(std::move(w));
    if (!r.ok() && r.status().code() != Code::kAlreadyExists) return r.status();
    return Status::Ok();
  };
  for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    RETURN_IF_ERROR(create("namespaces", "", ns,
                           std::string(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":")") +
                               ns + R"(","labels":{"kubernetes.io/metadata.name":")" + ns +
                               R"("}},"spec":{"finalizers":["kubernetes"]},"status":{"phase":"Active"}})"));
  }
  // Upstream's built-in PriorityClasses.
  for (auto [name, value] : {std::pair<const char*, int64_t>{"system-node-critical", 2000001000},
                             {"system-cluster-critical", 2000000000}}) {
    RETURN_IF_ERROR(create(
        "priorityclasses.scheduling.k8s.io", "", name,
        std::string(R"({"apiVersion":"scheduling.k8s.io/v1","kind":"PriorityClass","metadata":{"name":")") +
            name + R"("},"value":)" + std::to_string(value) +
            R"(,"globalDefault":false,"preemptionPolicy":"PreemptLowerPriority","description":"Used for system critical pods that must run in the cluster, but can be moved to another node if necessary."})"));
  }
  std::string ip = ips_.First();
  if (storage_->Get("services", "default", "kubernetes") == nullptr) {
    (void)ips_.Allocate(ip);
    RETURN_IF_ERROR(create(
        "services", "default", "kubernetes",
        R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"kubernetes","namespace":"default","labels":{"component":"apiserver","provider":"kubernetes"}},)"
        R"("spec":{"type":"ClusterIP","clusterIP":")" + ip + R"(","clusterIPs":[")" + ip +
            R"("],"sessionAffinity":"None","ipFamilies":["IPv4"],"ipFamilyPolicy":"SingleStack","internalTrafficPolicy":"Cluster",)"
            R"("ports":[{"name":"https","port":443,"protocol":"TCP","targetPort":)" +
            std::to_string(served_port) + R"(}]},"status":{"loadBalancer":{}}})"));
  }
  // The `kubernetes` Service has no selector: its endpoints are the apiserver itself,
  // written here as upstream's endpoint reconciler does (kept current on every start).
  std::string self_ip = options_.bind_address == "0.0.0.0" ? "127.0.0.1" : options_.bind_address;
  std::string port = std::to_string(served_port);
  auto upsert = [&](const std::string& resource, const std::string& json) -> Status {
    auto doc = api::ParseJson(json);
    if (!doc.ok()) return doc.status();
    auto& a = doc->GetAllocator();
    ObjectPtr cur = storage_->Get(resource, "default", "kubernetes");
    if (cur != nullptr) {
      auto old = api::ParseJson(cur->json);
      if (old.ok()) {
        for (const char* f : {"metadata.uid", "metadata.creationTimestamp"}) {
          api::SetString(*doc, f, api::GetString(*old, f), a);
        }
      }
    } else {
      api::SetString(*doc, "metadata.uid", util::NewUuid(), a);
      api::SetString(*doc, "metadata.creationTimestamp", util::NowRfc3339(), a);
    }
    Write w;
    w.kind = cur ? Write::Kind::kUpdate : Write::Kind::kCreate;
    w.resource = resource;
    w.ns = "default";
    w.name = "kubernetes";
    w.object = std::move(*doc);
    return storage_->SubmitAndWait(std::move(w)).status();
  };
  RETURN_IF_ERROR(upsert(
      "endpoints",
      R"({"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"kubernetes","namespace":"default","labels":{"endpointslice.kubernetes.io/skip-mirror":"true"}},)"
      R"("subsets":[{"addresses":[{"ip":")" + self_ip + R"("}],"ports":[{"name":"https","port":)" + port +
          R"(,"protocol":"TCP"}]}]})"));
  RETURN_IF_ERROR(upsert(
      "endpointslices.discovery.k8s.io",
      R"({"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"kubernetes","namespace":"default","labels":{"kubernetes.io/service-name":"kubernetes"}},)"
      R"("addressType":"IPv4","endpoints":[{"addresses":[")" + self_ip +
          R"("],"conditions":{"ready":true}}],"ports":[{"name":"https","port":)" + port +
          R"(,"protocol":"TCP"}]})"));
  return Status::Ok();
}

Result<std::unique_ptr<ApiServer>> ApiServer::Start(const ApiServerOptions& options) {
  const std::string& plain_address =
      options.insecure_bind_address.empty() ? options.bind_address : options.insecure_bind_address;
  if (!IsLoopback(plain_address)) {
    if (!options.insecure_allow_any_address) {
      return BadRequest("refusing to serve unauthenticated plain HTTP on " + plain_address +
                        ": anyone who reaches it controls every node; bind a loopback address "
                        "or pass --insecure-allow-any-address");
    }
    LOG(WARNING) << "serving UNAUTHENTICATED plain HTTP on " << plain_address
                 << ": anyone who can reach this address controls the cluster";
  }
  // A bad encryption configuration stops the start before anything is written.
  std::shared_ptr<const Encryption> encryption;
  if (!options.encryption_provider_config.empty()) {
    ASSIGN_OR_RETURN(encryption, Encryption::Load(options.encryption_provider_config));
    LOG(INFO) << "encryption at rest: " << encryption->Describe();
  }
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) return Internal("cannot create data dir " + options.data_dir + ": " + ec.message());
  ASSIGN_OR_RETURN(auto ips, IpAllocator::Create(options.service_cluster_ip_range));
  ASSIGN_OR_RETURN(auto ports, ParsePortRange(options.service_node_port_range));
  TlsSetup tls;
  if (options.secure_port != 0) {
    ASSIGN_OR_RETURN(tls, PrepareTls(options, ips.First()));
    RETURN_IF_ERROR(pki::ReportExpiry("serving", tls.cert_file));
    if (!tls.client_ca_file.empty()) RETURN_IF_ERROR(pki::ReportExpiry("ca", tls.client_ca_file));
  }
  SqliteOptions so;
  so.path = (std::filesystem::path(options.data_dir) / "kubepp.db").string();
  so.history = static_cast<size_t>(options.watch_history);
  so.encryption = std::move(encryption);
  if (options.event_ttl.count() < 0) return BadRequest("--event-ttl must not be negative");
  // Upstream's events.k8s.io/v1 Events are these same objects, should that API be served.
  if (options.event_ttl.count() > 0) so.ttl["events"] = options.event_ttl;
  ASSIGN_OR_RETURN(auto storage, OpenSqliteStorage(so));
  Storage* raw_storage = storage.get();
  std::shared_ptr<const Authenticator> authenticator;
  std::shared_ptr<const ServiceAccountTokens> sa_tokens;
  if (options.secure_port != 0) {
    // Next to the generated CA, else in the data dir itself.
    std::string key_dir = tls.generated
                              ? std::filesystem::path(tls.pki.ca_cert).parent_path().string()
                              : options.data_dir;
    ASSIGN_OR_RETURN(sa_tokens, PrepareServiceAccountTokens(options, key_dir, storage.get()));
    AuthnOptions ao;
    ao.anonymous = options.anonymous_auth;
    ao.token_auth_file = options.token_auth_file;
    ao.service_account_tokens = sa_tokens;
    ASSIGN_OR_RETURN(authenticator, Authenticator::Create(ao));
    std::string auds;
    for (const auto& a : sa_tokens->api_audiences()) auds += (auds.empty() ? "" : ",") + a;
    LOG(INFO) << "service account tokens: issuer " << sa_tokens->issuer() << ", API audiences "
              << auds;
  }
  auto impl = std::make_unique<ApiServerImpl>();
  impl->api_ = std::make_unique<Api>(options, std::move(storage), std::move(ips), std::move(ports));
  if (options.event_ttl.count() > 0) {
    impl->sweeper_ = std::make_unique<ExpirySweeper>(raw_storage,
                                                     ExpirySweeper::PeriodFor(options.event_ttl));
  }
  if (sa_tokens != nullptr) impl->api_->EnableServiceAccountTokens(sa_tokens, authenticator);
  ASSIGN_OR_RETURN(auto kubelet_client, KubeletClientOptions(options, tls));
  impl->api_->SetKubeletClient(std::move(kubelet_client));
  RETURN_IF_ERROR(impl->api_->BootstrapPolicy());
  http::ServerOptions ho;
  ho.bind_address = plain_address;
  ho.port = options.port;
  ho.threads = options.threads;
  ho.max_inflight = options.max_requests_inflight;
  Api* api = impl->api_.get();
  std::shared_ptr<AuditLog> audit;
  if (!options.audit_log_path.empty()) {
    ASSIGN_OR_RETURN(audit, AuditLog::Open(options.audit_log_path));
  }
  // The secure port first: once the plain port answers (what scripts wait for), the
  // admin kubeconfig is in place.
  if (options.secure_port != 0) {
    http::ServerOptions hso = ho;
    hso.bind_address = options.bind_address;
    hso.port = options.secure_port;
    hso.tls_cert_file = tls.cert_file;
    hso.tls_key_file = tls.key_file;
    hso.client_ca_file = tls.client_ca_file;
    http::Handler handle = [api](http::Request req, std::shared_ptr<http::ResponseWriter> w) {
      api->Handle(std::move(req), std::move(w));
    };
    http::Handler authorized = WithAuthorization(api->authorizer(), handle);
    if (options.max_requests_inflight_per_user > 0 || options.user_qps > 0) {
      auto limiter = std::make_shared<UserLimiter>(UserLimitOptions{
          options.max_requests_inflight_per_user, options.user_qps, options.user_burst});
      authorized = WithUserLimits(std::move(limiter), std::move(authorized));
    }
    if (audit) authorized = WithAudit(audit, std::move(authorized));
    impl->secure_server_ = std::make_unique<http::Server>(
        hso, WithAuthentication(authenticator, std::move(authorized)));
    RETURN_IF_ERROR(impl->secure_server_->Start());
    if (tls.generated && tls.client_ca_file == tls.pki.ca_cert) {
      RETURN_IF_ERROR(WriteAdminKubeconfig(options, tls, impl->secure_server_->port()));
    }
  }
  // The plain port trusts whoever reaches it (loopback), as upstream's insecure port.
  http::Handler plain = [api](http::Request req, std::shared_ptr<http::ResponseWriter> w) {
    api->Handle(std::move(req), std::move(w));
  };
  if (audit) plain = WithAudit(audit, std::move(plain));
  impl->server_ = std::make_unique<http::Server>(
      ho, [plain = std::move(plain)](http::Request req, std::shared_ptr<http::ResponseWriter> w) {
        req.user = "system:unsecured";
        req.groups = {"system:masters", kAuthenticatedGroup};
        plain(std::move(req), std::move(w));
      });
  RETURN_IF_ERROR(impl->server_->Start());
  // In-cluster clients reach the API through the `kubernetes` Service: HTTPS when served.
  RETURN_IF_ERROR(api->Bootstrap(impl->secure_server_ ? impl->secure_server_->port()
                                                      : impl->server_->port()));
  LOG(INFO) << "apiserver: serving on http://" << plain_address << ":" << impl->server_->port()
            << (impl->secure_server_ ? " and https://" + options.bind_address + ":" +
                                           std::to_string(impl->secure_server_->port())
                                     : std::string())
            << " (data dir " << options.data_dir << ")";
  return std::unique_ptr<ApiServer>(std::move(impl));
}

}  // namespace kubepp::apiserver
