// The static table of API resources the apiserver serves: group/version, plural,
// kind, scope, discovery data. Everything that must agree on "what is a deployment"
// (router, discovery, tables, validation) reads this one table.
//
// Thread safety: immutable after static initialization.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kubepp::apiserver {

struct ResourceInfo {
  std::string group;     // "" for the core group
  std::string version;   // "v1"
  std::string plural;    // "pods"
  std::string singular;  // "pod"
  std::string kind;      // "Pod"
  bool namespaced = true;
  std::vector<std::string> short_names;
  std::vector<std::string> categories;  // "all" makes `kubectl get all` include it
  // Subresources served, e.g. "status", "scale", "binding", "log", "eviction".
  std::vector<std::string> subresources;
  // Create-only and never stored (the authorization.k8s.io reviews): a POST is answered
  // with the evaluated object; discovery lists only the verb "create".
  bool review = false;

  // "v1" or "apps/v1": the apiVersion field of objects of this resource.
  std::string ApiVersion() const { return group.empty() ? version : group + "/" + version; }
  // "pods" or "deployments.apps": how Kubernetes names the resource in messages.
  std::string QualifiedName() const { return group.empty() ? plural : plural + "." + group; }
  bool HasSubresource(std::string_view s) const;
  // Whether the object has a status that only the status subresource may change.
  bool HasStatus() const { return HasSubresource("status"); }
};

const std::vector<ResourceInfo>& AllResources();
const ResourceInfo* FindResource(std::string_view group, std::string_view version,
                                 std::string_view plural);
const ResourceInfo* FindResourceByKind(std::string_view api_version, std::string_view kind);

// The distinct API groups with their (single) served version, core excluded, in
// discovery order.
struct GroupVersion {
  std::string group;
  std::string version;
};
std::vector<GroupVersion> ApiGroups();

}  // namespace kubepp::apiserver
