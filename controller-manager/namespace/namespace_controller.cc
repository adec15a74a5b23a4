#include "controller-manager/namespace/namespace_controller.h"

#include "common/log.h"
#include "controller-manager/framework/owner.h"
#include "controller-manager/framework/resources.h"

namespace kubepp::controller {

namespace {
constexpr const char* kFinalizer = "kubernetes";

bool HasFinalizer(const api::Value& ns) {
  const api::Value* f = api::Find(ns, "spec.finalizers");
  if (f == nullptr || !f->IsArray()) return false;
  for (const auto& v : f->GetArray()) {
    if (api::View(v) == kFinalizer) return true;
  }
  return false;
}
}  // namespace

NamespaceFinalizer HttpNamespaceFinalizer(client::HttpRestClient* client) {
  return [client](const api::Value& ns) -> Status {
    std::string target = client::kNamespaces.Path("", api::GetString(ns, "metadata.name"), "finalize");
    ASSIGN_OR_RETURN(http::Response resp, client->http().Do("PUT", target, api::ToJson(ns)));
    if (resp.status < 200 || resp.status >= 300) return http::StatusFromHttp(resp.status, resp.body);
    return Status::Ok();
  };
}

NamespaceController::NamespaceController(client::RestClient* client, SharedInformers* informers,
                                         NamespaceFinalizer finalize,
                                         std::chrono::milliseconds recheck)
    : QueueController("namespace"), client_(client), finalize_(std::move(finalize)),
      recheck_(recheck) {
  auto enqueue = [this](const ObjectPtr& ns) {
    if (IsBeingDeleted(*ns)) Enqueue(api::GetString(*ns, "metadata.name"));
  };
  informers->For(client::kNamespaces).AddEventHandler({
      enqueue,
      [enqueue](const ObjectPtr&, const ObjectPtr& ns) { enqueue(ns); },
      nullptr,
  });
}

Status NamespaceController::Sync(const std::string& key) {
  // Read fresh: acting on a stale copy could finalize a namespace that was recreated.
  auto ns = client_->Get(client::kNamespaces, "", key);
  if (!ns.ok()) return ns.status().code() == Code::kNotFound ? Status::Ok() : ns.status();
  if (!IsBeingDeleted(*ns) || !HasFinalizer(*ns)) return Status::Ok();
  ASSIGN_OR_RETURN(int remaining, DeleteContent(key));
  if (remaining > 0) {
    VLOG(1) << "namespace " << key << ": " << remaining << " objects remain";
    EnqueueAfter(key, recheck_);
    return Status::Ok();
  }
  api::Document next = api::Clone(*ns);
  auto& a = next.GetAllocator();
  api::Value finalizers(rapidjson::kArrayType);
  for (const auto& v : api::Find(*ns, "spec.finalizers")->GetArray()) {
    if (api::View(v) != kFinalizer) finalizers.PushBack(api::Value(v, a), a);
  }
  api::SetValue(next, "spec.finalizers", std::move(finalizers), a);
  Status st = finalize_(next);
  if (st.code() == Code::kNotFound) return Status::Ok();
  if (st.ok()) LOG(INFO) << "namespace " << key << ": emptied and finalized";
  return st;
}

Result<int> NamespaceController::DeleteContent(const std::string& ns) {
  int remaining = 0;
  for (const auto& r : KnownResources()) {
    if (!r.ref.namespaced) continue;
    auto list = client_->List(r.ref, ns);
    if (!list.ok()) {
      if (list.status().code() == Code::kNotFound) continue;  // not served here
      return std::move(list).take_status();
    }
    const api::Value* items = api::FindMember(*list, "items");
    if (items == nullptr || !items->IsArray()) continue;
    for (const auto& item : items->GetArray()) {
      ++remaining;
      if (IsBeingDeleted(item)) continue;
      client::DeleteOptions opts;
      opts.propagation_policy = "Background";
      opts.precondition_uid = api::GetString(item, "metadata.uid");
      Status st = client_->Delete(r.ref, ns, api::GetString(item, "metadata.name"), opts);
      if (!st.ok() && st.code() != Code::kNotFound && st.code() != Code::kConflict) return st;
    }
  }
  return remaining;
}

}  // namespace kubepp::controller
