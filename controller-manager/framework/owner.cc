#include "controller-manager/framework/owner.h"

namespace kubepp::controller {

std::vector<OwnerRef> OwnerRefsOf(const api::Value& object) {
  std::vector<OwnerRef> refs;
  const api::Value* list = api::Find(object, "metadata.ownerReferences");
  if (list == nullptr || !list->IsArray()) return refs;
  for (const auto& r : list->GetArray()) {
    if (!r.IsObject()) continue;
    refs.push_back({api::GetString(r, "apiVersion"), api::GetString(r, "kind"),
                    api::GetString(r, "name"), api::GetString(r, "uid"),
                    api::GetBool(r, "controller"), api::GetBool(r, "blockOwnerDeletion")});
  }
  return refs;
}

std::optional<OwnerRef> ControllerOf(const api::Value& object) {
  for (auto& r : OwnerRefsOf(object)) {
    if (r.controller) return r;
  }
  return std::nullopt;
}

api::Value ControllerRefJson(const api::Value& owner, std::string_view api_version,
                             std::string_view kind, api::Allocator& a) {
  api::Value ref(rapidjson::kObjectType);
  ref.AddMember("apiVersion", api::Str(api_version, a), a);
  ref.AddMember("kind", api::Str(kind, a), a);
  ref.AddMember("name", api::Str(api::GetString(owner, "metadata.name"), a), a);
  ref.AddMember("uid", api::Str(api::GetString(owner, "metadata.uid"), a), a);
  ref.AddMember("controller", true, a);
  ref.AddMember("blockOwnerDeletion", true, a);
  return ref;
}

bool IsBeingDeleted(const api::Value& object) {
  return api::Has(object, "metadata.deletionTimestamp");
}

namespace {

// {"metadata":{"ownerReferences":[...],"resourceVersion":"<rv>"}} where the list is the
// object's references without `drop_uid`, plus `add` when given.
std::string OwnerRefsPatch(const api::Value& object, const std::string& drop_uid,
                           const api::Value* add) {
  api::Document patch;
  patch.SetObject();
  auto& a = patch.GetAllocator();
  api::Value refs(rapidjson::kArrayType);
  if (const api::Value* list = api::Find(object, "metadata.ownerReferences");
      list != nullptr && list->IsArray()) {
    for (const auto& r : list->GetArray()) {
      if (api::GetString(r, "uid") != drop_uid) refs.PushBack(api::Value(r, a), a);
    }
  }
  if (add != nullptr) refs.PushBack(api::Value(*add, a), a);
  api::SetValue(patch, "metadata.ownerReferences", std::move(refs), a);
  api::SetString(patch, "metadata.resourceVersion",
                 api::GetString(object, "metadata.resourceVersion"), a);
  return api::ToJson(patch);
}

ObjectPtr Shared(api::Document doc) { return std::make_shared<const api::Document>(std::move(doc)); }

}  // namespace

Result<std::vector<ObjectPtr>> ClaimObjects(client::RestClient* client,
                                            const client::ResourceRef& ref,
                                            const api::Value& owner,
                                            std::string_view owner_api_version,
                                            std::string_view owner_kind,
                                            const api::LabelSelector& selector,
                                            const std::vector<ObjectPtr>& candidates,
                                            const std::function<Status()>& can_adopt) {
  std::string uid = api::GetString(owner, "metadata.uid");
  bool owner_deleting = IsBeingDeleted(owner);
  std::optional<Status> adopt_ok;
  std::vector<ObjectPtr> claimed;
  for (const ObjectPtr& obj : candidates) {
    std::string ns = api::GetString(*obj, "metadata.namespace");
    std::string name = api::GetString(*obj, "metadata.name");
    bool matches = selector.Matches(api::GetStringMap(*obj, "metadata.labels"));
    auto controller = ControllerOf(*obj);
    if (controller) {
      if (controller->uid != uid) continue;  // someone else's
      if (matches || owner_deleting) {
        claimed.push_back(obj);
        continue;
      }
      auto r = client->Patch(ref, ns, name, client::PatchType::kMerge,
                             OwnerRefsPatch(*obj, uid, nullptr));
      if (!r.ok() && r.status().code() != Code::kNotFound) return std::move(r).take_status();
      continue;
    }
    if (!matches || owner_deleting || IsBeingDeleted(*obj)) continue;
    if (!adopt_ok) adopt_ok = can_adopt ? can_adopt() : Status::Ok();
    if (!adopt_ok->ok()) return *adopt_ok;
    api::Document scratch;
    api::Value cref = ControllerRefJson(owner, owner_api_version, owner_kind, scratch.GetAllocator());
    auto r = client->Patch(ref, ns, name, client::PatchType::kMerge, OwnerRefsPatch(*obj, "", &cref));
    if (!r.ok()) {
      if (r.status().code() == Code::kNotFound) continue;
      return std::move(r).take_status();
    }
    claimed.push_back(Shared(std::move(r).value()));
  }
  return claimed;
}

std::function<Status()> RecheckOwner(client::RestClient* client, const client::ResourceRef& ref,
                                     const api::Value& owner) {
  std::string ns = api::GetString(owner, "metadata.namespace");
  std::string name = api::GetString(owner, "metadata.name");
  std::string uid = api::GetString(owner, "metadata.uid");
  return [=]() -> Status {
    auto fresh = client->Get(ref, ns, name);
    if (!fresh.ok()) return std::move(fresh).take_status();
    if (api::GetString(*fresh, "metadata.uid") != uid) {
      return Conflict("original " + ref.plural + " " + ns + "/" + name +
                      " is gone: got uid " + api::GetString(*fresh, "metadata.uid") +
                      ", wanted " + uid);
    }
    if (IsBeingDeleted(*fresh)) {
      return Conflict(ref.plural + " " + ns + "/" + name +
                      " is being deleted; it may not adopt objects");
    }
    return Status::Ok();
  };
}

std::vector<ObjectPtr> InNamespace(const std::vector<ObjectPtr>& objects, const std::string& ns) {
  std::vector<ObjectPtr> out;
  for (const auto& o : objects) {
    if (api::GetString(*o, "metadata.namespace") == ns) out.push_back(o);
  }
  return out;
}

}  // namespace kubepp::controller
