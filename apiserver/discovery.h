// Discovery documents (/api, /apis, /api/v1, /apis/<g>, /apis/<g>/<v>) and /version,
// generated from the resource table. Legacy (non-aggregated) discovery, which every
// kubectl from 1.20 to 1.33 accepts.
#pragma once

#include <string>
#include <string_view>

namespace kubepp::apiserver {

// The Kubernetes version kubepp reports.
inline constexpr std::string_view kGitVersion = "v1.33.0";

std::string VersionJson();
std::string ApiVersionsJson(std::string_view server_address);  // /api
std::string ApiGroupListJson();                                 // /apis
// /apis/<group>, or "" if no such group.
std::string ApiGroupJson(std::string_view group);
// /api/v1 (group "") or /apis/<group>/<version>, or "" if unknown.
std::string ApiResourceListJson(std::string_view group, std::string_view version);

}  // namespace kubepp::apiserver
