#include "apiserver/apiserver.h"

#include <filesystem>

#include "apiserver/api.h"
#include "apiserver/resources.h"
#include "common/log.h"
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
  void Stop() override {
    if (server_) server_->Stop();
    api_.reset();
  }

  std::unique_ptr<Api> api_;
  std::unique_ptr<http::Server> server_;
};

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
  if (!IsLoopback(options.bind_address)) {
    if (!options.insecure_allow_any_address) {
      return BadRequest("refusing to serve unauthenticated plain HTTP on " +
                        options.bind_address +
                        ": anyone who reaches it controls every node; bind a loopback address "
                        "or pass --insecure-allow-any-address");
    }
    LOG(WARNING) << "serving UNAUTHENTICATED plain HTTP on " << options.bind_address
                 << ": anyone who can reach this address controls the cluster";
  }
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) return Internal("cannot create data dir " + options.data_dir + ": " + ec.message());
  ASSIGN_OR_RETURN(auto ips, IpAllocator::Create(options.service_cluster_ip_range));
  ASSIGN_OR_RETURN(auto ports, ParsePortRange(options.service_node_port_range));
  SqliteOptions so;
  so.path = (std::filesystem::path(options.data_dir) / "kubepp.db").string();
  so.history = static_cast<size_t>(options.watch_history);
  ASSIGN_OR_RETURN(auto storage, OpenSqliteStorage(so));
  auto impl = std::make_unique<ApiServerImpl>();
  impl->api_ = std::make_unique<Api>(options, std::move(storage), std::move(ips), std::move(ports));
  http::ServerOptions ho;
  ho.bind_address = options.bind_address;
  ho.port = options.port;
  ho.threads = options.threads;
  ho.max_inflight = options.max_requests_inflight;
  Api* api = impl->api_.get();
  impl->server_ = std::make_unique<http::Server>(
      ho, [api](http::Request req, std::shared_ptr<http::ResponseWriter> w) {
        api->Handle(std::move(req), std::move(w));
      });
  RETURN_IF_ERROR(impl->server_->Start());
  RETURN_IF_ERROR(api->Bootstrap(impl->server_->port()));
  LOG(INFO) << "apiserver: serving on http://" << options.bind_address << ":"
            << impl->server_->port() << " (data dir " << options.data_dir << ")";
  return std::unique_ptr<ApiServer>(std::move(impl));
}

}  // namespace kubepp::apiserver
