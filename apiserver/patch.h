// The three patch formats a PATCH request may carry (chosen by its Content-Type):
//   application/merge-patch+json           -> ApplyMergePatch (RFC 7386)
//   application/json-patch+json            -> ApplyJsonPatch (RFC 6902)
//   application/strategic-merge-patch+json -> ApplyStrategicMergePatch (Kubernetes)
// Each function parses nothing: the caller hands over the parsed body. On error the
// target is left unchanged and the Status is ready to be returned to the client.
//
// Thread safety: stateless; the documents passed in must not be shared during the call.
#pragma once

#include <string_view>

#include "common/api/json.h"
#include "common/status.h"

namespace kubepp::apiserver {

// RFC 7386 JSON merge patch: objects merge recursively, null removes a key, anything
// else (arrays included) replaces. `patch` must be an object (BadRequest otherwise, as
// upstream: a whole-object replacement is an update, not a patch).
Status ApplyMergePatch(api::Document& target, const api::Value& patch);

// RFC 6902 JSON patch: `ops` is an array of {op, path, [from], [value]} objects with op
// one of add, remove, replace, move, copy, test; paths are JSON pointers (~0 = '~',
// ~1 = '/', "-" appends to an array). All-or-nothing: the operations run on a copy that
// replaces `target` only when every one succeeded.
// Errors, as upstream: a body that is not an array of objects is BadRequest; more than
// kMaxJsonPatchOps operations is RequestTooLarge; an operation that cannot be applied
// (bad op, missing path, failed test, ...) is Invalid (422) naming the op index and path,
// and so is a "copy" that takes the total size (as JSON) of the copied values beyond
// kMaxJsonPatchCopyBytes (upstream's JSONPatchMaxCopyBytes), which stops a small patch
// from doubling the object again and again.
inline constexpr size_t kMaxJsonPatchOps = 10000;
inline constexpr size_t kMaxJsonPatchCopyBytes = 3 << 20;
Status ApplyJsonPatch(api::Document& target, const api::Value& ops);

// Kubernetes strategic merge patch for the built-in kind `kind` ("Deployment", "Pod").
// Like a merge patch, except that:
//   - lists declared with a patch merge key (containers by name, env by name, ports by
//     containerPort, ...; the table is in patch.cc) merge element-wise by that key, and
//     declared primitive lists (metadata.finalizers) are unioned; other lists replace;
//   - directives: `$patch: replace|delete|merge` in a map or in a list element,
//     `$setElementOrder/<list>`, `$retainKeys`, `$deleteFromPrimitiveList/<list>`.
// Directives never remain in the result. Element order follows upstream: patch elements
// in patch (or $setElementOrder) order, interleaved with server-only elements in their
// existing order. Kinds outside the table (custom resources) get only the metadata
// rules; rejecting strategic merge patch for them (415) is the caller's job.
// `patch` must be an object; a malformed patch (bad directive, list element without its
// merge key, $setElementOrder disagreeing with the list) is BadRequest.
// Documented deviation: upstream rejects `$patch: merge`; we treat it as the default.
Status ApplyStrategicMergePatch(api::Document& target, const api::Value& patch,
                                std::string_view kind);

// The merge key of the list at `path` (field names from the object root joined by ".",
// list elements adding no segment) of objects of `kind`: "" for a list of primitives
// merged as a set, null for a list that is replaced whole (atomic).
const std::string* ListMergeKey(std::string_view kind, const std::string& path);

}  // namespace kubepp::apiserver
