// The Node authorization mode (upstream's plugin/pkg/auth/authorizer/node): a kubelet,
// user system:node:<name> in group system:nodes, may read the Secrets, ConfigMaps,
// PersistentVolumeClaims and ServiceAccount tokens of the pods bound to its node and
// nothing else of those kinds; its own Node and its own Lease; and, for every other
// resource, what upstream's system:node ClusterRole grants (bootstrap_policy.h
// NodePolicyRules). Pods and Nodes are authorized as upstream's AuthorizeNodeWithSelectors
// (on by default since 1.32): pods are listed and watched only with the field selector
// spec.nodeName=<name>, read one by one only when bound to the node; Nodes are read only
// by name, the node's own. Writes the authorizer lets through (create/update/delete of
// pods, nodes, leases) are narrowed to the node's own objects by the NodeRestriction
// admission (node_restriction.h).
//
// Which objects a node may read is a graph, as upstream's graph.go: every pod bound to a
// node links the node to the pod, and (except mirror pods) to the ServiceAccount,
// Secrets, ConfigMaps and PersistentVolumeClaims it names, and each bound claim to its
// PersistentVolume (spec.volumeName), as upstream's pvc -> pv edge. (PV secrets are not
// followed: kubepp's volumes have none.)
//
//   NodeGraph graph;  RETURN_IF_ERROR(graph.Subscribe(storage));  // follows every pod
//   NodeAuthorizer node(&graph, NodePolicyRules());
//   Decision d = node.Authorize(attrs);  // not allowed + reason: no opinion (next mode)
//
// Thread safety: NodeGraph is safe from any thread (a shared mutex; the writer is the
// storage's writer thread). NodeAuthorizer is immutable. PodReferences is pure.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <shared_mutex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "apiserver/rbac.h"
#include "apiserver/storage/storage.h"
#include "common/api/json.h"
#include "common/status.h"

namespace kubepp::apiserver {

inline constexpr const char* kNodesGroup = "system:nodes";
inline constexpr const char* kNodeUserPrefix = "system:node:";
inline constexpr const char* kNodeLeaseNamespace = "kube-node-lease";

// Upstream's NodeIdentity: the node name of a user named system:node:<name> in group
// system:nodes (true, possibly an empty name); false for every other user.
bool NodeIdentity(const std::string& user, const std::vector<std::string>& groups,
                  std::string* node_name);

// The objects a pod names (upstream's VisitPodSecretNames / VisitPodConfigmapNames, the
// pod's PVCs incl. generic ephemeral volumes' <pod>-<volume>, spec.serviceAccountName),
// each once, empty names skipped.
struct PodRefs {
  std::vector<std::string> secrets;  // imagePullSecrets, env/envFrom of every container
                                     // kind, secret/projected volumes and the
                                     // secretRef of the volume plugins that take one
  std::vector<std::string> configmaps;  // env/envFrom, configMap/projected volumes
  std::vector<std::string> pvcs;
  std::string service_account;
};
PodRefs PodReferences(const api::Value& pod);

// The vertex kinds a node may be related to.
enum class NodeObject { kPod, kSecret, kConfigMap, kPvc, kServiceAccount, kPv };

class NodeGraph {
 public:
  NodeGraph() = default;
  NodeGraph(const NodeGraph&) = delete;
  NodeGraph& operator=(const NodeGraph&) = delete;

  // Watches pods and PersistentVolumeClaims from revision 0 (the current ones first,
  // before this returns), then follows every change; events come before a write is acknowledged, so a pod bound to
  // a node is in the graph when the binding's answer reaches the scheduler. The watch
  // ends when the graph is destroyed, which must happen before `storage` is.
  Status Subscribe(Storage* storage);

  // Adds (or replaces) a pod bound to spec.nodeName; a pod without one is ignored, as
  // upstream (a binding adds it later).
  void AddPod(const std::string& ns, const std::string& name, const api::Value& pod);
  void DeletePod(const std::string& ns, const std::string& name);
  // Records that claim ns/name is bound to PersistentVolume `volume` ("" or a deleted
  // claim: to none).
  void SetClaimVolume(const std::string& ns, const std::string& name, const std::string& volume);

  // Whether a pod bound to `node` is, or names, the object (`ns` "" for none); for kPv,
  // whether such a pod names a claim bound to it.
  bool HasPath(const std::string& node, NodeObject kind, const std::string& ns,
               const std::string& name) const;

 private:
  using Key = std::tuple<NodeObject, std::string, std::string>;  // kind, ns, name
  struct Pod {
    std::string node;
    std::vector<Key> refs;  // each once
  };
  void RemoveLocked(const std::string& ns, const std::string& name);

  mutable std::shared_mutex mu_;
  std::map<std::pair<std::string, std::string>, Pod> pods_;
  // Object -> node -> how many of the node's pods name it.
  std::map<Key, std::map<std::string, int>> refs_;
  // PersistentVolume name -> the claims (ns, name) bound to it, and the reverse.
  std::map<std::string, std::set<std::pair<std::string, std::string>>> pv_claims_;
  std::map<std::pair<std::string, std::string>, std::string> claim_pv_;
  std::unique_ptr<WatchHandle> watch_;
  std::unique_ptr<WatchHandle> claim_watch_;
};

class NodeAuthorizer {
 public:
  // `graph` must outlive the authorizer; `rules` are the node's static rules.
  NodeAuthorizer(const NodeGraph* graph, std::vector<PolicyRule> rules)
      : graph_(graph), rules_(std::move(rules)) {}

  // Allowed, or not allowed with upstream's reason (often none) for node users; not
  // allowed with no reason for everyone else (no opinion: the next mode decides).
  Decision Authorize(const Attributes& a) const;

 private:
  Decision Related(const std::string& node, NodeObject kind, const Attributes& a) const;

  const NodeGraph* graph_;
  std::vector<PolicyRule> rules_;
};

}  // namespace kubepp::apiserver
