// Server-side printing: the `meta.k8s.io/v1` Table that `kubectl get` asks for with
// `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`. Columns and cells follow
// upstream's printers (kubernetes pkg/printers/internalversion/printers.go) for every
// built-in resource we serve; any other resource gets Name and Age.
//
// As upstream's apiserver, every row carries all columns, the `-o wide` ones (priority 1)
// included: kubectl hides those unless asked.
//
// Thread safety: pure functions over immutable inputs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "apiserver/resources.h"
#include "common/api/json.h"
#include "common/status.h"

namespace kubepp::apiserver {

// What each row carries besides its cells (`?includeObject=None|Metadata|Object`).
enum class IncludeObject { kNone, kMetadata, kObject };

// Parses the includeObject query value: "" is kMetadata (upstream's default); anything
// but "None", "Metadata" or "Object" is BadRequest.
Result<IncludeObject> ParseIncludeObject(std::string_view s);

// Builds the Table JSON for `objects`, each a full object of resource `info`:
// {"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{...},
//  "columnDefinitions":[{"name","type","format","description","priority"}...],
//  "rows":[{"cells":[...],"conditions":[...]?,"object":...?}...]}.
// `list_resource_version` and `continue_token` go into the Table's metadata, each omitted
// when empty. `now_unix` (seconds since the epoch) is the reference for ages. Each row's
// object is, by `include`: kNone, absent; kMetadata, a PartialObjectMetadata carrying the
// object's metadata; kObject, the object itself. Pods that finished carry upstream's
// `Completed` row condition.
std::string BuildTable(const ResourceInfo& info, const std::vector<const api::Value*>& objects,
                       IncludeObject include, std::string_view list_resource_version,
                       std::string_view continue_token, int64_t now_unix);

// A duration in seconds as upstream's duration.HumanDuration prints it: "5s", "3m20s",
// "15m", "2d3h", "3y"; "<invalid>" below -1 s (clock skew up to that is "0s").
std::string HumanDuration(int64_t seconds);

}  // namespace kubepp::apiserver
