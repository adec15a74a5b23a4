#include "controller-manager/framework/canonical.h"

#include <algorithm>
#include <vector>

namespace kubepp::controller {
namespace {

// Whether `v` compares equal to an absent field.
bool IsUnset(const api::Value& v) {
  if (v.IsNull()) return true;
  if (v.IsObject()) {
    for (const auto& m : v.GetObject()) {
      if (!IsUnset(m.value)) return false;
    }
    return true;
  }
  return v.IsArray() && v.Empty();
}

// api::AppendQuoted, with a fast path for the common string that needs no escaping
// (canonical texts of large objects are mostly such strings).
void AppendString(std::string& out, std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == '"' || c == '\\') return api::AppendQuoted(out, s);
  }
  out += '"';
  out += s;
  out += '"';
}

void AppendCanonical(std::string& out, const api::Value& v) {
  if (v.IsObject()) {
    std::vector<const api::Value::Member*> members;
    for (const auto& m : v.GetObject()) {
      if (!IsUnset(m.value)) members.push_back(&m);
    }
    std::sort(members.begin(), members.end(), [](auto* a, auto* b) {
      return api::View(a->name) < api::View(b->name);
    });
    out += '{';
    for (size_t i = 0; i < members.size(); ++i) {
      if (i) out += ',';
      AppendString(out, api::View(members[i]->name));
      out += ':';
      AppendCanonical(out, members[i]->value);
    }
    out += '}';
  } else if (v.IsArray()) {
    out += '[';
    bool first = true;
    for (const auto& e : v.GetArray()) {
      if (!first) out += ',';
      first = false;
      AppendCanonical(out, e);
    }
    out += ']';
  } else if (v.IsString()) {
    AppendString(out, api::View(v));
  } else if (v.IsBool()) {
    out += v.GetBool() ? "true" : "false";
  } else if (v.IsInt64()) {
    out += std::to_string(v.GetInt64());
  } else {
    out += api::ToJson(v);  // doubles, huge integers, null
  }
}

}  // namespace

std::string CanonicalJson(const api::Value& v) {
  std::string out;
  AppendCanonical(out, v);
  return out;
}

bool SemanticEqual(const api::Value& a, const api::Value& b) {
  return a == b || CanonicalJson(a) == CanonicalJson(b);
}

std::string TemplateHash(const api::Value& v, int64_t salt) {
  auto fnv = [](std::string_view s, uint32_t h) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 16777619u;
    }
    return h;
  };
  uint32_t h = fnv(CanonicalJson(v), 2166136261u);
  if (salt > 0) h = fnv(std::to_string(salt), h);
  // As upstream's SafeEncodeString(fmt.Sprint(hash)): each decimal digit mapped.
  static constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
  std::string out;
  for (char c : std::to_string(h)) out += kAlphabet[static_cast<unsigned char>(c) % kAlphabet.size()];
  return out;
}

}  // namespace kubepp::controller
