#include "apiserver/admission.h"

#include "common/api/quantity.h"
#include "common/util/strings.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace kubepp::apiserver {
namespace {

using api::Allocator;
using api::Value;
using Msgs = std::vector<std::string>;

constexpr int64_t kMaxInt32 = 2147483647;
constexpr size_t kTotalAnnotationSizeLimit = 256 * 1024;
constexpr size_t kMaxConfigSize = 1024 * 1024;  // ConfigMap and Secret payload

// ---------------------------------------------------------------------------------------
// Syntax checks and their messages (k8s.io/apimachinery/pkg/util/validation).

constexpr std::string_view kDns1123LabelFmt = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
constexpr std::string_view kDns1123LabelMsg =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character";
constexpr std::string_view kDns1123SubdomainFmt =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
constexpr std::string_view kDns1123SubdomainMsg =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character";
constexpr std::string_view kDns1035LabelFmt = "[a-z]([-a-z0-9]*[a-z0-9])?";
constexpr std::string_view kDns1035LabelMsg =
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with "
    "an alphabetic character, and end with an alphanumeric character";
constexpr std::string_view kQualifiedNameFmt = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
constexpr std::string_view kQualifiedNameMsg =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character";
constexpr std::string_view kLabelValueFmt = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
constexpr std::string_view kLabelValueMsg =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character";
constexpr std::string_view kConfigKeyFmt = "[-._a-zA-Z0-9]+";
constexpr std::string_view kConfigKeyMsg =
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";
constexpr std::string_view kQuantityMsg =
    "quantities must match the regular expression "
    "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
constexpr std::string_view kNegativeMsg = "must be greater than or equal to 0";
constexpr std::string_view kImmutableMsg = "field is immutable";
constexpr std::string_view kSelectorMismatchMsg = "`selector` does not match template `labels`";

bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLowerAlnum(char c) { return IsLower(c) || IsDigit(c); }
bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }

// [a-z0-9]([-a-z0-9]*[a-z0-9])? regardless of length.
bool MatchesLabel(std::string_view s) {
  if (s.empty() || !IsLowerAlnum(s.front()) || !IsLowerAlnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return IsLowerAlnum(c) || c == '-'; });
}
bool MatchesSubdomain(std::string_view s) {
  for (;;) {
    size_t dot = s.find('.');
    if (!MatchesLabel(s.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    s.remove_prefix(dot + 1);
  }
}
// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]
bool MatchesQualifiedName(std::string_view s) {
  if (s.empty() || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return IsAlnum(c) || c == '-' || c == '_' || c == '.'; });
}

std::string RegexError(std::string_view msg, std::string_view fmt,
                       std::initializer_list<std::string_view> examples) {
  std::string out(msg);
  out += " (e.g. ";
  bool first = true;
  for (std::string_view e : examples) {
    if (!first) out += " or ";
    first = false;
    out += "'" + std::string(e) + "', ";
  }
  return out + "regex used for validation is '" + std::string(fmt) + "')";
}
std::string MaxLenError(size_t n) {
  return "must be no more than " + std::to_string(n) + " characters";
}

Msgs Dns1123LabelErrors(std::string_view s) {
  Msgs e;
  if (s.size() > 63) e.push_back(MaxLenError(63));
  if (!MatchesLabel(s)) {
    e.push_back(MatchesSubdomain(s)
                    ? "must not contain dots"
                    : RegexError(kDns1123LabelMsg, kDns1123LabelFmt, {"my-name", "123-abc"}));
  }
  return e;
}
Msgs Dns1123SubdomainErrors(std::string_view s) {
  Msgs e;
  if (s.size() > 253) e.push_back(MaxLenError(253));
  if (!MatchesSubdomain(s)) {
    e.push_back(RegexError(kDns1123SubdomainMsg, kDns1123SubdomainFmt, {"example.com"}));
  }
  return e;
}
Msgs Dns1035LabelErrors(std::string_view s) {
  Msgs e;
  if (s.size() > 63) e.push_back(MaxLenError(63));
  if (!MatchesLabel(s) || !IsLower(s.front())) {
    e.push_back(RegexError(kDns1035LabelMsg, kDns1035LabelFmt, {"my-name", "abc-123"}));
  }
  return e;
}
Msgs QualifiedNameErrors(std::string_view s) {
  Msgs e;
  std::string_view name = s;
  size_t slash = s.find('/');
  if (slash != std::string_view::npos) {
    if (s.find('/', slash + 1) != std::string_view::npos) {
      return {"a qualified name " +
              RegexError(kQualifiedNameMsg, kQualifiedNameFmt, {"MyName", "my.name", "123-abc"}) +
              " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"};
    }
    std::string_view prefix = s.substr(0, slash);
    name = s.substr(slash + 1);
    if (prefix.empty()) {
      e.push_back("prefix part must be non-empty");
    } else {
      for (const std::string& m : Dns1123SubdomainErrors(prefix)) e.push_back("prefix part " + m);
    }
  }
  if (name.empty()) {
    e.push_back("name part must be non-empty");
  } else if (name.size() > 63) {
    e.push_back("name part " + MaxLenError(63));
  }
  if (!MatchesQualifiedName(name)) {
    e.push_back("name part " +
                RegexError(kQualifiedNameMsg, kQualifiedNameFmt, {"MyName", "my.name", "123-abc"}));
  }
  return e;
}
Msgs LabelValueErrors(std::string_view s) {
  Msgs e;
  if (s.size() > 63) e.push_back(MaxLenError(63));
  if (!s.empty() && !MatchesQualifiedName(s)) {
    e.push_back(RegexError(kLabelValueMsg, kLabelValueFmt, {"MyValue", "my_value", "12345"}));
  }
  return e;
}
Msgs ConfigKeyErrors(std::string_view s) {
  Msgs e;
  if (s.size() > 253) e.push_back(MaxLenError(253));
  bool charset_ok = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return IsAlnum(c) || c == '-' || c == '_' || c == '.';
  });
  if (!charset_ok) {
    e.push_back(RegexError(kConfigKeyMsg, kConfigKeyFmt, {"key.name", "KEY_NAME", "key-name"}));
  }
  if (s == ".") {
    e.push_back("must not be '.'");
  } else if (s == "..") {
    e.push_back("must not be '..'");
  } else if (s.substr(0, 2) == "..") {
    e.push_back("must not start with '..'");
  }
  return e;
}
Msgs PortNameErrors(std::string_view s) {
  Msgs e;
  if (s.size() > 15) e.push_back(MaxLenError(15));
  bool charset_ok = !s.empty() && std::all_of(s.begin(), s.end(),
                                              [](char c) { return IsLowerAlnum(c) || c == '-'; });
  if (!charset_ok) {
    e.push_back("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  } else if (std::none_of(s.begin(), s.end(), IsLower)) {
    e.push_back("must contain at least one letter (a-z)");
  }
  if (s.find("--") != std::string_view::npos) e.push_back("must not contain consecutive hyphens");
  if (!s.empty() && (s.front() == '-' || s.back() == '-')) {
    e.push_back("must not begin or end with a hyphen");
  }
  return e;
}
Msgs PortNumErrors(int64_t port) {
  if (port >= 1 && port <= 65535) return {};
  return {"must be between 1 and 65535, inclusive"};
}
Msgs PathSegmentErrors(std::string_view s) {
  if (s == "." || s == "..") return {"may not be '" + std::string(s) + "'"};
  Msgs e;
  for (std::string_view bad : {"/", "%"}) {
    if (s.find(bad) != std::string_view::npos) {
      e.push_back("may not contain '" + std::string(bad) + "'");
    }
  }
  return e;
}
bool IsIpOf(int family, std::string_view s) {
  std::string str(s);
  unsigned char buf[16];
  return inet_pton(family, str.c_str(), buf) == 1;
}
bool IsIp(std::string_view s) { return IsIpOf(AF_INET, s) || IsIpOf(AF_INET6, s); }
constexpr const char* kIpMsg = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";

// Object name rules. `prefix` is true for generateName, whose trailing dash is allowed.
using NameFn = Msgs (*)(std::string_view name, bool prefix);
std::string MaskTrailingDash(std::string_view name) {
  std::string s(name);
  if (s.size() > 1 && s.back() == '-') s.replace(s.size() - 2, 2, "a");
  return s;
}
Msgs NameIsSubdomain(std::string_view n, bool prefix) {
  return Dns1123SubdomainErrors(prefix ? MaskTrailingDash(n) : std::string(n));
}
Msgs NameIsLabel(std::string_view n, bool prefix) {
  return Dns1123LabelErrors(prefix ? MaskTrailingDash(n) : std::string(n));
}
Msgs NameIsDns1035(std::string_view n, bool prefix) {
  return Dns1035LabelErrors(prefix ? MaskTrailingDash(n) : std::string(n));
}
Msgs NameIsPathSegment(std::string_view n, bool prefix) {
  return prefix ? PathSegmentErrors(MaskTrailingDash(n)) : PathSegmentErrors(n);
}

// A quantity as written: quantities decode from JSON strings and numbers alike.
std::optional<std::string> QuantityText(const Value& v) {
  if (v.IsString()) return std::string(api::View(v));
  if (v.IsNumber()) return api::ToJson(v);
  return std::nullopt;
}

// Decoded size of padded standard base64 (newlines ignored, as Go's decoder does), or
// nullopt with the offset of the offending byte in `bad_at`.
std::optional<size_t> Base64DecodedSize(std::string_view s, size_t* bad_at) {
  size_t chars = 0, padding = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\r' || c == '\n') continue;
    bool alphabet = IsAlnum(c) || c == '+' || c == '/';
    if ((alphabet && padding > 0) || (!alphabet && c != '=') || (c == '=' && ++padding > 2)) {
      *bad_at = i;
      return std::nullopt;
    }
    ++chars;
  }
  if (chars % 4 != 0) {
    *bad_at = s.size();
    return std::nullopt;
  }
  return chars / 4 * 3 - padding;
}

// ---------------------------------------------------------------------------------------
// Field paths, as field.Path prints them.

std::string Child(std::string_view path, std::string_view name) {
  return path.empty() ? std::string(name) : std::string(path) + "." + std::string(name);
}
std::string Index(std::string_view path, size_t i) {
  return std::string(path) + "[" + std::to_string(i) + "]";
}
std::string Key(std::string_view path, std::string_view key) {
  return std::string(path) + "[" + std::string(key) + "]";
}

// ---------------------------------------------------------------------------------------
// Reading objects. Null members count as absent, as for Go's decoder.

const Value* Get(const Value* v, std::string_view key) {
  if (v == nullptr || !v->IsObject()) return nullptr;
  const Value* m = api::FindMember(*v, key);
  return (m == nullptr || m->IsNull()) ? nullptr : m;
}
std::string_view StrOf(const Value* v) { return v != nullptr ? api::View(*v) : std::string_view(); }
std::string_view GetStr(const Value* v, std::string_view key) { return StrOf(Get(v, key)); }
std::optional<int64_t> GetInt(const Value* v, std::string_view key) {
  const Value* m = Get(v, key);
  if (m == nullptr || !m->IsInt64()) return std::nullopt;
  return m->GetInt64();
}
size_t Size(const Value* v) {
  if (v == nullptr) return 0;
  if (v->IsObject()) return v->MemberCount();
  if (v->IsArray()) return v->Size();
  return 0;
}
bool IsEmptyValue(const Value* v) {
  return v == nullptr || v->IsNull() || (v->IsString() && v->GetStringLength() == 0) ||
         ((v->IsObject() || v->IsArray()) && Size(v) == 0);
}
// Elements of an array (none when absent or not an array).
std::vector<const Value*> Elems(const Value* a) {
  std::vector<const Value*> out;
  if (a != nullptr && a->IsArray()) {
    for (const Value& e : a->GetArray()) out.push_back(&e);
  }
  return out;
}
std::vector<const Value*> Items(const Value* v, std::string_view key) { return Elems(Get(v, key)); }
// String members of an object, sorted by key as Go prints maps.
std::map<std::string, std::string> StringMapOf(const Value* m) {
  std::map<std::string, std::string> out;
  if (m != nullptr && m->IsObject()) {
    for (const auto& kv : m->GetObject()) {
      if (kv.value.IsString()) out[std::string(api::View(kv.name))] = api::View(kv.value);
    }
  }
  return out;
}
std::map<std::string, std::string> StringMap(const Value* v, std::string_view key) {
  return StringMapOf(Get(v, key));
}
const Value& OrEmpty(const Value* v) {
  static const Value kEmpty(rapidjson::kObjectType);
  return v != nullptr ? *v : kEmpty;
}

// Equality as apimachinery's Semantic.DeepEqual sees the decoded objects: an absent or
// null field equals an empty string, list or map.
bool SemanticEqual(const Value* a, const Value* b) {
  if (IsEmptyValue(a) || IsEmptyValue(b)) return IsEmptyValue(a) && IsEmptyValue(b);
  if (a->IsObject() && b->IsObject()) {
    for (const auto& m : a->GetObject()) {
      if (!SemanticEqual(&m.value, Get(b, api::View(m.name)))) return false;
    }
    for (const auto& m : b->GetObject()) {
      if (Get(a, api::View(m.name)) == nullptr && !IsEmptyValue(&m.value)) return false;
    }
    return true;
  }
  if (a->IsArray() && b->IsArray()) {
    if (a->Size() != b->Size()) return false;
    for (rapidjson::SizeType i = 0; i < a->Size(); ++i) {
      if (!SemanticEqual(&(*a)[i], &(*b)[i])) return false;
    }
    return true;
  }
  return *a == *b;
}

// ---------------------------------------------------------------------------------------
// Bad values, printed as field.Error prints them (Go's %q / %v / %#v).

using util::GoQuote;
// A scalar as %v/%q would print it; composite values as JSON.
std::string Repr(const Value* v) {
  if (v == nullptr) return "null";
  if (v->IsString()) return GoQuote(api::View(*v));
  return api::ToJson(*v);
}
// map[string]string{"a":"b", ...}, or map[string]string(nil) when absent.
std::string GoStringMap(const Value* m) {
  if (m == nullptr || !m->IsObject()) return "map[string]string(nil)";
  std::map<std::string, std::string> sorted;
  for (const auto& kv : m->GetObject()) {
    sorted[std::string(api::View(kv.name))] = kv.value.IsString() ? api::View(kv.value) : "";
  }
  std::string out = "map[string]string{";
  bool first = true;
  for (const auto& [k, v] : sorted) {
    if (!first) out += ", ";
    first = false;
    out += GoQuote(k) + ":" + GoQuote(v);
  }
  return out + "}";
}
std::string GoStringSlice(const Value* a) {
  if (a == nullptr || !a->IsArray()) return "[]string(nil)";
  std::string out = "[]string{";
  for (rapidjson::SizeType i = 0; i < a->Size(); ++i) {
    if (i) out += ", ";
    out += GoQuote(api::View((*a)[i]));
  }
  return out + "}";
}
std::string GoLabelSelector(const Value* sel) {
  std::string out = "v1.LabelSelector{MatchLabels:" + GoStringMap(Get(sel, "matchLabels")) +
                    ", MatchExpressions:";
  const Value* exprs = Get(sel, "matchExpressions");
  if (exprs == nullptr || !exprs->IsArray()) return out + "[]v1.LabelSelectorRequirement(nil)}";
  out += "[]v1.LabelSelectorRequirement{";
  for (rapidjson::SizeType i = 0; i < exprs->Size(); ++i) {
    const Value* e = &(*exprs)[i];
    if (i) out += ", ";
    out += "v1.LabelSelectorRequirement{Key:" + GoQuote(GetStr(e, "key")) +
           ", Operator:" + GoQuote(GetStr(e, "operator")) +
           ", Values:" + GoStringSlice(Get(e, "values")) + "}";
  }
  return out + "}}";
}
std::string GoIntOrString(const Value* v) {
  if (v != nullptr && v->IsString()) {
    return "intstr.IntOrString{Type:1, IntVal:0, StrVal:" + GoQuote(api::View(*v)) + "}";
  }
  int64_t n = (v != nullptr && v->IsInt64()) ? v->GetInt64() : 0;
  return "intstr.IntOrString{Type:0, IntVal:" + std::to_string(n) + ", StrVal:\"\"}";
}

// ---------------------------------------------------------------------------------------
// Field errors (k8s.io/apimachinery/pkg/util/validation/field).

struct FieldError {
  std::string type;  // StatusCause type
  std::string field;
  std::string body;  // field.Error.ErrorBody()
};

class Errors {
 public:
  void Required(const std::string& path, std::string_view detail = "") {
    Add("FieldValueRequired", "Required value", path, std::nullopt, detail);
  }
  void Forbidden(const std::string& path, std::string_view detail) {
    Add("FieldValueForbidden", "Forbidden", path, std::nullopt, detail);
  }
  void TooLong(const std::string& path, size_t max_bytes) {
    Add("FieldValueTooLong", "Too long", path, std::nullopt,
        "must have at most " + std::to_string(max_bytes) + " bytes");
  }
  void Invalid(const std::string& path, std::string_view bad, std::string_view detail) {
    Add("FieldValueInvalid", "Invalid value", path, bad, detail);
  }
  // field.Invalid with field.OmitValueType{}: the value is not echoed.
  void InvalidOmitValue(const std::string& path, std::string_view detail) {
    Add("FieldValueInvalid", "Invalid value", path, std::nullopt, detail);
  }
  void TypeInvalid(const std::string& path, std::string_view bad, std::string_view detail) {
    Add("FieldValueTypeInvalid", "Invalid value", path, bad, detail);
  }
  void Duplicate(const std::string& path, std::string_view bad, std::string_view detail = "") {
    Add("FieldValueDuplicate", "Duplicate value", path, bad, detail);
  }
  void NotFound(const std::string& path, std::string_view bad) {
    Add("FieldValueNotFound", "Not found", path, bad, "");
  }
  void NotSupported(const std::string& path, std::string_view bad,
                    std::initializer_list<std::string_view> valid) {
    std::string detail = "supported values: ";
    bool first = true;
    for (std::string_view v : valid) {
      if (!first) detail += ", ";
      first = false;
      detail += GoQuote(v);
    }
    Add("FieldValueNotSupported", "Unsupported value", path, bad, detail);
  }
  // One Invalid error per message, as upstream reports []string results.
  void InvalidEach(const std::string& path, std::string_view bad, const Msgs& msgs) {
    for (const std::string& m : msgs) Invalid(path, bad, m);
  }
  void TooMany(const std::string& path, size_t actual, size_t max) {
    Add("FieldValueTooMany", "Too many", path, std::to_string(actual),
        "must have at most " + std::to_string(max) + " items");
  }
  void NonNegative(const std::string& path, std::optional<int64_t> v) {
    if (v && *v < 0) Invalid(path, std::to_string(*v), kNegativeMsg);
  }
  size_t size() const { return list_.size(); }
  const std::vector<FieldError>& list() const { return list_; }

 private:
  void Add(std::string_view type, std::string_view label, const std::string& path,
           std::optional<std::string_view> bad, std::string_view detail) {
    std::string body(label);
    if (bad) body += ": " + std::string(*bad);
    if (!detail.empty()) body += ": " + std::string(detail);
    list_.push_back({std::string(type), path, std::move(body)});
  }
  std::vector<FieldError> list_;
};

// errors.NewInvalid: `<Kind>[.<group>] "<name>" is invalid: <aggregate>`.
Status ToStatus(const ResourceInfo& info, const Value& obj, const Errors& errs) {
  if (errs.size() == 0) return Status::Ok();
  std::string name(GetStr(Get(&obj, "metadata"), "name"));
  std::string qualified_kind = info.group.empty() ? info.kind : info.kind + "." + info.group;
  std::vector<std::string> messages;
  std::set<std::string> seen;
  for (const FieldError& e : errs.list()) {
    std::string m = e.field + ": " + e.body;
    if (seen.insert(m).second) messages.push_back(std::move(m));
  }
  std::string agg;
  for (size_t i = 0; i < messages.size(); ++i) agg += (i ? ", " : "") + messages[i];
  if (messages.size() > 1) agg = "[" + agg + "]";
  Status st = Invalid(qualified_kind + " " + GoQuote(name) + " is invalid: " + agg);
  auto& details = st.mutable_details();
  details.name = name;
  details.group = info.group;
  details.kind = info.kind;
  for (const FieldError& e : errs.list()) details.causes.push_back({e.type, e.body, e.field});
  return st;
}

// ---------------------------------------------------------------------------------------
// Label selectors.

// metav1.LabelSelectorAsSelector(sel).Matches(labels): a missing selector matches
// nothing, an empty one everything.
bool SelectorMatches(const Value* sel, const Value* labels_obj) {
  if (sel == nullptr) return false;
  auto labels = StringMapOf(labels_obj);
  for (const auto& [k, v] : StringMap(sel, "matchLabels")) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  for (const Value* e : Items(sel, "matchExpressions")) {
    auto it = labels.find(std::string(GetStr(e, "key")));
    bool has = it != labels.end();
    bool in = false;
    for (const Value* v : Items(e, "values")) in = in || (has && StrOf(v) == it->second);
    std::string_view op = GetStr(e, "operator");
    bool ok = op == "In" ? in : op == "NotIn" ? !in : op == "Exists" ? has : !has;
    if (!ok) return false;
  }
  return true;
}
bool SelectorEmpty(const Value* sel) {
  return Size(Get(sel, "matchLabels")) + Size(Get(sel, "matchExpressions")) == 0;
}

// ---------------------------------------------------------------------------------------
// The validator: walks one object and collects field errors.

class Validator {
 public:
  Validator(const ResourceInfo& info, bool update) : info_(info), update_(update) {}
  Errors errs;

  void Object(const Value& obj);
  void Update(const Value& obj, const Value& old);

 private:
  // Typed access to member `key` of `parent` (at `path`): reports a member of the wrong
  // JSON type and then treats it as absent.
  const Value* Typed(const Value* parent, std::string_view key, const std::string& path,
                     bool (Value::*is)() const, std::string_view type_name) {
    const Value* m = Get(parent, key);
    if (m == nullptr || (m->*is)()) return m;
    errs.TypeInvalid(Child(path, key), Repr(m), "must be of type " + std::string(type_name));
    return nullptr;
  }
  const Value* Obj(const Value* p, std::string_view k, const std::string& path) {
    return Typed(p, k, path, &Value::IsObject, "object");
  }
  const Value* Arr(const Value* p, std::string_view k, const std::string& path) {
    return Typed(p, k, path, &Value::IsArray, "array");
  }
  // Element i of the array `arr` at `path` if it is an object; reported otherwise.
  const Value* ObjAt(const Value* arr, size_t i, const std::string& path) {
    const Value& e = (*arr)[static_cast<rapidjson::SizeType>(i)];
    if (e.IsObject()) return &e;
    errs.TypeInvalid(Index(path, i), Repr(&e), "must be of type object");
    return nullptr;
  }
  std::string_view Str(const Value* p, std::string_view k, const std::string& path) {
    return StrOf(Typed(p, k, path, &Value::IsString, "string"));
  }
  std::optional<int64_t> Int(const Value* p, std::string_view k, const std::string& path) {
    const Value* m = Typed(p, k, path, &Value::IsInt64, "integer");
    return m != nullptr ? std::optional<int64_t>(m->GetInt64()) : std::nullopt;
  }
  void NonNegative(const Value* p, std::string_view k, const std::string& path) {
    errs.NonNegative(Child(path, k), Int(p, k, path));
  }
  // An object member whose values must all be strings (labels, data).
  const Value* StrMap(const Value* p, std::string_view k, const std::string& path) {
    const Value* m = Obj(p, k, path);
    if (m == nullptr) return nullptr;
    for (const auto& kv : m->GetObject()) {
      if (!kv.value.IsString()) {
        errs.TypeInvalid(Key(Child(path, k), api::View(kv.name)), Repr(&kv.value),
                         "must be of type string");
      }
    }
    return m;
  }

  void ObjectMeta(const Value* meta, NameFn name_fn);
  void Labels(const Value* labels, const std::string& path);
  // The `protocol` of a port object at `path`: TCP, UDP or SCTP (absent: an error only when
  // `required`). Returns it as given.
  std::string_view Protocol(const Value* port, const std::string& path, bool required);
  void Annotations(const Value* annotations, const std::string& path);
  void LabelSelector(const Value* sel, const std::string& path);

  void PodTemplate(const Value* tpl, const std::string& path, const Msgs& extra_volumes = {});
  void PodSpec(const Value* spec, const std::string& path, bool is_pod,
               const Msgs& extra_volumes = {});
  void Container(const Value* c, const std::string& path, const std::set<std::string>& volumes,
                 bool is_pod);
  void ContainerPorts(const Value* c, const std::string& path);
  void Env(const Value* c, const std::string& path);
  void Resources(const Value* res, const std::string& path);
  void Probe(const Value* probe, const std::string& path, bool success_must_be_one);
  void PortNumOrName(const Value* port, const std::string& path);
  void Tolerations(const Value* spec, const std::string& path);
  void TaintEffect(std::string_view effect, bool allow_empty, const std::string& path);

  // Workloads.
  bool RequiredSelector(const Value* sel, const std::string& path, std::string_view kind);
  void ReplicatedSpec(const Value* spec, std::string_view kind_for_empty_selector);
  void TemplateLabelsMatch(const Value* sel, const Value* tpl, const std::string& tpl_path);
  void RestartAlways(const Value* tpl, const std::string& tpl_path, std::string_view kind,
                     bool deadline_forbidden);
  void IntOrPercent(const Value* p, std::string_view k, const std::string& path);
  void RollingUpdate(const Value* ru, const std::string& path, bool daemonset);
  void Deployment(const Value& obj);
  void ReplicaSet(const Value& obj);
  void DaemonSet(const Value& obj);
  void StatefulSet(const Value& obj);
  void JobSpec(const Value* spec, const std::string& path, bool top_level);
  void Job(const Value& obj);
  void CronJob(const Value& obj);

  // Others.
  void Service(const Value& obj);
  void ConfigData(const Value& obj, bool secret);
  void Node(const Value& obj);
  void Event(const Value& obj);
  void Lease(const Value& obj);
  void Ingress(const Value& obj);
  void Endpoints(const Value& obj);
  void EndpointSlice(const Value& obj);
  void PolicyRules(const Value& obj, bool namespaced);
  void RoleBinding(const Value& obj, bool namespaced);

  // Storage.
  void AccessModes(const Value* spec, const std::string& path, std::string_view required_detail);
  std::optional<double> PositiveQuantity(const Value* v, const std::string& path);
  // storageClassName and volumeMode, which PV and PVC specs validate alike.
  void ClassAndVolumeMode(const Value* spec, const std::string& path);
  void PersistentVolume(const Value& obj);
  void PersistentVolumeClaimSpec(const Value* spec, const std::string& path);
  void StorageClass(const Value& obj);
  void ControllerRevision(const Value& obj);
  void PersistentVolumeClaimUpdate(const Value& obj, const Value& old);

  // Update rules.
  void Immutable(const Value* now, const Value* before, const std::string& path,
                 const std::string& bad);
  void PodUpdate(const Value& obj, const Value& old);
  void ServiceUpdate(const Value& obj, const Value& old);

  const ResourceInfo& info_;
  bool update_;
};

// ---- metadata ----

void Validator::ObjectMeta(const Value* meta, NameFn name_fn) {
  const std::string path = "metadata";
  std::string_view name = Str(meta, "name", path);
  std::string_view generate_name = Str(meta, "generateName", path);
  if (!generate_name.empty()) {
    errs.InvalidEach(Child(path, "generateName"), GoQuote(generate_name),
                     name_fn(generate_name, true));
  }
  // With generateName the name is generated after validation.
  if (name.empty()) {
    if (generate_name.empty())
      errs.Required(Child(path, "name"), "name or generateName is required");
  } else {
    errs.InvalidEach(Child(path, "name"), GoQuote(name), name_fn(name, false));
  }
  std::string_view ns = Str(meta, "namespace", path);
  if (info_.namespaced) {
    if (ns.empty()) {
      errs.Required(Child(path, "namespace"));
    } else {
      errs.InvalidEach(Child(path, "namespace"), GoQuote(ns), Dns1123LabelErrors(ns));
    }
  } else if (!ns.empty()) {
    errs.Forbidden(Child(path, "namespace"), "not allowed on this type");
  }
  NonNegative(meta, "generation", path);
  Labels(StrMap(meta, "labels", path), Child(path, "labels"));
  Annotations(StrMap(meta, "annotations", path), Child(path, "annotations"));

  std::string owners_path = Child(path, "ownerReferences");
  std::string first_controller;
  if (const Value* refs = Arr(meta, "ownerReferences", path)) {
    for (const Value& ref : refs->GetArray()) {
      std::string_view api_version = GetStr(&ref, "apiVersion");
      size_t slashes = std::count(api_version.begin(), api_version.end(), '/');
      std::string_view version = slashes == 0   ? api_version
                                 : slashes == 1 ? api_version.substr(api_version.find('/') + 1)
                                                : "";
      if (version.empty()) {
        errs.Invalid(Child(owners_path, "apiVersion"), GoQuote(api_version),
                     "version must not be empty");
      }
      for (std::string_view f : {"kind", "name", "uid"}) {
        if (GetStr(&ref, f).empty()) {
          errs.Invalid(Child(owners_path, f), GoQuote(GetStr(&ref, f)),
                       std::string(f) + " must not be empty");
        }
      }
      const Value* controller = Get(&ref, "controller");
      if (controller != nullptr && controller->IsBool() && controller->GetBool()) {
        std::string current =
            std::string(GetStr(&ref, "kind")) + "/" + std::string(GetStr(&ref, "name"));
        if (first_controller.empty()) {
          first_controller = current;
        } else {
          errs.Invalid(owners_path, Repr(refs),
                       "Only one reference can have Controller set to true. Found \"true\" in "
                       "references for " +
                           first_controller + " and " + current);
        }
      }
    }
  }
  for (const Value* f : Elems(Arr(meta, "finalizers", path))) {
    errs.InvalidEach(Child(path, "finalizers"), Repr(f), QualifiedNameErrors(StrOf(f)));
  }
}

std::string_view Validator::Protocol(const Value* port, const std::string& path, bool required) {
  std::string_view protocol = Str(port, "protocol", path);
  if (protocol.empty()) {
    if (required) errs.Required(Child(path, "protocol"));
  } else if (protocol != "TCP" && protocol != "UDP" && protocol != "SCTP") {
    errs.NotSupported(Child(path, "protocol"), GoQuote(protocol), {"SCTP", "TCP", "UDP"});
  }
  return protocol;
}

void Validator::Labels(const Value* labels, const std::string& path) {
  if (labels == nullptr) return;
  for (const auto& kv : labels->GetObject()) {
    std::string_view k = api::View(kv.name);
    errs.InvalidEach(path, GoQuote(k), QualifiedNameErrors(k));
    if (kv.value.IsString()) {
      errs.InvalidEach(path, GoQuote(api::View(kv.value)), LabelValueErrors(api::View(kv.value)));
    }
  }
}

void Validator::Annotations(const Value* annotations, const std::string& path) {
  if (annotations == nullptr) return;
  size_t total = 0;
  for (const auto& kv : annotations->GetObject()) {
    std::string k(api::View(kv.name));
    std::string lower = k;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    errs.InvalidEach(path, GoQuote(k), QualifiedNameErrors(lower));
    total += k.size() + api::View(kv.value).size();
  }
  if (total > kTotalAnnotationSizeLimit) errs.TooLong(path, kTotalAnnotationSizeLimit);
}

void Validator::LabelSelector(const Value* sel, const std::string& path) {
  if (sel == nullptr) return;
  Labels(StrMap(sel, "matchLabels", path), Child(path, "matchLabels"));
  const Value* exprs = Arr(sel, "matchExpressions", path);
  for (size_t i = 0; i < Size(exprs); ++i) {
    const Value* e = ObjAt(exprs, i, Child(path, "matchExpressions"));
    if (e == nullptr) continue;
    std::string p = Index(Child(path, "matchExpressions"), i);
    std::string_view op = Str(e, "operator", p);
    const Value* values = Arr(e, "values", p);
    if (op == "In" || op == "NotIn") {
      if (Size(values) == 0) {
        errs.Required(Child(p, "values"), "must be specified when `operator` is 'In' or 'NotIn'");
      }
    } else if (op == "Exists" || op == "DoesNotExist") {
      if (Size(values) > 0) {
        errs.Forbidden(Child(p, "values"),
                       "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
      }
    } else {
      errs.Invalid(Child(p, "operator"), GoQuote(op), "not a valid selector operator");
    }
    std::string_view key = Str(e, "key", p);
    errs.InvalidEach(Child(p, "key"), GoQuote(key), QualifiedNameErrors(key));
    for (size_t j = 0; j < Size(values); ++j) {
      std::string_view v = StrOf(&(*values)[static_cast<rapidjson::SizeType>(j)]);
      errs.InvalidEach(Index(Child(p, "values"), j), GoQuote(v), LabelValueErrors(v));
    }
  }
}

// ---- pods ----

void Validator::PodTemplate(const Value* tpl, const std::string& path, const Msgs& extra_volumes) {
  const Value* meta = Obj(tpl, "metadata", path);
  std::string meta_path = Child(path, "metadata");
  Labels(StrMap(meta, "labels", meta_path), Child(meta_path, "labels"));
  Annotations(StrMap(meta, "annotations", meta_path), Child(meta_path, "annotations"));
  PodSpec(Obj(tpl, "spec", path), Child(path, "spec"), false, extra_volumes);
}

void Validator::PodSpec(const Value* spec, const std::string& path, bool is_pod,
                        const Msgs& extra_volumes) {
  std::set<std::string> volumes(extra_volumes.begin(), extra_volumes.end());
  const Value* vols = Arr(spec, "volumes", path);
  for (size_t i = 0; i < Size(vols); ++i) {
    const Value* vol = ObjAt(vols, i, Child(path, "volumes"));
    if (vol == nullptr) continue;
    std::string p = Index(Child(path, "volumes"), i);
    std::string_view name = Str(vol, "name", p);
    if (name.empty()) {
      errs.Required(Child(p, "name"));
    } else {
      errs.InvalidEach(Child(p, "name"), GoQuote(name), Dns1123LabelErrors(name));
      if (!volumes.insert(std::string(name)).second) errs.Duplicate(Child(p, "name"), GoQuote(name));
    }
    size_t sources = 0;
    for (const auto& m : vol->GetObject()) {
      if (api::View(m.name) == "name" || m.value.IsNull()) continue;
      if (++sources == 2) {
        errs.Forbidden(Child(p, api::View(m.name)), "may not specify more than 1 volume type");
      }
    }
    if (sources == 0) errs.Required(p, "must specify a volume type");
  }

  std::set<std::string> names;
  const Value* containers = Arr(spec, "containers", path);
  if (Size(containers) == 0) errs.Required(Child(path, "containers"));
  for (size_t i = 0; i < Size(containers); ++i) {
    const Value* c = ObjAt(containers, i, Child(path, "containers"));
    if (c == nullptr) continue;
    std::string p = Index(Child(path, "containers"), i);
    Container(c, p, volumes, is_pod);
    std::string name(GetStr(c, "name"));
    if (!names.insert(name).second) errs.Duplicate(Child(p, "name"), GoQuote(name));
  }
  const Value* init = Arr(spec, "initContainers", path);
  for (size_t i = 0; i < Size(init); ++i) {
    const Value* c = ObjAt(init, i, Child(path, "initContainers"));
    if (c == nullptr) continue;
    std::string p = Index(Child(path, "initContainers"), i);
    Container(c, p, volumes, is_pod);
    std::string name(GetStr(c, "name"));
    if (!names.insert(name).second) errs.Duplicate(Child(p, "name"), GoQuote(name));
  }

  std::string_view restart = Str(spec, "restartPolicy", path);
  if (restart.empty()) {
    errs.Required(Child(path, "restartPolicy"));
  } else if (restart != "Always" && restart != "OnFailure" && restart != "Never") {
    errs.NotSupported(Child(path, "restartPolicy"), GoQuote(restart),
                      {"Always", "OnFailure", "Never"});
  }
  std::string_view dns = Str(spec, "dnsPolicy", path);
  if (dns.empty()) {
    errs.Required(Child(path, "dnsPolicy"));
  } else if (dns == "None") {
    if (Obj(spec, "dnsConfig", path) == nullptr) {
      errs.Required(Child(path, "dnsConfig"), "must provide `dnsConfig` when `dnsPolicy` is None");
    }
  } else if (dns != "ClusterFirstWithHostNet" && dns != "ClusterFirst" && dns != "Default") {
    errs.NotSupported(Child(path, "dnsPolicy"), GoQuote(dns),
                      {"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"});
  }
  Labels(StrMap(spec, "nodeSelector", path), Child(path, "nodeSelector"));
  for (std::string_view f : {"serviceAccountName", "nodeName"}) {
    std::string_view v = Str(spec, f, path);
    if (!v.empty()) errs.InvalidEach(Child(path, f), GoQuote(v), Dns1123SubdomainErrors(v));
  }
  if (auto deadline = Int(spec, "activeDeadlineSeconds", path);
      deadline && (*deadline < 1 || *deadline > kMaxInt32)) {
    errs.Invalid(Child(path, "activeDeadlineSeconds"), std::to_string(*deadline),
                 "must be between 1 and 2147483647, inclusive");
  }
  for (std::string_view f : {"hostname", "subdomain"}) {
    std::string_view v = Str(spec, f, path);
    if (!v.empty()) errs.InvalidEach(Child(path, f), GoQuote(v), Dns1123LabelErrors(v));
  }
  Tolerations(spec, path);
  std::string_view priority_class = Str(spec, "priorityClassName", path);
  if (!priority_class.empty()) {
    errs.InvalidEach(Child(path, "priorityClassName"), GoQuote(priority_class),
                     Dns1123SubdomainErrors(priority_class));
  }
}

void Validator::Container(const Value* c, const std::string& path,
                          const std::set<std::string>& volumes, bool is_pod) {
  std::string_view name = Str(c, "name", path);
  if (name.empty()) {
    errs.Required(Child(path, "name"));
  } else {
    errs.InvalidEach(Child(path, "name"), GoQuote(name), Dns1123LabelErrors(name));
  }
  std::string_view image = Str(c, "image", path);
  if (image.empty()) {
    errs.Required(Child(path, "image"));
  } else if (is_pod && (std::isspace(static_cast<unsigned char>(image.front())) ||
                        std::isspace(static_cast<unsigned char>(image.back())))) {
    errs.Invalid(Child(path, "image"), GoQuote(image),
                 "must not have leading or trailing whitespace");
  }
  std::string_view tmp = Str(c, "terminationMessagePolicy", path);
  if (tmp.empty()) {
    errs.Required(Child(path, "terminationMessagePolicy"));
  } else if (tmp != "File" && tmp != "FallbackToLogsOnError") {
    errs.NotSupported(Child(path, "terminationMessagePolicy"), GoQuote(tmp),
                      {"File", "FallbackToLogsOnError"});
  }
  ContainerPorts(c, path);
  Env(c, path);

  const Value* mounts = Arr(c, "volumeMounts", path);
  std::set<std::string> mount_paths;
  for (size_t i = 0; i < Size(mounts); ++i) {
    const Value* m = ObjAt(mounts, i, Child(path, "volumeMounts"));
    if (m == nullptr) continue;
    std::string p = Index(Child(path, "volumeMounts"), i);
    std::string_view vol = Str(m, "name", p);
    if (vol.empty()) {
      errs.Required(Child(p, "name"));
    } else if (!volumes.count(std::string(vol))) {
      errs.NotFound(Child(p, "name"), GoQuote(vol));
    }
    std::string_view mount_path = Str(m, "mountPath", p);
    if (mount_path.empty()) {
      errs.Required(Child(p, "mountPath"));
    } else if (!mount_paths.insert(std::string(mount_path)).second) {
      errs.Invalid(Child(p, "mountPath"), GoQuote(mount_path), "must be unique");
    }
  }

  std::string_view pull = Str(c, "imagePullPolicy", path);
  if (pull.empty()) {
    errs.Required(Child(path, "imagePullPolicy"));
  } else if (pull != "Always" && pull != "IfNotPresent" && pull != "Never") {
    errs.NotSupported(Child(path, "imagePullPolicy"), GoQuote(pull),
                      {"Always", "IfNotPresent", "Never"});
  }
  Resources(Obj(c, "resources", path), Child(path, "resources"));
  Probe(Obj(c, "livenessProbe", path), Child(path, "livenessProbe"), true);
  Probe(Obj(c, "readinessProbe", path), Child(path, "readinessProbe"), false);
  Probe(Obj(c, "startupProbe", path), Child(path, "startupProbe"), true);
}

void Validator::ContainerPorts(const Value* c, const std::string& path) {
  const Value* ports = Arr(c, "ports", path);
  std::set<std::string> names;
  for (size_t i = 0; i < Size(ports); ++i) {
    const Value* port = ObjAt(ports, i, Child(path, "ports"));
    if (port == nullptr) continue;
    std::string p = Index(Child(path, "ports"), i);
    std::string_view name = Str(port, "name", p);
    if (!name.empty()) {
      Msgs msgs = PortNameErrors(name);
      if (!msgs.empty()) {
        errs.InvalidEach(Child(p, "name"), GoQuote(name), msgs);
      } else if (!names.insert(std::string(name)).second) {
        errs.Duplicate(Child(p, "name"), GoQuote(name));
      }
    }
    auto container_port = Int(port, "containerPort", p);
    if (container_port.value_or(0) == 0) {
      errs.Required(Child(p, "containerPort"));
    } else {
      errs.InvalidEach(Child(p, "containerPort"), std::to_string(*container_port),
                       PortNumErrors(*container_port));
    }
    if (auto host_port = Int(port, "hostPort", p); host_port.value_or(0) != 0) {
      errs.InvalidEach(Child(p, "hostPort"), std::to_string(*host_port), PortNumErrors(*host_port));
    }
    Protocol(port, p, true);
  }
}

void Validator::Env(const Value* c, const std::string& path) {
  const Value* env = Arr(c, "env", path);
  for (size_t i = 0; i < Size(env); ++i) {
    const Value* e = ObjAt(env, i, Child(path, "env"));
    if (e == nullptr) continue;
    std::string p = Index(Child(path, "env"), i);
    std::string_view name = Str(e, "name", p);
    if (name.empty()) {
      errs.Required(Child(p, "name"));
    } else if (std::any_of(name.begin(), name.end(),
                           [](char ch) { return ch < ' ' || ch > '~' || ch == '='; })) {
      errs.Invalid(Child(p, "name"), GoQuote(name),
                   "a valid environment variable name must consist only of printable ASCII "
                   "characters other than '='");
    }
    const Value* from = Obj(e, "valueFrom", p);
    if (from == nullptr) continue;
    std::string from_path = Child(p, "valueFrom");
    size_t sources = 0;
    for (std::string_view s : {"fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef"}) {
      sources += Get(from, s) != nullptr;
    }
    if (sources == 0) {
      errs.Invalid(from_path, "\"\"",
                   "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or "
                   "`secretKeyRef`");
    } else if (sources > 1) {
      errs.Invalid(from_path, "\"\"", "may not have more than one field specified at a time");
    }
    if (!GetStr(e, "value").empty()) {
      errs.Invalid(from_path, "\"\"", "may not be specified when `value` is not empty");
    }
  }
}

void Validator::Resources(const Value* res, const std::string& path) {
  // Resource names may be overcommitted unless they are extended resources or hugepages.
  auto is_native = [](std::string_view n) {
    return n.find('/') == std::string_view::npos ||
           n.find("kubernetes.io/") != std::string_view::npos;
  };
  auto overcommit_allowed = [&](std::string_view n) {
    return is_native(n) && n.substr(0, 10) != "hugepages-";
  };
  auto name_errors = [&](std::string_view n, const std::string& p) {
    errs.InvalidEach(p, GoQuote(n), QualifiedNameErrors(n));
    if (n.find('/') == std::string_view::npos && n != "cpu" && n != "memory" &&
        n != "ephemeral-storage" && n.substr(0, 10) != "hugepages-") {
      errs.Invalid(p, GoQuote(n), "must be a standard resource for containers");
    }
  };
  // Parses and checks one quantity; nullopt when it is unusable.
  auto quantity = [&](const Value& v, const std::string& p) -> std::optional<double> {
    std::optional<std::string> text = QuantityText(v);
    if (!text) {
      errs.TypeInvalid(p, Repr(&v), "must be of type string");
      return std::nullopt;
    }
    Result<double> q = api::ParseQuantity(*text);
    if (!q.ok()) {
      errs.Invalid(p, GoQuote(*text), kQuantityMsg);
      return std::nullopt;
    }
    if (*q < 0) errs.Invalid(p, GoQuote(*text), kNegativeMsg);
    return *q;
  };
  std::string lim_path = Child(path, "limits");
  std::string req_path = Child(path, "requests");
  std::map<std::string, std::pair<double, std::string>> limits;  // value, as written
  if (const Value* lim = Obj(res, "limits", path)) {
    for (const auto& kv : lim->GetObject()) {
      std::string name(api::View(kv.name));
      name_errors(name, Key(lim_path, name));
      if (auto q = quantity(kv.value, Key(lim_path, name))) {
        limits[name] = {*q, *QuantityText(kv.value)};
      }
    }
  }
  if (const Value* req = Obj(res, "requests", path)) {
    for (const auto& kv : req->GetObject()) {
      std::string name(api::View(kv.name));
      name_errors(name, Key(req_path, name));
      auto q = quantity(kv.value, Key(req_path, name));
      if (!q) continue;
      std::string text = *QuantityText(kv.value);
      auto it = limits.find(name);
      if (it != limits.end()) {
        if (*q != it->second.first && !overcommit_allowed(name)) {
          errs.Invalid(req_path, GoQuote(text),
                       "must be equal to " + name + " limit of " + it->second.second);
        } else if (*q > it->second.first) {
          errs.Invalid(req_path, GoQuote(text),
                       "must be less than or equal to " + name + " limit of " + it->second.second);
        }
      } else if (!overcommit_allowed(name)) {
        errs.Required(lim_path, "Limit must be set for non overcommitable resources");
      }
    }
  }
}

void Validator::PortNumOrName(const Value* port, const std::string& path) {
  if (port == nullptr) {
    errs.InvalidEach(path, "0", PortNumErrors(0));  // the zero IntOrString
  } else if (port->IsInt64()) {
    errs.InvalidEach(path, std::to_string(port->GetInt64()), PortNumErrors(port->GetInt64()));
  } else if (port->IsString()) {
    errs.InvalidEach(path, GoQuote(api::View(*port)), PortNameErrors(api::View(*port)));
  } else {
    errs.TypeInvalid(path, Repr(port), "must be of type int-or-string");
  }
}

void Validator::Probe(const Value* probe, const std::string& path, bool success_must_be_one) {
  if (probe == nullptr) return;
  size_t handlers = 0;
  for (std::string_view h : {"exec", "httpGet", "tcpSocket", "grpc"}) {
    const Value* handler = Obj(probe, h, path);
    if (handler == nullptr) continue;
    if (++handlers > 1) {
      errs.Forbidden(Child(path, h), "may not specify more than 1 handler type");
      continue;
    }
    if (h == "httpGet" || h == "tcpSocket") {
      PortNumOrName(Get(handler, "port"), Child(Child(path, h), "port"));
    }
  }
  if (handlers == 0) errs.Required(path, "must specify a handler type");
  for (std::string_view f : {"initialDelaySeconds", "timeoutSeconds", "periodSeconds",
                             "successThreshold", "failureThreshold"}) {
    NonNegative(probe, f, path);
  }
  if (auto st = GetInt(probe, "successThreshold"); success_must_be_one && st && *st != 1) {
    errs.Invalid(Child(path, "successThreshold"), std::to_string(*st), "must be 1");
  }
}

void Validator::TaintEffect(std::string_view effect, bool allow_empty, const std::string& path) {
  if (effect.empty() && allow_empty) return;
  if (effect.empty()) {
    errs.Required(path);
  } else if (effect != "NoSchedule" && effect != "PreferNoSchedule" && effect != "NoExecute") {
    errs.NotSupported(path, GoQuote(effect), {"NoSchedule", "PreferNoSchedule", "NoExecute"});
  }
}

void Validator::Tolerations(const Value* spec, const std::string& spec_path) {
  const Value* tols = Arr(spec, "tolerations", spec_path);
  for (size_t i = 0; i < Size(tols); ++i) {
    const Value* t = ObjAt(tols, i, Child(spec_path, "tolerations"));
    if (t == nullptr) continue;
    std::string p = Index(Child(spec_path, "tolerations"), i);
    std::string_view key = Str(t, "key", p);
    std::string_view op = Str(t, "operator", p);
    std::string_view value = Str(t, "value", p);
    std::string_view effect = Str(t, "effect", p);
    if (!key.empty()) errs.InvalidEach(Child(p, "key"), GoQuote(key), QualifiedNameErrors(key));
    if (key.empty() && op != "Exists") {
      errs.Invalid(Child(p, "operator"), GoQuote(op),
                   "operator must be Exists when `key` is empty, which means \"match all values "
                   "and all keys\"");
    }
    if (Int(t, "tolerationSeconds", p) && effect != "NoExecute") {
      errs.Invalid(Child(p, "effect"), GoQuote(effect),
                   "effect must be 'NoExecute' when `tolerationSeconds` is set");
    }
    if (op.empty() || op == "Equal") {
      Msgs msgs = LabelValueErrors(value);
      if (!msgs.empty()) {
        std::string joined;
        for (const std::string& m : msgs) joined += (joined.empty() ? "" : ";") + m;
        errs.Invalid(Child(p, "operator"), GoQuote(value), joined);
      }
    } else if (op == "Exists") {
      if (!value.empty()) {
        errs.Invalid(Child(p, "operator"), Repr(t),
                     "value must be empty when `operator` is 'Exists'");
      }
    } else {
      errs.NotSupported(Child(p, "operator"), GoQuote(op), {"Equal", "Exists"});
    }
    TaintEffect(effect, true, Child(p, "effect"));
  }
}

// ---- workloads ----

void Validator::TemplateLabelsMatch(const Value* sel, const Value* tpl,
                                    const std::string& tpl_path) {
  const Value* labels = Get(Get(tpl, "metadata"), "labels");
  if (!SelectorMatches(sel, labels)) {
    errs.Invalid(Child(Child(tpl_path, "metadata"), "labels"), GoStringMap(labels),
                 kSelectorMismatchMsg);
  }
}

void Validator::RestartAlways(const Value* tpl, const std::string& tpl_path, std::string_view kind,
                              bool deadline_forbidden) {
  const Value* spec = Get(tpl, "spec");
  std::string spec_path = Child(tpl_path, "spec");
  std::string_view restart = GetStr(spec, "restartPolicy");
  if (restart != "Always") {
    errs.NotSupported(Child(spec_path, "restartPolicy"), GoQuote(restart), {"Always"});
  }
  if (auto deadline = GetInt(spec, "activeDeadlineSeconds")) {
    std::string msg = "activeDeadlineSeconds in " + std::string(kind) + " is not Supported";
    if (deadline_forbidden) {
      errs.Forbidden(Child(spec_path, "activeDeadlineSeconds"), msg);
    } else {
      errs.Invalid(Child(spec_path, "activeDeadlineSeconds"), std::to_string(*deadline), msg);
    }
  }
}

// A required, non-empty selector. Returns whether it would convert to a labels.Selector.
bool Validator::RequiredSelector(const Value* sel, const std::string& path, std::string_view kind) {
  if (sel == nullptr) {
    errs.Required(path);
    return true;
  }
  size_t errors_before = errs.size();
  LabelSelector(sel, path);
  bool ok = errs.size() == errors_before;
  if (SelectorEmpty(sel)) {
    errs.Invalid(path, GoLabelSelector(sel), "empty selector is invalid for " + std::string(kind));
  }
  return ok;
}

// Deployment and ReplicaSet: selector required, non-empty, matching the template.
void Validator::ReplicatedSpec(const Value* spec, std::string_view kind_for_empty_selector) {
  const std::string path = "spec";
  const Value* sel = Obj(spec, "selector", path);
  const Value* tpl = Obj(spec, "template", path);
  std::string tpl_path = Child(path, "template");
  if (!RequiredSelector(sel, Child(path, "selector"), kind_for_empty_selector)) {
    errs.Invalid(Child(path, "selector"), GoLabelSelector(sel), "invalid label selector");
  } else if (sel == nullptr || !SelectorEmpty(sel)) {
    TemplateLabelsMatch(sel, tpl, tpl_path);
  }
  PodTemplate(tpl, tpl_path);
  RestartAlways(tpl, tpl_path, "ReplicaSet", false);
}

void Validator::IntOrPercent(const Value* p, std::string_view k, const std::string& path) {
  const Value* v = Get(p, k);
  if (v == nullptr) return;
  std::string fp = Child(path, k);
  if (v->IsInt64()) {
    errs.NonNegative(fp, v->GetInt64());
  } else if (v->IsString()) {
    std::string_view s = api::View(*v);
    bool ok = s.size() >= 2 && s.back() == '%' && std::all_of(s.begin(), s.end() - 1, IsDigit);
    if (!ok) {
      errs.Invalid(fp, GoIntOrString(v),
                   "a valid percent string must be a numeric string followed by an ending '%' "
                   "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')");
    }
  } else {
    errs.TypeInvalid(fp, Repr(v), "must be of type int-or-string");
  }
}

// Deployment and DaemonSet rolling updates, whose rules differ on maxSurge.
void Validator::RollingUpdate(const Value* ru, const std::string& path, bool daemonset) {
  IntOrPercent(ru, "maxUnavailable", path);
  IntOrPercent(ru, "maxSurge", path);
  // getIntOrPercentValue: an int, or a percentage's number (0 when unparsable).
  auto value = [&](std::string_view k) -> int64_t {
    const Value* v = Get(ru, k);
    if (v == nullptr) return 0;
    if (v->IsInt64()) return v->GetInt64();
    return v->IsString() ? std::atoll(std::string(api::View(*v)).c_str()) : -1;
  };
  auto not_over_100 = [&](std::string_view k) {
    const Value* v = Get(ru, k);
    if (v != nullptr && v->IsString() && value(k) > 100) {
      errs.Invalid(Child(path, k), GoIntOrString(v), "must not be greater than 100%");
    }
  };
  if (!daemonset) {
    if (value("maxUnavailable") == 0 && value("maxSurge") == 0) {
      errs.Invalid(Child(path, "maxUnavailable"), GoIntOrString(Get(ru, "maxUnavailable")),
                   "may not be 0 when `maxSurge` is 0");
    }
    not_over_100("maxUnavailable");
    return;
  }
  not_over_100("maxUnavailable");
  not_over_100("maxSurge");
  bool unavailable = value("maxUnavailable") != 0, surge = value("maxSurge") != 0;
  if (unavailable && surge) {
    errs.Invalid(Child(path, "maxSurge"), GoIntOrString(Get(ru, "maxSurge")),
                 "may not be set when maxUnavailable is non-zero");
  } else if (!unavailable && !surge) {
    errs.Required(Child(path, "maxUnavailable"), "cannot be 0 when maxSurge is 0");
  }
}

void Validator::Deployment(const Value& obj) {
  const Value* spec = Obj(&obj, "spec", "");
  const std::string path = "spec";
  NonNegative(spec, "replicas", path);
  ReplicatedSpec(spec, "deployment");

  const Value* strategy = Obj(spec, "strategy", path);
  std::string st_path = Child(path, "strategy");
  std::string_view type = Str(strategy, "type", st_path);
  if (type == "Recreate") {
    if (Get(strategy, "rollingUpdate") != nullptr) {
      errs.Forbidden(Child(st_path, "rollingUpdate"),
                     "may not be specified when strategy `type` is 'Recreate'");
    }
  } else if (type == "RollingUpdate") {
    const Value* ru = Obj(strategy, "rollingUpdate", st_path);
    if (ru == nullptr) {
      errs.Required(Child(st_path, "rollingUpdate"), "this should be defaulted and never be nil");
    } else {
      RollingUpdate(ru, Child(st_path, "rollingUpdate"), false);
    }
  } else {
    errs.NotSupported(st_path, Repr(strategy), {"Recreate", "RollingUpdate"});
  }
  NonNegative(spec, "minReadySeconds", path);
  NonNegative(spec, "revisionHistoryLimit", path);
  if (auto pds = Int(spec, "progressDeadlineSeconds", path)) {
    errs.NonNegative(Child(path, "progressDeadlineSeconds"), pds);
    if (*pds <= GetInt(spec, "minReadySeconds").value_or(0)) {
      errs.Invalid(Child(path, "progressDeadlineSeconds"), std::to_string(*pds),
                   "must be greater than minReadySeconds");
    }
  }
}

void Validator::ReplicaSet(const Value& obj) {
  const Value* spec = Obj(&obj, "spec", "");
  NonNegative(spec, "replicas", "spec");
  NonNegative(spec, "minReadySeconds", "spec");
  ReplicatedSpec(spec, "deployment");  // sic: upstream's message names deployments here
}

void Validator::DaemonSet(const Value& obj) {
  const Value* spec = Obj(&obj, "spec", "");
  const std::string path = "spec";
  const Value* sel = Obj(spec, "selector", path);
  std::string sel_path = Child(path, "selector");
  size_t errors_before = errs.size();
  LabelSelector(sel, sel_path);
  const Value* tpl = Obj(spec, "template", path);
  std::string tpl_path = Child(path, "template");
  if (errs.size() == errors_before) TemplateLabelsMatch(sel, tpl, tpl_path);
  if (sel != nullptr && SelectorEmpty(sel)) {
    errs.Invalid(sel_path, GoLabelSelector(sel), "empty selector is invalid for daemonset");
  }
  PodTemplate(tpl, tpl_path);
  RestartAlways(tpl, tpl_path, "DaemonSet", false);
  NonNegative(spec, "minReadySeconds", path);
  const Value* strategy = Obj(spec, "updateStrategy", path);
  std::string st_path = Child(path, "updateStrategy");
  std::string_view type = Str(strategy, "type", st_path);
  if (type == "RollingUpdate") {
    const Value* ru = Obj(strategy, "rollingUpdate", st_path);
    if (ru == nullptr) {
      errs.Required(Child(st_path, "rollingUpdate"));
    } else {
      RollingUpdate(ru, Child(st_path, "rollingUpdate"), true);
    }
  } else if (type != "OnDelete") {
    errs.NotSupported(st_path, Repr(strategy), {"RollingUpdate", "OnDelete"});
  }
  NonNegative(spec, "revisionHistoryLimit", path);
}

void Validator::StatefulSet(const Value& obj) {
  const Value* spec = Obj(&obj, "spec", "");
  const std::string path = "spec";
  std::string_view pmp = Str(spec, "podManagementPolicy", path);
  if (pmp.empty()) {
    errs.Required(Child(path, "podManagementPolicy"));
  } else if (pmp != "OrderedReady" && pmp != "Parallel") {
    errs.Invalid(Child(path, "podManagementPolicy"), GoQuote(pmp),
                 "must be 'OrderedReady' or 'Parallel'");
  }
  const Value* strategy = Obj(spec, "updateStrategy", path);
  std::string st_path = Child(path, "updateStrategy");
  std::string_view type = Str(strategy, "type", st_path);
  const Value* ru = Obj(strategy, "rollingUpdate", st_path);
  if (type.empty()) {
    errs.Required(st_path);
  } else if (type == "OnDelete") {
    if (ru != nullptr) {
      errs.Invalid(Child(st_path, "rollingUpdate"), Repr(ru),
                   "only allowed for updateStrategy 'RollingUpdate'");
    }
  } else if (type == "RollingUpdate") {
    NonNegative(ru, "partition", Child(st_path, "rollingUpdate"));
  } else {
    errs.Invalid(st_path, Repr(strategy), "must be 'RollingUpdate' or 'OnDelete'");
  }
  if (const Value* policy = Obj(spec, "persistentVolumeClaimRetentionPolicy", path)) {
    std::string pp = Child(path, "persistentVolumeClaimRetentionPolicy");
    for (std::string_view f : {"whenDeleted", "whenScaled"}) {
      std::string_view v = Str(policy, f, pp);
      if (v != "Retain" && v != "Delete")
        errs.NotSupported(Child(pp, f), GoQuote(v), {"Retain", "Delete"});
    }
  }
  NonNegative(spec, "replicas", path);
  NonNegative(spec, "minReadySeconds", path);
  NonNegative(spec, "revisionHistoryLimit", path);

  const Value* sel = Obj(spec, "selector", path);
  const Value* tpl = Obj(spec, "template", path);
  std::string tpl_path = Child(path, "template");
  if (!RequiredSelector(sel, Child(path, "selector"), "statefulset")) {
    errs.Invalid(Child(path, "selector"), GoLabelSelector(sel), "");
  } else if (sel == nullptr || !SelectorEmpty(sel)) {
    TemplateLabelsMatch(sel, tpl, tpl_path);
  }
  // Claim templates provide volumes that the pod template mounts.
  Msgs claims;
  for (const Value* claim : Elems(Arr(spec, "volumeClaimTemplates", path))) {
    claims.emplace_back(GetStr(Get(claim, "metadata"), "name"));
  }
  PodTemplate(tpl, tpl_path, claims);
  RestartAlways(tpl, tpl_path, "StatefulSet", true);
}

// Job specs, at the top of a Job (`top_level`) or in a CronJob's jobTemplate.
void Validator::JobSpec(const Value* spec, const std::string& path, bool top_level) {
  for (std::string_view f :
       {"parallelism", "completions", "activeDeadlineSeconds", "backoffLimit",
        "ttlSecondsAfterFinished", "backoffLimitPerIndex", "maxFailedIndexes"}) {
    NonNegative(spec, f, path);
  }
  if (const Value* mode = Get(spec, "completionMode")) {
    std::string_view m = StrOf(mode);
    if (m != "NonIndexed" && m != "Indexed") {
      errs.NotSupported(Child(path, "completionMode"), Repr(mode), {"NonIndexed", "Indexed"});
    }
    if (m == "Indexed" && !GetInt(spec, "completions")) {
      errs.Required(Child(path, "completions"), "when completion mode is Indexed");
    }
  }
  if (const Value* rp = Get(spec, "podReplacementPolicy")) {
    std::string_view v = StrOf(rp);
    if (v != "TerminatingOrFailed" && v != "Failed") {
      errs.NotSupported(Child(path, "podReplacementPolicy"), Repr(rp),
                        {"Failed", "TerminatingOrFailed"});
    }
  }
  const Value* tpl = Obj(spec, "template", path);
  std::string tpl_path = Child(path, "template");
  PodTemplate(tpl, tpl_path);
  std::string_view restart = GetStr(Get(tpl, "spec"), "restartPolicy");
  std::string rp_path = Child(Child(tpl_path, "spec"), "restartPolicy");
  if (restart.empty() || restart == "Always") {
    errs.Required(rp_path, "valid values: \"OnFailure\", \"Never\"");
  } else if (restart != "OnFailure" && restart != "Never") {
    errs.NotSupported(rp_path, GoQuote(restart), {"OnFailure", "Never"});
  } else if (Get(spec, "podFailurePolicy") != nullptr && restart != "Never") {
    errs.Invalid(rp_path, GoQuote(restart),
                 "only \"Never\" is supported when podFailurePolicy is specified");
  }
  if (!top_level) return;

  // A Job's selector is generated from its uid (PrepareForCreate) unless manualSelector.
  const Value* manual = Get(spec, "manualSelector");
  bool manual_selector = manual != nullptr && manual->IsBool() && manual->GetBool();
  const Value* sel = Obj(spec, "selector", path);
  std::string sel_path = Child(path, "selector");
  if (!manual_selector && !update_) {
    if (sel != nullptr)
      errs.Invalid(sel_path, GoLabelSelector(sel), "`selector` not auto-generated");
    return;
  }
  size_t errors_before = errs.size();
  if (sel == nullptr) {
    errs.Required(sel_path);
  } else {
    LabelSelector(sel, sel_path);
  }
  if (errs.size() == errors_before) TemplateLabelsMatch(sel, tpl, tpl_path);
}

void Validator::Job(const Value& obj) {
  const Value* spec = Obj(&obj, "spec", "");
  JobSpec(spec, "spec", true);
  const Value* meta = Get(&obj, "metadata");
  auto completions = GetInt(spec, "completions");
  if (GetStr(spec, "completionMode") == "Indexed" && completions && *completions > 0) {
    std::string hostname =
        std::string(GetStr(meta, "name")) + "-" + std::to_string(*completions - 1);
    if (!GetStr(meta, "name").empty() && !Dns1123LabelErrors(hostname).empty()) {
      errs.Invalid("metadata.name", GoQuote(GetStr(meta, "name")),
                   "will not able to create pod with invalid DNS label: " + hostname);
    }
  }
}

// A robfig/cron standard schedule: five fields or a descriptor.
std::string CronScheduleError(std::string_view schedule) {
  if (schedule.front() == '@') {
    static const std::set<std::string_view> kDescriptors = {
        "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"};
    if (kDescriptors.count(schedule) || schedule.substr(0, 7) == "@every ") return "";
    return "unrecognized descriptor: " + std::string(schedule);
  }
  std::vector<std::string> fields;
  size_t i = 0;
  while (i < schedule.size()) {
    size_t j = schedule.find_first_of(" \t", i);
    if (j == std::string_view::npos) j = schedule.size();
    if (j > i) fields.emplace_back(schedule.substr(i, j - i));
    i = j + 1;
  }
  if (fields.size() != 5) {
    std::string list;
    for (const auto& f : fields) list += (list.empty() ? "" : " ") + f;
    return "expected exactly 5 fields, found " + std::to_string(fields.size()) + ": [" + list + "]";
  }
  static const int kMin[] = {0, 0, 1, 1, 0};
  static const int kMax[] = {59, 23, 31, 12, 6};
  static const char* kNames[2][12] = {
      {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"},
      {"sun", "mon", "tue", "wed", "thu", "fri", "sat"}};
  for (size_t f = 0; f < 5; ++f) {
    std::string_view rest = fields[f];
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view expr = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
      size_t slash = expr.find('/');
      std::string_view range = expr.substr(0, slash);
      if (slash != std::string_view::npos) {
        std::string_view step = expr.substr(slash + 1);
        if (step.empty() || !std::all_of(step.begin(), step.end(), IsDigit)) {
          return "failed to parse int from " + std::string(step) + ": strconv.Atoi: parsing " +
                 GoQuote(step) + ": invalid syntax";
        }
      }
      if (range == "*" || range == "?") continue;
      size_t dash = range.find('-');
      for (std::string_view bound :
           {range.substr(0, dash),
            dash == std::string_view::npos ? std::string_view() : range.substr(dash + 1)}) {
        if (bound.empty() && dash == std::string_view::npos) continue;
        std::string lower(bound);
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        int value = -1;
        if (f == 3 || f == 4) {
          const size_t n = f == 3 ? 12 : 7;
          for (size_t k = 0; k < n; ++k) {
            if (lower == kNames[f - 3][k]) value = static_cast<int>(k) + (f == 3 ? 1 : 0);
          }
        }
        if (value < 0) {
          if (bound.empty() || !std::all_of(bound.begin(), bound.end(), IsDigit)) {
            return "failed to parse int from " + std::string(bound) + ": strconv.Atoi: parsing " +
                   GoQuote(bound) + ": invalid syntax";
          }
          value = std::atoi(std::string(bound).c_str());
        }
        if (value < kMin[f]) {
          return "beginning of range (" + std::to_string(value) + ") below minimum (" +
                 std::to_string(kMin[f]) + "): " + std::string(expr);
        }
        if (value > kMax[f]) {
          return "end of range (" + std::to_string(value) + ") above maximum (" +
                 std::to_string(kMax[f]) + "): " + std::string(expr);
        }
      }
    }
  }
  return "";
}

void Validator::CronJob(const Value& obj) {
  const Value* spec = Obj(&obj, "spec", "");
  const std::string path = "spec";
  std::string_view schedule = Str(spec, "schedule", path);
  if (schedule.empty()) {
    errs.Required(Child(path, "schedule"));
  } else {
    std::string err = CronScheduleError(schedule);
    if (!err.empty()) errs.Invalid(Child(path, "schedule"), GoQuote(schedule), err);
    if (schedule.find("TZ") != std::string_view::npos) {
      errs.Invalid(Child(path, "schedule"), GoQuote(schedule),
                   "cannot use TZ or CRON_TZ in schedule, use timeZone field instead");
    }
  }
  NonNegative(spec, "startingDeadlineSeconds", path);
  std::string_view cp = Str(spec, "concurrencyPolicy", path);
  if (cp.empty()) {
    errs.Required(Child(path, "concurrencyPolicy"));
  } else if (cp != "Allow" && cp != "Forbid" && cp != "Replace") {
    errs.NotSupported(Child(path, "concurrencyPolicy"), GoQuote(cp), {"Allow", "Forbid", "Replace"});
  }
  const Value* jt = Obj(spec, "jobTemplate", path);
  std::string jt_path = Child(path, "jobTemplate");
  const Value* jspec = Obj(jt, "spec", jt_path);
  std::string jspec_path = Child(jt_path, "spec");
  JobSpec(jspec, jspec_path, false);
  if (const Value* sel = Get(jspec, "selector")) {
    errs.Invalid(Child(jspec_path, "selector"), GoLabelSelector(sel),
                 "`selector` will be auto-generated");
  }
  if (const Value* manual = Get(jspec, "manualSelector");
      manual != nullptr && manual->IsBool() && manual->GetBool()) {
    errs.NotSupported(Child(jspec_path, "manualSelector"), "true", {"nil", "false"});
  }
  NonNegative(spec, "successfulJobsHistoryLimit", path);
  NonNegative(spec, "failedJobsHistoryLimit", path);
  std::string_view name = GetStr(Get(&obj, "metadata"), "name");
  if (!update_ && name.size() > 52) {
    errs.Invalid("metadata.name", GoQuote(name), "must be no more than 52 characters");
  }
}

// ---- services and others ----

void Validator::Service(const Value& obj) {
  const Value* spec = Obj(&obj, "spec", "");
  const std::string path = "spec";
  std::string_view type = Str(spec, "type", path);
  std::string_view cluster_ip = Str(spec, "clusterIP", path);
  bool headless = cluster_ip == "None";
  const Value* ports = Arr(spec, "ports", path);
  std::string ports_path = Child(path, "ports");

  if (Size(ports) == 0 && !headless && type != "ExternalName") errs.Required(ports_path);
  if (type != "ClusterIP" && type != "NodePort" && type != "LoadBalancer" &&
      type != "ExternalName") {
    errs.NotSupported(Child(path, "type"), GoQuote(type),
                      {"ClusterIP", "ExternalName", "LoadBalancer", "NodePort"});
  }
  if (type == "ExternalName") {
    if (!cluster_ip.empty() || Size(Get(spec, "clusterIPs")) > 0) {
      errs.Forbidden(Child(path, "clusterIPs"), "may not be set for ExternalName services");
    }
    if (Size(Get(spec, "ipFamilies")) > 0) {
      errs.Forbidden(Child(path, "ipFamilies"), "may not be set for ExternalName services");
    }
    if (Get(spec, "ipFamilyPolicy") != nullptr) {
      errs.Forbidden(Child(path, "ipFamilyPolicy"), "may not be set for ExternalName services");
    }
    std::string_view cname = Str(spec, "externalName", path);
    if (!cname.empty() && cname.back() == '.') cname.remove_suffix(1);
    if (cname.empty()) {
      errs.Required(Child(path, "externalName"));
    } else {
      errs.InvalidEach(Child(path, "externalName"), GoQuote(cname), Dns1123SubdomainErrors(cname));
    }
  } else {
    // clusterIPs[0] mirrors clusterIP; the allocator fills both when absent.
    const Value* ips = Arr(spec, "clusterIPs", path);
    std::string ips_path = Child(path, "clusterIPs");
    if (Size(ips) > 0 && !cluster_ip.empty() && StrOf(&(*ips)[0]) != cluster_ip) {
      errs.Invalid(ips_path, GoStringSlice(ips), "first value must match `clusterIP`");
    }
    std::vector<std::string_view> all_ips;
    if (Size(ips) > 0) {
      for (const Value& ip : ips->GetArray()) all_ips.push_back(api::View(ip));
    } else if (!cluster_ip.empty()) {
      all_ips.push_back(cluster_ip);
    }
    for (size_t i = 0; i < all_ips.size(); ++i) {
      if (i == 0 && all_ips[i] == "None") {
        if (all_ips.size() > 1) {
          errs.Invalid(ips_path, GoStringSlice(ips), "'None' must be the first and only value");
        }
      } else if (!IsIp(all_ips[i])) {
        errs.Invalid(Index(ips_path, i), GoQuote(all_ips[i]),
                     "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
      }
    }
    if (headless && (type == "NodePort" || type == "LoadBalancer")) {
      errs.Invalid(Index(ips_path, 0), GoQuote("None"),
                   "may not be set to 'None' for " + std::string(type) + " services");
    }
  }

  std::set<std::string> names;
  std::set<std::pair<std::string, int64_t>> seen;
  for (size_t i = 0; i < Size(ports); ++i) {
    const Value* port = ObjAt(ports, i, ports_path);
    if (port == nullptr) continue;
    std::string p = Index(ports_path, i);
    std::string_view name = Str(port, "name", p);
    if (Size(ports) > 1 && name.empty()) {
      errs.Required(Child(p, "name"));
    } else if (!name.empty()) {
      errs.InvalidEach(Child(p, "name"), GoQuote(name), Dns1123LabelErrors(name));
      if (!names.insert(std::string(name)).second) errs.Duplicate(Child(p, "name"), GoQuote(name));
    }
    int64_t number = Int(port, "port", p).value_or(0);
    errs.InvalidEach(Child(p, "port"), std::to_string(number), PortNumErrors(number));
    std::string_view protocol = Protocol(port, p, true);
    PortNumOrName(Get(port, "targetPort"), Child(p, "targetPort"));
    auto node_port = Int(port, "nodePort", p);
    if (node_port.value_or(0) != 0) {
      errs.InvalidEach(Child(p, "nodePort"), std::to_string(*node_port), PortNumErrors(*node_port));
      if (type == "ClusterIP") {
        errs.Forbidden(Child(p, "nodePort"), "may not be used when `type` is 'ClusterIP'");
      }
    }
    if (!seen.insert({std::string(protocol), number}).second) {
      errs.Duplicate(p, "core.ServicePort{Name:\"\", Protocol:" + GoQuote(protocol) +
                            ", AppProtocol:(*string)(nil), Port:" + std::to_string(number) +
                            ", TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, "
                            "NodePort:0}");
    }
  }

  Labels(StrMap(spec, "selector", path), Child(path, "selector"));
  std::string_view affinity = Str(spec, "sessionAffinity", path);
  if (affinity != "None" && affinity != "ClientIP") {
    errs.NotSupported(Child(path, "sessionAffinity"), GoQuote(affinity), {"ClientIP", "None"});
  }
  bool external = type == "NodePort" || type == "LoadBalancer" ||
                  (type == "ClusterIP" && Size(Get(spec, "externalIPs")) > 0);
  std::string_view etp = Str(spec, "externalTrafficPolicy", path);
  if (!external && !etp.empty()) {
    errs.Invalid(Child(path, "externalTrafficPolicy"), GoQuote(etp),
                 "may only be set for externally-accessible services");
  } else if (external && etp.empty()) {
    errs.Required(Child(path, "externalTrafficPolicy"));
  } else if (external && etp != "Cluster" && etp != "Local") {
    errs.NotSupported(Child(path, "externalTrafficPolicy"), GoQuote(etp), {"Cluster", "Local"});
  }
  if (const Value* itp = Get(spec, "internalTrafficPolicy");
      itp != nullptr && StrOf(itp) != "Cluster" && StrOf(itp) != "Local") {
    errs.NotSupported(Child(path, "internalTrafficPolicy"), Repr(itp), {"Cluster", "Local"});
  }
  if (const Value* policy = Get(spec, "ipFamilyPolicy")) {
    std::string_view v = StrOf(policy);
    if (v != "SingleStack" && v != "PreferDualStack" && v != "RequireDualStack") {
      errs.NotSupported(Child(path, "ipFamilyPolicy"), Repr(policy),
                        {"SingleStack", "PreferDualStack", "RequireDualStack"});
    }
  }
  const Value* families = Arr(spec, "ipFamilies", path);
  for (size_t i = 0; i < Size(families); ++i) {
    std::string_view f = StrOf(&(*families)[static_cast<rapidjson::SizeType>(i)]);
    if (f != "IPv4" && f != "IPv6") {
      errs.NotSupported(Index(Child(path, "ipFamilies"), i), GoQuote(f), {"IPv4", "IPv6"});
    }
  }
  // Addresses the service proxies write into the kernel's rules: never anything but one.
  const Value* external_ips = Arr(spec, "externalIPs", path);
  for (size_t i = 0; i < Size(external_ips); ++i) {
    std::string_view ip = StrOf(&(*external_ips)[static_cast<rapidjson::SizeType>(i)]);
    if (!IsIp(ip)) errs.Invalid(Index(Child(path, "externalIPs"), i), GoQuote(ip), kIpMsg);
  }
  const Value* lb = Obj(Obj(&obj, "status", ""), "loadBalancer", "status");
  const Value* ingress = Arr(lb, "ingress", "status.loadBalancer");
  for (size_t i = 0; i < Size(ingress); ++i) {
    std::string p = Index("status.loadBalancer.ingress", i);
    const Value* entry = ObjAt(ingress, i, "status.loadBalancer.ingress");
    std::string_view ip = Str(entry, "ip", p);
    if (!ip.empty() && !IsIp(ip)) errs.Invalid(Child(p, "ip"), GoQuote(ip), "must be a valid IP address");
    std::string_view host = Str(entry, "hostname", p);
    if (!host.empty()) {
      errs.InvalidEach(Child(p, "hostname"), GoQuote(host), Dns1123SubdomainErrors(host));
      if (IsIp(host)) errs.Invalid(Child(p, "hostname"), GoQuote(host), "must be a DNS name, not an IP address");
    }
  }
}

// ConfigMap (data, binaryData) and Secret (data, base64 already decoded by defaults).
void Validator::ConfigData(const Value& obj, bool secret) {
  size_t total = 0;
  const Value* data = StrMap(&obj, "data", "");
  const Value* binary = secret ? nullptr : StrMap(&obj, "binaryData", "");
  for (const Value* bag : {data, binary}) {
    if (bag == nullptr) continue;
    std::string bag_name = bag == data ? "data" : "binaryData";
    const Value* other = bag == data ? binary : data;
    for (const auto& kv : bag->GetObject()) {
      std::string_view k = api::View(kv.name);
      errs.InvalidEach(Key(bag_name, k), GoQuote(k), ConfigKeyErrors(k));
      if (Get(other, k) != nullptr) {
        errs.Invalid(
            Key(bag_name, k), GoQuote(k),
            "duplicate of key present in " + std::string(bag == data ? "binaryData" : "data"));
      }
      std::string_view v = api::View(kv.value);
      if (!secret && bag == data) {
        total += v.size();
        continue;
      }
      // Secret data and binaryData are base64 (a decoding error upstream); count the
      // decoded size, and never echo the value.
      size_t bad_at = 0;
      if (auto n = Base64DecodedSize(v, &bad_at)) {
        total += *n;
      } else {
        errs.InvalidOmitValue(Key(bag_name, k),
                              "illegal base64 data at input byte " + std::to_string(bad_at));
      }
    }
  }
  if (total > kMaxConfigSize) errs.TooLong(secret ? "data" : "", kMaxConfigSize);
  if (!secret) return;
  std::string_view type = Str(&obj, "type", "");
  auto require_key = [&](std::string_view key) {
    if (Get(data, key) == nullptr) errs.Required(Key("data", key));
  };
  if (type == "kubernetes.io/tls") {
    require_key("tls.crt");
    require_key("tls.key");
  } else if (type == "kubernetes.io/dockerconfigjson") {
    require_key(".dockerconfigjson");
  } else if (type == "kubernetes.io/dockercfg") {
    require_key(".dockercfg");
  } else if (type == "kubernetes.io/ssh-auth") {
    require_key("ssh-privatekey");
  } else if (type == "kubernetes.io/service-account-token") {
    if (GetStr(Get(Get(&obj, "metadata"), "annotations"), "kubernetes.io/service-account.name")
            .empty()) {
      errs.Required("metadata.annotations[kubernetes.io/service-account.name]");
    }
  }
}

void Validator::Node(const Value& obj) {
  const Value* spec = Obj(&obj, "spec", "");
  const Value* taints = Arr(spec, "taints", "spec");
  std::set<std::pair<std::string, std::string>> seen;
  for (size_t i = 0; i < Size(taints); ++i) {
    const Value* t = ObjAt(taints, i, "spec.taints");
    if (t == nullptr) continue;
    std::string p = Index("spec.taints", i);
    std::string_view key = Str(t, "key", p);
    errs.InvalidEach(Child(p, "key"), GoQuote(key), QualifiedNameErrors(key));
    Msgs value_errs = LabelValueErrors(Str(t, "value", p));
    if (!value_errs.empty()) {
      std::string joined;
      for (const std::string& m : value_errs) joined += (joined.empty() ? "" : ";") + m;
      errs.Invalid(Child(p, "value"), GoQuote(GetStr(t, "value")), joined);
    }
    std::string_view effect = Str(t, "effect", p);
    TaintEffect(effect, false, Child(p, "effect"));
    if (!seen.insert({std::string(key), std::string(effect)}).second) {
      errs.Duplicate(p, Repr(t), "taints must be unique by key and effect pair");
    }
  }
}

void Validator::Event(const Value& obj) {
  std::string_view ns = GetStr(Get(&obj, "metadata"), "namespace");
  std::string_view involved_ns = GetStr(Get(&obj, "involvedObject"), "namespace");
  auto too_long = [&](std::string_view f, size_t limit) {
    if (GetStr(&obj, f).size() > limit) {
      errs.Invalid(std::string(f), "\"\"",
                   "can have at most " + std::to_string(limit) + " characters");
    }
  };
  if (Get(&obj, "eventTime") == nullptr) {
    bool mismatch = involved_ns.empty() ? (!ns.empty() && ns != "default") : ns != involved_ns;
    if (mismatch) {
      errs.Invalid("involvedObject.namespace", GoQuote(involved_ns),
                   "does not match event.namespace");
    }
  } else {
    if (involved_ns.empty() && ns != "default" && ns != "kube-system") {
      errs.Invalid("involvedObject.namespace", GoQuote(involved_ns),
                   "does not match event.namespace");
    }
    std::string_view component = Str(&obj, "reportingComponent", "");
    if (component.empty()) errs.Required("reportingComponent");
    errs.InvalidEach("reportingComponent", GoQuote(component), QualifiedNameErrors(component));
    for (std::string_view f : {"reportingInstance", "action", "reason"}) {
      if (GetStr(&obj, f).empty()) errs.Required(std::string(f));
      too_long(f, 128);
    }
    too_long("message", 1024);
  }
  errs.InvalidEach("namespace", GoQuote(ns), Dns1123SubdomainErrors(ns));
}

void Validator::Lease(const Value& obj) {
  const Value* spec = Obj(&obj, "spec", "");
  if (auto d = Int(spec, "leaseDurationSeconds", "spec"); d && *d <= 0) {
    errs.Invalid("spec.leaseDurationSeconds", std::to_string(*d), "must be greater than 0");
  }
  NonNegative(spec, "leaseTransitions", "spec");
}

void Validator::Ingress(const Value& obj) {
  const Value* spec = Obj(&obj, "spec", "");
  const Value* rules = Arr(spec, "rules", "spec");
  if (Size(rules) == 0 && Get(spec, "defaultBackend") == nullptr) {
    errs.Invalid("spec", "[]networking.IngressRule(nil)",
                 "either `defaultBackend` or `rules` must be specified");
  }
  for (size_t i = 0; i < Size(rules); ++i) {
    const Value* rule = ObjAt(rules, i, "spec.rules");
    if (rule == nullptr) continue;
    std::string p = Index("spec.rules", i);
    std::string_view host = Str(rule, "host", p);
    if (!host.empty()) {
      if (IsIp(host)) {
        errs.Invalid(Child(p, "host"), GoQuote(host), "must be a DNS name, not an IP address");
      }
      std::string_view check = host.substr(0, 2) == "*." ? host.substr(2) : host;
      errs.InvalidEach(Child(p, "host"), GoQuote(host), Dns1123SubdomainErrors(check));
    }
    const Value* http = Obj(rule, "http", p);
    std::string paths_path = Child(Child(p, "http"), "paths");
    const Value* paths = Arr(http, "paths", Child(p, "http"));
    for (size_t j = 0; j < Size(paths); ++j) {
      const Value* hp = ObjAt(paths, j, paths_path);
      if (hp == nullptr) continue;
      std::string pp = Index(paths_path, j);
      std::string_view type = Str(hp, "pathType", pp);
      std::string_view path = Str(hp, "path", pp);
      if (type.empty()) {
        errs.Required(Child(pp, "pathType"), "pathType must be specified");
      } else if (type != "Exact" && type != "Prefix" && type != "ImplementationSpecific") {
        errs.NotSupported(Child(pp, "pathType"), GoQuote(type),
                          {"Exact", "ImplementationSpecific", "Prefix"});
      } else if (type != "ImplementationSpecific" && (path.empty() || path.front() != '/')) {
        errs.Invalid(Child(pp, "path"), GoQuote(path), "must be an absolute path");
      }
    }
  }
}

void Validator::Endpoints(const Value& obj) {
  const Value* subsets = Arr(&obj, "subsets", "");
  for (size_t i = 0; i < Size(subsets); ++i) {
    const Value* subset = ObjAt(subsets, i, "subsets");
    if (subset == nullptr) continue;
    std::string p = Index("subsets", i);
    for (const char* list : {"addresses", "notReadyAddresses"}) {
      const Value* addresses = Arr(subset, list, p);
      for (size_t j = 0; j < Size(addresses); ++j) {
        const Value* address = ObjAt(addresses, j, Child(p, list));
        if (address == nullptr) continue;
        std::string ap = Index(Child(p, list), j);
        std::string_view ip = Str(address, "ip", ap);
        if (!IsIp(ip)) errs.Invalid(Child(ap, "ip"), GoQuote(ip), "must be a valid IP address");
      }
    }
    const Value* ports = Arr(subset, "ports", p);
    for (size_t j = 0; j < Size(ports); ++j) {
      const Value* port = ObjAt(ports, j, Child(p, "ports"));
      if (port == nullptr) continue;
      std::string pp = Index(Child(p, "ports"), j);
      int64_t number = Int(port, "port", pp).value_or(0);
      errs.InvalidEach(Child(pp, "port"), std::to_string(number), PortNumErrors(number));
      Protocol(port, pp, true);
    }
  }
}

void Validator::EndpointSlice(const Value& obj) {
  std::string_view type = Str(&obj, "addressType", "");
  if (type.empty()) {
    errs.Required("addressType");
  } else if (type != "IPv4" && type != "IPv6" && type != "FQDN") {
    errs.NotSupported("addressType", GoQuote(type), {"FQDN", "IPv4", "IPv6"});
  }
  const Value* endpoints = Arr(&obj, "endpoints", "");
  if (Size(endpoints) > 1000) return errs.TooMany("endpoints", Size(endpoints), 1000);
  for (size_t i = 0; i < Size(endpoints); ++i) {
    const Value* endpoint = ObjAt(endpoints, i, "endpoints");
    if (endpoint == nullptr) continue;
    std::string p = Child(Index("endpoints", i), "addresses");
    const Value* addresses = Arr(endpoint, "addresses", Index("endpoints", i));
    if (Size(addresses) == 0) {
      errs.Required(p, "must contain at least 1 address");
    } else if (Size(addresses) > 100) {
      errs.TooMany(p, Size(addresses), 100);
    }
    for (size_t j = 0; j < Size(addresses); ++j) {
      std::string_view a = StrOf(&(*addresses)[static_cast<rapidjson::SizeType>(j)]);
      if (type == "IPv4" && !IsIpOf(AF_INET, a)) {
        errs.Invalid(Index(p, j), GoQuote(a), "must be a valid IPv4 address");
      } else if (type == "IPv6" && !IsIpOf(AF_INET6, a)) {
        errs.Invalid(Index(p, j), GoQuote(a), "must be a valid IPv6 address");
      } else if (type == "FQDN") {
        std::string_view name = a;
        if (!name.empty() && name.back() == '.') name.remove_suffix(1);
        errs.InvalidEach(Index(p, j), GoQuote(a), Dns1123SubdomainErrors(name));
      }
    }
  }
  const Value* ports = Arr(&obj, "ports", "");
  for (size_t i = 0; i < Size(ports); ++i) {
    const Value* port = ObjAt(ports, i, "ports");
    if (port == nullptr) continue;
    std::string pp = Index("ports", i);
    if (auto number = Int(port, "port", pp)) {
      errs.InvalidEach(Child(pp, "port"), std::to_string(*number), PortNumErrors(*number));
    }
    Protocol(port, pp, false);
  }
}

// ---- rbac.authorization.k8s.io (pkg/apis/rbac/validation) ----

void Validator::PolicyRules(const Value& obj, bool namespaced) {
  const Value* rules = Arr(&obj, "rules", "");
  for (size_t i = 0; i < Size(rules); ++i) {
    const Value* rule = ObjAt(rules, i, "rules");
    if (rule == nullptr) continue;
    std::string p = Index("rules", i);
    for (std::string_view f :
         {"verbs", "apiGroups", "resources", "resourceNames", "nonResourceURLs"}) {
      const Value* list = Arr(rule, f, p);
      for (size_t j = 0; j < Size(list); ++j) {
        const Value& e = (*list)[static_cast<rapidjson::SizeType>(j)];
        if (!e.IsString()) {
          errs.TypeInvalid(Index(Child(p, f), j), Repr(&e), "must be of type string");
        }
      }
    }
    if (Size(Get(rule, "verbs")) == 0) {
      errs.Required(Child(p, "verbs"), "verbs must contain at least one value");
    }
    const Value* urls = Get(rule, "nonResourceURLs");
    if (Size(urls) > 0) {
      if (namespaced) {
        errs.Invalid(Child(p, "nonResourceURLs"), GoStringSlice(urls),
                     "namespaced rules cannot apply to non-resource URLs");
      }
      if (Size(Get(rule, "apiGroups")) + Size(Get(rule, "resources")) +
              Size(Get(rule, "resourceNames")) > 0) {
        errs.Invalid(Child(p, "nonResourceURLs"), GoStringSlice(urls),
                     "rules cannot apply to both regular resources and non-resource URLs");
      }
      continue;
    }
    if (Size(Get(rule, "apiGroups")) == 0) {
      errs.Required(Child(p, "apiGroups"), "resource rules must supply at least one api group");
    }
    if (Size(Get(rule, "resources")) == 0) {
      errs.Required(Child(p, "resources"), "resource rules must supply at least one resource");
    }
  }
  if (const Value* agg = Obj(&obj, "aggregationRule", "")) {
    if (Size(Arr(agg, "clusterRoleSelectors", "aggregationRule")) == 0) {
      errs.Required("aggregationRule.clusterRoleSelectors",
                    "at least one clusterRoleSelector required if aggregationRule is non-nil");
    }
  }
}

void Validator::RoleBinding(const Value& obj, bool namespaced) {
  const Value* ref = Obj(&obj, "roleRef", "");
  std::string_view group = Str(ref, "apiGroup", "roleRef");
  if (group != "rbac.authorization.k8s.io") {
    errs.NotSupported("roleRef.apiGroup", GoQuote(group), {"rbac.authorization.k8s.io"});
  }
  std::string_view kind = Str(ref, "kind", "roleRef");
  if (namespaced && kind != "Role" && kind != "ClusterRole") {
    errs.NotSupported("roleRef.kind", GoQuote(kind), {"Role", "ClusterRole"});
  } else if (!namespaced && kind != "ClusterRole") {
    errs.NotSupported("roleRef.kind", GoQuote(kind), {"ClusterRole"});
  }
  std::string_view name = Str(ref, "name", "roleRef");
  if (name.empty()) {
    errs.Required("roleRef.name");
  } else {
    errs.InvalidEach("roleRef.name", GoQuote(name), PathSegmentErrors(name));
  }
  const Value* subjects = Arr(&obj, "subjects", "");
  for (size_t i = 0; i < Size(subjects); ++i) {
    const Value* subject = ObjAt(subjects, i, "subjects");
    if (subject == nullptr) continue;
    std::string p = Index("subjects", i);
    std::string_view sname = Str(subject, "name", p);
    std::string_view skind = Str(subject, "kind", p);
    std::string_view sgroup = Str(subject, "apiGroup", p);
    if (sname.empty()) errs.Required(Child(p, "name"));
    if (skind == "ServiceAccount") {
      if (!sname.empty()) {
        errs.InvalidEach(Child(p, "name"), GoQuote(sname), Dns1123SubdomainErrors(sname));
      }
      if (!sgroup.empty()) errs.NotSupported(Child(p, "apiGroup"), GoQuote(sgroup), {""});
      if (!namespaced && Str(subject, "namespace", p).empty()) errs.Required(Child(p, "namespace"));
    } else if (skind == "User" || skind == "Group") {
      if (sgroup != "rbac.authorization.k8s.io") {
        errs.NotSupported(Child(p, "apiGroup"), GoQuote(sgroup), {"rbac.authorization.k8s.io"});
      }
    } else {
      errs.NotSupported(Child(p, "kind"), GoQuote(skind), {"ServiceAccount", "User", "Group"});
    }
  }
}

// ---- storage (pkg/apis/core/validation PersistentVolume(Claim), pkg/apis/storage, apps
// ControllerRevision) ----

bool OneOf(std::string_view v, std::initializer_list<std::string_view> list) {
  for (std::string_view x : list) {
    if (x == v) return true;
  }
  return false;
}
// The volume sources a PersistentVolume may name (exactly one).
constexpr std::string_view kPvSources[] = {
    "gcePersistentDisk", "awsElasticBlockStore", "hostPath", "glusterfs", "nfs", "rbd",
    "quobyte", "cinder", "cephfs", "fc", "flocker", "flexVolume", "azureFile", "vsphereVolume",
    "azureDisk", "photonPersistentDisk", "portworxVolume", "scaleIO", "local", "storageos",
    "csi", "iscsi"};

void Validator::AccessModes(const Value* spec, const std::string& path,
                            std::string_view required_detail) {
  std::string p = Child(path, "accessModes");
  const Value* modes = Arr(spec, "accessModes", path);
  if (Size(modes) == 0) {
    errs.Required(p, required_detail);
    return;
  }
  for (const Value* m : Elems(modes)) {
    std::string_view mode = StrOf(m);
    if (!OneOf(mode, {"ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"})) {
      errs.NotSupported(p, GoQuote(mode),
                        {"ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"});
    }
  }
}

// A storage quantity that must parse and be > 0 ("must be greater than zero").
std::optional<double> Validator::PositiveQuantity(const Value* v, const std::string& path) {
  std::optional<std::string> text = v != nullptr ? QuantityText(*v) : std::nullopt;
  if (!text) {
    errs.TypeInvalid(path, Repr(v), "must be of type string");
    return std::nullopt;
  }
  Result<double> q = api::ParseQuantity(*text);
  if (!q.ok()) {
    errs.Invalid(path, GoQuote(*text), kQuantityMsg);
    return std::nullopt;
  }
  if (*q <= 0) errs.Invalid(path, GoQuote(*text), "must be greater than zero");
  return *q;
}

void Validator::ClassAndVolumeMode(const Value* spec, const std::string& path) {
  std::string_view cls = Str(spec, "storageClassName", path);
  if (!cls.empty()) {
    errs.InvalidEach(Child(path, "storageClassName"), GoQuote(cls), Dns1123SubdomainErrors(cls));
  }
  std::string_view mode = Str(spec, "volumeMode", path);
  if (!mode.empty() && mode != "Block" && mode != "Filesystem") {
    errs.NotSupported(Child(path, "volumeMode"), GoQuote(mode), {"Block", "Filesystem"});
  }
}

void Validator::PersistentVolume(const Value& obj) {
  const Value* spec = Obj(&obj, "spec", "");
  const std::string path = "spec";
  AccessModes(spec, path, "");
  const Value* capacity = Obj(spec, "capacity", path);
  std::string cap_path = Child(path, "capacity");
  if (Size(capacity) == 0) {
    errs.Required(cap_path);
  } else {
    if (Get(capacity, "storage") == nullptr || Size(capacity) > 1) {
      errs.NotSupported(cap_path, Repr(capacity), {"storage"});
    }
    for (const auto& kv : capacity->GetObject()) {
      PositiveQuantity(&kv.value, Key(cap_path, api::View(kv.name)));
    }
  }
  std::string_view policy = Str(spec, "persistentVolumeReclaimPolicy", path);
  if (!policy.empty() && policy != "Delete" && policy != "Recycle" && policy != "Retain") {
    errs.NotSupported(Child(path, "persistentVolumeReclaimPolicy"), GoQuote(policy),
                      {"Delete", "Recycle", "Retain"});
  }
  ClassAndVolumeMode(spec, path);
  size_t sources = 0;
  for (std::string_view src : kPvSources) {
    const Value* v = Get(spec, src);
    if (v == nullptr) continue;
    if (++sources > 1) {
      errs.Forbidden(Child(path, src), "may not specify more than 1 volume type");
      continue;
    }
    if (src == "hostPath" || src == "local") {
      std::string src_path = Child(path, src);
      std::string_view dir = Str(v, "path", src_path);
      if (dir.empty()) {
        errs.Required(Child(src_path, "path"));
      } else if (src == "local" && dir[0] != '/') {
        errs.Invalid(Child(src_path, "path"), GoQuote(dir), "must be an absolute path");
      }
      // validatePathNoBacksteps: no ".." path element.
      for (size_t b = 0; b <= dir.size();) {
        size_t e = dir.find('/', b);
        if (e == std::string_view::npos) e = dir.size();
        if (dir.substr(b, e - b) == "..") {
          errs.Invalid(Child(src_path, "path"), GoQuote(dir), "must not contain '..'");
          break;
        }
        b = e + 1;
      }
      if (src == "hostPath") {
        std::string_view type = Str(v, "type", src_path);
        if (!OneOf(type, {"", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File",
                          "FileOrCreate", "Socket"})) {
          errs.NotSupported(Child(src_path, "type"), GoQuote(type),
                            {"", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate",
                             "File", "FileOrCreate", "Socket"});
        }
      }
    }
  }
  if (sources == 0) errs.Required(path, "must specify a volume type");
}

void Validator::PersistentVolumeClaimSpec(const Value* spec, const std::string& path) {
  AccessModes(spec, path, "at least 1 access mode is required");
  std::string res_path = Child(path, "resources");
  const Value* res = Obj(spec, "resources", path);
  const Value* requests = Obj(res, "requests", res_path);
  const Value* storage = Get(requests, "storage");
  if (storage == nullptr) {
    errs.Required(Key(res_path, "storage"));
  } else {
    PositiveQuantity(storage, Child(Child(res_path, "requests"), "storage"));
  }
  ClassAndVolumeMode(spec, path);
  if (const Value* sel = Obj(spec, "selector", path)) LabelSelector(sel, Child(path, "selector"));
}

void Validator::StorageClass(const Value& obj) {
  std::string_view provisioner = Str(&obj, "provisioner", "");
  if (provisioner.empty()) {
    errs.Required("provisioner");
  } else {
    errs.InvalidEach("provisioner", GoQuote(provisioner), QualifiedNameErrors(provisioner));
  }
  std::string_view policy = Str(&obj, "reclaimPolicy", "");
  if (!policy.empty() && policy != "Delete" && policy != "Retain") {
    errs.NotSupported("reclaimPolicy", GoQuote(policy), {"Delete", "Retain"});
  }
  std::string_view mode = Str(&obj, "volumeBindingMode", "");
  if (!mode.empty() && mode != "Immediate" && mode != "WaitForFirstConsumer") {
    errs.NotSupported("volumeBindingMode", GoQuote(mode), {"Immediate", "WaitForFirstConsumer"});
  }
  StrMap(&obj, "parameters", "");
}

void Validator::ControllerRevision(const Value& obj) {
  if (Get(&obj, "data") == nullptr) errs.Required("data", "data is mandatory");
  NonNegative(&obj, "revision", "");
}

void Validator::PersistentVolumeClaimUpdate(const Value& obj, const Value& old) {
  const Value* spec = Get(&obj, "spec");
  const Value* old_spec = Get(&old, "spec");
  // What may change: volumeName once (binding), resources.requests.storage (expansion),
  // as upstream's ValidatePersistentVolumeClaimUpdate.
  api::Document now = api::Clone(OrEmpty(spec)), before = api::Clone(OrEmpty(old_spec));
  if (!now.IsObject()) now.SetObject();
  if (!before.IsObject()) before.SetObject();
  if (GetStr(old_spec, "volumeName").empty()) {
    api::Remove(now, "volumeName");
    api::Remove(before, "volumeName");
  }
  // The DefaultStorageClass admission may fill in a class a claim was created without.
  if (Get(old_spec, "storageClassName") == nullptr && GetStr(old_spec, "volumeName").empty()) {
    api::Remove(now, "storageClassName");
  }
  const Value* new_size = Get(Get(Get(spec, "resources"), "requests"), "storage");
  const Value* old_size = Get(Get(Get(old_spec, "resources"), "requests"), "storage");
  api::Remove(now, "resources.requests.storage");
  api::Remove(before, "resources.requests.storage");
  if (!SemanticEqual(&now, &before)) {
    errs.Forbidden("spec",
                   "spec is immutable after creation except resources.requests and "
                   "volumeAttributesClassName for bound claims");
  }
  std::optional<std::string> nt = new_size ? QuantityText(*new_size) : std::nullopt;
  std::optional<std::string> ot = old_size ? QuantityText(*old_size) : std::nullopt;
  if (nt && ot) {
    Result<double> n = api::ParseQuantity(*nt), o = api::ParseQuantity(*ot);
    if (n.ok() && o.ok() && *n < *o) {
      errs.Forbidden("spec.resources.requests.storage", "field can not be less than previous value");
    }
  }
}

// ---- dispatch ----

void Validator::Object(const Value& obj) {
  const std::string& kind = info_.kind;
  NameFn name_fn = kind == "Namespace" ? NameIsLabel
                   : kind == "Service" ? NameIsDns1035
                   : kind == "Event" || info_.group == "rbac.authorization.k8s.io"
                       ? NameIsPathSegment
                                       : NameIsSubdomain;
  ObjectMeta(Obj(&obj, "metadata", ""), name_fn);
  if (kind == "Pod") {
    PodSpec(Obj(&obj, "spec", ""), "spec", true);
  } else if (kind == "Deployment") {
    Deployment(obj);
  } else if (kind == "ReplicaSet") {
    ReplicaSet(obj);
  } else if (kind == "DaemonSet") {
    DaemonSet(obj);
  } else if (kind == "StatefulSet") {
    StatefulSet(obj);
  } else if (kind == "Job") {
    Job(obj);
  } else if (kind == "CronJob") {
    CronJob(obj);
  } else if (kind == "Service") {
    Service(obj);
  } else if (kind == "ConfigMap" || kind == "Secret") {
    ConfigData(obj, kind == "Secret");
  } else if (kind == "Node") {
    Node(obj);
  } else if (kind == "Event") {
    Event(obj);
  } else if (kind == "Lease") {
    Lease(obj);
  } else if (kind == "Ingress") {
    Ingress(obj);
  } else if (kind == "Endpoints") {
    Endpoints(obj);
  } else if (kind == "EndpointSlice") {
    EndpointSlice(obj);
  } else if (kind == "Role" || kind == "ClusterRole") {
    PolicyRules(obj, kind == "Role");
  } else if (kind == "RoleBinding" || kind == "ClusterRoleBinding") {
    RoleBinding(obj, kind == "RoleBinding");
  } else if (kind == "PersistentVolume") {
    PersistentVolume(obj);
  } else if (kind == "PersistentVolumeClaim") {
    PersistentVolumeClaimSpec(Obj(&obj, "spec", ""), "spec");
  } else if (kind == "StorageClass") {
    StorageClass(obj);
  } else if (kind == "ControllerRevision") {
    ControllerRevision(obj);
  }
}

// ---- updates ----

void Validator::Immutable(const Value* now, const Value* before, const std::string& path,
                          const std::string& bad) {
  if (!SemanticEqual(now, before)) errs.Invalid(path, bad, kImmutableMsg);
}

void Validator::PodUpdate(const Value& obj, const Value& old) {
  const Value* spec = Get(&obj, "spec");
  const Value* old_spec = Get(&old, "spec");
  for (std::string_view list : {"containers", "initContainers"}) {
    if (Size(Get(spec, list)) != Size(Get(old_spec, list))) {
      errs.Forbidden(Child("spec", list), "pod updates may not add or remove containers");
      return;
    }
  }
  auto new_deadline = GetInt(spec, "activeDeadlineSeconds");
  auto old_deadline = GetInt(old_spec, "activeDeadlineSeconds");
  if (new_deadline) {
    if (*new_deadline < 0 || *new_deadline > kMaxInt32) {
      errs.Invalid("spec.activeDeadlineSeconds", std::to_string(*new_deadline),
                   "must be between 0 and 2147483647, inclusive");
      return;
    }
    if (old_deadline && *old_deadline < *new_deadline) {
      errs.Invalid("spec.activeDeadlineSeconds", std::to_string(*new_deadline),
                   "must be less than or equal to previous value");
      return;
    }
  } else if (old_deadline) {
    errs.Invalid("spec.activeDeadlineSeconds", "null",
                 "must not update from a positive integer to nil value");
  }

  // Existing tolerations may only change their tolerationSeconds.
  for (const Value* before : Items(old_spec, "tolerations")) {
    bool found = false;
    for (const Value* now : Items(spec, "tolerations")) {
      bool same = true;
      for (std::string_view f : {"key", "operator", "value", "effect"}) {
        same = same && GetStr(before, f) == GetStr(now, f);
      }
      found = found || same;
    }
    if (!found) {
      errs.Forbidden("spec.tolerations",
                     "existing toleration can not be modified except its tolerationSeconds");
      break;
    }
  }
  // Scheduling gates may only be removed.
  std::set<std::string> old_gates;
  for (const Value* g : Items(old_spec, "schedulingGates")) old_gates.emplace(GetStr(g, "name"));
  for (const Value* g : Items(spec, "schedulingGates")) {
    if (!old_gates.count(std::string(GetStr(g, "name")))) {
      errs.Forbidden("spec.schedulingGates",
                     "only deletion is allowed, but found new scheduling gate '" +
                         std::string(GetStr(g, "name")) + "'");
    }
  }

  // Compare the rest with the mutable fields taken from the old spec.
  api::Document munged = api::Clone(OrEmpty(spec));
  Allocator& a = munged.GetAllocator();
  if (!munged.IsObject()) munged.SetObject();
  for (std::string_view list : {"containers", "initContainers"}) {
    Value* items = api::FindMutable(munged, list);
    const Value* old_items = Get(old_spec, list);
    if (items == nullptr || !items->IsArray() || old_items == nullptr || !old_items->IsArray() ||
        old_items->Size() != items->Size()) {
      continue;
    }
    for (rapidjson::SizeType i = 0; i < items->Size(); ++i) {
      if (!(*items)[i].IsObject()) continue;
      const Value* old_image = Get(&(*old_items)[i], "image");
      api::Remove((*items)[i], "image");
      if (old_image != nullptr) (*items)[i].AddMember("image", Value(*old_image, a), a);
    }
  }
  for (std::string_view f : {"activeDeadlineSeconds", "tolerations", "schedulingGates"}) {
    api::Remove(munged, f);
    if (const Value* v = Get(old_spec, f)) munged.AddMember(api::Str(f, a), Value(*v, a), a);
  }
  auto old_grace = GetInt(old_spec, "terminationGracePeriodSeconds");
  if (old_grace && *old_grace < 0 && GetInt(spec, "terminationGracePeriodSeconds") == 1) {
    api::SetInt(munged, "terminationGracePeriodSeconds", *old_grace, a);
  }
  if (!SemanticEqual(&munged, old_spec)) {
    errs.Forbidden("spec",
                   "pod updates may not change fields other than `spec.containers[*].image`,"
                   "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
                   "`spec.tolerations` (only additions to existing tolerations),"
                   "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
                   "previously negative)");
  }
}

void Validator::ServiceUpdate(const Value& obj, const Value& old) {
  const Value* spec = Get(&obj, "spec");
  const Value* old_spec = Get(&old, "spec");
  if (GetStr(spec, "type") == "ExternalName" || GetStr(old_spec, "type") == "ExternalName") return;
  // As upstream's patchAllocatedValues: addresses the client omits are the old ones.
  auto ips_of = [](const Value* s, const Value* fallback) {
    std::vector<std::string> out;
    for (const Value* ip : Items(s, "clusterIPs")) out.emplace_back(StrOf(ip));
    if (out.empty()) {
      for (const Value* ip : Items(fallback, "clusterIPs")) out.emplace_back(StrOf(ip));
    }
    std::string_view ip = GetStr(s, "clusterIP");
    if (ip.empty()) ip = GetStr(fallback, "clusterIP");
    if (out.empty() && !ip.empty()) out.emplace_back(ip);
    return out;
  };
  std::vector<std::string> now = ips_of(spec, old_spec), before = ips_of(old_spec, nullptr);
  auto headless = [](const std::vector<std::string>& ips) {
    return !ips.empty() && ips[0] == "None";
  };
  if (headless(now) && headless(before)) return;
  std::string bad = "[]string{";
  for (size_t i = 0; i < now.size(); ++i) bad += (i ? ", " : "") + GoQuote(now[i]);
  bad = now.empty() ? "[]string(nil)" : bad + "}";
  if (now.size() == before.size()) {
    for (size_t i = 0; i < now.size(); ++i) {
      if (now[i] != before[i])
        errs.Invalid(Index("spec.clusterIPs", i), bad, "may not change once set");
    }
  } else if (now.size() < before.size()) {
    // A secondary IP released (`now` holds at least the carried-over primary).
    if (now[0] != before[0]) errs.Invalid("spec.clusterIPs[0]", bad, "may not change once set");
    if (now.size() == 1 && GetStr(spec, "ipFamilyPolicy") != "SingleStack") {
      errs.Invalid(
          "spec.clusterIPs[0]", bad,
          "`ipFamilyPolicy` must be set to 'SingleStack' when releasing the secondary clusterIP");
    }
  } else if (!before.empty() && now[0] != before[0]) {
    errs.Invalid("spec.clusterIPs[0]", bad, "may not change once set");
  }
}

void Validator::Update(const Value& obj, const Value& old) {
  const Value* meta = Get(&obj, "metadata");
  const Value* old_meta = Get(&old, "metadata");
  for (std::string_view f : {"name", "namespace"}) {
    if (GetStr(meta, f) != GetStr(old_meta, f)) {
      errs.Invalid(Child("metadata", f), GoQuote(GetStr(meta, f)), kImmutableMsg);
    }
  }
  std::string_view uid = GetStr(meta, "uid");
  if (!uid.empty() && uid != GetStr(old_meta, "uid")) {
    errs.Invalid("metadata.uid", GoQuote(uid), kImmutableMsg);
  }

  const std::string& kind = info_.kind;
  const Value* spec = Get(&obj, "spec");
  const Value* old_spec = Get(&old, "spec");
  auto selector_immutable = [&] {
    Immutable(Get(spec, "selector"), Get(old_spec, "selector"), "spec.selector",
              GoLabelSelector(Get(spec, "selector")));
  };
  if (kind == "Pod") {
    PodUpdate(obj, old);
  } else if (kind == "Deployment" || kind == "ReplicaSet" || kind == "DaemonSet") {
    selector_immutable();
  } else if (kind == "StatefulSet") {
    auto strip = [](const Value* s) {
      api::Document d = api::Clone(OrEmpty(s));
      for (std::string_view f : {"replicas", "ordinals", "template", "updateStrategy",
                                 "persistentVolumeClaimRetentionPolicy", "minReadySeconds"}) {
        if (d.IsObject()) api::Remove(d, f);
      }
      return d;
    };
    api::Document now = strip(spec), before = strip(old_spec);
    if (!SemanticEqual(&now, &before)) {
      errs.Forbidden("spec",
                     "updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                     "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
                     "'minReadySeconds' are forbidden");
    }
  } else if (kind == "Job") {
    bool indexed = GetStr(spec, "completionMode") == "Indexed";
    auto completions = GetInt(spec, "completions");
    if (!SemanticEqual(Get(spec, "completions"), Get(old_spec, "completions"))) {
      if (!indexed) {
        errs.Invalid("spec.completions", Repr(Get(spec, "completions")), kImmutableMsg);
      } else if (completions && completions != GetInt(spec, "parallelism")) {
        errs.Invalid("spec.completions", std::to_string(*completions),
                     "can only be modified in tandem with spec.parallelism");
      }
    }
    selector_immutable();
    // A suspended Job may change its template's scheduling directives.
    auto scheduling_free = [&](const Value* s) {
      api::Document t = api::Clone(OrEmpty(Get(s, "template")));
      const Value* suspend = Get(spec, "suspend");
      if (suspend != nullptr && suspend->IsBool() && suspend->GetBool() && t.IsObject()) {
        api::Remove(t, "metadata");
        for (std::string_view f : {"nodeSelector", "tolerations", "affinity", "schedulingGates"}) {
          if (Value* ts = api::FindMutable(t, "spec"); ts != nullptr && ts->IsObject())
            api::Remove(*ts, f);
        }
      }
      return t;
    };
    api::Document tpl = scheduling_free(spec), old_tpl = scheduling_free(old_spec);
    Immutable(&tpl, &old_tpl, "spec.template", Repr(Get(spec, "template")));
    for (std::string_view f : {"completionMode", "podFailurePolicy", "backoffLimitPerIndex",
                               "managedBy", "successPolicy"}) {
      Immutable(Get(spec, f), Get(old_spec, f), Child("spec", f), Repr(Get(spec, f)));
    }
  } else if (kind == "Service") {
    ServiceUpdate(obj, old);
  } else if (kind == "ConfigMap" || kind == "Secret") {
    const Value* was_immutable = Get(&old, "immutable");
    if (was_immutable != nullptr && was_immutable->IsBool() && was_immutable->GetBool()) {
      const Value* is_immutable = Get(&obj, "immutable");
      if (is_immutable == nullptr || !is_immutable->IsBool() || !is_immutable->GetBool()) {
        errs.Forbidden("immutable", "field is immutable when `immutable` is set");
      }
      for (std::string_view f : {"data", "binaryData"}) {
        if (!SemanticEqual(Get(&obj, f), Get(&old, f))) {
          errs.Forbidden(std::string(f), "field is immutable when `immutable` is set");
        }
      }
    }
    if (kind == "Secret") {
      Immutable(Get(&obj, "type"), Get(&old, "type"), "type", Repr(Get(&obj, "type")));
    }
  } else if (kind == "EndpointSlice") {
    Immutable(Get(&obj, "addressType"), Get(&old, "addressType"), "addressType",
              Repr(Get(&obj, "addressType")));
  } else if (kind == "PersistentVolumeClaim") {
    PersistentVolumeClaimUpdate(obj, old);
  } else if (kind == "PersistentVolume") {
    for (std::string_view src : kPvSources) {
      if (!SemanticEqual(Get(spec, src), Get(old_spec, src))) {
        errs.Forbidden("spec.persistentvolumesource", "spec.persistentvolumesource is forbidden.");
        break;
      }
    }
    Immutable(Get(spec, "volumeMode"), Get(old_spec, "volumeMode"), "volumeMode",
              Repr(Get(spec, "volumeMode")));
  } else if (kind == "StorageClass") {
    if (!SemanticEqual(Get(&obj, "parameters"), Get(&old, "parameters")))
      errs.Forbidden("parameters", "updates to parameters are forbidden.");
    if (GetStr(&obj, "provisioner") != GetStr(&old, "provisioner"))
      errs.Forbidden("provisioner", "updates to provisioner are forbidden.");
    if (GetStr(&obj, "reclaimPolicy") != GetStr(&old, "reclaimPolicy"))
      errs.Forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden.");
    Immutable(Get(&obj, "volumeBindingMode"), Get(&old, "volumeBindingMode"), "volumeBindingMode",
              Repr(Get(&obj, "volumeBindingMode")));
  } else if (kind == "ControllerRevision") {
    Immutable(Get(&obj, "data"), Get(&old, "data"), "data", Repr(Get(&obj, "data")));
  } else if (kind == "RoleBinding" || kind == "ClusterRoleBinding") {
    const Value* ref = Get(&obj, "roleRef");
    const Value* old_ref = Get(&old, "roleRef");
    bool same = true;
    for (std::string_view f : {"apiGroup", "kind", "name"}) {
      same = same && GetStr(ref, f) == GetStr(old_ref, f);
    }
    if (!same) {
      errs.Invalid("roleRef",
                   "rbac.RoleRef{APIGroup:" + GoQuote(GetStr(ref, "apiGroup")) + ", Kind:" +
                       GoQuote(GetStr(ref, "kind")) + ", Name:" + GoQuote(GetStr(ref, "name")) + "}",
                   "cannot change roleRef");
    }
  }
}

// ---------------------------------------------------------------------------------------
// Defaulting.

Value* MemberOf(Value& v, std::string_view key) {
  if (!v.IsObject()) return nullptr;
  auto it = v.FindMember(Value(rapidjson::StringRef(key.data(), key.size())));
  return it == v.MemberEnd() ? nullptr : &it->value;
}
// Sets obj[key] = val when absent or null. Returns the member (existing or new).
Value& Default(Value& obj, std::string_view key, Value val, Allocator& a) {
  Value* m = MemberOf(obj, key);
  if (m == nullptr) {
    obj.AddMember(api::Str(key, a), val, a);
    return (obj.MemberEnd() - 1)->value;
  }
  if (m->IsNull()) *m = val;
  return *m;
}
// obj[key] = val, for keys that may contain dots (labels, data keys).
void SetMember(Value& obj, std::string_view key, Value val, Allocator& a) {
  if (Value* m = MemberOf(obj, key)) {
    *m = val;
  } else {
    obj.AddMember(api::Str(key, a), val, a);
  }
}
void DefaultStr(Value& obj, std::string_view key, std::string_view s, Allocator& a) {
  Default(obj, key, api::Str(s, a), a);
}
// The object member `key`, created when absent; nullptr when it holds another type.
Value* DefaultObj(Value& obj, std::string_view key, Allocator& a) {
  Value& m = Default(obj, key, Value(rapidjson::kObjectType), a);
  return m.IsObject() ? &m : nullptr;
}
// Object elements of the array member `key`.
std::vector<Value*> MutableItems(Value* obj, std::string_view key) {
  std::vector<Value*> out;
  Value* arr = obj != nullptr ? MemberOf(*obj, key) : nullptr;
  if (arr != nullptr && arr->IsArray()) {
    for (Value& e : arr->GetArray()) {
      if (e.IsObject()) out.push_back(&e);
    }
  }
  return out;
}
// Numeric defaults of non-pointer Go fields apply to 0 as well as to absence.
void DefaultNonZero(Value& obj, std::string_view key, int64_t n) {
  Value* m = MemberOf(obj, key);
  if (m != nullptr && m->IsInt64() && m->GetInt64() == 0) m->SetInt64(n);
}

// SetDefaults_Container's pull policy: Always for ":latest" or no tag (and no digest).
std::string_view DefaultPullPolicy(std::string_view image) {
  if (image.empty()) return "IfNotPresent";
  size_t at = image.find('@');
  bool digest = at != std::string_view::npos;
  std::string_view name = image.substr(0, at);
  size_t slash = name.rfind('/');
  std::string_view last = slash == std::string_view::npos ? name : name.substr(slash + 1);
  size_t colon = last.find(':');
  std::string_view tag = colon == std::string_view::npos ? "" : last.substr(colon + 1);
  if (tag.empty() && !digest) tag = "latest";
  return tag == "latest" ? "Always" : "IfNotPresent";
}

void DefaultHttpGet(Value* handler, Allocator& a) {
  if (handler == nullptr) return;
  if (Value* get = MemberOf(*handler, "httpGet"); get != nullptr && get->IsObject()) {
    DefaultStr(*get, "path", "/", a);
    DefaultStr(*get, "scheme", "HTTP", a);
  }
}

void DefaultProbe(Value& c, std::string_view key, Allocator& a) {
  Value* probe = MemberOf(c, key);
  if (probe == nullptr || !probe->IsObject()) return;
  for (auto [f, n] : {std::pair<std::string_view, int64_t>{"timeoutSeconds", 1},
                      {"periodSeconds", 10},
                      {"successThreshold", 1},
                      {"failureThreshold", 3}}) {
    Default(*probe, f, Value(n), a);
    DefaultNonZero(*probe, f, n);
  }
  DefaultHttpGet(probe, a);
}

void DefaultFieldRef(Value* holder, Allocator& a) {
  if (holder == nullptr) return;
  if (Value* ref = MemberOf(*holder, "fieldRef"); ref != nullptr && ref->IsObject()) {
    DefaultStr(*ref, "apiVersion", "v1", a);
  }
}

void DefaultContainer(Value& c, bool is_pod, bool host_network, Allocator& a) {
  DefaultStr(c, "imagePullPolicy", DefaultPullPolicy(GetStr(&c, "image")), a);
  DefaultStr(c, "terminationMessagePath", "/dev/termination-log", a);
  DefaultStr(c, "terminationMessagePolicy", "File", a);
  Value* res = DefaultObj(c, "resources", a);  // c gains no members below: stays valid
  for (Value* port : MutableItems(&c, "ports")) {
    DefaultStr(*port, "protocol", "TCP", a);
    // SetDefaults_Pod: a host-network pod's ports are host ports.
    if (is_pod && host_network && GetInt(port, "hostPort").value_or(0) == 0) {
      if (const Value* cp = Get(port, "containerPort")) {
        api::SetValue(*port, "hostPort", Value(*cp, a), a);
      }
    }
  }
  for (Value* env : MutableItems(&c, "env")) {
    if (Value* from = MemberOf(*env, "valueFrom"); from != nullptr && from->IsObject()) {
      DefaultFieldRef(from, a);
    }
  }
  for (std::string_view probe : {"livenessProbe", "readinessProbe", "startupProbe"}) {
    DefaultProbe(c, probe, a);
  }
  if (Value* lifecycle = MemberOf(c, "lifecycle"); lifecycle != nullptr && lifecycle->IsObject()) {
    DefaultHttpGet(MemberOf(*lifecycle, "postStart"), a);
    DefaultHttpGet(MemberOf(*lifecycle, "preStop"), a);
  }
  // SetDefaults_Pod: requests default to limits (pods only, not templates).
  if (is_pod && res != nullptr) {
    Value* limits = MemberOf(*res, "limits");
    if (limits != nullptr && limits->IsObject()) {
      Value* requests = DefaultObj(*res, "requests", a);
      if (requests != nullptr) {
        for (const auto& kv : limits->GetObject()) {
          if (MemberOf(*requests, api::View(kv.name)) == nullptr) {
            requests->AddMember(Value(kv.name, a), Value(kv.value, a), a);
          }
        }
      }
    }
  }
}

void DefaultVolume(Value& vol, Allocator& a) {
  bool has_source = false;
  for (const auto& m : vol.GetObject()) {
    has_source = has_source || (api::View(m.name) != "name" && !m.value.IsNull());
  }
  if (!has_source) {
    api::SetValue(vol, "emptyDir", Value(rapidjson::kObjectType), a);
    return;
  }
  for (std::string_view source : {"configMap", "secret", "projected", "downwardAPI"}) {
    if (Value* s = MemberOf(vol, source); s != nullptr && s->IsObject()) {
      Default(*s, "defaultMode", Value(420), a);
      for (Value* item : MutableItems(s, "items")) DefaultFieldRef(item, a);
    }
  }
  if (Value* hp = MemberOf(vol, "hostPath"); hp != nullptr && hp->IsObject()) {
    DefaultStr(*hp, "type", "", a);
  }
}

// SetDefaults_PodSpec for every pod spec; the rest only for Pod objects (SetDefaults_Pod
// and the DefaultTolerationSeconds, Priority and ServiceAccount admission plugins).
void DefaultPodSpec(Value& spec, bool is_pod, Allocator& a) {
  DefaultStr(spec, "dnsPolicy", "ClusterFirst", a);
  DefaultStr(spec, "restartPolicy", "Always", a);
  DefaultObj(spec, "securityContext", a);
  Default(spec, "terminationGracePeriodSeconds", Value(30), a);
  DefaultStr(spec, "schedulerName", "default-scheduler", a);
  const Value* host_network = Get(&spec, "hostNetwork");
  bool host_net = host_network != nullptr && host_network->IsBool() && host_network->GetBool();
  for (std::string_view list : {"containers", "initContainers"}) {
    for (Value* c : MutableItems(&spec, list)) DefaultContainer(*c, is_pod, host_net, a);
  }
  for (Value* vol : MutableItems(&spec, "volumes")) DefaultVolume(*vol, a);
  // v1 conversion keeps the deprecated serviceAccount in step with serviceAccountName.
  std::string sa(GetStr(&spec, "serviceAccountName"));
  if (sa.empty()) sa = GetStr(&spec, "serviceAccount");
  if (sa.empty() && is_pod) sa = "default";
  if (!sa.empty()) {
    api::SetString(spec, "serviceAccountName", sa, a);
    api::SetString(spec, "serviceAccount", sa, a);
  }
  if (!is_pod) return;

  Default(spec, "enableServiceLinks", Value(true), a);
  // A named PriorityClass was resolved into spec.priority before defaulting (the
  // apiserver's priority admission); without one a pod gets priority 0.
  if (GetStr(&spec, "priorityClassName").empty()) Default(spec, "priority", Value(0), a);
  if (api::Has(spec, "priority")) DefaultStr(spec, "preemptionPolicy", "PreemptLowerPriority", a);
  Value& tolerations = Default(spec, "tolerations", Value(rapidjson::kArrayType), a);
  if (!tolerations.IsArray()) return;
  for (std::string_view taint :
       {"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"}) {
    bool tolerated = false;
    for (const Value& t : tolerations.GetArray()) {
      std::string_view key = GetStr(&t, "key"), effect = GetStr(&t, "effect");
      tolerated =
          tolerated || ((key == taint || key.empty()) && (effect == "NoExecute" || effect.empty()));
    }
    if (tolerated) continue;
    Value t(rapidjson::kObjectType);
    t.AddMember("key", api::Str(taint, a), a);
    t.AddMember("operator", "Exists", a);
    t.AddMember("effect", "NoExecute", a);
    t.AddMember("tolerationSeconds", 300, a);
    tolerations.PushBack(t, a);
  }
}

void DefaultPodTemplate(Value& owner, Allocator& a) {
  Value* tpl = DefaultObj(owner, "template", a);
  if (tpl == nullptr) return;
  if (Value* spec = DefaultObj(*tpl, "spec", a)) DefaultPodSpec(*spec, false, a);
}

void DefaultStatefulSet(Value& spec, Allocator& a) {
  DefaultStr(spec, "podManagementPolicy", "OrderedReady", a);
  Value* strategy = DefaultObj(spec, "updateStrategy", a);
  if (strategy != nullptr) {
    if (GetStr(strategy, "type").empty()) {
      api::SetString(*strategy, "type", "RollingUpdate", a);
      DefaultObj(*strategy, "rollingUpdate", a);
    }
    Value* ru = MemberOf(*strategy, "rollingUpdate");
    if (GetStr(strategy, "type") == "RollingUpdate" && ru != nullptr && ru->IsObject()) {
      Default(*ru, "partition", Value(0), a);
    }
  }
  if (Value* policy = DefaultObj(spec, "persistentVolumeClaimRetentionPolicy", a)) {
    DefaultStr(*policy, "whenDeleted", "Retain", a);
    DefaultStr(*policy, "whenScaled", "Retain", a);
  }
  Default(spec, "replicas", Value(1), a);
  Default(spec, "revisionHistoryLimit", Value(10), a);
  for (Value* claim : MutableItems(&spec, "volumeClaimTemplates")) {
    if (Value* cs = DefaultObj(*claim, "spec", a)) DefaultStr(*cs, "volumeMode", "Filesystem", a);
    if (Value* st = DefaultObj(*claim, "status", a)) DefaultStr(*st, "phase", "Pending", a);
  }
  DefaultPodTemplate(spec, a);
}

void DefaultJob(Value& obj, Value& spec, Allocator& a) {
  if (Get(&spec, "completions") == nullptr && Get(&spec, "parallelism") == nullptr) {
    Default(spec, "completions", Value(1), a);
  }
  Default(spec, "parallelism", Value(1), a);
  Default(spec, "backoffLimit", Value(Get(&spec, "backoffLimitPerIndex") ? kMaxInt32 : 6), a);
  DefaultStr(spec, "completionMode", "NonIndexed", a);
  Default(spec, "suspend", Value(false), a);
  DefaultStr(spec, "podReplacementPolicy",
             Get(&spec, "podFailurePolicy") ? "Failed" : "TerminatingOrFailed", a);
  DefaultPodTemplate(spec, a);
  // The Job takes its template's labels when it has none of its own. (Last: adding
  // metadata to `obj` may move `spec`.)
  const Value* tpl_labels = Get(Get(Get(&spec, "template"), "metadata"), "labels");
  if (tpl_labels == nullptr || !tpl_labels->IsObject()) return;
  Value labels(*tpl_labels, a);
  Value* meta = DefaultObj(obj, "metadata", a);
  if (meta != nullptr && Size(Get(meta, "labels")) == 0)
    api::SetValue(*meta, "labels", std::move(labels), a);
}

void DefaultService(Value& spec, Allocator& a) {
  DefaultStr(spec, "sessionAffinity", "None", a);
  std::string affinity(GetStr(&spec, "sessionAffinity"));
  if (affinity == "None") {
    api::Remove(spec, "sessionAffinityConfig");
  } else if (affinity == "ClientIP" &&
             !GetInt(Get(Get(&spec, "sessionAffinityConfig"), "clientIP"), "timeoutSeconds")) {
    api::SetInt(spec, "sessionAffinityConfig.clientIP.timeoutSeconds", 10800, a);
  }
  DefaultStr(spec, "type", "ClusterIP", a);
  std::string type(GetStr(&spec, "type"));
  for (Value* port : MutableItems(&spec, "ports")) {
    DefaultStr(*port, "protocol", "TCP", a);
    const Value* target = Get(port, "targetPort");
    bool unset = target == nullptr || (target->IsInt64() && target->GetInt64() == 0) ||
                 (target->IsString() && target->GetStringLength() == 0);
    if (const Value* p = Get(port, "port"); unset && p != nullptr) {
      api::SetValue(*port, "targetPort", Value(*p, a), a);
    }
  }
  bool external = type == "NodePort" || type == "LoadBalancer" ||
                  (type == "ClusterIP" && Size(Get(&spec, "externalIPs")) > 0);
  if (external) DefaultStr(spec, "externalTrafficPolicy", "Cluster", a);
  if (type == "ClusterIP" || type == "NodePort" || type == "LoadBalancer") {
    DefaultStr(spec, "internalTrafficPolicy", "Cluster", a);
  }
  if (type == "LoadBalancer") Default(spec, "allocateLoadBalancerNodePorts", Value(true), a);
  // IP families: what the registry settles on in a single-stack IPv4 cluster.
  if (type == "ExternalName") return;
  bool headless_without_selector =
      GetStr(&spec, "clusterIP") == "None" && Size(Get(&spec, "selector")) == 0;
  DefaultStr(spec, "ipFamilyPolicy", headless_without_selector ? "RequireDualStack" : "SingleStack",
             a);
  Value& families = Default(spec, "ipFamilies", Value(rapidjson::kArrayType), a);
  if (families.IsArray() && families.Empty()) families.PushBack("IPv4", a);
}

// Base64 (standard alphabet, padded), for Secret stringData.
std::string Base64(std::string_view in) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(n >> s) & 63]);
  }
  if (i < in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    if (i + 1 < in.size()) n |= uint8_t(in[i + 1]) << 8;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

// QoS class of a pod (pkg/apis/core/helper/qos.GetPodQOS).
std::string_view PodQos(const Value* spec) {
  std::map<std::string, double> requests, limits;
  bool guaranteed = true;
  for (std::string_view list : {"containers", "initContainers"}) {
    for (const Value* c : Items(spec, list)) {
      const Value* res = Get(c, "resources");
      std::set<std::string> limit_names;
      for (auto [bag, sums] : {std::pair{"requests", &requests}, std::pair{"limits", &limits}}) {
        const Value* quantities = Get(res, bag);
        if (quantities == nullptr || !quantities->IsObject()) continue;
        for (const auto& kv : quantities->GetObject()) {
          std::string name(api::View(kv.name));
          std::optional<std::string> text = QuantityText(kv.value);
          if ((name != "cpu" && name != "memory") || !text) continue;
          Result<double> q = api::ParseQuantity(*text);
          if (!q.ok() || *q <= 0) continue;
          (*sums)[name] += *q;
          if (sums == &limits) limit_names.insert(name);
        }
      }
      if (limit_names.size() != 2) guaranteed = false;
    }
  }
  if (requests.empty() && limits.empty()) return "BestEffort";
  if (guaranteed) {
    for (const auto& [name, q] : requests) {
      auto it = limits.find(name);
      if (it == limits.end() || it->second != q) guaranteed = false;
    }
  }
  return guaranteed && requests.size() == limits.size() ? "Guaranteed" : "Burstable";
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Public API.

bool IsDns1123Subdomain(std::string_view s) { return s.size() <= 253 && MatchesSubdomain(s); }
bool IsDns1123Label(std::string_view s) { return s.size() <= 63 && MatchesLabel(s); }

void ApplyDefaults(const ResourceInfo& info, api::Document& obj) {
  if (!obj.IsObject()) return;
  Allocator& a = obj.GetAllocator();
  const std::string& kind = info.kind;
  if (kind == "Namespace") {
    Value* meta = DefaultObj(obj, "metadata", a);
    std::string name(GetStr(meta, "name"));
    if (meta != nullptr && !name.empty()) {
      if (Value* labels = DefaultObj(*meta, "labels", a)) {
        SetMember(*labels, "kubernetes.io/metadata.name", api::Str(name, a), a);
      }
    }
    if (Value* status = DefaultObj(obj, "status", a)) DefaultStr(*status, "phase", "Active", a);
    return;
  }
  if (kind == "RoleBinding" || kind == "ClusterRoleBinding") {
    Value* ref = DefaultObj(obj, "roleRef", a);
    if (ref != nullptr && GetStr(ref, "apiGroup").empty()) {
      SetMember(*ref, "apiGroup", api::Str("rbac.authorization.k8s.io", a), a);
    }
    for (Value* subject : MutableItems(&obj, "subjects")) {
      std::string_view k = GetStr(subject, "kind");
      if (GetStr(subject, "apiGroup").empty() && (k == "User" || k == "Group")) {
        SetMember(*subject, "apiGroup", api::Str("rbac.authorization.k8s.io", a), a);
      }
    }
    return;
  }
  if (kind == "Secret") {
    DefaultStr(obj, "type", "Opaque", a);
    // v1 -> internal conversion: stringData is written into data and not stored.
    if (const Value* sd = Get(&obj, "stringData"); sd != nullptr && sd->IsObject()) {
      Value* data = DefaultObj(obj, "data", a);
      const Value* string_data = Get(&obj, "stringData");  // after data may have moved it
      for (const auto& kv : string_data->GetObject()) {
        if (data == nullptr || !kv.value.IsString()) continue;
        SetMember(*data, api::View(kv.name), api::Str(Base64(api::View(kv.value)), a), a);
      }
      api::Remove(obj, "stringData");
    }
    return;
  }
  if (kind == "Node") {
    Value* status = MemberOf(obj, "status");
    const Value* capacity = Get(status, "capacity");
    if (capacity != nullptr && Get(status, "allocatable") == nullptr) {
      api::SetValue(*status, "allocatable", Value(*capacity, a), a);
    }
    return;
  }
  if (kind == "Endpoints") {
    for (Value* subset : MutableItems(&obj, "subsets")) {
      for (Value* port : MutableItems(subset, "ports")) DefaultStr(*port, "protocol", "TCP", a);
    }
    return;
  }
  if (kind == "EndpointSlice") {
    for (Value* port : MutableItems(&obj, "ports")) {
      DefaultStr(*port, "name", "", a);
      DefaultStr(*port, "protocol", "TCP", a);
    }
    return;
  }

  if (kind == "PersistentVolume" || kind == "PersistentVolumeClaim") {
    Value* spec = DefaultObj(obj, "spec", a);
    if (spec != nullptr) {
      DefaultStr(*spec, "volumeMode", "Filesystem", a);
      if (kind == "PersistentVolume") DefaultStr(*spec, "persistentVolumeReclaimPolicy", "Retain", a);
    }
    if (Value* status = DefaultObj(obj, "status", a)) DefaultStr(*status, "phase", "Pending", a);
    return;
  }
  if (kind == "StorageClass") {
    DefaultStr(obj, "reclaimPolicy", "Delete", a);
    DefaultStr(obj, "volumeBindingMode", "Immediate", a);
    return;
  }

  static const std::set<std::string> kWithSpec = {
      "Pod", "Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "Job", "CronJob", "Service"};
  if (!kWithSpec.count(kind)) return;
  Value* spec = DefaultObj(obj, "spec", a);
  if (spec == nullptr) return;
  if (kind == "Pod") {
    DefaultPodSpec(*spec, true, a);
  } else if (kind == "Deployment") {
    Default(*spec, "replicas", Value(1), a);
    if (Value* strategy = DefaultObj(*spec, "strategy", a)) {
      DefaultStr(*strategy, "type", "RollingUpdate", a);
      if (GetStr(strategy, "type") == "RollingUpdate") {
        if (Value* ru = DefaultObj(*strategy, "rollingUpdate", a)) {
          DefaultStr(*ru, "maxUnavailable", "25%", a);
          DefaultStr(*ru, "maxSurge", "25%", a);
        }
      }
    }
    Default(*spec, "revisionHistoryLimit", Value(10), a);
    Default(*spec, "progressDeadlineSeconds", Value(600), a);
    DefaultPodTemplate(*spec, a);
  } else if (kind == "ReplicaSet") {
    Default(*spec, "replicas", Value(1), a);
    DefaultPodTemplate(*spec, a);
  } else if (kind == "DaemonSet") {
    if (Value* strategy = DefaultObj(*spec, "updateStrategy", a)) {
      DefaultStr(*strategy, "type", "RollingUpdate", a);
      if (GetStr(strategy, "type") == "RollingUpdate") {
        if (Value* ru = DefaultObj(*strategy, "rollingUpdate", a)) {
          Default(*ru, "maxUnavailable", Value(1), a);
          Default(*ru, "maxSurge", Value(0), a);
        }
      }
    }
    Default(*spec, "revisionHistoryLimit", Value(10), a);
    DefaultPodTemplate(*spec, a);
  } else if (kind == "StatefulSet") {
    DefaultStatefulSet(*spec, a);
  } else if (kind == "Job") {
    DefaultJob(obj, *spec, a);
  } else if (kind == "CronJob") {
    DefaultStr(*spec, "concurrencyPolicy", "Allow", a);
    Default(*spec, "suspend", Value(false), a);
    Default(*spec, "successfulJobsHistoryLimit", Value(3), a);
    Default(*spec, "failedJobsHistoryLimit", Value(1), a);
    if (Value* jt = DefaultObj(*spec, "jobTemplate", a)) {
      if (Value* js = DefaultObj(*jt, "spec", a)) DefaultPodTemplate(*js, a);
    }
  } else if (kind == "Service") {
    DefaultService(*spec, a);
  }
}

void PrepareForCreate(const ResourceInfo& info, api::Document& obj) {
  if (!obj.IsObject()) return;
  Allocator& a = obj.GetAllocator();
  const std::string& kind = info.kind;
  if (info.HasStatus() && kind != "Node") api::Remove(obj, "status");
  if (kind == "Pod") {
    std::string_view qos = PodQos(Get(&obj, "spec"));
    api::SetString(obj, "status.phase", "Pending", a);
    api::SetString(obj, "status.qosClass", qos, a);
  } else if (kind == "PersistentVolume" || kind == "PersistentVolumeClaim") {
    api::SetString(obj, "status.phase", "Pending", a);
    // The StorageObjectInUseProtection admission plugin: the pvc-protection and
    // pv-protection controllers lift these once nothing uses the object.
    std::string_view finalizer =
        kind == "PersistentVolume" ? "kubernetes.io/pv-protection" : "kubernetes.io/pvc-protection";
    Value& meta = api::Ensure(obj, "metadata", a);
    Value* finalizers = &Default(meta, "finalizers", Value(rapidjson::kArrayType), a);
    if (finalizers->IsArray()) {
      bool present = false;
      for (const Value& f : finalizers->GetArray()) present = present || api::View(f) == finalizer;
      if (!present) finalizers->PushBack(api::Str(finalizer, a), a);
    }
  } else if (kind == "Namespace") {
    api::SetString(obj, "status.phase", "Active", a);
    Value* spec = DefaultObj(obj, "spec", a);
    Value* finalizers =
        spec != nullptr ? &Default(*spec, "finalizers", Value(rapidjson::kArrayType), a) : nullptr;
    if (finalizers != nullptr && finalizers->IsArray()) {
      bool present = false;
      for (const Value& f : finalizers->GetArray())
        present = present || api::View(f) == "kubernetes";
      if (!present) finalizers->PushBack("kubernetes", a);
    }
  } else if (kind == "Job") {
    // generateSelector (pkg/registry/batch/job/strategy.go).
    Value* spec = MemberOf(obj, "spec");
    const Value* manual = Get(spec, "manualSelector");
    std::string uid(GetStr(Get(&obj, "metadata"), "uid"));
    std::string name(GetStr(Get(&obj, "metadata"), "name"));
    if (spec == nullptr || !spec->IsObject() || uid.empty() ||
        (manual != nullptr && manual->IsBool() && manual->GetBool())) {
      return;
    }
    Value& labels = api::Ensure(*spec, "template.metadata.labels", a);
    for (auto [key, value] :
         {std::pair<std::string_view, std::string_view>{"batch.kubernetes.io/controller-uid", uid},
          {"batch.kubernetes.io/job-name", name},
          {"controller-uid", uid},
          {"job-name", name}}) {
      if (MemberOf(labels, key) == nullptr)
        labels.AddMember(api::Str(key, a), api::Str(value, a), a);
    }
    Value& match = api::Ensure(*spec, "selector.matchLabels", a);
    if (MemberOf(match, "batch.kubernetes.io/controller-uid") == nullptr) {
      match.AddMember("batch.kubernetes.io/controller-uid", api::Str(uid, a), a);
    }
  }
}

Status ValidateCreate(const ResourceInfo& info, const api::Value& obj) {
  Validator v(info, false);
  v.Object(obj);
  return ToStatus(info, obj, v.errs);
}

Status ValidateUpdate(const ResourceInfo& info, const api::Value& new_obj,
                      const api::Value& old_obj) {
  Validator v(info, true);
  v.Object(new_obj);
  v.Update(new_obj, old_obj);
  return ToStatus(info, new_obj, v.errs);
}

}  // namespace kubepp::apiserver
