// Write handlers: create, update, patch, delete, and the write subresources.
#include <algorithm>

#include "apiserver/admission.h"
#include "apiserver/api.h"
#include "apiserver/managed_fields.h"
#include "apiserver/patch.h"
#include "apiserver/protobuf.h"
#include "common/api/selector.h"
#include "common/api/yaml.h"
#include "common/log.h"
#include "common/util/random.h"
#include "common/util/strings.h"
#include "common/util/time.h"

namespace kubepp::apiserver {

namespace {

// Kubernetes: 1.5 MiB per stored object.
constexpr size_t kMaxObjectBytes = 1536 * 1024;

using util::GoQuote;  // as Go's %q in upstream's messages

Status NotFoundStatus(const ResourceInfo& r, const std::string& name) {
  return NotFound(r.QualifiedName() + " " + GoQuote(name) + " not found")
      .WithDetails(name, r.group, r.plural);
}

// The part of an object whose change bumps metadata.generation: everything but
// metadata and status.
bool SpecChanged(const api::Value& a, const api::Value& b) {
  if (!a.IsObject() || !b.IsObject()) return true;
  auto count = [](const api::Value& v) {
    size_t n = 0;
    for (auto& m : v.GetObject()) {
      std::string_view k = api::View(m.name);
      if (k != "metadata" && k != "status") ++n;
    }
    return n;
  };
  if (count(a) != count(b)) return true;
  for (auto& m : a.GetObject()) {
    std::string_view k = api::View(m.name);
    if (k == "metadata" || k == "status") continue;
    const api::Value* other = api::FindMember(b, k);
    if (other == nullptr || *other != m.value) return true;
  }
  return false;
}

void CopyMember(api::Document& doc, const api::Value& from, const char* path) {
  const api::Value* v = api::Find(from, path);
  if (v == nullptr) {
    api::Remove(doc, path);
  } else {
    api::SetValue(doc, path, api::Copy(*v, doc.GetAllocator()), doc.GetAllocator());
  }
}

// Whether something still has to finish before a marked object may go: metadata
// finalizers, or a namespace's spec.finalizers (the namespace controller's).
// Upstream's typed objects drop empty metadata maps and lists when encoded (Go's
// omitempty), so a patch that deletes the last label leaves no `labels: {}` behind.
void DropEmptyMetadata(api::Value& doc) {
  api::Value* meta = api::FindMutable(doc, "metadata");
  if (meta == nullptr || !meta->IsObject()) return;
  for (const char* k : {"labels", "annotations", "finalizers", "ownerReferences"}) {
    auto it = meta->FindMember(k);
    if (it == meta->MemberEnd()) continue;
    const api::Value& v = it->value;
    if (v.IsNull() || (v.IsObject() && v.ObjectEmpty()) || (v.IsArray() && v.Empty())) {
      meta->RemoveMember(it);
    }
  }
}

bool HasFinalizers(const api::Value& doc) {
  for (const char* path : {"metadata.finalizers", "spec.finalizers"}) {
    if (path[0] == 's' && api::GetString(doc, "kind") != "Namespace") continue;
    const api::Value* f = api::Find(doc, path);
    if (f != nullptr && f->IsArray() && !f->Empty()) return true;
  }
  return false;
}

Status CheckSize(const api::Value& doc) {
  if (api::ToJson(doc).size() > kMaxObjectBytes) {
    return Status(Code::kRequestTooLarge, "object is larger than the 1.5 MiB limit");
  }
  return Status::Ok();
}

// Upstream's pod deletion: graceful (marked, the kubelet finishes) only when the pod
// is bound to a node and has not terminated.
int64_t PodGracePeriod(const api::Value& pod, const api::Value* options) {
  if (api::GetString(pod, "spec.nodeName").empty()) return 0;
  std::string phase = api::GetString(pod, "status.phase");
  if (phase == "Succeeded" || phase == "Failed") return 0;
  int64_t grace = api::GetInt(pod, "spec.terminationGracePeriodSeconds", 30);
  if (options != nullptr && api::Has(*options, "gracePeriodSeconds")) {
    grace = api::GetInt(*options, "gracePeriodSeconds", grace);
  }
  return std::max<int64_t>(grace, 0);
}

// `fieldValidation=Strict` (kubectl sends it from 1.24 on): fields the kind does not
// declare are an error naming each, as upstream's strict decoding.
bool IsStrict(const http::Request& req) { return req.Query("fieldValidation") == "Strict"; }

// What strict decoding finds in a body: fields the kind does not declare, and fields
// given more than once (of which the last is kept, as Go's decoder does).
std::vector<std::string> FieldProblems(const ResourceInfo& r, const api::Value& obj,
                                       const std::vector<std::string>& repeated) {
  std::vector<std::string> out;
  for (auto& f : UnknownFields(r.ApiVersion(), r.kind, obj)) out.push_back("unknown field \"" + f + "\"");
  for (auto& f : repeated) out.push_back("duplicate field \"" + f + "\"");
  return out;
}

// fieldValidation=Warn, upstream's default: the problems become response warnings.
std::vector<std::string> FieldWarnings(const http::Request& req, const ResourceInfo& r,
                                       const api::Value& obj, const std::vector<std::string>& repeated) {
  if (req.Query("fieldValidation", "Warn") != "Warn") return {};
  return FieldProblems(r, obj, repeated);
}

Status CheckKnownFields(const ResourceInfo& r, const api::Value& obj,
                        const std::vector<std::string>& repeated = {}) {
  std::vector<std::string> problems = FieldProblems(r, obj, repeated);
  if (problems.empty()) return Status::Ok();
  std::string msg = r.kind + " in version \"" + r.version + "\" cannot be handled as a " +
                    r.kind + ": strict decoding error: ";
  for (size_t i = 0; i < problems.size(); ++i) msg += (i ? ", " : "") + problems[i];
  return BadRequest(msg);
}

}  // namespace

Status Api::AllocateServiceAddresses(api::Document& svc, const api::Value* old_svc) {
  auto& a = svc.GetAllocator();
  std::string type = api::GetString(svc, "spec.type", "ClusterIP");
  std::string old_ip = old_svc ? api::GetString(*old_svc, "spec.clusterIP") : "";
  std::string ip = api::GetString(svc, "spec.clusterIP");
  std::vector<std::string> allocated_ips;
  std::vector<int> allocated_ports;
  auto rollback = [&] {
    for (auto& i : allocated_ips) ips_.Release(i);
    for (int p : allocated_ports) ports_.Release(p);
  };
  if (type == "ExternalName") {
    api::Remove(svc, "spec.clusterIP");
    api::Remove(svc, "spec.clusterIPs");
  } else if (ip == "None") {
    api::SetValue(svc, "spec.clusterIPs", api::Value(rapidjson::kArrayType), a);
    api::Ensure(svc, "spec", a)["clusterIPs"].PushBack(api::Str("None", a), a);
  } else if (!old_ip.empty() && old_ip != "None" && (ip.empty() || ip == old_ip)) {
    ip = old_ip;  // kept across updates
  } else {
    if (ip.empty()) {
      ASSIGN_OR_RETURN(ip, ips_.AllocateNext());
    } else {
      Status st = ips_.Allocate(ip);
      if (!st.ok()) {
        Status inv = Invalid("Service " + GoQuote(api::GetString(svc, "metadata.name")) +
                             " is invalid: spec.clusterIPs: Invalid value: [" + GoQuote(ip) +
                             "]: " + st.message());
        inv.mutable_details().causes.push_back({"FieldValueInvalid", st.message(), "spec.clusterIPs"});
        return inv;
      }
    }
    allocated_ips.push_back(ip);
  }
  if (type != "ExternalName" && ip != "None") {
    api::SetString(svc, "spec.clusterIP", ip, a);
    api::Value ips(rapidjson::kArrayType);
    ips.PushBack(api::Str(ip, a), a);
    api::SetValue(svc, "spec.clusterIPs", std::move(ips), a);
  } else if (ip == "None") {
    api::SetString(svc, "spec.clusterIP", "None", a);
  }
  bool wants_node_ports = type == "NodePort" || type == "LoadBalancer";
  api::Value* ports = api::FindMutable(svc, "spec.ports");
  if (ports != nullptr && ports->IsArray()) {
    for (size_t i = 0; i < ports->Size(); ++i) {
      api::Value& p = (*ports)[i];
      int64_t np = api::GetInt(p, "nodePort", 0);
      int64_t old_np = 0;
      if (old_svc != nullptr) {
        const api::Value* op = api::Find(*old_svc, "spec.ports");
        if (op != nullptr && op->IsArray() && i < op->Size()) old_np = api::GetInt((*op)[i], "nodePort", 0);
      }
      if (!wants_node_ports) {
        api::Remove(p, "nodePort");
        continue;
      }
      if (np == 0 && old_np != 0) {
        np = old_np;
      } else if (np == 0) {
        auto got = ports_.AllocateNext();
        if (!got.ok()) {
          rollback();
          return got.status();
        }
        np = *got;
        allocated_ports.push_back(static_cast<int>(np));
      } else if (np != old_np) {
        Status st = ports_.Allocate(static_cast<int>(np));
        if (!st.ok()) {
          rollback();
          std::string field = "spec.ports[" + std::to_string(i) + "].nodePort";
          Status inv = Invalid("Service " + GoQuote(api::GetString(svc, "metadata.name")) +
                               " is invalid: " + field + ": Invalid value: " +
                               std::to_string(np) + ": " + st.message());
          inv.mutable_details().causes.push_back({"FieldValueInvalid", st.message(), field});
          return inv;
        }
        allocated_ports.push_back(static_cast<int>(np));
      }
      api::SetInt(p, "nodePort", np, a);
    }
  }
  return Status::Ok();
}

// Releases what `svc` holds and `keep` (its successor, if any) does not.
void Api::ReleaseServiceAddresses(const api::Value& svc, const api::Value* keep) {
  std::string ip = api::GetString(svc, "spec.clusterIP");
  if (!ip.empty() && ip != "None" && (keep == nullptr || api::GetString(*keep, "spec.clusterIP") != ip)) {
    ips_.Release(ip);
  }
  std::set<int64_t> kept;
  if (keep != nullptr) {
    if (const api::Value* ps = api::Find(*keep, "spec.ports"); ps && ps->IsArray()) {
      for (auto& p : ps->GetArray()) kept.insert(api::GetInt(p, "nodePort", 0));
    }
  }
  if (const api::Value* ps = api::Find(svc, "spec.ports"); ps && ps->IsArray()) {
    for (auto& p : ps->GetArray()) {
      int64_t np = api::GetInt(p, "nodePort", 0);
      if (np != 0 && !kept.count(np)) ports_.Release(static_cast<int>(np));
    }
  }
}

std::shared_ptr<const AdmissionAttributes> Api::NodeAdmission(const http::Request& req,
                                                              const RequestInfo& info,
                                                              AdmissionOperation op) const {
  std::string node;
  if (!node_restriction_ || !NodeIdentity(req.user, req.groups, &node)) return nullptr;
  auto a = std::make_shared<AdmissionAttributes>();
  a->user = req.user;
  a->groups = req.groups;
  a->operation = op;
  a->api_group = info.resource->group;
  a->resource = info.resource->plural;
  a->subresource = info.subresource;
  a->ns = info.ns;
  a->name = info.name;
  return a;
}

Status Api::AdmitNode(const AdmissionAttributes& a) const {
  return AdmitNodeRestriction(a, [this](const std::string& resource, const std::string& ns,
                                        const std::string& name) {
    return storage_->Get(resource, ns, name);
  });
}

Status Api::AdmitRbacEscalation(const std::string& user, const std::vector<std::string>& groups,
                                const ResourceInfo& r, const std::string& ns,
                                const api::Value& object) const {
  constexpr const char* kRbacGroup = "rbac.authorization.k8s.io";
  if (r.group != kRbacGroup) return Status::Ok();
  if (std::find(groups.begin(), groups.end(), "system:masters") != groups.end()) return Status::Ok();
  bool binding = r.plural == "rolebindings" || r.plural == "clusterrolebindings";
  std::string name = api::GetString(object, "metadata.name");
  // The role whose rules are granted, and the verb that would allow it anyway.
  std::string role_kind = binding ? api::GetString(object, "roleRef.kind") : r.kind;
  std::string role_name = binding ? api::GetString(object, "roleRef.name") : name;
  Attributes shortcut;
  shortcut.user = user;
  shortcut.groups = groups;
  shortcut.verb = binding ? "bind" : "escalate";
  shortcut.resource_request = true;
  shortcut.api_group = kRbacGroup;
  shortcut.resource = role_kind == "ClusterRole" ? "clusterroles" : "roles";
  shortcut.ns = role_kind == "ClusterRole" ? "" : ns;
  shortcut.name = role_name;
  if (authorizer_->Authorize(shortcut).allowed) return Status::Ok();
  std::vector<PolicyRule> granted;
  if (binding) {
    auto rules = rbac_.RoleRules(role_kind, ns, role_name);
    if (rules == nullptr) {
      return Status(Code::kForbidden, r.plural + "." + kRbacGroup + " " + GoQuote(name) + " is forbidden: " +
                       (role_kind == "ClusterRole" ? "clusterroles" : "roles") + "." + kRbacGroup +
                       " " + GoQuote(role_name) + " not found");
    }
    granted = *rules;
  } else {
    granted = ParsePolicyRules(api::Find(object, "rules"));
  }
  std::string missing =
      FirstUncoveredRule(authorizer_->RulesFor(user, groups, ns).rules, granted);
  if (missing.empty()) return Status::Ok();
  std::string group_list;
  for (const auto& g : groups) group_list += (group_list.empty() ? "\"" : " \"") + g + "\"";
  return Status(Code::kForbidden, r.plural + "." + kRbacGroup + " " + GoQuote(name) + " is forbidden: user " +
                   GoQuote(user) + " (groups=[" + group_list + "]) is attempting to grant RBAC "
                   "permissions not currently held:\n" + missing);
}

Status Api::AdmitUpdate(const std::shared_ptr<const AdmissionAttributes>& na,
                        const api::Value& old_obj, const api::Value& new_obj) const {
  if (na == nullptr) return Status::Ok();
  AdmissionAttributes a = *na;
  a.old_object = &old_obj;
  a.object = &new_obj;
  return AdmitNode(a);
}

void Api::Create(const http::Request& req, const RequestInfo& info, const Writer& w,
                 const api::Value* managed_fields) {
  const ResourceInfo& r = *info.resource;
  auto body = DecodeBody(req);
  if (!body.ok()) return SendStatus(w, body.status());
  api::Document& doc = *body;
  if (!doc.IsObject()) return SendStatus(w, BadRequest("the request body must be a JSON object"));
  auto& a = doc.GetAllocator();
  // Clients may leave apiVersion/kind out (the Python client does): fill them from the URL.
  std::string api_version = api::GetString(doc, "apiVersion", r.ApiVersion());
  std::string kind = api::GetString(doc, "kind", r.kind);
  if (api_version != r.ApiVersion() || kind != r.kind) {
    return SendStatus(w, BadRequest("the API version in the data (" + api_version + ", " + kind +
                                    ") does not match the expected API version (" +
                                    r.ApiVersion() + ", " + r.kind + ")"));
  }
  api::SetString(doc, "apiVersion", api_version, a);
  api::SetString(doc, "kind", kind, a);
  std::vector<std::string> repeated;
  api::DropRepeatedMembers(doc, &repeated);
  if (IsStrict(req)) {
    if (auto st = CheckKnownFields(r, doc, repeated); !st.ok()) return SendStatus(w, st);
  }
  std::vector<std::string> warnings = FieldWarnings(req, r, doc, repeated);
  api::Ensure(doc, "metadata", a);
  std::string ns = info.ns;
  if (r.namespaced) {
    std::string body_ns = api::GetString(doc, "metadata.namespace");
    if (ns.empty()) ns = body_ns.empty() ? "default" : body_ns;
    if (!body_ns.empty() && body_ns != ns) {
      return SendStatus(w, BadRequest("the namespace of the provided object does not match "
                                      "the namespace sent on the request"));
    }
    api::SetString(doc, "metadata.namespace", ns, a);
  } else {
    api::Remove(doc, "metadata.namespace");
  }
  std::string name = api::GetString(doc, "metadata.name");
  std::string generate = api::GetString(doc, "metadata.generateName");
  if (name.empty() && !generate.empty()) {
    name = generate + util::RandomSuffix(5);
    api::SetString(doc, "metadata.name", name, a);
  }
  if (r.namespaced) {
    if (auto st = CheckNamespace(info, ns, name, true); !st.ok()) return SendStatus(w, st);
  }
  // Before defaulting, as upstream's admission sees a pod before the ServiceAccount
  // plugin names its account.
  if (auto na = NodeAdmission(req, info, AdmissionOperation::kCreate)) {
    AdmissionAttributes a = *na;
    a.ns = ns;
    a.name = name;
    a.object = &doc;
    if (auto st = AdmitNode(a); !st.ok()) return SendStatus(w, st);
  }
  if (auto st = AdmitRbacEscalation(req.user, req.groups, r, ns, doc); !st.ok()) {
    return SendStatus(w, st);
  }
  // Server-owned metadata.
  for (const char* f : {"metadata.resourceVersion", "metadata.uid", "metadata.deletionTimestamp",
                        "metadata.deletionGracePeriodSeconds", "metadata.managedFields",
                        "metadata.selfLink"}) {
    api::Remove(doc, f);
  }
  if (managed_fields != nullptr) {
    api::SetValue(doc, "metadata.managedFields", api::Copy(*managed_fields, a), a);
  }
  api::SetString(doc, "metadata.uid", util::NewUuid(), a);
  api::SetString(doc, "metadata.creationTimestamp", util::NowRfc3339(), a);
  api::SetInt(doc, "metadata.generation", 1, a);
  DropEmptyMetadata(doc);
  if (r.kind == "Pod" && r.group.empty()) {
    if (auto st = ResolvePriority(doc); !st.ok()) return SendStatus(w, st);
  }
  ApplyDefaults(r, doc);
  if (r.kind == "Pod" && r.group.empty()) AdmitServiceAccount(doc, ns);
  if (r.kind == "PersistentVolumeClaim" && r.group.empty()) AdmitDefaultStorageClass(doc);
  if (auto st = ValidateCreate(r, doc); !st.ok()) return SendStatus(w, st);
  PrepareForCreate(r, doc);
  if (auto st = CheckSize(doc); !st.ok()) return SendStatus(w, st);
  bool dry_run = IsDryRun(req);
  bool is_service = r.plural == "services" && r.group.empty();
  if (is_service && !dry_run) {
    if (auto st = AllocateServiceAddresses(doc, nullptr); !st.ok()) return SendStatus(w, st);
  }
  if (dry_run) {
    auto obj = std::make_shared<StoredObject>();
    obj->resource = r.QualifiedName();
    obj->json = api::ToJson(doc);
    return SendObject(req, w, 201, obj);
  }
  Write write;
  write.kind = Write::Kind::kCreate;
  write.resource = r.QualifiedName();
  write.ns = ns;
  write.name = name;
  api::Document keep;
  if (is_service) keep = api::Clone(doc);
  write.object = std::move(doc);
  auto respond = Respond(req, w, 201, std::move(warnings));
  storage_->Submit(std::move(write), [this, is_service, keep = std::make_shared<api::Document>(std::move(keep)), respond, &r, name](Result<ObjectPtr> res) {
    if (!res.ok() && is_service) ReleaseServiceAddresses(*keep, nullptr);
    if (!res.ok() && res.status().code() == Code::kAlreadyExists) {
      return respond(Status(Code::kAlreadyExists,
                            r.QualifiedName() + " " + GoQuote(name) + " already exists")
                         .WithDetails(name, r.group, r.plural));
    }
    respond(std::move(res));
  });
}

Status Api::ResolvePriority(api::Document& pod) {
  static const std::string kPriorityClasses = "priorityclasses.scheduling.k8s.io";
  auto& a = pod.GetAllocator();
  std::string name = api::GetString(pod, "spec.priorityClassName");
  ObjectPtr cls;
  if (name.empty()) {
    for (const auto& c : storage_->List(kPriorityClasses, "", {}, 0, nullptr).items) {
      auto d = api::ParseJson(c->json);
      if (d.ok() && api::GetBool(*d, "globalDefault")) cls = c;
    }
    if (cls == nullptr) return Status::Ok();
    name = cls->name;
    api::SetString(pod, "spec.priorityClassName", name, a);
  } else {
    cls = storage_->Get(kPriorityClasses, "", name);
  }
  std::string pod_name = api::GetString(pod, "metadata.name");
  if (cls == nullptr) {
    return Status(Code::kForbidden, "pods " + GoQuote(pod_name) +
                                        " is forbidden: no PriorityClass with name " + name +
                                        " was found");
  }
  auto c = api::ParseJson(cls->json);
  if (!c.ok()) return Internal("stored PriorityClass is corrupt");
  int64_t value = api::GetInt(*c, "value", 0);
  if (api::Has(pod, "spec.priority") && api::GetInt(pod, "spec.priority", value) != value) {
    return Status(Code::kForbidden,
                  "pods " + GoQuote(pod_name) + " is forbidden: the integer value of priority (" +
                      std::to_string(api::GetInt(pod, "spec.priority", 0)) +
                      ") must not be provided in pod spec; priority admission controller "
                      "computed " + std::to_string(value) + " from the given PriorityClass name");
  }
  api::SetInt(pod, "spec.priority", value, a);
  api::SetString(pod, "spec.preemptionPolicy",
                 api::GetString(*c, "preemptionPolicy", "PreemptLowerPriority"), a);
  return Status::Ok();
}

void Api::AdmitDefaultStorageClass(api::Document& pvc) {
  if (api::Has(pvc, "spec.storageClassName")) return;
  std::string best, best_created;
  for (const auto& c : storage_->List("storageclasses.storage.k8s.io", "", {}, 0, nullptr).items) {
    auto d = api::ParseJson(c->json);
    if (!d.ok()) continue;
    auto annotations = api::GetStringMap(*d, "metadata.annotations");
    if (annotations["storageclass.kubernetes.io/is-default-class"] != "true" &&
        annotations["storageclass.beta.kubernetes.io/is-default-class"] != "true") {
      continue;
    }
    // RFC 3339 UTC timestamps order as strings; ties go to the name, as upstream.
    std::string created = api::GetString(*d, "metadata.creationTimestamp");
    if (best.empty() || created > best_created || (created == best_created && c->name < best)) {
      best = c->name;
      best_created = created;
    }
  }
  if (!best.empty()) api::SetString(pvc, "spec.storageClassName", best, pvc.GetAllocator());
}

Status Api::PrepareUpdate(const ResourceInfo& r, const std::string& subresource,
                          const api::Value& old_doc, api::Document& doc) {
  auto& a = doc.GetAllocator();
  if (!doc.IsObject()) return BadRequest("the request body must be a JSON object");
  std::string api_version = api::GetString(doc, "apiVersion", r.ApiVersion());
  std::string kind = api::GetString(doc, "kind", r.kind);
  if (api_version != r.ApiVersion() || kind != r.kind) {
    return BadRequest("the API version in the data (" + api_version + ", " + kind +
                      ") does not match the expected API version (" + r.ApiVersion() + ", " +
                      r.kind + ")");
  }
  api::SetString(doc, "apiVersion", api_version, a);
  api::SetString(doc, "kind", kind, a);
  std::string name = api::GetString(old_doc, "metadata.name");
  std::string body_name = api::GetString(doc, "metadata.name");
  if (!body_name.empty() && body_name != name) {
    return BadRequest("the name of the object (" + body_name +
                      ") does not match the name on the URL (" + name + ")");
  }
  std::string ns = api::GetString(old_doc, "metadata.namespace");
  std::string body_ns = api::GetString(doc, "metadata.namespace");
  if (!body_ns.empty() && body_ns != ns) {
    return BadRequest("the namespace of the provided object does not match the namespace "
                      "sent on the request");
  }
  if (subresource == "status") {
    // Only status changes through the status subresource.
    api::Document next = api::Clone(old_doc);
    CopyMember(next, doc, "status");
    doc.CopyFrom(next, a);  // not Swap: that would hand `a` (doc's allocator) to `next`
  } else if (subresource == "finalize") {
    api::Document next = api::Clone(old_doc);
    CopyMember(next, doc, "spec.finalizers");
    doc.CopyFrom(next, a);  // not Swap: that would hand `a` (doc's allocator) to `next`
  } else if (r.HasStatus()) {
    // The main resource ignores status changes.
    CopyMember(doc, old_doc, "status");
  }
  api::SetString(doc, "metadata.name", name, a);
  if (!ns.empty()) api::SetString(doc, "metadata.namespace", ns, a);
  for (const char* f : {"metadata.uid", "metadata.creationTimestamp", "metadata.deletionTimestamp",
                        "metadata.deletionGracePeriodSeconds"}) {
    CopyMember(doc, old_doc, f);
  }
  api::Remove(doc, "metadata.resourceVersion");
  // Kept as the writer sent them (server-side apply rewrites them; a client may clear
  // them with []), else as they were.
  if (!api::Has(doc, "metadata.managedFields")) CopyMember(doc, old_doc, "metadata.managedFields");
  DropEmptyMetadata(doc);
  int64_t generation = api::GetInt(old_doc, "metadata.generation", 1);
  if (subresource.empty() && SpecChanged(old_doc, doc)) ++generation;
  api::SetInt(doc, "metadata.generation", generation, a);
  ApplyDefaults(r, doc);
  RETURN_IF_ERROR(ValidateUpdate(r, doc, old_doc));
  return CheckSize(doc);
}

void Api::GuaranteedUpdate(const RequestInfo& info, const std::string& ns,
                           const std::string& name, bool dry_run, Mutator mutate, Done done,
                           int attempts) {
  const ResourceInfo& r = *info.resource;
  ObjectPtr cur = storage_->Get(r.QualifiedName(), ns, name);
  if (cur == nullptr) {
    Status unreadable = storage_->Unreadable(r.QualifiedName(), ns, name);
    return done(unreadable.ok() ? NotFoundStatus(r, name) : unreadable);
  }
  auto cur_doc = api::ParseJson(cur->json);
  if (!cur_doc.ok()) return done(Internal("stored object is corrupt: " + cur_doc.status().message()));
  api::Document old_copy = api::Clone(*cur_doc);
  auto next = mutate(*cur, std::move(*cur_doc));
  if (!next.ok()) return done(std::move(next).take_status());
  api::Document& doc = *next;
  bool is_service = r.plural == "services" && r.group.empty();
  if (is_service && !dry_run) {
    if (auto st = AllocateServiceAddresses(doc, &old_copy); !st.ok()) return done(st);
  }
  if (dry_run) {
    // What the update would store, at the revision it would replace (as upstream).
    api::SetString(doc, "metadata.resourceVersion", std::to_string(cur->rv), doc.GetAllocator());
    auto obj = std::make_shared<StoredObject>();
    obj->resource = r.QualifiedName();
    obj->json = api::ToJson(doc);
    return done(ObjectPtr(obj));
  }
  Write write;
  write.resource = r.QualifiedName();
  write.ns = ns;
  write.name = name;
  write.expected_rv = cur->rv;
  // The last finalizer gone from an object marked for deletion: it goes away now.
  bool finish_delete = api::Has(doc, "metadata.deletionTimestamp") && !HasFinalizers(doc) &&
                       !(r.plural == "pods" && r.group.empty());
  write.kind = finish_delete ? Write::Kind::kDelete : Write::Kind::kUpdate;
  auto new_copy = std::make_shared<api::Document>();
  if (is_service) *new_copy = api::Clone(doc);
  auto old_shared = std::make_shared<api::Document>(std::move(old_copy));
  write.object = std::move(doc);
  storage_->Submit(std::move(write), [=, this](Result<ObjectPtr> res) {
    if (is_service) {
      if (res.ok()) {
        ReleaseServiceAddresses(*old_shared, finish_delete ? nullptr : new_copy.get());
      } else {
        ReleaseServiceAddresses(*new_copy, old_shared.get());
      }
    }
    if (!res.ok() && res.status().code() == Code::kConflict && attempts > 1) {
      // Another writer won the race with our read: read again and redo.
      return GuaranteedUpdate(info, ns, name, dry_run, mutate, done, attempts - 1);
    }
    done(std::move(res));
  });
}

// The user's own resourceVersion precondition (from a PUT body or a patch).
static Status CheckUserPrecondition(const api::Value& doc, const StoredObject& cur,
                                    const ResourceInfo& r) {
  std::string rv = api::GetString(doc, "metadata.resourceVersion");
  if (!rv.empty() && rv != std::to_string(cur.rv)) {
    return Conflict("Operation cannot be fulfilled on " + r.QualifiedName() + " " +
                    GoQuote(cur.name) +
                    ": the object has been modified; please apply your changes to the latest "
                    "version and try again")
        .WithDetails(cur.name, r.group, r.plural);
  }
  return Status::Ok();
}

namespace {

std::string ScaleJson(const api::Value& obj) {
  std::string selector;
  auto sel = api::LabelSelector::FromJson(api::Find(obj, "spec.selector"));
  if (sel.ok()) selector = sel->ToString();
  api::Document s;
  s.SetObject();
  auto& a = s.GetAllocator();
  api::SetString(s, "kind", "Scale", a);
  api::SetString(s, "apiVersion", "autoscaling/v1", a);
  for (const char* f : {"name", "namespace", "uid", "resourceVersion", "creationTimestamp"}) {
    std::string path = std::string("metadata.") + f;
    if (api::Has(obj, path)) api::SetString(s, path, api::GetString(obj, path), a);
  }
  api::SetInt(s, "spec.replicas", api::GetInt(obj, "spec.replicas", 0), a);
  api::SetInt(s, "status.replicas", api::GetInt(obj, "status.replicas", 0), a);
  if (!selector.empty()) api::SetString(s, "status.selector", selector, a);
  return api::ToJson(s);
}

}  // namespace

void Api::GetScale(const http::Request& req, const RequestInfo& info, const Writer& w) {
  auto obj = storage_->Get(info.resource->QualifiedName(), info.ns, info.name);
  if (obj == nullptr) return SendStatus(w, NotFoundStatus(*info.resource, info.name));
  auto doc = api::ParseJson(obj->json);
  if (!doc.ok()) return SendStatus(w, doc.status());
  SendJson(req, w, 200, ScaleJson(*doc));
}

Result<api::Document> Api::Rescale(const ResourceInfo& r, const StoredObject& cur,
                                   api::Document doc, const api::Value& scale) {
  RETURN_IF_ERROR(CheckUserPrecondition(scale, cur, r));
  int64_t replicas = api::GetInt(scale, "spec.replicas", -1);
  if (replicas < 0) {
    return Invalid("Scale.autoscaling " + GoQuote(cur.name) +
                   " is invalid: spec.replicas: Invalid value: " + std::to_string(replicas) +
                   ": must be greater than or equal to 0");
  }
  api::Document next = api::Clone(doc);
  api::SetInt(next, "spec.replicas", replicas, next.GetAllocator());
  RETURN_IF_ERROR(PrepareUpdate(r, "", doc, next));
  return next;
}

Api::Done Api::RespondScale(const http::Request& req, const Writer& w, const ResourceInfo& r) {
  http::Request slim;
  slim.headers = req.headers;
  return [this, slim = std::move(slim), w, &r](Result<ObjectPtr> res) {
    if (!res.ok()) return SendStatus(w, res.status());
    auto d = api::ParseJson((*res)->json);
    SendJson(slim, w, 200, d.ok() ? ScaleJson(*d) : (*res)->json);
  };
}

void Api::Update(const http::Request& req, const RequestInfo& info, const Writer& w) {
  auto body = DecodeBody(req);
  if (!body.ok()) return SendStatus(w, body.status());
  // Checked before the lookup, as upstream: a mismatch is the client's mistake, not a 404.
  if (std::string n = api::GetString(*body, "metadata.name"); !n.empty() && n != info.name &&
                                                                info.subresource != "scale") {
    return SendStatus(w, BadRequest("the name of the object (" + n +
                                    ") does not match the name on the URL (" + info.name + ")"));
  }
  std::vector<std::string> warnings, repeated;
  api::DropRepeatedMembers(*body, &repeated);
  if (info.subresource.empty()) {
    if (IsStrict(req)) {
      if (auto st = CheckKnownFields(*info.resource, *body, repeated); !st.ok()) return SendStatus(w, st);
    }
    warnings = FieldWarnings(req, *info.resource, *body, repeated);
  }
  auto shared_body = std::make_shared<api::Document>(std::move(*body));
  const ResourceInfo& r = *info.resource;
  std::string sub = info.subresource;
  Done done = Respond(req, w, 200, std::move(warnings));
  if (sub == "scale") {
    return GuaranteedUpdate(
        info, info.ns, info.name, IsDryRun(req),
        [this, shared_body, &r](const StoredObject& cur, api::Document doc) -> Result<api::Document> {
          if (!api::Has(*shared_body, "spec.replicas")) {
            return Invalid("Scale.autoscaling " + GoQuote(cur.name) +
                           " is invalid: spec.replicas: Required value");
          }
          return Rescale(r, cur, std::move(doc), *shared_body);
        },
        RespondScale(req, w, r));
  }
  auto admission = NodeAdmission(req, info, AdmissionOperation::kUpdate);
  GuaranteedUpdate(
      info, info.ns, info.name, IsDryRun(req),
      [this, shared_body, &r, sub, admission, user = req.user, groups = req.groups](
          const StoredObject& cur, api::Document doc) -> Result<api::Document> {
        RETURN_IF_ERROR(CheckUserPrecondition(*shared_body, cur, r));
        api::Document next = api::Clone(*shared_body);
        RETURN_IF_ERROR(PrepareUpdate(r, sub, doc, next));
        RETURN_IF_ERROR(AdmitUpdate(admission, doc, next));
        RETURN_IF_ERROR(AdmitRbacEscalation(user, groups, r, cur.ns, next));
        return next;
      },
      done);
}

void Api::Patch(const http::Request& req, const RequestInfo& info, const Writer& w) {
  std::string_view ct = req.Header("content-type");
  std::string type;
  if (ct.find("application/json-patch+json") != std::string_view::npos) {
    type = "json";
  } else if (ct.find("application/merge-patch+json") != std::string_view::npos) {
    type = "merge";
  } else if (ct.find("application/strategic-merge-patch+json") != std::string_view::npos) {
    type = "strategic";
  } else if (ct.find("application/apply-patch+yaml") != std::string_view::npos) {
    type = "apply";
  } else {
    return SendStatus(w, Status(Code::kUnsupportedMedia,
                                "the body of the request was in an unknown format - accepted "
                                "media types include: application/json-patch+json, "
                                "application/merge-patch+json, "
                                "application/apply-patch+yaml, "
                                "application/strategic-merge-patch+json"));
  }
  Result<api::Document> parsed = type == "apply" ? api::ParseJsonOrYaml(req.body)
                                                 : api::ParseJson(req.body);
  if (req.body.empty()) parsed = BadRequest("the request body is empty");
  if (!parsed.ok()) return SendStatus(w, parsed.status());
  // A field repeated in the patch: the last counts; Strict refuses it, as upstream.
  std::vector<std::string> repeated;
  api::DropRepeatedMembers(*parsed, &repeated);
  if (!repeated.empty() && IsStrict(req)) {
    return SendStatus(w, BadRequest("strict decoding error: duplicate field \"" + repeated[0] + "\""));
  }
  auto patch = std::make_shared<api::Document>(std::move(*parsed));
  const ResourceInfo& r = *info.resource;
  std::string sub = info.subresource;
  bool dry_run = IsDryRun(req);
  std::string manager = req.Query("fieldManager");
  bool force = IsTrue(req.Query("force"));
  if (type == "apply") {
    if (manager.empty()) {
      return SendStatus(w, Invalid("PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: "
                                   "Required value: is required for apply patch"));
    }
    if (!patch->IsObject()) return SendStatus(w, BadRequest("the apply configuration must be an object"));
  } else if (force) {
    return SendStatus(w, Invalid("PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: "
                                 "may not be specified for non-apply patch"));
  }

  // Server-side apply of a missing object creates it.
  if (type == "apply" && sub.empty() &&
      storage_->Get(r.QualifiedName(), info.ns, info.name) == nullptr) {
    http::Request create = req;
    create.headers["content-type"] = "application/json";
    create.body = api::ToJson(*patch);
    RequestInfo ci = info;
    ci.name.clear();
    api::Document owned;
    SetAppliedFields(owned, *patch, r.kind, manager, r.ApiVersion(), util::NowRfc3339());
    return Create(create, ci, w, api::Find(owned, "metadata.managedFields"));
  }
  auto apply = [type, patch, &r, manager, force](api::Document& target) -> Status {
    if (type == "json") return ApplyJsonPatch(target, *patch);
    if (type == "merge") return ApplyMergePatch(target, *patch);
    if (type == "apply") {
      return ServerSideApply(target, *patch, r.kind, manager, force, r.ApiVersion(),
                             util::NowRfc3339());
    }
    return ApplyStrategicMergePatch(target, *patch, r.kind);
  };
  if (sub == "scale") {
    return GuaranteedUpdate(
        info, info.ns, info.name, dry_run,
        [this, apply, &r](const StoredObject& cur, api::Document doc) -> Result<api::Document> {
          auto scale = api::ParseJson(ScaleJson(doc));
          if (!scale.ok()) return scale.status();
          RETURN_IF_ERROR(apply(*scale));
          return Rescale(r, cur, std::move(doc), *scale);
        },
        RespondScale(req, w, r));
  }
  bool strict = IsStrict(req);
  auto admission = NodeAdmission(req, info, AdmissionOperation::kUpdate);
  GuaranteedUpdate(
      info, info.ns, info.name, dry_run,
      [this, apply, patch, &r, sub, strict, admission, user = req.user, groups = req.groups](
          const StoredObject& cur, api::Document doc) -> Result<api::Document> {
        RETURN_IF_ERROR(CheckUserPrecondition(*patch, cur, r));
        api::Document next = api::Clone(doc);
        RETURN_IF_ERROR(apply(next));
        // JSON patch add/move can nest deeper than any body ParseJson would accept.
        if (!api::WithinMaxDepth(next)) {
          return Invalid("the patched object nests deeper than " +
                         std::to_string(api::kMaxJsonDepth) + " levels");
        }
        if (strict && sub.empty()) RETURN_IF_ERROR(CheckKnownFields(r, next));
        // The patch may not move the object: a changed rv in the result is a precondition.
        api::SetString(next, "metadata.resourceVersion", std::to_string(cur.rv), next.GetAllocator());
        RETURN_IF_ERROR(PrepareUpdate(r, sub, doc, next));
        RETURN_IF_ERROR(AdmitUpdate(admission, doc, next));
        RETURN_IF_ERROR(AdmitRbacEscalation(user, groups, r, cur.ns, next));
        return next;
      },
      Respond(req, w, 200));
}

void Api::DeleteObject(const RequestInfo& info, const std::string& ns, const std::string& name,
                       const api::Value* options, bool dry_run, Done done) {
  const ResourceInfo& r = *info.resource;
  ObjectPtr cur = storage_->Get(r.QualifiedName(), ns, name);
  if (cur == nullptr) {
    Status unreadable = storage_->Unreadable(r.QualifiedName(), ns, name);
    return done(unreadable.ok() ? NotFoundStatus(r, name) : unreadable);
  }
  auto doc = api::ParseJson(cur->json);
  if (!doc.ok()) return done(Internal("stored object is corrupt"));
  if (options != nullptr) {
    std::string want_uid = api::GetString(*options, "preconditions.uid");
    if (!want_uid.empty() && want_uid != api::GetString(*doc, "metadata.uid")) {
      return done(Conflict("Precondition failed: UID in precondition: " + want_uid +
                           ", UID in object meta: " + api::GetString(*doc, "metadata.uid")));
    }
    std::string want_rv = api::GetString(*options, "preconditions.resourceVersion");
    if (!want_rv.empty() && want_rv != std::to_string(cur->rv)) {
      return done(Conflict("Precondition failed: ResourceVersion in precondition: " + want_rv +
                           ", ResourceVersion in object meta: " + std::to_string(cur->rv)));
    }
  }
  std::string policy = options ? api::GetString(*options, "propagationPolicy") : "";
  if (policy.empty() && options && api::Has(*options, "orphanDependents")) {
    policy = api::GetBool(*options, "orphanDependents") ? "Orphan" : "Background";
  }
  if (!policy.empty() && policy != "Orphan" && policy != "Background" && policy != "Foreground") {
    return done(BadRequest("propagationPolicy must be Orphan, Background or Foreground, not " +
                           GoQuote(policy)));
  }
  bool is_pod = r.plural == "pods" && r.group.empty();
  bool is_namespace = r.plural == "namespaces";
  int64_t grace = is_pod ? PodGracePeriod(*doc, options) : 0;
  std::string finalizer = policy == "Foreground" ? "foregroundDeletion"
                          : policy == "Orphan"   ? "orphan"
                                                 : "";
  bool mark_only = HasFinalizers(*doc) || grace > 0 || !finalizer.empty();
  if (!mark_only) {
    if (dry_run) return done(cur);
    Write write;
    write.kind = Write::Kind::kDelete;
    write.resource = r.QualifiedName();
    write.ns = ns;
    write.name = name;
    write.expected_rv = cur->rv;
    bool is_service = r.plural == "services" && r.group.empty();
    auto old = std::make_shared<api::Document>(std::move(*doc));
    storage_->Submit(std::move(write), [=, this](Result<ObjectPtr> res) {
      if (res.ok() && is_service) ReleaseServiceAddresses(*old, nullptr);
      if (!res.ok() && res.status().code() == Code::kConflict) {
        return DeleteObject(info, ns, name, nullptr, dry_run, done);  // raced: retry
      }
      done(std::move(res));
    });
    return;
  }
  // Mark for deletion; the kubelet (pods), a controller (namespaces, finalizers) or the
  // garbage collector (foreground/orphan) finishes it.
  GuaranteedUpdate(
      info, ns, name, dry_run,
      [=](const StoredObject&, api::Document d) -> Result<api::Document> {
        auto& a = d.GetAllocator();
        if (!api::Has(d, "metadata.deletionTimestamp")) {
          api::SetString(d, "metadata.deletionTimestamp", util::FormatRfc3339(util::NowUnix() + grace), a);
          api::SetInt(d, "metadata.deletionGracePeriodSeconds", grace, a);
        } else if (is_pod && grace < api::GetInt(d, "metadata.deletionGracePeriodSeconds", 30)) {
          // A shorter grace period shortens a pending graceful deletion.
          api::SetString(d, "metadata.deletionTimestamp", util::FormatRfc3339(util::NowUnix() + grace), a);
          api::SetInt(d, "metadata.deletionGracePeriodSeconds", grace, a);
        }
        if (!finalizer.empty()) {
          api::Value& meta = api::Ensure(d, "metadata", a);
          if (!meta.HasMember("finalizers") || !meta["finalizers"].IsArray()) {
            meta.RemoveMember("finalizers");
            meta.AddMember("finalizers", api::Value(rapidjson::kArrayType), a);
          }
          bool present = false;
          for (auto& f : meta["finalizers"].GetArray()) present |= api::View(f) == finalizer;
          if (!present) meta["finalizers"].PushBack(api::Str(finalizer, a), a);
        }
        if (is_namespace) api::SetString(d, "status.phase", "Terminating", a);
        // Written as is: no pipeline, the object's content does not change.
        api::Remove(d, "metadata.resourceVersion");
        return d;
      },
      done);
}

void Api::Delete(const http::Request& req, const RequestInfo& info, const Writer& w) {
  std::shared_ptr<api::Document> options;
  if (!req.body.empty()) {
    auto body = DecodeBody(req);
    if (!body.ok()) return SendStatus(w, body.status());
    options = std::make_shared<api::Document>(std::move(*body));
  }
  if (auto g = req.Query("gracePeriodSeconds"); !g.empty()) {
    if (!options) {
      options = std::make_shared<api::Document>();
      options->SetObject();
    }
    api::SetInt(*options, "gracePeriodSeconds", std::atoll(g.c_str()), options->GetAllocator());
  }
  if (auto p = req.Query("propagationPolicy"); !p.empty()) {
    if (!options) {
      options = std::make_shared<api::Document>();
      options->SetObject();
    }
    api::SetString(*options, "propagationPolicy", p, options->GetAllocator());
  }
  bool dry_run = IsDryRun(req) ||
                 (options && api::Find(*options, "dryRun") && api::Find(*options, "dryRun")->IsArray() &&
                  !api::Find(*options, "dryRun")->Empty());
  if (auto na = NodeAdmission(req, info, AdmissionOperation::kDelete)) {
    if (auto st = AdmitNode(*na); !st.ok()) return SendStatus(w, st);
  }
  auto respond = Respond(req, w, 200);
  DeleteObject(info, info.ns, info.name, options.get(), dry_run,
               [respond, options](Result<ObjectPtr> r) { respond(std::move(r)); });
}

void Api::DeleteCollection(const http::Request& req, const RequestInfo& info, const Writer& w) {
  http::Request list_req = req;
  auto sel = api::LabelSelector::Parse(req.Query("labelSelector"));
  if (!sel.ok()) return SendStatus(w, sel.status());
  std::optional<api::FieldSelector> fields;
  if (auto f = req.Query("fieldSelector"); !f.empty()) {
    auto fs = api::FieldSelector::Parse(f);
    if (!fs.ok()) return SendStatus(w, fs.status());
    fields = std::move(*fs);
  }
  auto items = storage_->List(info.resource->QualifiedName(), info.ns, {}, 0, nullptr).items;
  std::vector<ObjectPtr> victims;
  for (auto& o : items) {
    if (!sel->Matches(o->labels)) continue;
    if (fields && !fields->Matches([&](std::string_view f) { return o->Field(f); })) continue;
    victims.push_back(o);
  }
  // As upstream, admission sees the deletion of each object.
  if (auto na = NodeAdmission(req, info, AdmissionOperation::kDelete)) {
    for (auto& v : victims) {
      AdmissionAttributes a = *na;
      a.ns = v->ns;
      a.name = v->name;
      if (auto st = AdmitNode(a); !st.ok()) return SendStatus(w, st);
    }
  }
  bool dry_run = IsDryRun(req);
  struct State {
    std::mutex mu;
    size_t left;
    Status first_error;
  };
  auto state = std::make_shared<State>();
  state->left = victims.size();
  const ResourceInfo& r = *info.resource;
  auto finish = [this, w, &r, state] {
    if (!state->first_error.ok()) return SendStatus(w, state->first_error);
    http::Response resp;
    resp.body = R"({"kind":")" + r.kind + R"(List","apiVersion":")" + r.ApiVersion() +
                R"(","metadata":{},"items":[]})";
    w->Send(std::move(resp));
  };
  if (victims.empty()) return finish();
  for (auto& v : victims) {
    DeleteObject(info, v->ns, v->name, nullptr, dry_run, [state, finish](Result<ObjectPtr> res) {
      std::lock_guard<std::mutex> l(state->mu);
      if (!res.ok() && res.status().code() != Code::kNotFound && state->first_error.ok()) {
        state->first_error = res.status();
      }
      if (--state->left == 0) finish();
    });
  }
}

void Api::Binding(const http::Request& req, const RequestInfo& info, const Writer& w) {
  auto body = DecodeBody(req);
  if (!body.ok()) return SendStatus(w, body.status());
  std::string node = api::GetString(*body, "target.name");
  std::string target_kind = api::GetString(*body, "target.kind", "Node");
  if (node.empty() || target_kind != "Node") {
    Status st = Invalid("Binding " + GoQuote(info.name) + " is invalid: target.name: Required value");
    st.mutable_details().causes.push_back({"FieldValueRequired", "Required value", "target.name"});
    return SendStatus(w, st);
  }
  if (auto na = NodeAdmission(req, info, AdmissionOperation::kCreate)) {
    AdmissionAttributes a = *na;
    a.object = &*body;
    if (auto st = AdmitNode(a); !st.ok()) return SendStatus(w, st);
  }
  std::string want_uid = api::GetString(*body, "metadata.uid");
  GuaranteedUpdate(
      info, info.ns, info.name, IsDryRun(req),
      [node, want_uid](const StoredObject& cur, api::Document d) -> Result<api::Document> {
        if (!want_uid.empty() && want_uid != api::GetString(d, "metadata.uid")) {
          return Conflict("Operation cannot be fulfilled on pods/binding " + GoQuote(cur.name) +
                          ": the UID in the binding does not match the pod's");
        }
        if (api::Has(d, "metadata.deletionTimestamp")) {
          return Conflict("Operation cannot be fulfilled on pods/binding " + GoQuote(cur.name) +
                          ": pod " + cur.name + " is being deleted, cannot be assigned to a host");
        }
        std::string bound = api::GetString(d, "spec.nodeName");
        if (!bound.empty()) {
          return Conflict("Operation cannot be fulfilled on pods/binding " + GoQuote(cur.name) +
                          ": pod " + cur.name + " is already assigned to node " + GoQuote(bound))
              .WithDetails(cur.name, "", "pods/binding");
        }
        auto& a = d.GetAllocator();
        api::SetString(d, "spec.nodeName", node, a);
        // As upstream's binding storage: PodScheduled=True replaces any earlier verdict.
        api::Value& status = api::Ensure(d, "status", a);
        if (!status.HasMember("conditions") || !status["conditions"].IsArray()) {
          status.RemoveMember("conditions");
          status.AddMember("conditions", api::Value(rapidjson::kArrayType), a);
        }
        api::Value& conds = status["conditions"];
        for (auto it = conds.Begin(); it != conds.End();) {
          it = api::GetString(*it, "type") == "PodScheduled" ? conds.Erase(it) : it + 1;
        }
        api::Value cond(rapidjson::kObjectType);
        cond.AddMember("type", "PodScheduled", a);
        cond.AddMember("status", "True", a);
        cond.AddMember("lastProbeTime", api::Value(), a);
        cond.AddMember("lastTransitionTime", api::Str(util::NowRfc3339(), a), a);
        conds.PushBack(std::move(cond), a);
        api::Remove(d, "metadata.resourceVersion");
        return d;
      },
      [this, w](Result<ObjectPtr> res) {
        if (!res.ok()) return SendStatus(w, res.status());
        http::Response resp;
        resp.status = 201;
        resp.body = Status().ToJson();
        w->Send(std::move(resp));
      });
}

void Api::Eviction(const http::Request& req, const RequestInfo& info, const Writer& w) {
  std::shared_ptr<api::Document> options;
  api::Document eviction;
  if (!req.body.empty()) {
    auto body = DecodeBody(req);
    if (!body.ok()) return SendStatus(w, body.status());
    eviction = std::move(*body);
    if (const api::Value* d = api::Find(eviction, "deleteOptions"); d && d->IsObject()) {
      options = std::make_shared<api::Document>(api::Clone(*d));
    }
  }
  if (auto na = NodeAdmission(req, info, AdmissionOperation::kCreate)) {
    AdmissionAttributes a = *na;
    if (eviction.IsObject()) a.object = &eviction;
    if (auto st = AdmitNode(a); !st.ok()) return SendStatus(w, st);
  }
  DeleteObject(info, info.ns, info.name, options.get(), IsDryRun(req),
               [this, w, options](Result<ObjectPtr> res) {
                 if (!res.ok()) return SendStatus(w, res.status());
                 http::Response resp;
                 resp.status = 201;
                 resp.body = Status().ToJson();
                 w->Send(std::move(resp));
               });
}

}  // namespace kubepp::apiserver
