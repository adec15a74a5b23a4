#include "apiserver/resources.h"

#include <algorithm>

namespace kubepp::apiserver {

bool ResourceInfo::HasSubresource(std::string_view s) const {
  return std::find(subresources.begin(), subresources.end(), s) != subresources.end();
}

const std::vector<ResourceInfo>& AllResources() {
  static const std::vector<ResourceInfo> kResources = {
      // core/v1
      {"", "v1", "namespaces", "namespace", "Namespace", false, {"ns"}, {}, {"status", "finalize"}},
      {"", "v1", "nodes", "node", "Node", false, {"no"}, {}, {"status"}},
      {"", "v1", "pods", "pod", "Pod", true, {"po"}, {"all"},
       {"status", "binding", "log", "eviction"}},
      {"", "v1", "services", "service", "Service", true, {"svc"}, {"all"}, {"status"}},
      {"", "v1", "endpoints", "endpoints", "Endpoints", true, {"ep"}, {}, {}},
      {"", "v1", "configmaps", "configmap", "ConfigMap", true, {"cm"}, {}, {}},
      {"", "v1", "secrets", "secret", "Secret", true, {}, {}, {}},
      {"", "v1", "events", "event", "Event", true, {"ev"}, {}, {}},
      {"", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", true, {"sa"}, {}, {"token"}},
      {"", "v1", "persistentvolumes", "persistentvolume", "PersistentVolume", false, {"pv"}, {},
       {"status"}},
      {"", "v1", "persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim", true,
       {"pvc"}, {}, {"status"}},
      // apps/v1
      {"apps", "v1", "deployments", "deployment", "Deployment", true, {"deploy"}, {"all"},
       {"status", "scale"}},
      {"apps", "v1", "replicasets", "replicaset", "ReplicaSet", true, {"rs"}, {"all"},
       {"status", "scale"}},
      {"apps", "v1", "daemonsets", "daemonset", "DaemonSet", true, {"ds"}, {"all"}, {"status"}},
      {"apps", "v1", "statefulsets", "statefulset", "StatefulSet", true, {"sts"}, {"all"},
       {"status", "scale"}},
      {"apps", "v1", "controllerrevisions", "controllerrevision", "ControllerRevision", true, {},
       {}, {}},
      // batch/v1
      {"batch", "v1", "jobs", "job", "Job", true, {}, {"all"}, {"status"}},
      {"batch", "v1", "cronjobs", "cronjob", "CronJob", true, {"cj"}, {"all"}, {"status"}},
      // networking.k8s.io/v1
      {"networking.k8s.io", "v1", "ingresses", "ingress", "Ingress", true, {"ing"}, {},
       {"status"}},
      {"networking.k8s.io", "v1", "ingressclasses", "ingressclass", "IngressClass", false, {}, {},
       {}},
      // coordination.k8s.io/v1
      {"coordination.k8s.io", "v1", "leases", "lease", "Lease", true, {}, {}, {}},
      // scheduling.k8s.io/v1
      {"scheduling.k8s.io", "v1", "priorityclasses", "priorityclass", "PriorityClass", false,
       {"pc"}, {}, {}},
      // storage.k8s.io/v1
      {"storage.k8s.io", "v1", "storageclasses", "storageclass", "StorageClass", false, {"sc"}, {},
       {}},
      // discovery.k8s.io/v1
      {"discovery.k8s.io", "v1", "endpointslices", "endpointslice", "EndpointSlice", true, {},
       {}, {}},
      // rbac.authorization.k8s.io/v1
      {"rbac.authorization.k8s.io", "v1", "clusterrolebindings", "clusterrolebinding",
       "ClusterRoleBinding", false, {}, {}, {}},
      {"rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole", false, {},
       {}, {}},
      {"rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding", "RoleBinding", true, {},
       {}, {}},
      {"rbac.authorization.k8s.io", "v1", "roles", "role", "Role", true, {}, {}, {}},
      // authentication.k8s.io/v1
      {"authentication.k8s.io", "v1", "selfsubjectreviews", "selfsubjectreview",
       "SelfSubjectReview", false, {}, {}, {}, true},
      {"authentication.k8s.io", "v1", "tokenreviews", "tokenreview", "TokenReview", false, {}, {},
       {}, true},
      // authorization.k8s.io/v1
      {"authorization.k8s.io", "v1", "localsubjectaccessreviews", "localsubjectaccessreview",
       "LocalSubjectAccessReview", true, {}, {}, {}, true},
      {"authorization.k8s.io", "v1", "selfsubjectaccessreviews", "selfsubjectaccessreview",
       "SelfSubjectAccessReview", false, {}, {}, {}, true},
      {"authorization.k8s.io", "v1", "selfsubjectrulesreviews", "selfsubjectrulesreview",
       "SelfSubjectRulesReview", false, {}, {}, {}, true},
      {"authorization.k8s.io", "v1", "subjectaccessreviews", "subjectaccessreview",
       "SubjectAccessReview", false, {}, {}, {}, true},
  };
  return kResources;
}

const ResourceInfo* FindResource(std::string_view group, std::string_view version,
                                 std::string_view plural) {
  for (const auto& r : AllResources()) {
    if (r.group == group && r.version == version && r.plural == plural) return &r;
  }
  return nullptr;
}

const ResourceInfo* FindResourceByKind(std::string_view api_version, std::string_view kind) {
  for (const auto& r : AllResources()) {
    if (r.kind == kind && r.ApiVersion() == api_version) return &r;
  }
  return nullptr;
}

std::vector<GroupVersion> ApiGroups() {
  std::vector<GroupVersion> out;
  for (const auto& r : AllResources()) {
    if (r.group.empty()) continue;
    bool seen = std::any_of(out.begin(), out.end(),
                            [&](const GroupVersion& g) { return g.group == r.group; });
    if (!seen) out.push_back({r.group, r.version});
  }
  return out;
}

}  // namespace kubepp::apiserver
