// Shared by the fuzz targets: invariant checks that abort (so libFuzzer records the input)
// and the input helpers.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <utility>

#include "common/api/json.h"

namespace kubepp::fuzz {

// A broken invariant is a finding just like a sanitizer report.
#define FUZZ_CHECK(cond, what)                                                          \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "FUZZ_CHECK failed: %s (%s:%d): %s\n", #cond, __FILE__,      \
                   __LINE__, std::string(what).c_str());                                \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

// Splits at the first line that is exactly "---" ("a\n---\nb" -> {"a", "b"}); without one
// everything is the first part. Lets a text seed carry two documents.
inline std::pair<std::string_view, std::string_view> SplitTwo(std::string_view s) {
  constexpr std::string_view kSep = "\n---\n";
  size_t at = s.find(kSep);
  if (at == std::string_view::npos) return {s, std::string_view()};
  return {s.substr(0, at), s.substr(at + kSep.size())};
}

// Serializing a value must give JSON that parses back to the same value. Compared as
// text: RapidJSON's operator== is false for an object with a repeated key even against
// itself (ParseJson keeps both members).
inline void CheckJsonRoundTrip(const api::Value& v) {
  std::string text = api::ToJson(v);
  auto back = api::ParseJson(text);
  FUZZ_CHECK(back.ok(), back.status().message() + " in " + text);
  FUZZ_CHECK(api::ToJson(*back) == text, text + " -> " + api::ToJson(*back));
}

// Whether some object in `v` repeats a key.
inline bool HasRepeatedKey(const api::Value& v) {
  if (v.IsArray()) {
    for (const auto& e : v.GetArray())
      if (HasRepeatedKey(e)) return true;
  } else if (v.IsObject()) {
    for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
      if (v.FindMember(m->name) != m || HasRepeatedKey(m->value)) return true;
    }
  }
  return false;
}

}  // namespace kubepp::fuzz
