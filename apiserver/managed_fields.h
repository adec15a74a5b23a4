// Server-side apply's field ownership: which manager set which fields of an object, kept
// in metadata.managedFields (FieldsV1) as upstream, so that
//   - an apply that would change a field another manager set fails with a 409 Conflict
//     naming each field and manager, unless forced (then the fields change hands);
//   - a field the manager applied before and no longer applies is removed from the object
//     when no other manager owns it (that is how `kubectl apply --server-side` deletes).
// Fields are tracked per manager for operation Apply. Writes that are not applies
// (create, update, patch) keep the entries as they are and add none of their own:
// unlike upstream, they take no field away from an applier, so an apply after them
// overwrites what they changed without a conflict.
// Thread safety: pure functions.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/api/json.h"
#include "common/status.h"

namespace kubepp::apiserver {

// A field as FieldsV1 names its steps: "f:<name>" (a member), "k:<json>" (a list element
// by its merge key, e.g. k:{"name":"app"}), "v:<json>" (an element of a set of values),
// "." (the element itself).
using FieldPath = std::vector<std::string>;
using FieldSet = std::set<FieldPath>;

// The fields `config` (an apply configuration of a `kind` object) sets: its leaves, and
// each keyed list element it names. Server-owned metadata, apiVersion, kind and status
// are not fields a client applies.
FieldSet FieldsOf(const api::Value& config, std::string_view kind);

// FieldsV1 JSON of a set (a tree of the steps, leaves {}), and back.
void EncodeFieldsV1(const FieldSet& set, api::Value& out, api::Allocator& a);
FieldSet DecodeFieldsV1(const api::Value& fields);

// ".spec.containers[name=\\"app\\"].image", as upstream's conflict messages write a field.
std::string FieldPathString(const FieldPath& path);

// Applies `config` for `manager` to `live` (the stored object; its managedFields are
// read and rewritten): conflicts (unless `force`), the strategic merge of the config,
// removal of fields the manager gave up, the manager's entry (time `now`, apiVersion
// `api_version`). `live` is unchanged on error.
Status ServerSideApply(api::Document& live, const api::Value& config, std::string_view kind,
                       const std::string& manager, bool force, const std::string& api_version,
                       const std::string& now);

// The managedFields of an object created by an apply: one entry for `manager`.
void SetAppliedFields(api::Document& object, const api::Value& config, std::string_view kind,
                      const std::string& manager, const std::string& api_version,
                      const std::string& now);

}  // namespace kubepp::apiserver
