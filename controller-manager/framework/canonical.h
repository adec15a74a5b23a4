// A canonical JSON text for comparing and hashing API objects the way upstream compares
// Go structs semantically.
// Thread safety: stateless.
#pragma once

#include <string>

#include "common/api/json.h"

namespace kubepp::controller {

// JSON with object keys sorted at every level and unset members (null, {}, []) left
// out, so that two objects a Go client would decode to equal structs give equal text
// (kubectl's `rollout undo` sends "creationTimestamp":null inside the template it
// copies back; the server may omit empty maps).
std::string CanonicalJson(const api::Value& v);
// Whether a and b have equal canonical forms; cheap when they are structurally equal
// (member order aside), which is the common case of an object compared with what this
// process wrote earlier.
bool SemanticEqual(const api::Value& a, const api::Value& b);

// A short name-safe hash of an object (a pod template): FNV-32a of its canonical form,
// then of `salt` when non-zero, written with upstream's alphabet
// "bcdfghjklmnpqrstvwxz2456789" (the pod-template-hash and controller-revision-hash
// label values).
std::string TemplateHash(const api::Value& v, int64_t salt = 0);

}  // namespace kubepp::controller
