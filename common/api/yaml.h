// YAML <-> JSON object model. YAML bodies (kubectl manifests, `Content-Type:
// application/yaml`) are converted to the same RapidJSON documents as JSON bodies, and
// objects are emitted as YAML for `Accept: application/yaml` / `-o yaml`.
//
// Scalar resolution follows the YAML 1.2 core schema, with one deliberate exception:
// a plain integer with a leading zero ("0644") is octal, as in YAML 1.1 and in
// Kubernetes' own YAML decoding, so `defaultMode: 0644` means 420 as it does upstream.
//
// Thread safety: stateless functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/api/json.h"
#include "common/status.h"

namespace kubepp::api {

// Upper bound on the (estimated) serialized JSON size of everything one ParseYaml call
// produces. Aliases are expanded, so this is what stops "billion laughs" documents.
inline constexpr size_t kMaxYamlJsonBytes = 16 << 20;

// Parses a YAML stream of one or more documents ("---" separated) into JSON documents.
// Empty and null documents are skipped, so "---\n---\n" yields no documents.
//  - Plain scalars become null (~, null, empty), bool (true/false in any of the three
//    core-schema casings), int (decimal, 0x hex, 0o / leading-0 octal, 0b binary; uint64
//    or double when out of int64 range) or double (core-schema floats) when they look
//    like one; everything else stays a string. .inf/.nan and overflowing floats stay
//    strings because JSON cannot represent them.
//  - Quoted scalars, block literals/folded scalars and !!str scalars are always strings.
//  - Mapping keys are always strings (a null key becomes "null"); a non-scalar key is
//    BadRequest. A repeated key keeps its last value.
//  - Merge keys ("<<") are not interpreted.
// Syntax errors are BadRequest with line and column. Results nested deeper than
// kMaxJsonDepth (including recursive aliases) or larger than kMaxYamlJsonBytes are
// BadRequest.
Result<std::vector<Document>> ParseYaml(std::string_view text);

// Parses a single object body: JSON (via ParseJson) when the first non-whitespace byte
// is '{' or '[', YAML otherwise. A YAML stream with zero or several documents is
// BadRequest.
Result<Document> ParseJsonOrYaml(std::string_view text);

// Emits `v` as one block-style YAML document (kubectl -o yaml layout: two-space
// indentation, sequences inside mappings not indented, empty containers as {} / []).
// Strings that would read back as anything else ("1", "true", "yes", "null", "",
// ": " inside, leading indicator characters, leading/trailing spaces...) are
// double-quoted; multi-line strings use a literal block (|, |- or |+) when they can be
// represented exactly, double quotes otherwise. ParseYaml(ToYaml(v)) reproduces `v`.
// The result ends with a newline.
std::string ToYaml(const Value& v);

}  // namespace kubepp::api
