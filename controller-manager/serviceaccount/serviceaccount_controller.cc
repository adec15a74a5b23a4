#include "controller-manager/serviceaccount/serviceaccount_controller.h"

#include "controller-manager/framework/owner.h"

namespace kubepp::controller {

namespace {
constexpr const char* kDefault = "default";
}

ServiceAccountController::ServiceAccountController(client::RestClient* client,
                                                   SharedInformers* informers)
    : QueueController("serviceaccount"),
      client_(client),
      namespaces_(informers->For(client::kNamespaces)),
      serviceaccounts_(informers->For(client::kServiceAccounts)) {
  auto enqueue_ns = [this](const ObjectPtr& ns) { Enqueue(api::GetString(*ns, "metadata.name")); };
  namespaces_.AddEventHandler(
      {enqueue_ns, [enqueue_ns](const ObjectPtr&, const ObjectPtr& ns) { enqueue_ns(ns); }, nullptr});
  serviceaccounts_.AddEventHandler({nullptr, nullptr, [this](const ObjectPtr& sa) {
                                      if (api::GetString(*sa, "metadata.name") == kDefault) {
                                        Enqueue(api::GetString(*sa, "metadata.namespace"));
                                      }
                                    }});
}

Status ServiceAccountController::Sync(const std::string& key) {
  ObjectPtr ns = namespaces_.Get(key);
  if (!ns || IsBeingDeleted(*ns) || api::GetString(*ns, "status.phase") == "Terminating") {
    return Status::Ok();
  }
  if (serviceaccounts_.Get(key + "/" + kDefault)) return Status::Ok();
  api::Document sa;
  sa.SetObject();
  auto& a = sa.GetAllocator();
  api::SetString(sa, "apiVersion", "v1", a);
  api::SetString(sa, "kind", "ServiceAccount", a);
  api::SetString(sa, "metadata.name", kDefault, a);
  api::SetString(sa, "metadata.namespace", key, a);
  auto r = client_->Create(client::kServiceAccounts, key, sa);
  if (r.ok() || r.status().code() == Code::kAlreadyExists) return Status::Ok();
  // A namespace that began terminating meanwhile refuses new objects: nothing to do.
  if (r.status().code() == Code::kForbidden) return Status::Ok();
  return std::move(r).take_status();
}

}  // namespace kubepp::controller
