#include "apiserver/node_authorizer.h"

#include <algorithm>
#include <mutex>

#include "apiserver/serviceaccount_token.h"
#include "common/log.h"

namespace kubepp::apiserver {

namespace {

void AddOnce(std::vector<std::string>& v, std::string_view s) {
  if (!s.empty() && std::find(v.begin(), v.end(), s) == v.end()) v.emplace_back(s);
}

// Calls fn(member) for each element of the array at `path` of `v`.
template <typename Fn>
void ForEach(const api::Value& v, std::string_view path, Fn fn) {
  const api::Value* arr = api::Find(v, path);
  if (arr == nullptr || !arr->IsArray()) return;
  for (const auto& e : arr->GetArray()) {
    if (e.IsObject()) fn(e);
  }
}

std::string Quoted(const std::string& s) { return "'" + s + "'"; }

}  // namespace

bool NodeIdentity(const std::string& user, const std::vector<std::string>& groups,
                  std::string* node_name) {
  std::string_view prefix = kNodeUserPrefix;
  if (user.compare(0, prefix.size(), prefix) != 0) return false;
  if (std::find(groups.begin(), groups.end(), kNodesGroup) == groups.end()) return false;
  *node_name = user.substr(prefix.size());
  return true;
}

PodRefs PodReferences(const api::Value& pod) {
  PodRefs out;
  out.service_account = api::GetString(pod, "spec.serviceAccountName");
  ForEach(pod, "spec.imagePullSecrets",
          [&](const api::Value& s) { AddOnce(out.secrets, api::GetString(s, "name")); });
  for (const char* kind : {"spec.initContainers", "spec.containers", "spec.ephemeralContainers"}) {
    ForEach(pod, kind, [&](const api::Value& c) {
      ForEach(c, "envFrom", [&](const api::Value& e) {
        AddOnce(out.secrets, api::GetString(e, "secretRef.name"));
        AddOnce(out.configmaps, api::GetString(e, "configMapRef.name"));
      });
      ForEach(c, "env", [&](const api::Value& e) {
        AddOnce(out.secrets, api::GetString(e, "valueFrom.secretKeyRef.name"));
        AddOnce(out.configmaps, api::GetString(e, "valueFrom.configMapKeyRef.name"));
      });
    });
  }
  std::string pod_name = api::GetString(pod, "metadata.name");
  ForEach(pod, "spec.volumes", [&](const api::Value& v) {
    AddOnce(out.secrets, api::GetString(v, "secret.secretName"));
    AddOnce(out.configmaps, api::GetString(v, "configMap.name"));
    ForEach(v, "projected.sources", [&](const api::Value& s) {
      AddOnce(out.secrets, api::GetString(s, "secret.name"));
      AddOnce(out.configmaps, api::GetString(s, "configMap.name"));
    });
    AddOnce(out.secrets, api::GetString(v, "azureFile.secretName"));
    for (const char* ref : {"cephfs.secretRef.name", "cinder.secretRef.name",
                            "flexVolume.secretRef.name", "rbd.secretRef.name",
                            "scaleIO.secretRef.name", "iscsi.secretRef.name",
                            "storageos.secretRef.name", "csi.nodePublishSecretRef.name"}) {
      AddOnce(out.secrets, api::GetString(v, ref));
    }
    AddOnce(out.pvcs, api::GetString(v, "persistentVolumeClaim.claimName"));
    if (const api::Value* e = api::FindMember(v, "ephemeral"); e != nullptr && e->IsObject()) {
      AddOnce(out.pvcs, pod_name + "-" + api::GetString(v, "name"));
    }
  });
  return out;
}

// ---- NodeGraph ---------------------------------------------------------------------

Status NodeGraph::Subscribe(Storage* storage) {
  auto handle = storage->Watch("pods", 0, Delivery::kBeforeAck, [this](const EventPtr& ev) {
    const StoredObject& o = *ev->object;
    if (ev->type == EventType::kDeleted) return DeletePod(o.ns, o.name);
    std::string node = o.Field("spec.nodeName");
    if (node.empty()) return;
    // What a bound pod names cannot change (its spec is immutable but for images and
    // the like): only a new binding, or a new pod under the old name, needs a look.
    if (ev->type == EventType::kModified && ev->prev != nullptr &&
        ev->prev->Field("spec.nodeName") == node) {
      return;
    }
    auto doc = api::ParseJson(o.json);
    if (!doc.ok() || !doc->IsObject()) {
      LOG(WARNING) << "node authorizer: ignoring unparsable pod " << o.ns << "/" << o.name;
      return;
    }
    AddPod(o.ns, o.name, *doc);
  });
  if (!handle.ok()) return handle.status();
  {
    std::unique_lock<std::shared_mutex> l(mu_);
    watch_ = std::move(handle).value();
  }
  auto claims = storage->Watch("persistentvolumeclaims", 0, Delivery::kBeforeAck,
                                [this](const EventPtr& ev) {
    const StoredObject& o = *ev->object;
    std::string volume;
    if (ev->type != EventType::kDeleted) {
      auto doc = api::ParseJson(o.json);
      if (doc.ok()) volume = api::GetString(*doc, "spec.volumeName");
    }
    SetClaimVolume(o.ns, o.name, volume);
  });
  if (!claims.ok()) return claims.status();
  std::unique_lock<std::shared_mutex> l(mu_);
  claim_watch_ = std::move(claims).value();
  return Status::Ok();
}

void NodeGraph::SetClaimVolume(const std::string& ns, const std::string& name,
                               const std::string& volume) {
  std::unique_lock<std::shared_mutex> l(mu_);
  auto key = std::make_pair(ns, name);
  auto it = claim_pv_.find(key);
  if (it != claim_pv_.end()) {
    if (it->second == volume) return;
    auto pv = pv_claims_.find(it->second);
    if (pv != pv_claims_.end()) {
      pv->second.erase(key);
      if (pv->second.empty()) pv_claims_.erase(pv);
    }
    claim_pv_.erase(it);
  }
  if (volume.empty()) return;
  claim_pv_[key] = volume;
  pv_claims_[volume].insert(key);
}

void NodeGraph::RemoveLocked(const std::string& ns, const std::string& name) {
  auto it = pods_.find({ns, name});
  if (it == pods_.end()) return;
  for (const Key& k : it->second.refs) {
    auto r = refs_.find(k);
    if (r == refs_.end()) continue;
    auto n = r->second.find(it->second.node);
    if (n != r->second.end() && --n->second <= 0) r->second.erase(n);
    if (r->second.empty()) refs_.erase(r);
  }
  pods_.erase(it);
}

void NodeGraph::AddPod(const std::string& ns, const std::string& name, const api::Value& pod) {
  std::string node = api::GetString(pod, "spec.nodeName");
  if (node.empty()) return;
  Pod p;
  p.node = node;
  p.refs.emplace_back(NodeObject::kPod, ns, name);
  // A mirror pod is made by the node itself: it must not grant the node anything more
  // (NodeRestriction refuses such pods; this is defence in depth, as upstream).
  if (!IsMirrorPod(pod)) {
    PodRefs refs = PodReferences(pod);
    if (!refs.service_account.empty()) {
      p.refs.emplace_back(NodeObject::kServiceAccount, ns, refs.service_account);
    }
    for (const auto& s : refs.secrets) p.refs.emplace_back(NodeObject::kSecret, ns, s);
    for (const auto& c : refs.configmaps) p.refs.emplace_back(NodeObject::kConfigMap, ns, c);
    for (const auto& c : refs.pvcs) p.refs.emplace_back(NodeObject::kPvc, ns, c);
  }
  std::unique_lock<std::shared_mutex> l(mu_);
  RemoveLocked(ns, name);
  for (const Key& k : p.refs) ++refs_[k][node];
  pods_.emplace(std::make_pair(ns, name), std::move(p));
}

void NodeGraph::DeletePod(const std::string& ns, const std::string& name) {
  std::unique_lock<std::shared_mutex> l(mu_);
  RemoveLocked(ns, name);
}

bool NodeGraph::HasPath(const std::string& node, NodeObject kind, const std::string& ns,
                        const std::string& name) const {
  std::shared_lock<std::shared_mutex> l(mu_);
  if (kind == NodeObject::kPv) {
    auto pv = pv_claims_.find(name);
    if (pv == pv_claims_.end()) return false;
    for (const auto& [claim_ns, claim] : pv->second) {
      auto it = refs_.find(Key{NodeObject::kPvc, claim_ns, claim});
      if (it != refs_.end() && it->second.count(node) > 0) return true;
    }
    return false;
  }
  auto it = refs_.find(Key{kind, ns, name});
  return it != refs_.end() && it->second.count(node) > 0;
}

// ---- NodeAuthorizer ----------------------------------------------------------------

Decision NodeAuthorizer::Related(const std::string& node, NodeObject kind,
                                 const Attributes& a) const {
  if (a.name.empty()) return {false, "No Object name found"};
  if (graph_->HasPath(node, kind, a.ns, a.name)) return {true, ""};
  return {false, "no relationship found between node " + Quoted(node) + " and this object"};
}

Decision NodeAuthorizer::Authorize(const Attributes& a) const {
  std::string node;
  if (!NodeIdentity(a.user, a.groups, &node)) return {};
  if (node.empty()) return {false, "unknown node for user \"" + a.user + "\""};
  const std::string& v = a.verb;
  const std::string& sub = a.subresource;
  if (a.resource_request && a.api_group.empty()) {
    if (a.resource == "secrets" || a.resource == "configmaps") {
      // authorizeReadNamespacedObject
      if (v != "get" && v != "list" && v != "watch") {
        return {false, "can only read resources of this type"};
      }
      if (!sub.empty()) return {false, "cannot read subresource"};
      if (a.ns.empty()) return {false, "can only read namespaced object of this type"};
      return Related(node, a.resource == "secrets" ? NodeObject::kSecret : NodeObject::kConfigMap,
                     a);
    }
    if (a.resource == "persistentvolumeclaims") {
      if (sub == "status") {
        if (v != "update" && v != "patch") return {false, "can only get/update/patch this type"};
      } else {
        if (v != "get") return {false, "can only get individual resources of this type"};
        if (!sub.empty()) return {false, "cannot get subresource"};
      }
      return Related(node, NodeObject::kPvc, a);
    }
    if (a.resource == "persistentvolumes") {
      if (v != "get") return {false, "can only get individual resources of this type"};
      if (!sub.empty()) return {false, "cannot get subresource"};
      return Related(node, NodeObject::kPv, a);
    }
    if (a.resource == "serviceaccounts") {
      // authorizeCreateToken
      if (v != "create" || a.name.empty()) {
        return {false, "can only create tokens for individual service accounts"};
      }
      if (sub != "token") return {false, "can only create token subresource of serviceaccount"};
      return Related(node, NodeObject::kServiceAccount, a);
    }
    if (a.resource == "nodes") {
      // authorizeNode
      if (sub.empty() && (v == "create" || v == "update" || v == "patch")) return {true, ""};
      if (sub.empty() && (v == "get" || v == "list" || v == "watch")) {
        if (a.name == node) return {true, ""};
        if (a.name.empty()) {
          return {false, "node " + Quoted(node) + " cannot read all nodes, only its own Node object"};
        }
        return {false, "node " + Quoted(node) + " cannot read " + Quoted(a.name) +
                           ", only its own Node object"};
      }
      if (sub == "status" && (v == "update" || v == "patch")) return {true, ""};
      return {};
    }
    if (a.resource == "pods") {
      // authorizePod
      if (sub.empty()) {
        if (v == "get") return Related(node, NodeObject::kPod, a);
        if (v == "list" || v == "watch") {
          if (RequiredField(a.field_selector, "spec.nodeName") == node) return {true, ""};
          if (!a.name.empty()) return Related(node, NodeObject::kPod, a);
          return {false, "can only list/watch pods with spec.nodeName field selector"};
        }
        if (v == "create" || v == "delete") return {true, ""};
      } else if ((sub == "status" && (v == "update" || v == "patch")) ||
                 (sub == "eviction" && v == "create")) {
        return {true, ""};
      }
      return {};
    }
  }
  if (a.resource_request && a.api_group == "coordination.k8s.io" && a.resource == "leases") {
    // authorizeLease
    if (v != "get" && v != "create" && v != "update" && v != "patch" && v != "delete") {
      return {false, "can only get, create, update, patch, or delete a node lease"};
    }
    if (a.ns != kNodeLeaseNamespace) {
      return {false, std::string("can only access leases in the \"") + kNodeLeaseNamespace +
                         "\" system namespace"};
    }
    // The name of a lease being created is in the body: NodeRestriction checks it.
    if (v != "create" && a.name != node) {
      return {false, "can only access node lease with the same name as the requesting node"};
    }
    return {true, ""};
  }
  for (const PolicyRule& r : rules_) {
    if (RuleAllows(a, r)) return {true, ""};
  }
  return {};
}

}  // namespace kubepp::apiserver
