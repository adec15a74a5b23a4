#include "common/api/yaml.h"

#include <algorithm>

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <unordered_map>

namespace kubepp::api {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool OneOf(std::string_view s, std::initializer_list<std::string_view> options) {
  for (std::string_view o : options)
    if (s == o) return true;
  return false;
}

bool IsNullWord(std::string_view s) { return OneOf(s, {"", "~", "null", "Null", "NULL"}); }

// Integers: optional sign, then 0x / 0o / 0b prefixed digits, leading-0 octal (YAML 1.1,
// as Kubernetes decodes it) or decimal. Magnitudes beyond int64 go to uint64, and
// beyond that (decimal only) to the float path.
bool ResolveInt(std::string_view s, Value& out) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  int base = 10;
  bool prefixed = s.size() > 2 && s[0] == '0' &&
                  std::string_view("xXoObB").find(s[1]) != std::string_view::npos;
  if (prefixed) {
    base = (s[1] == 'x' || s[1] == 'X') ? 16 : (s[1] == 'o' || s[1] == 'O') ? 8 : 2;
    s.remove_prefix(2);
  } else if (s.size() > 1 && s[0] == '0') {
    base = 8;
  }
  uint64_t magnitude = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), magnitude, base);
  if (ec != std::errc() || end != s.data() + s.size()) return false;
  constexpr uint64_t kInt64Max = std::numeric_limits<int64_t>::max();
  if (!negative && magnitude <= kInt64Max) {
    out.SetInt64(static_cast<int64_t>(magnitude));
  } else if (!negative) {
    out.SetUint64(magnitude);
  } else if (magnitude <= kInt64Max + 1) {
    out.SetInt64(static_cast<int64_t>(0 - magnitude));
  } else {
    out.SetDouble(-static_cast<double>(magnitude));
  }
  return true;
}

// Core-schema float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool ResolveFloat(std::string_view s, Value& out) {
  size_t i = 0, n = s.size();
  auto digits = [&] {
    size_t start = i;
    while (i < n && IsDigit(s[i])) ++i;
    return i - start;
  };
  if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
  size_t mantissa_digits = digits();
  if (i < n && s[i] == '.') {
    ++i;
    mantissa_digits += digits();
  }
  if (mantissa_digits == 0) return false;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  if (i != n) return false;
  if (s[0] == '+') s.remove_prefix(1);  // from_chars takes no '+'
  double d = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(d)) return false;
  out.SetDouble(d);
  return true;
}

// Resolves an untagged plain scalar. Returns false (leaving `out` alone) when it is a
// string.
bool ResolvePlain(std::string_view s, Value& out) {
  if (IsNullWord(s)) {
    out.SetNull();
    return true;
  }
  if (OneOf(s, {"true", "True", "TRUE", "false", "False", "FALSE"})) {
    out.SetBool(s[0] == 't' || s[0] == 'T');
    return true;
  }
  return ResolveInt(s, out) || ResolveFloat(s, out);
}

std::string MarkText(const YAML::Mark& m) {
  if (m.is_null()) return "";
  return "line " + std::to_string(m.line + 1) + ", column " + std::to_string(m.column + 1) + ": ";
}

// yaml-cpp 0.7 decodes the escapes \N and \_ of double-quoted scalars to the single
// bytes 0x85 and 0xA0 instead of the UTF-8 of U+0085 and U+00A0. Input is checked to be
// UTF-8 before it is parsed, so such a byte standing alone in a scalar came from one of
// those escapes: it becomes the character's UTF-8, as Go's reader decodes it.
std::string FixLatin1Escapes(const std::string& s) {
  if (std::none_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
    return s;
  }
  std::string out;
  out.reserve(s.size() + 4);
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 4;
    bool whole = n < 4;  // a complete UTF-8 sequence starts here
    for (size_t k = 1; whole && k <= n; ++k) {
      whole = i + k < s.size() && (static_cast<unsigned char>(s[i + k]) >> 6) == 2;
    }
    if (!whole && (c == 0x85 || c == 0xA0)) {
      out += '\xC2';
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    size_t len = whole ? n + 1 : 1;
    out.append(s, i, len);
    i += len;
  }
  return out;
}

// Converts one yaml-cpp node graph to JSON, charging every produced byte (aliases
// included, each time they are expanded) against one shared budget.
class Converter {
 public:
  Status Convert(const YAML::Node& n, int depth, Value& out, Allocator& a) {
    if (depth > kMaxJsonDepth) {
      return BadRequest("invalid YAML: " + MarkText(n.Mark()) +
                        "nested deeper than 256 levels (or a recursive alias)");
    }
    switch (n.Type()) {
      case YAML::NodeType::Scalar: {
        const std::string s = FixLatin1Escapes(n.Scalar());
        RETURN_IF_ERROR(Charge(s.size() + 2));
        const std::string& tag = n.Tag();
        // "?" is an untagged plain scalar; "!" a quoted or block one.
        bool resolvable = tag == "?" || (tag.rfind("tag:yaml.org,2002:", 0) == 0 &&
                                         tag != "tag:yaml.org,2002:str");
        if (!resolvable || !ResolvePlain(s, out)) out.SetString(s.data(), s.size(), a);
        return Status::Ok();
      }
      case YAML::NodeType::Sequence:
        out.SetArray();
        RETURN_IF_ERROR(Charge(2));
        for (const YAML::Node& child : n) {
          Value v;
          RETURN_IF_ERROR(Convert(child, depth + 1, v, a));
          RETURN_IF_ERROR(Charge(1));
          out.PushBack(v, a);
        }
        return Status::Ok();
      case YAML::NodeType::Map: {
        out.SetObject();
        RETURN_IF_ERROR(Charge(2));
        std::unordered_map<std::string, rapidjson::SizeType> index;  // key -> member position
        for (const auto& kv : n) {
          if (!kv.first.IsScalar() && !kv.first.IsNull()) {
            return BadRequest("invalid YAML: " + MarkText(kv.first.Mark()) +
                              "mapping keys must be scalars");
          }
          std::string key = kv.first.IsNull() ? "null" : FixLatin1Escapes(kv.first.Scalar());
          RETURN_IF_ERROR(Charge(key.size() + 4));
          Value v;
          RETURN_IF_ERROR(Convert(kv.second, depth + 1, v, a));
          auto [it, inserted] = index.emplace(key, out.MemberCount());
          if (inserted) {
            out.AddMember(Str(key, a), v, a);
          } else {
            (out.MemberBegin() + it->second)->value = v;
          }
        }
        return Status::Ok();
      }
      default:  // Null, Undefined
        out.SetNull();
        return Charge(4);
    }
  }

 private:
  Status Charge(size_t bytes) {
    used_ += bytes;
    if (used_ > kMaxYamlJsonBytes) return BadRequest("YAML expands to more than 16 MiB of JSON");
    return Status::Ok();
  }
  size_t used_ = 0;
};

// ---- Emitter ----

bool IsYaml11Word(std::string_view s) {
  // Words other YAML parsers (YAML 1.1, e.g. Go's yaml.v2) read as bool or special float.
  return OneOf(s, {"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On",
                   "ON", "off", "Off", "OFF", ".inf", ".Inf", ".INF", "-.inf", "-.Inf",
                   "-.INF", "+.inf", "+.Inf", "+.INF", ".nan", ".NaN", ".NAN", "<<", "="});
}

bool HasControl(std::string_view s, bool allow_newline_and_tab) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (allow_newline_and_tab && (c == '\n' || c == '\t')) continue;
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

// Whether `s` must be quoted to read back as this very string from a plain scalar.
bool NeedsQuotes(std::string_view s) {
  Value probe;
  if (s.empty() || ResolvePlain(s, probe) || IsYaml11Word(s) || HasControl(s, false)) return true;
  // Anything number-like (versions such as 1.2.3, 1_000, 1:30) is quoted: other
  // parsers read some of these as numbers.
  char c0 = s[0];
  if (IsDigit(c0) || ((c0 == '-' || c0 == '+' || c0 == '.') && s.size() > 1 && IsDigit(s[1])))
    return true;
  if (std::string_view("-?:,[]{}#&*!|>'\"%@` ").find(c0) != std::string_view::npos) return true;
  if (s.back() == ' ' || s.back() == ':') return true;
  if (s.rfind("...", 0) == 0) return true;
  return s.find(": ") != std::string_view::npos || s.find(" #") != std::string_view::npos;
}

void AppendDoubleQuoted(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (u < 0x20 || u == 0x7f) {
          out += "\\x";
          out += kHex[u >> 4];
          out += kHex[u & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

// A literal block reproduces the string exactly when it has no other control
// characters and its first line does not start with whitespace (which would be taken
// as indentation).
bool LiteralBlockFits(std::string_view s) {
  return s.find('\n') != std::string_view::npos && s[0] != ' ' && s[0] != '\t' &&
         s[0] != '\n' && !HasControl(s, true);
}

// Appends "|", "|-" or "|+" and the content lines indented by `indent`; no final newline.
void AppendLiteralBlock(std::string& out, std::string_view s, int indent) {
  size_t body_end = s.find_last_not_of('\n') + 1;
  size_t trailing = s.size() - body_end;
  out += trailing == 0 ? "|-" : trailing == 1 ? "|" : "|+";
  std::string_view body = s.substr(0, body_end);
  while (true) {
    size_t nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    out += '\n';
    if (!line.empty()) out.append(indent, ' ').append(line);
    if (nl == std::string_view::npos) break;
    body.remove_prefix(nl + 1);
  }
  if (trailing > 1) out.append(trailing - 1, '\n');
}

void AppendKey(std::string& out, std::string_view key) {
  if (NeedsQuotes(key)) {
    AppendDoubleQuoted(out, key);
  } else {
    out += key;
  }
}

// Scalars and empty containers, on the current line; `indent` is where the content of
// a literal block goes.
void AppendInline(std::string& out, const Value& v, int indent) {
  if (v.IsString()) {
    std::string_view s = View(v);
    if (LiteralBlockFits(s)) {
      AppendLiteralBlock(out, s, indent);
    } else if (NeedsQuotes(s)) {
      AppendDoubleQuoted(out, s);
    } else {
      out += s;
    }
  } else if (v.IsObject()) {
    out += "{}";
  } else if (v.IsArray()) {
    out += "[]";
  } else {
    out += ToJson(v);  // numbers, true/false, null: JSON and YAML spell them alike
  }
}

bool IsBlock(const Value& v) {
  return (v.IsObject() && v.MemberCount() > 0) || (v.IsArray() && !v.Empty());
}

// Appends a non-empty object or array as lines indented by `indent`.
void AppendBlock(std::string& out, const Value& v, int indent) {
  if (v.IsObject()) {
    for (const auto& m : v.GetObject()) {
      out.append(indent, ' ');
      AppendKey(out, View(m.name));
      out += ':';
      if (IsBlock(m.value)) {
        out += '\n';
        // Sequences sit at their key's indentation, as kubectl prints them.
        AppendBlock(out, m.value, m.value.IsArray() ? indent : indent + 2);
      } else {
        out += ' ';
        AppendInline(out, m.value, indent + 2);
        out += '\n';
      }
    }
    return;
  }
  for (const Value& e : v.GetArray()) {
    out.append(indent, ' ');
    out += "- ";
    if (IsBlock(e)) {
      // The nested block starts on the dash's line: render it one level deeper and
      // drop the first line's indentation.
      std::string nested;
      AppendBlock(nested, e, indent + 2);
      out.append(nested, indent + 2);
    } else {
      AppendInline(out, e, indent + 2);
      out += '\n';
    }
  }
}



// Splits a stream into documents at "---" lines, as Kubernetes' own YAML reader does.
// We never hand yaml-cpp a whole stream: 0.7's LoadAll loops forever, allocating, on
// inputs as small as "," (its issue #1040); Load of a single document does not.
std::vector<std::string_view> SplitDocuments(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0, line = 0;
  while (line <= text.size()) {
    size_t end = text.find('\n', line);
    if (end == std::string_view::npos) end = text.size();
    std::string_view l = text.substr(line, end - line);
    if (l.substr(0, 3) == "---" && (l.size() == 3 || l[3] == ' ' || l[3] == '\t' || l[3] == '\r')) {
      out.push_back(text.substr(start, line - start));
      // Content after the marker on the same line ("--- {a: 1}") belongs to the next one.
      start = line + 3;
    }
    line = end + 1;
  }
  out.push_back(text.substr(std::min(start, text.size())));
  return out;
}

}  // namespace

namespace {

// Where `s` stops being what Go's YAML reader accepts (it is what kubectl and upstream
// decode with): UTF-8 of printable characters — tab, LF, CR, 0x20-0x7E, U+0085,
// U+00A0-U+D7FF, U+E000-U+FFFD but the BOM (allowed first), U+10000-U+10FFFF. Returns
// npos, or the offset with a reason in *why.
size_t UnreadableAt(std::string_view s, std::string* why) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 4;
    if (n == 4) return *why = "invalid UTF-8", i;
    uint32_t cp = n == 0 ? c : n == 1 ? (c & 0x1f) : n == 2 ? (c & 0x0f) : (c & 0x07);
    for (size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size() || (static_cast<unsigned char>(s[i + k]) >> 6) != 2) {
        return *why = "invalid UTF-8", i;
      }
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
    }
    bool printable = cp == 0x09 || cp == 0x0A || cp == 0x0D || (cp >= 0x20 && cp <= 0x7E) ||
                     cp == 0x85 || (cp >= 0xA0 && cp <= 0xD7FF) ||
                     (cp >= 0xE000 && cp <= 0xFFFD && (cp != 0xFEFF || i == 0)) ||
                     (cp >= 0x10000 && cp <= 0x10FFFF);
    if (!printable) return *why = "control characters are not allowed", i;
    i += n + 1;
  }
  return std::string_view::npos;
}

}  // namespace

Result<std::vector<Document>> ParseYaml(std::string_view text) {
  // As Go's YAML decoder: text that is not UTF-8, or holds control characters, is an
  // error, not bytes passed through to keys and strings that could not be written back.
  std::string why;
  if (size_t at = UnreadableAt(text, &why); at != std::string_view::npos) {
    return BadRequest("yaml: " + why + " (byte " + std::to_string(at) + ")");
  }
  std::vector<Document> docs;
  try {
    Converter converter;
    for (std::string_view part : SplitDocuments(text)) {
      YAML::Node node = YAML::Load(std::string(part));
      Document d;
      RETURN_IF_ERROR(converter.Convert(node, 0, d, d.GetAllocator()));
      // An empty document, or one whose value is null ("~", `!!null ""`), is no object:
      // skipped, as kubectl skips it, so ToYaml's "null" and its source read alike.
      if (d.IsNull()) continue;
      docs.push_back(std::move(d));
    }
  } catch (const YAML::Exception& e) {
    return BadRequest("invalid YAML: " + MarkText(e.mark) + e.msg);
  }
  return docs;
}

Result<Document> ParseJsonOrYaml(std::string_view text) {
  size_t start = text.find_first_not_of(" \t\r\n");
  if (start != std::string_view::npos && (text[start] == '{' || text[start] == '[')) {
    return ParseJson(text);
  }
  ASSIGN_OR_RETURN(std::vector<Document> docs, ParseYaml(text));
  if (docs.size() != 1) {
    return BadRequest("expected exactly one YAML document, found " + std::to_string(docs.size()));
  }
  return std::move(docs[0]);
}

std::string ToYaml(const Value& v) {
  std::string out;
  if (IsBlock(v)) {
    AppendBlock(out, v, 0);
  } else {
    AppendInline(out, v, 2);
    out += '\n';
  }
  return out;
}

}  // namespace kubepp::api
