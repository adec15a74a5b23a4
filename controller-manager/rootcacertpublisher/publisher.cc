#include "controller-manager/rootcacertpublisher/publisher.h"

#include "controller-manager/framework/owner.h"

namespace kubepp::controller {

namespace {

constexpr const char* kDescriptionKey = "kubernetes.io/description";
constexpr const char* kDescription =
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
    "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "
    "guaranteed across distributions of Kubernetes clusters.";

}  // namespace

RootCaCertPublisher::RootCaCertPublisher(client::RestClient* client, SharedInformers* informers,
                                         std::string root_ca)
    : QueueController("root-ca-cert-publisher"),
      client_(client),
      namespaces_(informers->For(client::kNamespaces)),
      configmaps_(informers->For(client::kConfigMaps)),
      root_ca_(std::move(root_ca)) {
  auto enqueue_ns = [this](const ObjectPtr& ns) { Enqueue(api::GetString(*ns, "metadata.name")); };
  namespaces_.AddEventHandler(
      {enqueue_ns, [enqueue_ns](const ObjectPtr&, const ObjectPtr& ns) { enqueue_ns(ns); }, nullptr});
  auto enqueue_cm = [this](const ObjectPtr& cm) {
    if (api::GetString(*cm, "metadata.name") == kRootCaConfigMap) {
      Enqueue(api::GetString(*cm, "metadata.namespace"));
    }
  };
  configmaps_.AddEventHandler(
      {nullptr, [enqueue_cm](const ObjectPtr&, const ObjectPtr& cm) { enqueue_cm(cm); }, enqueue_cm});
}

Status RootCaCertPublisher::Sync(const std::string& key) {
  ObjectPtr ns = namespaces_.Get(key);
  if (!ns || IsBeingDeleted(*ns) || api::GetString(*ns, "status.phase") == "Terminating") {
    return Status::Ok();
  }
  ObjectPtr cur = configmaps_.Get(key + "/" + kRootCaConfigMap);
  api::Document cm;
  if (cur) {
    const api::Value* data = api::FindMember(*cur, "data");
    const api::Value* ca = data != nullptr && data->IsObject() && data->MemberCount() == 1
                               ? api::FindMember(*data, "ca.crt")  // dots: not a path
                               : nullptr;
    bool same_data = ca != nullptr && ca->IsString() && api::View(*ca) == root_ca_;
    const api::Value* ann = api::Find(*cur, "metadata.annotations");
    const api::Value* desc = ann && ann->IsObject() ? api::FindMember(*ann, kDescriptionKey) : nullptr;
    if (same_data && desc != nullptr && desc->IsString() && api::View(*desc) == kDescription) {
      return Status::Ok();
    }
    cm = api::Clone(*cur);
  } else {
    cm.SetObject();
  }
  auto& a = cm.GetAllocator();
  api::SetString(cm, "apiVersion", "v1", a);
  api::SetString(cm, "kind", "ConfigMap", a);
  api::SetString(cm, "metadata.name", kRootCaConfigMap, a);
  api::SetString(cm, "metadata.namespace", key, a);
  api::Value& ann = api::Ensure(cm, "metadata.annotations", a);
  // The key has dots, which dotted paths cannot name: set the member directly.
  ann.RemoveMember(kDescriptionKey);
  ann.AddMember(api::Str(kDescriptionKey, a), api::Str(kDescription, a), a);
  api::Value data(rapidjson::kObjectType);
  data.AddMember("ca.crt", api::Str(root_ca_, a), a);
  api::SetValue(cm, "data", std::move(data), a);
  api::Remove(cm, "binaryData");
  auto r = cur ? client_->Update(client::kConfigMaps, key, cm) : client_->Create(client::kConfigMaps, key, cm);
  if (r.ok()) return Status::Ok();
  Code code = r.status().code();
  // A namespace that began terminating (Forbidden) or went away (NotFound) needs nothing;
  // a race with another writer (AlreadyExists, Conflict) is retried from the cache.
  if (code == Code::kForbidden || code == Code::kNotFound) return Status::Ok();
  return std::move(r).take_status();
}

}  // namespace kubepp::controller
