// JSON object model: Kubernetes objects are RapidJSON documents, reached through the
// small set of helpers below (dotted paths such as "metadata.name"). We do not write a
// struct per Kubernetes type: the apiserver stores and serves objects it mostly does not
// need to understand, and the fields a component reads are reached by path.
//
// Thread safety: a Document is not synchronized; share immutable documents through
// std::shared_ptr<const Document>.
#pragma once

#ifndef RAPIDJSON_HAS_STDSTRING
#define RAPIDJSON_HAS_STDSTRING 1
#endif

#include <cstddef>
#include <type_traits>

namespace kubepp::api::internal {
// The first (and each further) memory chunk of a document's own pool. RapidJSON's default
// is 64 KiB, most of it never used by a Kubernetes object of a few KiB: with thousands of
// objects cached (informers) and replaced (updates), freed and reused chunks end up
// touched throughout and the process keeps ~64 KiB per live object resident.
inline constexpr std::size_t kJsonChunkBytes = 4096;
// What RAPIDJSON_NEW makes: pool allocators with kJsonChunkBytes chunks, the rest as is.
template <typename T>
T* NewRapidJsonObject() {
  if constexpr (std::is_constructible_v<T, std::size_t>) {
    return new T(kJsonChunkBytes);
  } else {
    return new T();
  }
}
}  // namespace kubepp::api::internal
// RapidJSON creates a document's own allocator with RAPIDJSON_NEW(Allocator()); every
// RapidJSON include goes through this header, so this is the definition it sees.
#define RAPIDJSON_NEW(x) ::kubepp::api::internal::NewRapidJsonObject<decltype(x)>()
#include <rapidjson/document.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kubepp::api {

using Value = rapidjson::Value;
using Document = rapidjson::Document;
using Allocator = rapidjson::Document::AllocatorType;

// Parses JSON text. A syntax error is BadRequest naming the offset and the problem.
// Nesting deeper than kMaxJsonDepth is rejected rather than recursed into.
inline constexpr int kMaxJsonDepth = 256;
Result<Document> ParseJson(std::string_view text);
// Whether `v` nests no deeper than kMaxJsonDepth, what ParseJson accepts (a value built in
// memory, e.g. by a patch, must pass this before it is stored).
bool WithinMaxDepth(const Value& v);
// Keeps, in every object of `v`, only the last of the members sharing a name (what Go's
// decoder keeps; RapidJSON keeps them all and finds the first), and appends the path of
// each repeated name to `repeated` in upstream's form: "metadata.name",
// "spec.containers[0].image". For request bodies, whose repeated fields the apiserver
// reports or refuses (fieldValidation).
void DropRepeatedMembers(Value& v, std::vector<std::string>* repeated);

// Compact serialization.
std::string ToJson(const Value& v);
// Indented (for humans and `?pretty=true`).
std::string ToPrettyJson(const Value& v);

// Deep copies.
Document Clone(const Value& v);
// An immutable deep copy of `v` in one block sized to fit it exactly. For objects kept
// long and in numbers (informer caches): a Document's own pool rounds each object up to
// whole kJsonChunkBytes chunks, most of a small object's chunk unused but resident.
// Costs two copies of `v` instead of one.
std::shared_ptr<const Document> Freeze(const Value& v);
inline Value Copy(const Value& v, Allocator& a) { return Value(v, a); }

// Dotted-path lookup: "metadata.name". Returns nullptr when any step is missing or is
// not an object. Keys containing dots cannot be reached this way: use FindMember.
const Value* Find(const Value& v, std::string_view path);
Value* FindMutable(Value& v, std::string_view path);
const Value* FindMember(const Value& v, std::string_view key);

std::string GetString(const Value& v, std::string_view path, std::string_view fallback = "");
int64_t GetInt(const Value& v, std::string_view path, int64_t fallback = 0);
bool GetBool(const Value& v, std::string_view path, bool fallback = false);
bool Has(const Value& v, std::string_view path);
// Object members of the map at `path` whose values are strings (labels, annotations).
std::map<std::string, std::string> GetStringMap(const Value& v, std::string_view path);

// Returns the object at `path`, creating empty objects along the way (replacing any
// non-object found on the path).
Value& Ensure(Value& root, std::string_view path, Allocator& a);
void SetString(Value& root, std::string_view path, std::string_view s, Allocator& a);
void SetInt(Value& root, std::string_view path, int64_t n, Allocator& a);
void SetBool(Value& root, std::string_view path, bool b, Allocator& a);
void SetValue(Value& root, std::string_view path, Value v, Allocator& a);
void SetStringMap(Value& root, std::string_view path,
                  const std::map<std::string, std::string>& m, Allocator& a);
// Removes the member at `path` if present. Returns whether it was there.
bool Remove(Value& root, std::string_view path);

inline Value Str(std::string_view s, Allocator& a) {
  return Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}
inline std::string_view View(const Value& v) {
  return v.IsString() ? std::string_view(v.GetString(), v.GetStringLength()) : std::string_view();
}

// Appends `s` as a JSON string literal (quoted and escaped) to `out`.
void AppendQuoted(std::string& out, std::string_view s);

}  // namespace kubepp::api
