#include "controller-manager/garbagecollector/garbage_collector.h"

#include <chrono>

#include "common/log.h"
#include "controller-manager/framework/resources.h"

namespace kubepp::controller {

namespace {

constexpr const char* kOrphan = "orphan";
constexpr const char* kForeground = "foregroundDeletion";
// A newly seen object whose owner is not in the index yet is looked at after this long:
// usually the owner's own informer has caught up by then, which saves a GET.
constexpr auto kUnknownOwnerDelay = std::chrono::seconds(2);

bool HasFinalizer(const api::Value& obj, std::string_view name) {
  const api::Value* f = api::Find(obj, "metadata.finalizers");
  if (f == nullptr || !f->IsArray()) return false;
  for (const auto& v : f->GetArray()) {
    if (api::View(v) == name) return true;
  }
  return false;
}

std::string Uid(const api::Value& obj) { return api::GetString(obj, "metadata.uid"); }

}  // namespace

GarbageCollector::GarbageCollector(client::RestClient* client, SharedInformers* informers)
    : QueueController("garbagecollector"), client_(client) {
  for (const auto& r : KnownResources()) {
    if (r.ref.plural == "events") continue;  // never owners, rarely owned, very many
    monitors_.push_back({r.ref, &informers->For(r.ref)});
  }
  for (size_t i = 0; i < monitors_.size(); ++i) {
    monitors_[i].informer->AddEventHandler({
        [this, i](const ObjectPtr& o) { OnUpsert(i, o); },
        [this, i](const ObjectPtr&, const ObjectPtr& o) { OnUpsert(i, o); },
        [this, i](const ObjectPtr& o) { OnDelete(i, o); },
    });
  }
}

std::string GarbageCollector::WorkKey(size_t resource, const api::Value& obj) const {
  return std::to_string(resource) + "|" + informer::KeyOf(obj);
}

void GarbageCollector::OnUpsert(size_t resource, const ObjectPtr& obj) {
  std::string uid = Uid(*obj);
  auto owners = OwnerRefsOf(*obj);
  bool unknown_owner = false;
  {
    std::lock_guard lock(mu_);
    auto it = nodes_.find(uid);
    if (it != nodes_.end()) {
      for (const auto& o : it->second.owners) dependents_[o.uid].erase(uid);
    }
    for (const auto& o : owners) {
      dependents_[o.uid].insert(uid);
      unknown_owner |= nodes_.count(o.uid) == 0;
    }
    nodes_[uid] = Node{resource, informer::KeyOf(*obj), owners};
  }
  if (IsBeingDeleted(*obj) && (HasFinalizer(*obj, kOrphan) || HasFinalizer(*obj, kForeground))) {
    Enqueue(WorkKey(resource, *obj));
  } else if (unknown_owner) {
    EnqueueAfter(WorkKey(resource, *obj), kUnknownOwnerDelay);
  }
}

void GarbageCollector::OnDelete(size_t resource, const ObjectPtr& obj) {
  std::string uid = Uid(*obj);
  std::vector<std::string> wake;
  {
    std::lock_guard lock(mu_);
    auto it = nodes_.find(uid);
    if (it != nodes_.end()) {
      for (const auto& o : it->second.owners) {
        dependents_[o.uid].erase(uid);
        // An owner waiting in foreground deletion may now be free to go.
        if (auto owner = nodes_.find(o.uid); owner != nodes_.end()) {
          wake.push_back(std::to_string(owner->second.resource) + "|" + owner->second.key);
        }
        if (dependents_[o.uid].empty() && nodes_.count(o.uid) == 0) dependents_.erase(o.uid);
      }
      nodes_.erase(it);
    }
    // Its dependents have lost an owner.
    if (auto deps = dependents_.find(uid); deps != dependents_.end()) {
      for (const auto& d : deps->second) {
        if (auto n = nodes_.find(d); n != nodes_.end()) {
          wake.push_back(std::to_string(n->second.resource) + "|" + n->second.key);
        }
      }
    }
  }
  for (const auto& k : wake) Enqueue(k);
}

std::vector<std::pair<std::string, bool>> GarbageCollector::DependentsOf(const std::string& uid) {
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::string, bool>> out;
  auto deps = dependents_.find(uid);
  if (deps == dependents_.end()) return out;
  for (const auto& d : deps->second) {
    auto n = nodes_.find(d);
    if (n == nodes_.end()) continue;
    bool blocks = false;
    for (const auto& o : n->second.owners) blocks |= o.uid == uid && o.block_owner_deletion;
    out.emplace_back(std::to_string(n->second.resource) + "|" + n->second.key, blocks);
  }
  return out;
}

bool GarbageCollector::HasDependents(const std::string& uid) {
  std::lock_guard lock(mu_);
  auto deps = dependents_.find(uid);
  return deps != dependents_.end() && !deps->second.empty();
}

void GarbageCollector::Started() {
  for (size_t i = 0; i < monitors_.size(); ++i) {
    for (const auto& obj : monitors_[i].informer->List()) {
      if (!OwnerRefsOf(*obj).empty() || IsBeingDeleted(*obj)) Enqueue(WorkKey(i, *obj));
    }
  }
}

Status GarbageCollector::Sync(const std::string& key) {
  size_t bar = key.find('|');
  if (bar == std::string::npos) return Status::Ok();
  size_t resource = std::stoul(key.substr(0, bar));
  if (resource >= monitors_.size()) return Status::Ok();
  ObjectPtr obj = monitors_[resource].informer->Get(key.substr(bar + 1));
  if (!obj) return Status::Ok();
  if (IsBeingDeleted(*obj)) {
    if (HasFinalizer(*obj, kOrphan)) return OrphanDependents(resource, *obj);
    if (HasFinalizer(*obj, kForeground)) return DeleteDependents(resource, *obj);
    return Status::Ok();
  }
  return AttemptToDelete(resource, *obj);
}

Result<GarbageCollector::OwnerState> GarbageCollector::LookupOwner(const OwnerRef& ref,
                                                                   const std::string& ns) {
  const KnownResource* r = ResourceForKind(ref.api_version, ref.kind);
  if (r == nullptr) return OwnerState::kUnknown;  // a kind we cannot look up: leave it be
  ObjectPtr cached;
  {
    std::lock_guard lock(mu_);
    auto n = nodes_.find(ref.uid);
    if (n != nodes_.end()) cached = monitors_[n->second.resource].informer->Get(n->second.key);
  }
  api::Document fetched;
  const api::Value* owner = cached ? cached.get() : nullptr;
  if (owner == nullptr || Uid(*owner) != ref.uid) {
    // Not (yet) in our caches: ask the server, so that watch lag never deletes a
    // dependent whose owner exists.
    auto got = client_->Get(r->ref, r->ref.namespaced ? ns : "", ref.name);
    if (!got.ok()) {
      if (got.status().code() == Code::kNotFound) return OwnerState::kGone;
      return std::move(got).take_status();
    }
    fetched = std::move(got).value();
    owner = &fetched;
    if (Uid(fetched) != ref.uid) return OwnerState::kGone;  // replaced by a namesake
  }
  if (IsBeingDeleted(*owner) && HasFinalizer(*owner, kForeground)) {
    return OwnerState::kWaitingForDependents;
  }
  return OwnerState::kAlive;
}

Status GarbageCollector::AttemptToDelete(size_t resource, const api::Value& obj) {
  auto owners = OwnerRefsOf(obj);
  if (owners.empty()) return Status::Ok();
  std::string ns = api::GetString(obj, "metadata.namespace");
  std::set<std::string> dangling;
  bool solid = false, waiting = false;
  for (const auto& ref : owners) {
    ASSIGN_OR_RETURN(OwnerState state, LookupOwner(ref, ns));
    switch (state) {
      case OwnerState::kGone: dangling.insert(ref.uid); break;
      case OwnerState::kWaitingForDependents: waiting = true; break;
      case OwnerState::kAlive:
      case OwnerState::kUnknown: solid = true; break;
    }
  }
  const client::ResourceRef& ref = monitors_[resource].ref;
  std::string name = api::GetString(obj, "metadata.name");
  if (solid) {
    if (dangling.empty()) return Status::Ok();
    // Keep the object; drop only the references to owners that are gone.
    api::Document patch;
    patch.SetObject();
    auto& a = patch.GetAllocator();
    api::Value refs(rapidjson::kArrayType);
    for (const auto& r : api::Find(obj, "metadata.ownerReferences")->GetArray()) {
      if (!dangling.count(api::GetString(r, "uid"))) refs.PushBack(api::Value(r, a), a);
    }
    api::SetValue(patch, "metadata.ownerReferences", std::move(refs), a);
    api::SetString(patch, "metadata.resourceVersion", api::GetString(obj, "metadata.resourceVersion"), a);
    auto r = client_->Patch(ref, ns, name, client::PatchType::kMerge, api::ToJson(patch));
    return r.ok() || r.status().code() == Code::kNotFound ? Status::Ok() : r.status();
  }
  client::DeleteOptions opts;
  opts.precondition_uid = Uid(obj);
  // Owners waiting on us in foreground deletion want our own dependents gone first too.
  opts.propagation_policy = waiting && HasDependents(Uid(obj)) ? "Foreground" : "Background";
  VLOG(1) << "garbage collector: deleting " << ref.plural << " " << informer::KeyOf(obj)
          << " (" << opts.propagation_policy << "): its owners are gone";
  Status st = client_->Delete(ref, ns, name, opts);
  if (st.code() == Code::kNotFound || st.code() == Code::kConflict) return Status::Ok();
  return st;
}

Status GarbageCollector::OrphanDependents(size_t resource, const api::Value& owner) {
  std::string uid = Uid(owner);
  for (const auto& [key, blocks] : DependentsOf(uid)) {
    size_t bar = key.find('|');
    size_t dep_resource = std::stoul(key.substr(0, bar));
    ObjectPtr dep = monitors_[dep_resource].informer->Get(key.substr(bar + 1));
    if (!dep) continue;
    api::Document patch;
    patch.SetObject();
    auto& a = patch.GetAllocator();
    api::Value refs(rapidjson::kArrayType);
    for (const auto& r : api::Find(*dep, "metadata.ownerReferences")->GetArray()) {
      if (api::GetString(r, "uid") != uid) refs.PushBack(api::Value(r, a), a);
    }
    api::SetValue(patch, "metadata.ownerReferences", std::move(refs), a);
    api::SetString(patch, "metadata.resourceVersion", api::GetString(*dep, "metadata.resourceVersion"), a);
    auto r = client_->Patch(monitors_[dep_resource].ref, api::GetString(*dep, "metadata.namespace"),
                            api::GetString(*dep, "metadata.name"), client::PatchType::kMerge,
                            api::ToJson(patch));
    if (!r.ok() && r.status().code() != Code::kNotFound) return std::move(r).take_status();
  }
  return RemoveFinalizer(resource, owner, kOrphan);
}

Status GarbageCollector::DeleteDependents(size_t resource, const api::Value& owner) {
  bool blocked = false;
  for (const auto& [key, blocks] : DependentsOf(Uid(owner))) {
    size_t bar = key.find('|');
    size_t dep_resource = std::stoul(key.substr(0, bar));
    ObjectPtr dep = monitors_[dep_resource].informer->Get(key.substr(bar + 1));
    if (!dep) continue;
    blocked |= blocks;
    if (IsBeingDeleted(*dep)) continue;
    client::DeleteOptions opts;
    opts.precondition_uid = Uid(*dep);
    opts.propagation_policy = HasDependents(Uid(*dep)) ? "Foreground" : "Background";
    Status st = client_->Delete(monitors_[dep_resource].ref, api::GetString(*dep, "metadata.namespace"),
                                api::GetString(*dep, "metadata.name"), opts);
    if (!st.ok() && st.code() != Code::kNotFound && st.code() != Code::kConflict) return st;
  }
  // Dependents' deletions wake this owner again (OnDelete).
  if (blocked) return Status::Ok();
  return RemoveFinalizer(resource, owner, kForeground);
}

Status GarbageCollector::RemoveFinalizer(size_t resource, const api::Value& obj,
                                         const std::string& finalizer) {
  api::Document patch;
  patch.SetObject();
  auto& a = patch.GetAllocator();
  api::Value list(rapidjson::kArrayType);
  for (const auto& f : api::Find(obj, "metadata.finalizers")->GetArray()) {
    if (api::View(f) != finalizer) list.PushBack(api::Value(f, a), a);
  }
  api::SetValue(patch, "metadata.finalizers", std::move(list), a);
  api::SetString(patch, "metadata.resourceVersion", api::GetString(obj, "metadata.resourceVersion"), a);
  auto r = client_->Patch(monitors_[resource].ref, api::GetString(obj, "metadata.namespace"),
                          api::GetString(obj, "metadata.name"), client::PatchType::kMerge,
                          api::ToJson(patch));
  return r.ok() || r.status().code() == Code::kNotFound ? Status::Ok() : r.status();
}

}  // namespace kubepp::controller
