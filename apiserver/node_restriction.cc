#include "apiserver/node_restriction.h"

#include <map>
#include <set>

#include "apiserver/node_authorizer.h"
#include "apiserver/serviceaccount_token.h"

namespace kubepp::apiserver {

namespace {

std::string Q(const std::string& s) { return "\"" + s + "\""; }

const char* OperationName(AdmissionOperation op) {
  switch (op) {
    case AdmissionOperation::kCreate: return "CREATE";
    case AdmissionOperation::kUpdate: return "UPDATE";
    case AdmissionOperation::kDelete: return "DELETE";
  }
  return "";
}

// admission.NewForbidden: `<resource>[.<group>] ["<name>"] is forbidden: <why>`.
Status Forbidden(const AdmissionAttributes& a, const std::string& why) {
  std::string qualified = a.api_group.empty() ? a.resource : a.resource + "." + a.api_group;
  std::string name = a.name;
  if (name.empty() && a.object != nullptr) name = api::GetString(*a.object, "metadata.name");
  std::string message = name.empty() ? qualified + " is forbidden: " + why
                                      : qualified + " " + Q(name) + " is forbidden: " + why;
  return Status(Code::kForbidden, std::move(message)).WithDetails(name, a.api_group, a.resource);
}

// The stored object, parsed; NotFound as the registry says it.
Result<api::Document> Lookup(const AdmissionGetter& get, const std::string& resource,
                             const std::string& ns, const std::string& name) {
  ObjectPtr o = get(resource, ns, name);
  if (o == nullptr) {
    return NotFound(resource + " " + Q(name) + " not found").WithDetails(name, "", resource);
  }
  auto doc = api::ParseJson(o->json);
  if (!doc.ok() || !doc->IsObject()) return Internal("stored " + resource + " is corrupt");
  return std::move(*doc);
}

// Nil, null and empty lists compare equal, as upstream's semantic equality.
std::string Canonical(const api::Value& obj, std::string_view path) {
  const api::Value* v = api::Find(obj, path);
  if (v == nullptr || v->IsNull() || (v->IsArray() && v->Empty())) return "";
  return api::ToJson(*v);
}

std::string LabelNamespace(const std::string& key) {
  size_t slash = key.find('/');
  return slash == std::string::npos ? "" : key.substr(0, slash);
}

bool InNamespace(const std::string& ns, const std::string& domain) {
  return ns == domain ||
         (ns.size() > domain.size() + 1 && ns.compare(ns.size() - domain.size(), domain.size(), domain) == 0 &&
          ns[ns.size() - domain.size() - 1] == '.');
}

// k8s.io/kubelet/pkg/apis IsKubeletLabel.
bool IsKubeletLabel(const std::string& key) {
  static const std::set<std::string> kLabels = {
      "kubernetes.io/hostname",
      "topology.kubernetes.io/zone",
      "topology.kubernetes.io/region",
      "failure-domain.beta.kubernetes.io/zone",
      "failure-domain.beta.kubernetes.io/region",
      "beta.kubernetes.io/instance-type",
      "node.kubernetes.io/instance-type",
      "kubernetes.io/os",
      "kubernetes.io/arch",
      "beta.kubernetes.io/os",
      "beta.kubernetes.io/arch",
      "node.kubernetes.io/windows-build",
  };
  if (kLabels.count(key) > 0) return true;
  std::string ns = LabelNamespace(key);
  return InNamespace(ns, "kubelet.kubernetes.io") || InNamespace(ns, "node.kubernetes.io");
}

// The labels a node may not add, remove or change (sorted, ", "-joined), "" for none.
std::string ForbiddenLabels(const api::Value* now, const api::Value* before) {
  std::map<std::string, std::string> a, b;
  if (now != nullptr) a = api::GetStringMap(*now, "metadata.labels");
  if (before != nullptr) b = api::GetStringMap(*before, "metadata.labels");
  std::set<std::string> modified;
  for (const auto& [k, v] : a) {
    auto it = b.find(k);
    if (it == b.end() || it->second != v) modified.insert(k);
  }
  for (const auto& [k, v] : b) {
    if (a.count(k) == 0) modified.insert(k);
  }
  std::string out;
  for (const auto& key : modified) {
    std::string ns = LabelNamespace(key);
    bool restricted = InNamespace(ns, "node-restriction.kubernetes.io");
    bool kubernetes = InNamespace(ns, "kubernetes.io") || InNamespace(ns, "k8s.io");
    if (restricted || (kubernetes && !IsKubeletLabel(key))) out += (out.empty() ? "" : ", ") + key;
  }
  return out;
}

Status AdmitPodCreate(const std::string& node, const AdmissionAttributes& a,
                      const AdmissionGetter& get) {
  if (a.object == nullptr) return Forbidden(a, "unexpected type <nil>");
  const api::Value& pod = *a.object;
  std::string n = Q(node);
  if (!IsMirrorPod(pod)) {
    return Forbidden(a, "pod does not have \"kubernetes.io/config.mirror\" annotation, node " + n +
                            " can only create mirror pods");
  }
  if (api::GetString(pod, "spec.nodeName") != node) {
    return Forbidden(a, "node " + n + " can only create pods with spec.nodeName set to itself");
  }
  const api::Value* owners = api::Find(pod, "metadata.ownerReferences");
  size_t count = owners != nullptr && owners->IsArray() ? owners->Size() : 0;
  if (count > 1) {
    return Forbidden(a, "node " + n + " can only create pods with a single owner reference set to itself");
  }
  if (count == 0) {
    return Forbidden(a, "node " + n + " can only create pods with an owner reference set to itself");
  }
  const api::Value& owner = (*owners)[0];
  if (!owner.IsObject() || api::GetString(owner, "apiVersion") != "v1" ||
      api::GetString(owner, "kind") != "Node" || api::GetString(owner, "name") != node) {
    return Forbidden(a, "node " + n + " can only create pods with an owner reference set to itself");
  }
  if (!api::GetBool(owner, "controller")) {
    return Forbidden(a, "node " + n + " can only create pods with a controller owner reference set to itself");
  }
  if (api::GetBool(owner, "blockOwnerDeletion")) {
    return Forbidden(a, "node " + n + " must not set blockOwnerDeletion on an owner reference");
  }
  ASSIGN_OR_RETURN(api::Document node_obj, Lookup(get, "nodes", "", node));
  std::string owner_uid = api::GetString(owner, "uid");
  std::string node_uid = api::GetString(node_obj, "metadata.uid");
  if (owner_uid != node_uid) {
    return Forbidden(a, "node " + node + " UID mismatch: expected " + owner_uid + " got " + node_uid);
  }
  // A node may not make a pod that would widen what the Node authorizer lets it read.
  if (!api::GetString(pod, "spec.serviceAccountName").empty()) {
    return Forbidden(a, "node " + n + " can not create pods that reference a service account");
  }
  PodRefs refs = PodReferences(pod);
  if (!refs.secrets.empty()) {
    return Forbidden(a, "node " + n + " can not create pods that reference secrets");
  }
  if (!refs.configmaps.empty()) {
    return Forbidden(a, "node " + n + " can not create pods that reference configmaps");
  }
  const api::Value* volumes = api::Find(pod, "spec.volumes");
  if (volumes != nullptr && volumes->IsArray()) {
    for (const auto& v : volumes->GetArray()) {
      const api::Value* sources = api::Find(v, "projected.sources");
      if (sources == nullptr || !sources->IsArray()) continue;
      for (const auto& s : sources->GetArray()) {
        if (api::Has(s, "clusterTrustBundle")) {
          return Forbidden(a, "node " + n + " can not create pods that reference clustertrustbundles");
        }
      }
    }
    for (const auto& v : volumes->GetArray()) {
      if (api::Has(v, "persistentVolumeClaim")) {
        return Forbidden(a, "node " + n + " can not create pods that reference persistentvolumeclaims");
      }
    }
  }
  return Status::Ok();
}

Status AdmitPod(const std::string& node, const AdmissionAttributes& a, const AdmissionGetter& get) {
  std::string n = Q(node);
  if (a.subresource.empty()) {
    if (a.operation == AdmissionOperation::kCreate) return AdmitPodCreate(node, a, get);
    if (a.operation == AdmissionOperation::kDelete) {
      ASSIGN_OR_RETURN(api::Document pod, Lookup(get, "pods", a.ns, a.name));
      if (api::GetString(pod, "spec.nodeName") != node) {
        return Forbidden(a, "node " + n + " can only delete pods with spec.nodeName set to itself");
      }
      return Status::Ok();
    }
    return Forbidden(a, std::string("unexpected operation \"") + OperationName(a.operation) +
                            "\", node " + n + " can only create and delete mirror pods");
  }
  if (a.subresource == "status") {
    if (a.operation != AdmissionOperation::kUpdate || a.old_object == nullptr || a.object == nullptr) {
      return Forbidden(a, std::string("unexpected operation \"") + OperationName(a.operation) + "\"");
    }
    if (api::GetString(*a.old_object, "spec.nodeName") != node) {
      return Forbidden(a, "node " + n +
                              " can only update pod status for pods with spec.nodeName set to itself");
    }
    if (api::GetStringMap(*a.old_object, "metadata.labels") !=
        api::GetStringMap(*a.object, "metadata.labels")) {
      return Forbidden(a, "node " + n + " cannot update labels through pod status");
    }
    return Status::Ok();
  }
  if (a.subresource == "eviction") {
    if (a.operation != AdmissionOperation::kCreate) {
      return Forbidden(a, std::string("unexpected operation ") + OperationName(a.operation));
    }
    std::string pod_name = a.name;
    if (pod_name.empty() && a.object != nullptr) pod_name = api::GetString(*a.object, "metadata.name");
    if (pod_name.empty()) return Forbidden(a, "could not determine pod from request data");
    ASSIGN_OR_RETURN(api::Document pod, Lookup(get, "pods", a.ns, pod_name));
    if (api::GetString(pod, "spec.nodeName") != node) {
      return Forbidden(a, "node " + node + " can only evict pods with spec.nodeName set to itself");
    }
    return Status::Ok();
  }
  return Forbidden(a, "unexpected pod subresource " + Q(a.subresource) +
                          ", only 'status' and 'eviction' are allowed");
}

Status AdmitNode(const std::string& node, const AdmissionAttributes& a) {
  std::string n = Q(node);
  if (a.name != node) return Forbidden(a, "node " + n + " is not allowed to modify node " + Q(a.name));
  if (a.operation == AdmissionOperation::kCreate && a.object != nullptr) {
    if (!Canonical(*a.object, "spec.configSource").empty()) {
      return Forbidden(a, "node " + n + " is not allowed to create pods with a non-nil configSource");
    }
    if (std::string bad = ForbiddenLabels(a.object, nullptr); !bad.empty()) {
      return Forbidden(a, "node " + n + " is not allowed to set the following labels: " + bad);
    }
  }
  if (a.operation == AdmissionOperation::kUpdate && a.object != nullptr && a.old_object != nullptr) {
    std::string source = Canonical(*a.object, "spec.configSource");
    if (!source.empty() && source != Canonical(*a.old_object, "spec.configSource")) {
      return Forbidden(a, "node " + n +
                              " is not allowed to update configSource to a new non-nil configSource");
    }
    if (Canonical(*a.object, "spec.taints") != Canonical(*a.old_object, "spec.taints")) {
      return Forbidden(a, "node " + n + " is not allowed to modify taints");
    }
    if (std::string bad = ForbiddenLabels(a.object, a.old_object); !bad.empty()) {
      return Forbidden(a, "is not allowed to modify labels: " + bad);
    }
  }
  return Status::Ok();
}

Status AdmitTokenRequest(const std::string& node, const AdmissionAttributes& a,
                         const AdmissionGetter& get) {
  if (a.operation != AdmissionOperation::kCreate || a.subresource != "token") return Status::Ok();
  if (a.object == nullptr) return Forbidden(a, "unexpected type <nil>");
  const api::Value* ref = api::Find(*a.object, "spec.boundObjectRef");
  if (ref == nullptr || !ref->IsObject() || api::GetString(*ref, "apiVersion") != "v1" ||
      api::GetString(*ref, "kind") != "Pod" || api::GetString(*ref, "name").empty()) {
    return Forbidden(a, "node requested token not bound to a pod");
  }
  std::string uid = api::GetString(*ref, "uid");
  if (uid.empty()) return Forbidden(a, "node requested token with a pod binding without a uid");
  ASSIGN_OR_RETURN(api::Document pod, Lookup(get, "pods", a.ns, api::GetString(*ref, "name")));
  if (uid != api::GetString(pod, "metadata.uid")) {
    return Forbidden(a, "the UID in the bound object reference (" + uid +
                            ") does not match the UID in record. The object might have been "
                            "deleted and then recreated");
  }
  if (api::GetString(pod, "spec.nodeName") != node) {
    return Forbidden(a, "node requested token bound to a pod scheduled on a different node");
  }
  return Status::Ok();
}

Status AdmitLease(const std::string& node, const AdmissionAttributes& a) {
  if (a.ns != kNodeLeaseNamespace) {
    return Forbidden(a, std::string("can only access leases in the \"") + kNodeLeaseNamespace +
                            "\" system namespace");
  }
  if (a.name != node) {
    return Forbidden(a, "can only access node lease with the same name as the requesting node");
  }
  return Status::Ok();
}

}  // namespace

Status AdmitNodeRestriction(const AdmissionAttributes& a, const AdmissionGetter& get) {
  std::string node;
  if (!NodeIdentity(a.user, a.groups, &node)) return Status::Ok();
  if (node.empty()) return Forbidden(a, "could not determine node from user " + Q(a.user));
  if (a.api_group.empty()) {
    if (a.resource == "pods") return AdmitPod(node, a, get);
    if (a.resource == "nodes") return AdmitNode(node, a);
    if (a.resource == "serviceaccounts") return AdmitTokenRequest(node, a, get);
  }
  if (a.api_group == "coordination.k8s.io" && a.resource == "leases") return AdmitLease(node, a);
  return Status::Ok();
}

}  // namespace kubepp::apiserver
