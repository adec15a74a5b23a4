// The RBAC objects every cluster starts with (upstream's
// plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go), created at apiserver start
// when missing and never overwritten, so that users may edit them.
//
// Differences from upstream, on purpose:
//   - admin, edit and view carry their rules directly (the union of upstream's
//     system:aggregate-to-* roles) instead of an aggregationRule: kubepp has no
//     ClusterRole aggregation controller.
//   - system:kube-controller-manager also holds what upstream grants each controller's
//     own service account (controller_policy.go), since kubepp's controller-manager runs
//     every controller under one identity.
//   - system:node-proxier may also write services/status and ingresses/status and read
//     Ingresses: kubepp's proxy is also the load balancer and the Ingress controller.
//
// As upstream, the system:node ClusterRoleBinding has no subjects: kubelets are
// authorized by the Node mode (node_authorizer.h), which holds the system:node rules
// (NodePolicyRules) for what it does not narrow down itself.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "apiserver/rbac.h"

namespace kubepp::apiserver {

struct BootstrapObject {
  std::string resource;  // "clusterroles.rbac.authorization.k8s.io", ...
  std::string name;
  std::string json;      // the object, without uid/creationTimestamp
};

// ClusterRoles first, then ClusterRoleBindings. Every object carries the label
// kubernetes.io/bootstrapping=rbac-defaults and the annotation
// rbac.authorization.kubernetes.io/autoupdate=true, as upstream's.
std::vector<BootstrapObject> BootstrapPolicy();

// The rules of the system:node ClusterRole (upstream's NodeRules()), which the Node
// authorizer applies to kubelets.
std::vector<PolicyRule> NodePolicyRules();

}  // namespace kubepp::apiserver
