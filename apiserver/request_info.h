// Parses a resource URL path into what it addresses:
//   /api/v1/namespaces/default/pods/x/status -> pods, ns default, name x, sub status
//   /apis/apps/v1/deployments                 -> deployments in every namespace
#pragma once

#include <string>
#include <string_view>

#include "apiserver/resources.h"
#include "common/status.h"

namespace kubepp::apiserver {

struct RequestInfo {
  const ResourceInfo* resource = nullptr;
  std::string ns;           // "" when the URL names no namespace
  std::string name;         // "" for collection requests
  std::string subresource;  // "" for the main resource
};

// NotFound (as upstream's 404 "the server could not find the requested resource")
// for unknown groups, versions, resources or subresources.
Result<RequestInfo> ParseResourcePath(std::string_view path);

}  // namespace kubepp::apiserver
