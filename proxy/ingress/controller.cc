#include "proxy/ingress/controller.h"

#include "common/log.h"

namespace kubepp::proxy::ingress {
namespace {

constexpr auto kStatusRetry = std::chrono::seconds(2);

bool HasAddress(const api::Value& ing, const std::string& ip) {
  const api::Value* list = api::Find(ing, "status.loadBalancer.ingress");
  if (!list || !list->IsArray()) return false;
  for (const auto& e : list->GetArray()) {
    if (api::GetString(e, "ip") == ip) return true;
  }
  return false;
}

constexpr char kDefaultClassAnnotation[] = "ingressclass.kubernetes.io/is-default-class";

// Creates the IngressClass this controller serves when it is missing (as k3s's bundled
// controller does), the cluster's default class unless another one already is, so that
// an Ingress without a class works out of the box. Losing a race with another proxy is
// fine; other failures are logged and the controller runs anyway.
void EnsureIngressClass(client::RestClient* client, const std::string& name) {
  auto existing = client->Get(client::kIngressClasses, "", name);
  if (existing.ok() || existing.status().code() != Code::kNotFound) return;
  bool other_default = false;
  if (auto list = client->List(client::kIngressClasses, ""); list.ok()) {
    for (const auto& c : (*list)["items"].GetArray()) {
      const api::Value* ann = api::Find(c, "metadata.annotations");
      if (ann && api::GetString(*ann, kDefaultClassAnnotation) == "true") other_default = true;
    }
  }
  api::Document cls;
  cls.SetObject();
  auto& a = cls.GetAllocator();
  api::SetString(cls, "apiVersion", "networking.k8s.io/v1", a);
  api::SetString(cls, "kind", "IngressClass", a);
  api::SetString(cls, "metadata.name", name, a);
  if (!other_default) {
    api::Value ann(rapidjson::kObjectType);
    ann.AddMember(kDefaultClassAnnotation, "true", a);
    api::SetValue(cls, "metadata.annotations", std::move(ann), a);
  }
  api::SetString(cls, "spec.controller", "kubepp.io/ingress-controller", a);
  auto r = client->Create(client::kIngressClasses, "", cls);
  if (r.ok()) {
    LOG(INFO) << "ingress: created IngressClass " << name << (other_default ? "" : " (the default)");
  } else if (r.status().code() != Code::kAlreadyExists) {
    LOG(WARNING) << "ingress: cannot create IngressClass " << name << ": " << r.status().ToString();
  }
}

}  // namespace

Controller::Controller(client::RestClient* client, Services* services,
                       EndpointSlices* slices, client::EventRecorder* events,
                       ControllerOptions options)
    : client_(client), services_(services), slices_(slices), events_(events),
      options_(std::move(options)), ingresses_(client, client::kIngresses),
      classes_(client, client::kIngressClasses), secrets_(client, client::kSecrets) {
  informer::EventHandler h{
      [this](const informer::ObjectPtr&) { MarkDirty(); },
      [this](const informer::ObjectPtr&, const informer::ObjectPtr&) { MarkDirty(); },
      [this](const informer::ObjectPtr&) { MarkDirty(); }};
  for (auto* inf : {&ingresses_, &classes_, &secrets_}) inf->AddEventHandler(h);
  services_->AddHandler([this](const ServicePtr&, const ServicePtr&) { MarkDirty(); });
  slices_->AddHandler([this](const SlicePtr&, const SlicePtr&) { MarkDirty(); });
}

Controller::~Controller() { Stop(); }

int Controller::Start() {
  auto cert = TlsCertificate::SelfSigned("Kubernetes Ingress Controller Fake Certificate");
  if (!cert.ok()) {
    LOG(ERROR) << "ingress: default certificate: " << cert.status().ToString();
  }
  server_ = std::make_unique<Server>(options_.server, [this] { return Current(); },
                                     cert.ok() ? *cert : nullptr);
  int listening = server_->Start();
  if (listening == 0) {
    LOG(ERROR) << "ingress: no listener could start; the Ingress controller is off";
    server_.reset();
    return 0;
  }
  EnsureIngressClass(client_, options_.ingress_class);
  ingresses_.Start();
  classes_.Start();
  secrets_.Start();
  thread_ = std::thread([this] { Loop(); });
  return listening;
}

void Controller::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (server_) server_->Stop();
  ingresses_.Stop();
  classes_.Stop();
  secrets_.Stop();
}

std::shared_ptr<const Snapshot> Controller::Current() const {
  std::lock_guard<std::mutex> l(snapshot_mu_);
  return snapshot_;
}

void Controller::MarkDirty() {
  {
    std::lock_guard<std::mutex> l(mu_);
    dirty_ = true;
  }
  cv_.notify_all();
}

void Controller::Loop() {
  // Until every informer has its first list, a snapshot would drop routes that exist.
  std::vector<std::function<bool()>> synced = {
      [this] { return services_->WaitForSync(std::chrono::milliseconds(200)); },
      [this] { return slices_->WaitForSync(std::chrono::milliseconds(200)); }};
  for (auto* inf : {&ingresses_, &classes_, &secrets_}) {
    synced.push_back([inf] { return inf->WaitForSync(std::chrono::milliseconds(200)); });
  }
  for (const auto& done : synced) {
    while (!done()) {
      std::lock_guard<std::mutex> l(mu_);
      if (stopping_) return;
    }
  }
  // Set after a failed status update: when to sync again without a change.
  using Time = std::chrono::steady_clock::time_point;
  Time retry_at = Time::max();
  while (true) {
    {
      std::unique_lock<std::mutex> l(mu_);
      auto woken = [this] { return dirty_ || stopping_; };
      if (retry_at != Time::max()) {
        if (!cv_.wait_until(l, retry_at, woken)) dirty_ = true;
      } else {
        cv_.wait(l, woken);
      }
      if (stopping_) return;
      // Batch the burst of changes that usually arrives together.
      cv_.wait_for(l, options_.min_sync_period, [this] { return stopping_; });
      if (stopping_) return;
      dirty_ = false;
    }
    retry_at = Time::max();
    if (!Sync()) retry_at = std::chrono::steady_clock::now() + kStatusRetry;
  }
}

bool Controller::Sync() {
  BuildInput in;
  in.ingress_class = options_.ingress_class;
  in.ingresses = ingresses_.List();
  in.ingress_classes = classes_.List();
  in.services = services_->List();
  in.slices = slices_->List();
  in.secrets = secrets_.List();
  BuildResult r = Build(in, &cache_);
  {
    std::lock_guard<std::mutex> l(snapshot_mu_);
    snapshot_ = r.snapshot;
  }
  VLOG(1) << "ingress: serving " << r.handled.size() << " Ingresses, "
          << r.snapshot->routes.size() << " rules, " << r.snapshot->certs.size()
          << " TLS hosts";

  std::map<std::string, std::set<std::string>> reported;
  for (const auto& p : r.problems) {
    std::string key = informer::KeyOf(*p.ingress);
    if (!reported[key].insert(p.reason + ": " + p.message).second) continue;
    if (reported_[key].count(p.reason + ": " + p.message)) continue;
    LOG(WARNING) << "ingress: " << key << ": " << p.message;
    events_->Record(client::ObjectReferenceOf(*p.ingress), "Warning", p.reason, p.message);
  }
  reported_ = std::move(reported);

  bool retry = false;
  for (const auto& ing : r.handled) {
    Status st = UpdateStatus(ing);
    if (!st.ok()) {
      LOG(WARNING) << "ingress: status of " << informer::KeyOf(*ing) << ": " << st.ToString();
      retry = true;
    }
  }
  return !retry;
}

Status Controller::UpdateStatus(const informer::ObjectPtr& ing) {
  if (options_.node_ip.empty() || HasAddress(*ing, options_.node_ip)) return Status::Ok();
  api::Document updated = api::Clone(*ing);
  auto& a = updated.GetAllocator();
  api::Value& lb = api::Ensure(updated, "status.loadBalancer", a);
  if (!lb.HasMember("ingress") || !lb["ingress"].IsArray()) {
    lb.RemoveMember("ingress");
    lb.AddMember("ingress", api::Value(rapidjson::kArrayType), a);
  }
  api::Value entry(rapidjson::kObjectType);
  entry.AddMember("ip", api::Str(options_.node_ip, a), a);
  lb["ingress"].PushBack(entry, a);
  auto r = client_->UpdateStatus(client::kIngresses, "", updated);
  if (!r.ok()) return r.status();
  LOG(INFO) << "ingress: " << informer::KeyOf(*ing) << " is served at " << options_.node_ip;
  return Status::Ok();
}

}  // namespace kubepp::proxy::ingress
