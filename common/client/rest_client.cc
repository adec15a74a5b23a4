#include "common/client/rest_client.h"

#include <algorithm>
#include <chrono>

#include "common/api/selector.h"
#include "common/util/random.h"
#include "common/util/time.h"

namespace kubepp::client {
namespace {

// Appends "&key=value" (or "?key=value" first) when value is non-empty.
void AddQuery(std::string& target, const std::string& key, const std::string& value) {
  if (value.empty()) return;
  target += target.find('?') == std::string::npos ? '?' : '&';
  target += key + "=" + http::PercentEncode(value);
}

std::string NamespaceOf(const ResourceRef& ref, const std::string& ns, const api::Value& obj) {
  if (!ref.namespaced) return "";
  return ns.empty() ? api::GetString(obj, "metadata.namespace") : ns;
}

Status RequireName(const ResourceRef& ref, const std::string& ns, const std::string& name) {
  if (name.empty()) return BadRequest(ref.plural + ": a name is required");
  if (ref.namespaced && ns.empty()) return BadRequest(ref.plural + ": a namespace is required");
  return Status::Ok();
}

}  // namespace

std::string ResourceRef::ApiVersion() const {
  return group.empty() ? version : group + "/" + version;
}

std::string ResourceRef::Path(const std::string& ns, const std::string& name,
                              const std::string& subresource) const {
  std::string p = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  if (namespaced && !ns.empty()) p += "/namespaces/" + http::PercentEncode(ns);
  p += "/" + plural;
  if (!name.empty()) {
    p += "/" + http::PercentEncode(name);
    if (!subresource.empty()) p += "/" + subresource;
  }
  return p;
}

std::string_view ContentTypeOf(PatchType type) {
  switch (type) {
    case PatchType::kMerge: return "application/merge-patch+json";
    case PatchType::kJson: return "application/json-patch+json";
    case PatchType::kStrategic: return "application/strategic-merge-patch+json";
    case PatchType::kApply: return "application/apply-patch+yaml";
  }
  return "application/merge-patch+json";
}

// ---------------------------------------------------------------- HttpRestClient

Result<std::unique_ptr<HttpRestClient>> HttpRestClient::Create(
    const http::ClientOptions& options) {
  ASSIGN_OR_RETURN(auto http, http::Client::Create(options));
  return std::make_unique<HttpRestClient>(std::shared_ptr<http::Client>(std::move(http)));
}

Result<api::Document> HttpRestClient::Call(const std::string& method, const std::string& target,
                                           const std::string& body,
                                           const std::string& content_type) {
  ASSIGN_OR_RETURN(http::Response resp, http_->Do(method, target, body, content_type));
  if (resp.status < 200 || resp.status >= 300) return http::StatusFromHttp(resp.status, resp.body);
  auto doc = api::ParseJson(resp.body);
  if (!doc.ok()) {
    return Internal(method + " " + target + ": malformed response: " + doc.status().message());
  }
  return std::move(doc).value();
}

Result<api::Document> HttpRestClient::Get(const ResourceRef& ref, const std::string& ns,
                                          const std::string& name) {
  RETURN_IF_ERROR(RequireName(ref, ns, name));
  return Call("GET", ref.Path(ns, name));
}

Result<api::Document> HttpRestClient::List(const ResourceRef& ref, const std::string& ns,
                                           const ListOptions& options) {
  std::string target = ref.Path(ns);
  AddQuery(target, "labelSelector", options.label_selector);
  AddQuery(target, "fieldSelector", options.field_selector);
  if (options.limit > 0) AddQuery(target, "limit", std::to_string(options.limit));
  AddQuery(target, "continue", options.continue_token);
  AddQuery(target, "resourceVersion", options.resource_version);
  return Call("GET", target);
}

Result<api::Document> HttpRestClient::Create(const ResourceRef& ref, const std::string& ns,
                                             const api::Value& object) {
  return Call("POST", ref.Path(NamespaceOf(ref, ns, object)), api::ToJson(object));
}

Result<api::Document> HttpRestClient::Update(const ResourceRef& ref, const std::string& ns,
                                             const api::Value& object) {
  std::string object_ns = NamespaceOf(ref, ns, object);
  std::string name = api::GetString(object, "metadata.name");
  RETURN_IF_ERROR(RequireName(ref, object_ns, name));
  return Call("PUT", ref.Path(object_ns, name), api::ToJson(object));
}

Result<api::Document> HttpRestClient::UpdateStatus(const ResourceRef& ref, const std::string& ns,
                                                   const api::Value& object) {
  std::string object_ns = NamespaceOf(ref, ns, object);
  std::string name = api::GetString(object, "metadata.name");
  RETURN_IF_ERROR(RequireName(ref, object_ns, name));
  return Call("PUT", ref.Path(object_ns, name, "status"), api::ToJson(object));
}

Result<api::Document> HttpRestClient::Patch(const ResourceRef& ref, const std::string& ns,
                                            const std::string& name, PatchType type,
                                            std::string_view patch,
                                            const std::string& subresource) {
  RETURN_IF_ERROR(RequireName(ref, ns, name));
  std::string target = ref.Path(ns, name, subresource);
  // Server-side apply requires a field manager.
  if (type == PatchType::kApply) AddQuery(target, "fieldManager", "kubepp");
  return Call("PATCH", target, std::string(patch), std::string(ContentTypeOf(type)));
}

Status HttpRestClient::Delete(const ResourceRef& ref, const std::string& ns,
                              const std::string& name, const DeleteOptions& options) {
  RETURN_IF_ERROR(RequireName(ref, ns, name));
  api::Document body(rapidjson::kObjectType);
  auto& a = body.GetAllocator();
  api::SetString(body, "kind", "DeleteOptions", a);
  api::SetString(body, "apiVersion", "v1", a);
  if (!options.propagation_policy.empty()) {
    api::SetString(body, "propagationPolicy", options.propagation_policy, a);
  }
  if (options.grace_period_seconds) {
    api::SetInt(body, "gracePeriodSeconds", *options.grace_period_seconds, a);
  }
  if (!options.precondition_rv.empty()) {
    api::SetString(body, "preconditions.resourceVersion", options.precondition_rv, a);
  }
  if (!options.precondition_uid.empty()) {
    api::SetString(body, "preconditions.uid", options.precondition_uid, a);
  }
  auto result = Call("DELETE", ref.Path(ns, name), api::ToJson(body));
  return std::move(result).take_status();
}

Result<api::Document> HttpRestClient::CreateSubresource(const ResourceRef& ref,
                                                        const std::string& ns,
                                                        const std::string& name,
                                                        const std::string& subresource,
                                                        const api::Value& body) {
  RETURN_IF_ERROR(RequireName(ref, ns, name));
  return Call("POST", ref.Path(ns, name, subresource), api::ToJson(body));
}

Status HttpRestClient::Watch(const ResourceRef& ref, const std::string& ns,
                             const WatchOptions& options, const WatchHandler& on_event,
                             const std::atomic<bool>* stop) {
  std::string target = ref.Path(ns) + "?watch=true";
  AddQuery(target, "resourceVersion", options.resource_version);
  if (options.allow_bookmarks) AddQuery(target, "allowWatchBookmarks", "true");
  if (options.timeout_seconds > 0) {
    AddQuery(target, "timeoutSeconds", std::to_string(options.timeout_seconds));
  }
  AddQuery(target, "labelSelector", options.label_selector);
  AddQuery(target, "fieldSelector", options.field_selector);
  Status malformed;
  Status st = http_->StreamLines(
      target,
      [&](std::string_view line) {
        if (line.find_first_not_of(" \t\r") == std::string_view::npos) return true;
        auto event = api::ParseJson(line);
        const api::Value* object = event.ok() ? api::FindMember(*event, "object") : nullptr;
        if (object == nullptr || !event->IsObject()) {
          malformed = Internal("watch " + ref.plural + ": malformed event: " +
                               std::string(line.substr(0, 200)));
          return false;
        }
        return on_event(api::GetString(*event, "type"), *object);
      },
      stop);
  RETURN_IF_ERROR(st);
  return malformed;
}

// ---------------------------------------------------------------- FakeRestClient

namespace {

std::string ResourceKey(const ResourceRef& ref) { return ref.group + "/" + ref.plural; }

std::string ObjectKey(const std::string& ns, const std::string& name) {
  return ns.empty() ? name : ns + "/" + name;
}

// RFC 7386 JSON merge patch of `patch` into `target`.
void MergePatch(api::Value& target, const api::Value& patch, api::Allocator& a) {
  if (!patch.IsObject()) {
    target.CopyFrom(patch, a);
    return;
  }
  if (!target.IsObject()) target.SetObject();
  for (const auto& m : patch.GetObject()) {
    std::string_view key = api::View(m.name);
    auto it = target.FindMember(m.name);
    if (m.value.IsNull()) {
      if (it != target.MemberEnd()) target.RemoveMember(it);
    } else if (it != target.MemberEnd()) {
      MergePatch(it->value, m.value, a);
    } else {
      api::Value v;
      MergePatch(v, m.value, a);
      target.AddMember(api::Str(key, a), v, a);
    }
  }
}

// The objects a list or watch selects.
struct Filter {
  std::string ns;  // "" for all
  api::LabelSelector labels;
  api::FieldSelector fields;

  static Result<Filter> Make(std::string ns, const std::string& labels,
                             const std::string& fields) {
    ASSIGN_OR_RETURN(auto label_selector, api::LabelSelector::Parse(labels));
    ASSIGN_OR_RETURN(auto field_selector, api::FieldSelector::Parse(fields));
    return Filter{std::move(ns), std::move(label_selector), std::move(field_selector)};
  }
  bool Matches(const api::Value& obj) const {
    if (!ns.empty() && api::GetString(obj, "metadata.namespace") != ns) return false;
    return labels.Matches(api::GetStringMap(obj, "metadata.labels")) &&
           fields.Matches([&](std::string_view field) { return api::GetString(obj, field); });
  }
};

Status NotFoundError(const ResourceRef& ref, const std::string& name) {
  return NotFound(ref.plural + " \"" + name + "\" not found")
      .WithDetails(name, ref.group, ref.plural);
}

}  // namespace

void FakeRestClient::FailNext(const std::string& verb, Status status, int count) {
  std::lock_guard lock(mu_);
  if (count != 0) failures_.push_back({verb, std::move(status), count});
}

void FakeRestClient::ClearFailures() {
  std::lock_guard lock(mu_);
  failures_.clear();
}

void FakeRestClient::CloseWatches() {
  std::lock_guard lock(mu_);
  ++watch_generation_;
  changed_.notify_all();
}

void FakeRestClient::Compact() {
  std::lock_guard lock(mu_);
  events_.clear();
  compacted_rv_ = rv_;
}

std::vector<std::string> FakeRestClient::Calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

int64_t FakeRestClient::CurrentResourceVersion() const {
  std::lock_guard lock(mu_);
  return rv_;
}

int FakeRestClient::OpenWatches() const {
  std::lock_guard lock(mu_);
  return open_watches_;
}

Status FakeRestClient::TakeFailureLocked(const std::string& verb) {
  for (auto it = failures_.begin(); it != failures_.end(); ++it) {
    if (it->verb != verb && it->verb != "*") continue;
    Status st = it->status;
    if (it->remaining > 0 && --it->remaining == 0) failures_.erase(it);
    return st;
  }
  return Status::Ok();
}

void FakeRestClient::RecordLocked(const std::string& verb, const ResourceRef& ref,
                                  const std::string& rv) {
  std::string call = verb + " " + ref.plural;
  if (verb == "list" || verb == "watch") call += " rv=" + rv;
  calls_.push_back(std::move(call));
}

std::shared_ptr<const api::Document> FakeRestClient::StoreLocked(const ResourceRef& ref,
                                                                 const std::string& key,
                                                                 api::Document object,
                                                                 const std::string& type) {
  ++rv_;
  api::SetString(object, "metadata.resourceVersion", std::to_string(rv_), object.GetAllocator());
  auto stored = std::make_shared<const api::Document>(std::move(object));
  auto& objects = objects_[ResourceKey(ref)];
  if (type == "DELETED") {
    objects.erase(key);
  } else {
    objects[key] = stored;
  }
  events_.push_back({ResourceKey(ref), type, stored, rv_});
  changed_.notify_all();
  return stored;
}

Result<api::Document> FakeRestClient::Get(const ResourceRef& ref, const std::string& ns,
                                          const std::string& name) {
  std::lock_guard lock(mu_);
  RecordLocked("get", ref);
  RETURN_IF_ERROR(TakeFailureLocked("get"));
  auto& objects = objects_[ResourceKey(ref)];
  auto it = objects.find(ObjectKey(ref.namespaced ? ns : "", name));
  if (it == objects.end()) return NotFoundError(ref, name);
  return api::Clone(*it->second);
}

Result<api::Document> FakeRestClient::List(const ResourceRef& ref, const std::string& ns,
                                           const ListOptions& options) {
  std::lock_guard lock(mu_);
  RecordLocked("list", ref, options.resource_version);
  RETURN_IF_ERROR(TakeFailureLocked("list"));
  api::Document list(rapidjson::kObjectType);
  auto& a = list.GetAllocator();
  api::SetString(list, "apiVersion", ref.ApiVersion(), a);
  api::SetString(list, "kind", "List", a);
  api::SetString(list, "metadata.resourceVersion", std::to_string(rv_), a);
  api::Value items(rapidjson::kArrayType);
  // The continue token is the key to resume after.
  const std::string& after = options.continue_token;
  std::string last_key;
  ASSIGN_OR_RETURN(Filter filter, Filter::Make(ref.namespaced ? ns : "", options.label_selector,
                                               options.field_selector));
  for (const auto& [key, obj] : objects_[ResourceKey(ref)]) {
    if (!after.empty() && key <= after) continue;
    if (!filter.Matches(*obj)) continue;
    if (options.limit > 0 && static_cast<int64_t>(items.Size()) == options.limit) {
      api::SetString(list, "metadata.continue", last_key, a);
      break;
    }
    items.PushBack(api::Copy(*obj, a), a);
    last_key = key;
  }
  list.AddMember("items", items, a);
  return list;
}

Result<api::Document> FakeRestClient::Create(const ResourceRef& ref, const std::string& ns,
                                             const api::Value& object) {
  std::lock_guard lock(mu_);
  RecordLocked("create", ref);
  RETURN_IF_ERROR(TakeFailureLocked("create"));
  api::Document obj = api::Clone(object);
  auto& a = obj.GetAllocator();
  std::string object_ns = NamespaceOf(ref, ns, object);
  if (ref.namespaced && object_ns.empty()) return BadRequest("a namespace is required");
  std::string name = api::GetString(obj, "metadata.name");
  if (name.empty()) {
    std::string prefix = api::GetString(obj, "metadata.generateName");
    if (prefix.empty()) return Invalid(ref.plural + ": metadata.name: Required value");
    name = prefix + std::to_string(rv_ + 1);
    api::SetString(obj, "metadata.name", name, a);
  }
  std::string key = ObjectKey(object_ns, name);
  if (objects_[ResourceKey(ref)].count(key)) {
    return AlreadyExists(ref.plural + " \"" + name + "\" already exists")
        .WithDetails(name, ref.group, ref.plural);
  }
  if (ref.namespaced) api::SetString(obj, "metadata.namespace", object_ns, a);
  api::SetString(obj, "metadata.uid", util::NewUuid(), a);
  api::SetString(obj, "metadata.creationTimestamp", util::NowRfc3339(), a);
  return api::Clone(*StoreLocked(ref, key, std::move(obj), "ADDED"));
}

Result<api::Document> FakeRestClient::ReplaceLocked(const ResourceRef& ref, const std::string& ns,
                                                    const api::Value& object, bool status_only) {
  std::string object_ns = NamespaceOf(ref, ns, object);
  std::string name = api::GetString(object, "metadata.name");
  std::string key = ObjectKey(object_ns, name);
  auto& objects = objects_[ResourceKey(ref)];
  auto it = objects.find(key);
  if (it == objects.end()) return NotFoundError(ref, name);
  std::string rv = api::GetString(object, "metadata.resourceVersion");
  const api::Document& current = *it->second;
  if (!rv.empty() && rv != api::GetString(current, "metadata.resourceVersion")) {
    return Conflict("Operation cannot be fulfilled on " + ref.plural + " \"" + name +
                    "\": the object has been modified; please apply your changes to the "
                    "latest version and try again");
  }
  api::Document obj;
  if (status_only) {
    obj = api::Clone(current);
    api::Value status;
    if (const api::Value* s = api::FindMember(object, "status")) {
      status.CopyFrom(*s, obj.GetAllocator());
    }
    api::SetValue(obj, "status", std::move(status), obj.GetAllocator());
  } else {
    obj = api::Clone(object);
    auto& a = obj.GetAllocator();
    // Server-owned metadata survives a PUT.
    api::SetString(obj, "metadata.uid", api::GetString(current, "metadata.uid"), a);
    api::SetString(obj, "metadata.creationTimestamp",
                   api::GetString(current, "metadata.creationTimestamp"), a);
    if (ref.namespaced) api::SetString(obj, "metadata.namespace", object_ns, a);
  }
  return api::Clone(*StoreLocked(ref, key, std::move(obj), "MODIFIED"));
}

Result<api::Document> FakeRestClient::Update(const ResourceRef& ref, const std::string& ns,
                                             const api::Value& object) {
  std::lock_guard lock(mu_);
  RecordLocked("update", ref);
  RETURN_IF_ERROR(TakeFailureLocked("update"));
  return ReplaceLocked(ref, ns, object, false);
}

Result<api::Document> FakeRestClient::UpdateStatus(const ResourceRef& ref, const std::string& ns,
                                                   const api::Value& object) {
  std::lock_guard lock(mu_);
  RecordLocked("update", ref);
  RETURN_IF_ERROR(TakeFailureLocked("update"));
  return ReplaceLocked(ref, ns, object, true);
}

Result<api::Document> FakeRestClient::Patch(const ResourceRef& ref, const std::string& ns,
                                            const std::string& name, PatchType type,
                                            std::string_view patch,
                                            const std::string& subresource) {
  std::lock_guard lock(mu_);
  RecordLocked("patch", ref);
  RETURN_IF_ERROR(TakeFailureLocked("patch"));
  if (type == PatchType::kJson || type == PatchType::kApply) {
    return BadRequest("fake: only merge and strategic merge patches are supported");
  }
  ASSIGN_OR_RETURN(api::Document p, api::ParseJson(patch));
  auto& objects = objects_[ResourceKey(ref)];
  std::string key = ObjectKey(ref.namespaced ? ns : "", name);
  auto it = objects.find(key);
  if (it == objects.end()) return NotFoundError(ref, name);
  api::Document obj = api::Clone(*it->second);
  std::string rv = api::GetString(p, "metadata.resourceVersion");
  if (!rv.empty() && rv != api::GetString(obj, "metadata.resourceVersion")) {
    return Conflict("Operation cannot be fulfilled on " + ref.plural + " \"" + name +
                    "\": the object has been modified");
  }
  MergePatch(obj, p, obj.GetAllocator());
  return api::Clone(*StoreLocked(ref, key, std::move(obj), "MODIFIED"));
}

Status FakeRestClient::DeleteLocked(const ResourceRef& ref, const std::string& key,
                                    const DeleteOptions& options) {
  auto& objects = objects_[ResourceKey(ref)];
  auto it = objects.find(key);
  if (it == objects.end()) return NotFoundError(ref, key.substr(key.find('/') + 1));
  const api::Document& current = *it->second;
  if ((!options.precondition_rv.empty() &&
       options.precondition_rv != api::GetString(current, "metadata.resourceVersion")) ||
      (!options.precondition_uid.empty() &&
       options.precondition_uid != api::GetString(current, "metadata.uid"))) {
    return Conflict("Precondition failed for " + ref.plural + " \"" + key + "\"");
  }
  StoreLocked(ref, key, api::Clone(current), "DELETED");
  return Status::Ok();
}

Status FakeRestClient::Delete(const ResourceRef& ref, const std::string& ns,
                              const std::string& name, const DeleteOptions& options) {
  std::lock_guard lock(mu_);
  RecordLocked("delete", ref);
  RETURN_IF_ERROR(TakeFailureLocked("delete"));
  return DeleteLocked(ref, ObjectKey(ref.namespaced ? ns : "", name), options);
}

Result<api::Document> FakeRestClient::CreateSubresource(const ResourceRef& ref,
                                                        const std::string& ns,
                                                        const std::string& name,
                                                        const std::string& subresource,
                                                        const api::Value& body) {
  std::lock_guard lock(mu_);
  RecordLocked("create", ref);
  RETURN_IF_ERROR(TakeFailureLocked("create"));
  std::string key = ObjectKey(ref.namespaced ? ns : "", name);
  auto& objects = objects_[ResourceKey(ref)];
  auto it = objects.find(key);
  if (it == objects.end()) return NotFoundError(ref, name);
  api::Document status(rapidjson::kObjectType);
  api::SetString(status, "kind", "Status", status.GetAllocator());
  api::SetString(status, "status", "Success", status.GetAllocator());
  if (ResourceKey(ref) == ResourceKey(kPods) && subresource == "binding") {
    if (!api::GetString(*it->second, "spec.nodeName").empty()) {
      return Conflict("pod " + name + " is already assigned to a node");
    }
    api::Document pod = api::Clone(*it->second);
    api::SetString(pod, "spec.nodeName", api::GetString(body, "target.name"), pod.GetAllocator());
    StoreLocked(ref, key, std::move(pod), "MODIFIED");
    return status;
  }
  if (ResourceKey(ref) == ResourceKey(kPods) && subresource == "eviction") {
    RETURN_IF_ERROR(DeleteLocked(ref, key, {}));
    return status;
  }
  return BadRequest("fake: unsupported subresource " + ref.plural + "/" + subresource);
}

Status FakeRestClient::Watch(const ResourceRef& ref, const std::string& ns,
                             const WatchOptions& options, const WatchHandler& on_event,
                             const std::atomic<bool>* stop) {
  std::unique_lock lock(mu_);
  RecordLocked("watch", ref, options.resource_version);
  RETURN_IF_ERROR(TakeFailureLocked("watch"));
  ++open_watches_;
  struct Closer {
    int& n;
    ~Closer() { --n; }
  } closer{open_watches_};
  std::string resource = ResourceKey(ref);
  ASSIGN_OR_RETURN(Filter filter, Filter::Make(ref.namespaced ? ns : "", options.label_selector,
                                               options.field_selector));
  uint64_t generation = watch_generation_;
  // Delivers one event with the lock released, so handlers may call back into the fake.
  auto deliver = [&](const std::string& type, std::shared_ptr<const api::Document> obj) {
    lock.unlock();
    bool more = on_event(type, *obj);
    lock.lock();
    return more;
  };
  int64_t from = 0;
  if (options.resource_version.empty() || options.resource_version == "0") {
    from = rv_;
    std::vector<std::shared_ptr<const api::Document>> current;
    for (const auto& [key, obj] : objects_[resource]) {
      if (filter.Matches(*obj)) current.push_back(obj);
    }
    for (auto& obj : current) {
      if (!deliver("ADDED", obj)) return Status::Ok();
    }
  } else {
    from = std::stoll(options.resource_version);
    if (from < compacted_rv_) {
      auto gone = api::ParseJson(
          Gone("too old resource version: " + options.resource_version).ToJson());
      deliver("ERROR", std::make_shared<const api::Document>(std::move(gone).value()));
      return Status::Ok();
    }
  }
  while (true) {
    if ((stop != nullptr && stop->load()) || generation != watch_generation_) {
      return Status::Ok();
    }
    // Events are in rv order; find the first one after `from`.
    auto it = std::upper_bound(events_.begin(), events_.end(), from,
                               [](int64_t rv, const Event& e) { return rv < e.rv; });
    if (it == events_.end()) {
      changed_.wait_for(lock, std::chrono::milliseconds(20));
      continue;
    }
    Event e = *it;
    from = e.rv;
    if (e.resource == resource && filter.Matches(*e.object) && !deliver(e.type, e.object)) {
      return Status::Ok();
    }
  }
}

}  // namespace kubepp::client
