// The NodeRestriction admission plugin (upstream's plugin/pkg/admission/noderestriction):
// limits what a kubelet (node_authorizer.h NodeIdentity) may write to its own node's
// objects, where the Node authorizer cannot tell from the URL alone:
//   - pods: create only mirror pods bound to itself (annotation kubernetes.io/config.mirror,
//     one controller owner reference to its Node with the Node's uid, naming no service
//     account, Secret, ConfigMap or PVC); delete and evict only pods bound to itself; update
//     the status only of pods bound to itself, without touching labels; no other update;
//   - nodes: only its own Node; not created with a spec.configSource, not given a new one;
//     its taints unchanged; no labels of node-restriction.kubernetes.io/ and no
//     kubernetes.io/ or k8s.io/ labels beyond the kubelet's own (kubernetes.io/hostname,
//     kubernetes.io/os, ..., *.node.kubernetes.io/, *.kubelet.kubernetes.io/);
//   - serviceaccounts/token: bound to an existing pod (with its uid) bound to itself;
//   - leases: only kube-node-lease/<its name>.
// Other users and other resources are not this plugin's business.
//
// Thread safety: stateless; the getter is called from the calling thread.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "apiserver/storage/storage.h"
#include "common/api/json.h"
#include "common/status.h"

namespace kubepp::apiserver {

enum class AdmissionOperation { kCreate, kUpdate, kDelete };

struct AdmissionAttributes {
  std::string user;
  std::vector<std::string> groups;
  AdmissionOperation operation = AdmissionOperation::kCreate;
  std::string api_group;    // "" for core
  std::string resource;     // plural: "pods", "leases"
  std::string subresource;  // "", "status", "eviction", "token"
  std::string ns;
  std::string name;  // from the URL; on create, metadata.name of `object`
  // Create/update: the object as it would be stored (for subresources with a body of
  // their own, the TokenRequest or Eviction). Update: `old_object` is the stored one.
  const api::Value* object = nullptr;
  const api::Value* old_object = nullptr;
};

// Reads a stored object (qualified resource, namespace, name); null when missing.
using AdmissionGetter =
    std::function<ObjectPtr(const std::string&, const std::string&, const std::string&)>;

// OK, or Forbidden with upstream's message (`pods "x" is forbidden: node "n1" can only
// ...`), or NotFound when the pod a request is about does not exist.
Status AdmitNodeRestriction(const AdmissionAttributes& a, const AdmissionGetter& get);

}  // namespace kubepp::apiserver
