#include "controller-manager/framework/resources.h"

namespace kubepp::controller {

const std::vector<KnownResource>& KnownResources() {
  static const auto* resources = new std::vector<KnownResource>{
      {client::kDeployments, "Deployment"},
      {client::kDaemonSets, "DaemonSet"},
      {client::kStatefulSets, "StatefulSet"},
      {client::kControllerRevisions, "ControllerRevision"},
      {client::kCronJobs, "CronJob"},
      {client::kJobs, "Job"},
      {client::kReplicaSets, "ReplicaSet"},
      {client::kServices, "Service"},
      {client::kEndpoints, "Endpoints"},
      {client::kEndpointSlices, "EndpointSlice"},
      {client::kIngresses, "Ingress"},
      {client::kConfigMaps, "ConfigMap"},
      {client::kSecrets, "Secret"},
      {client::kServiceAccounts, "ServiceAccount"},
      {client::kLeases, "Lease"},
      {client::kEvents, "Event"},
      {client::kPods, "Pod"},
      {client::kPersistentVolumeClaims, "PersistentVolumeClaim"},
      {client::kNamespaces, "Namespace"},
      {client::kNodes, "Node"},
      {client::kIngressClasses, "IngressClass"},
      {client::kPersistentVolumes, "PersistentVolume"},
      {client::kStorageClasses, "StorageClass"},
      {client::kRoles, "Role"},
      {client::kRoleBindings, "RoleBinding"},
      {client::kClusterRoles, "ClusterRole"},
      {client::kClusterRoleBindings, "ClusterRoleBinding"},
  };
  return *resources;
}

const KnownResource* ResourceForKind(std::string_view api_version, std::string_view kind) {
  // Owners are matched by group and kind; the version does not change identity.
  std::string_view group = api_version.find('/') == std::string_view::npos
                               ? std::string_view()
                               : api_version.substr(0, api_version.find('/'));
  for (const auto& r : KnownResources()) {
    if (r.kind == kind && r.ref.group == group) return &r;
  }
  return nullptr;
}

}  // namespace kubepp::controller
