#include "common/api/selector.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <set>

namespace kubepp::api {
namespace {

constexpr size_t kMaxNameLength = 63;
constexpr size_t kMaxPrefixLength = 253;
constexpr std::string_view kNameFormat =
    "consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
    "an alphanumeric character";

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]
bool IsName(std::string_view s) {
  if (s.empty() || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return IsAlnum(c) || c == '-' || c == '_' || c == '.'; });
}

// RFC 1123 subdomain: dot-separated labels of [a-z0-9-], each starting and ending
// alphanumeric.
bool IsDnsSubdomain(std::string_view s) {
  while (true) {
    std::string_view label = s.substr(0, s.find('.'));
    if (label.empty() || !IsLowerAlnum(label.front()) || !IsLowerAlnum(label.back())) return false;
    auto valid = [](char c) { return IsLowerAlnum(c) || c == '-'; };
    if (!std::all_of(label.begin(), label.end(), valid)) return false;
    if (label.size() == s.size()) return true;
    s.remove_prefix(label.size() + 1);
  }
}

std::optional<int64_t> ParseInt64(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

}  // namespace

std::string LabelKeyError(std::string_view key) {
  std::string_view name = key;
  size_t slash = key.find('/');
  if (slash != std::string_view::npos) {
    if (key.find('/', slash + 1) != std::string_view::npos) {
      return "a qualified name must " + std::string(kNameFormat) +
             ", with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')";
    }
    std::string_view prefix = key.substr(0, slash);
    name = key.substr(slash + 1);
    if (prefix.empty()) return "prefix part must be non-empty";
    if (prefix.size() > kMaxPrefixLength) return "prefix part must be no more than 253 characters";
    if (!IsDnsSubdomain(prefix)) {
      return "prefix part must be a lowercase RFC 1123 subdomain (lower case alphanumeric "
             "characters, '-' or '.', starting and ending with an alphanumeric character)";
    }
  }
  if (name.empty()) return "name part must be non-empty";
  if (name.size() > kMaxNameLength) return "name part must be no more than 63 characters";
  if (!IsName(name)) return "name part must " + std::string(kNameFormat);
  return "";
}

std::string LabelValueError(std::string_view value) {
  if (value.size() > kMaxNameLength) return "must be no more than 63 characters";
  if (!value.empty() && !IsName(value)) {
    return "a valid label must be an empty string or " + std::string(kNameFormat);
  }
  return "";
}

// ---- LabelSelector ----

Result<LabelSelector::Requirement> LabelSelector::MakeRequirement(std::string key, Op op,
                                                                  std::vector<std::string> values) {
  if (std::string err = LabelKeyError(key); !err.empty()) {
    return BadRequest("invalid label key " + Quoted(key) + ": " + err);
  }
  switch (op) {
    case Op::kIn:
    case Op::kNotIn:
      if (values.empty()) {
        return BadRequest("key " + Quoted(key) +
                          ": for 'in', 'notin' operators, values set can't be empty");
      }
      break;
    case Op::kEquals:
    case Op::kDoubleEquals:
    case Op::kNotEquals:
      if (values.size() != 1) {
        return BadRequest("key " + Quoted(key) +
                          ": exact-match compatibility requires one single value");
      }
      break;
    case Op::kExists:
    case Op::kDoesNotExist:
      if (!values.empty()) {
        return BadRequest("key " + Quoted(key) +
                          ": values set must be empty for exists and does not exist");
      }
      break;
    case Op::kGreaterThan:
    case Op::kLessThan:
      if (values.size() != 1 || !ParseInt64(values[0])) {
        return BadRequest("key " + Quoted(key) +
                          ": for 'gt', 'lt' operators, exactly one integer value is required");
      }
      break;
  }
  for (const std::string& v : values) {
    if (std::string err = LabelValueError(v); !err.empty()) {
      return BadRequest("invalid label value " + Quoted(v) + " for key " + Quoted(key) + ": " +
                        err);
    }
  }
  std::sort(values.begin(), values.end());
  return Requirement{std::move(key), op, std::move(values)};
}

void LabelSelector::SortRequirements() {
  std::stable_sort(requirements_.begin(), requirements_.end(),
                   [](const Requirement& a, const Requirement& b) { return a.key < b.key; });
}

// Recursive-descent parser over the token list of upstream's lexer. "in" and "notin"
// are keywords only in operator position; elsewhere they are plain identifiers.
class LabelSelector::Parser {
 public:
  explicit Parser(std::string_view s) : input_(s) { Lex(s); }

  Result<LabelSelector> Parse() {
    LabelSelector sel;
    while (Peek().kind != Tok::kEnd) {
      if (!IsIdent(Peek()) && Peek().kind != Tok::kNot) {
        return Error("found " + Describe(Peek()) + ", expected: !, identifier, or end of string");
      }
      ASSIGN_OR_RETURN(Requirement r, ParseRequirement());
      sel.requirements_.push_back(std::move(r));
      const Token& sep = Next();
      if (sep.kind == Tok::kEnd) break;
      if (sep.kind != Tok::kComma) {
        return Error("found " + Describe(sep) + ", expected: ',' or end of string");
      }
      if (!IsIdent(Peek()) && Peek().kind != Tok::kNot) {
        return Error("found " + Describe(Peek()) + ", expected: identifier after ','");
      }
    }
    sel.SortRequirements();
    return sel;
  }

 private:
  enum class Tok { kEnd, kIdent, kIn, kNotIn, kOpenPar, kClosePar, kComma, kNot, kEquals,
                   kDoubleEquals, kNotEquals, kGreater, kLess };
  struct Token {
    Tok kind;
    std::string_view text;
  };

  static bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
  static bool IsSpecial(char c) {
    return std::string_view("=!(),<>").find(c) != std::string_view::npos;
  }
  static bool IsIdent(const Token& t) {
    return t.kind == Tok::kIdent || t.kind == Tok::kIn || t.kind == Tok::kNotIn;
  }
  static std::string Describe(const Token& t) {
    return t.kind == Tok::kEnd ? "end of string" : "'" + std::string(t.text) + "'";
  }

  void Lex(std::string_view s) {
    size_t i = 0;
    while (true) {
      while (i < s.size() && IsSpace(s[i])) ++i;
      if (i == s.size()) break;
      size_t start = i;
      Tok kind;
      if (IsSpecial(s[i])) {
        std::string_view two = s.substr(i, 2);
        if (two == "!=" || two == "==") {
          kind = two == "!=" ? Tok::kNotEquals : Tok::kDoubleEquals;
          i += 2;
        } else {
          switch (s[i++]) {
            case '=': kind = Tok::kEquals; break;
            case '!': kind = Tok::kNot; break;
            case '(': kind = Tok::kOpenPar; break;
            case ')': kind = Tok::kClosePar; break;
            case ',': kind = Tok::kComma; break;
            case '<': kind = Tok::kLess; break;
            default: kind = Tok::kGreater; break;
          }
        }
      } else {
        while (i < s.size() && !IsSpace(s[i]) && !IsSpecial(s[i])) ++i;
        std::string_view word = s.substr(start, i - start);
        kind = word == "in" ? Tok::kIn : word == "notin" ? Tok::kNotIn : Tok::kIdent;
      }
      tokens_.push_back({kind, s.substr(start, i - start)});
    }
    tokens_.push_back({Tok::kEnd, ""});
  }

  const Token& Peek() const { return tokens_[pos_]; }
  // Stays on the final kEnd token.
  const Token& Next() { return tokens_[tokens_[pos_].kind == Tok::kEnd ? pos_ : pos_++]; }

  Status Error(const std::string& detail) const {
    return BadRequest("unable to parse label selector " + Quoted(input_) + ": " + detail);
  }

  Result<Requirement> ParseRequirement() {
    bool negated = Peek().kind == Tok::kNot;
    if (negated) Next();
    const Token& key = Next();
    if (!IsIdent(key)) return Error("found " + Describe(key) + ", expected: identifier");
    Op op = Op::kExists;
    std::vector<std::string> values;
    if (negated) {
      op = Op::kDoesNotExist;  // anything after "!key" is left for the caller to reject
    } else if (Peek().kind != Tok::kEnd && Peek().kind != Tok::kComma) {
      const Token& op_token = Next();
      switch (op_token.kind) {
        case Tok::kIn: op = Op::kIn; break;
        case Tok::kNotIn: op = Op::kNotIn; break;
        case Tok::kEquals: op = Op::kEquals; break;
        case Tok::kDoubleEquals: op = Op::kDoubleEquals; break;
        case Tok::kNotEquals: op = Op::kNotEquals; break;
        case Tok::kGreater: op = Op::kGreaterThan; break;
        case Tok::kLess: op = Op::kLessThan; break;
        default:
          return Error("found " + Describe(op_token) + ", expected: in, notin, =, ==, !=, >, <");
      }
      if (op == Op::kIn || op == Op::kNotIn) {
        ASSIGN_OR_RETURN(values, ParseValueSet());
      } else {
        ASSIGN_OR_RETURN(std::string value, ParseExactValue());
        values.push_back(std::move(value));
      }
    }
    Result<Requirement> r = MakeRequirement(std::string(key.text), op, std::move(values));
    if (!r.ok()) return Error(r.status().message());
    return r;
  }

  // "(" [value] {"," [value]} ")": a set, so duplicates collapse; empty entries (as in
  // "()", "(a,)" or "(,,)") are the empty value.
  Result<std::vector<std::string>> ParseValueSet() {
    const Token& open = Next();
    if (open.kind != Tok::kOpenPar) return Error("found " + Describe(open) + ", expected: '('");
    std::set<std::string> values;
    while (true) {
      values.insert(IsIdent(Peek()) ? std::string(Next().text) : std::string());
      const Token& t = Next();
      if (t.kind == Tok::kClosePar) break;
      if (t.kind != Tok::kComma) return Error("found " + Describe(t) + ", expected: ',' or ')'");
    }
    return std::vector<std::string>(values.begin(), values.end());
  }

  // "x=" (at end of string or before ',') means the empty value.
  Result<std::string> ParseExactValue() {
    if (Peek().kind == Tok::kEnd || Peek().kind == Tok::kComma) return std::string();
    const Token& t = Next();
    if (!IsIdent(t)) return Error("found " + Describe(t) + ", expected: identifier");
    return std::string(t.text);
  }

  std::string_view input_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

Result<LabelSelector> LabelSelector::Parse(std::string_view s) { return Parser(s).Parse(); }

Result<LabelSelector> LabelSelector::FromJson(const Value* selector) {
  LabelSelector sel;
  if (selector == nullptr || selector->IsNull()) {
    sel.nothing_ = true;
    return sel;
  }
  auto error = [](const std::string& m) { return BadRequest("invalid label selector: " + m); };
  if (!selector->IsObject()) return error("must be an object");

  const Value* match_labels = FindMember(*selector, "matchLabels");
  if (match_labels != nullptr && !match_labels->IsNull()) {
    if (!match_labels->IsObject()) return error("matchLabels must be an object");
    for (const auto& m : match_labels->GetObject()) {
      if (!m.value.IsString()) {
        return error("matchLabels." + std::string(View(m.name)) + " must be a string");
      }
      ASSIGN_OR_RETURN(Requirement r, MakeRequirement(std::string(View(m.name)), Op::kEquals,
                                                      {std::string(View(m.value))}));
      sel.requirements_.push_back(std::move(r));
    }
  }

  const Value* match_expressions = FindMember(*selector, "matchExpressions");
  if (match_expressions != nullptr && !match_expressions->IsNull()) {
    if (!match_expressions->IsArray()) return error("matchExpressions must be an array");
    for (const Value& e : match_expressions->GetArray()) {
      if (!e.IsObject()) return error("matchExpressions entries must be objects");
      const Value* key = FindMember(e, "key");
      const Value* op_name = FindMember(e, "operator");
      const Value* values = FindMember(e, "values");
      if (key == nullptr || !key->IsString()) return error("matchExpressions key must be a string");
      if (op_name == nullptr || !op_name->IsString()) {
        return error("matchExpressions operator must be a string");
      }
      Op op;
      std::string_view name = View(*op_name);
      if (name == "In") {
        op = Op::kIn;
      } else if (name == "NotIn") {
        op = Op::kNotIn;
      } else if (name == "Exists") {
        op = Op::kExists;
      } else if (name == "DoesNotExist") {
        op = Op::kDoesNotExist;
      } else {
        return error(Quoted(name) + " is not a valid label selector operator");
      }
      std::vector<std::string> strings;
      if (values != nullptr && !values->IsNull()) {
        if (!values->IsArray()) return error("matchExpressions values must be an array");
        for (const Value& v : values->GetArray()) {
          if (!v.IsString()) return error("matchExpressions values must be strings");
          strings.emplace_back(View(v));
        }
      }
      ASSIGN_OR_RETURN(Requirement r,
                       MakeRequirement(std::string(View(*key)), op, std::move(strings)));
      sel.requirements_.push_back(std::move(r));
    }
  }
  sel.SortRequirements();
  return sel;
}

bool LabelSelector::RequirementMatches(const Requirement& r,
                                       const std::map<std::string, std::string>& labels) {
  auto it = labels.find(r.key);
  bool has = it != labels.end();
  auto in_values = [&] {
    return std::binary_search(r.values.begin(), r.values.end(), it->second);
  };
  switch (r.op) {
    case Op::kIn:
    case Op::kEquals:
    case Op::kDoubleEquals:
      return has && in_values();
    case Op::kNotIn:
    case Op::kNotEquals:
      return !has || !in_values();
    case Op::kExists:
      return has;
    case Op::kDoesNotExist:
      return !has;
    case Op::kGreaterThan:
    case Op::kLessThan: {
      if (!has) return false;
      std::optional<int64_t> actual = ParseInt64(it->second);
      if (!actual) return false;
      int64_t bound = *ParseInt64(r.values[0]);  // validated by MakeRequirement
      return r.op == Op::kGreaterThan ? *actual > bound : *actual < bound;
    }
  }
  return false;
}

bool LabelSelector::Matches(const std::map<std::string, std::string>& labels) const {
  if (nothing_) return false;
  return std::all_of(requirements_.begin(), requirements_.end(),
                     [&](const Requirement& r) { return RequirementMatches(r, labels); });
}

std::string LabelSelector::ToString() const {
  std::string out;
  for (const Requirement& r : requirements_) {
    if (!out.empty()) out += ',';
    if (r.op == Op::kDoesNotExist) out += '!';
    out += r.key;
    switch (r.op) {
      case Op::kExists:
      case Op::kDoesNotExist:
        continue;
      case Op::kEquals: out += '='; break;
      case Op::kDoubleEquals: out += "=="; break;
      case Op::kNotEquals: out += "!="; break;
      case Op::kGreaterThan: out += '>'; break;
      case Op::kLessThan: out += '<'; break;
      case Op::kIn: out += " in ("; break;
      case Op::kNotIn: out += " notin ("; break;
    }
    for (size_t i = 0; i < r.values.size(); ++i) {
      if (i > 0) out += ',';
      out += r.values[i];
    }
    if (r.op == Op::kIn || r.op == Op::kNotIn) out += ')';
  }
  return out;
}

// ---- FieldSelector ----

namespace {

// Splits on commas not preceded by an escaping backslash; escapes stay in the terms.
std::vector<std::string_view> SplitTerms(std::string_view s) {
  std::vector<std::string_view> terms;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == ',') {
      terms.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  terms.push_back(s.substr(start));
  return terms;
}

Result<std::string> UnescapeFieldValue(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == ',' || c == '=') {
      return BadRequest(std::string("invalid field selector: unescaped character in value: ") + c);
    }
    if (c == '\\') {
      std::string_view seq = s.substr(i, 2);
      if (seq.size() < 2 || (seq[1] != '\\' && seq[1] != ',' && seq[1] != '=')) {
        return BadRequest("invalid field selector: invalid escape sequence: " + std::string(seq));
      }
      c = s[++i];
    }
    out += c;
  }
  return out;
}

}  // namespace

Result<FieldSelector> FieldSelector::Parse(std::string_view s) {
  std::vector<std::string_view> terms = SplitTerms(s);
  std::sort(terms.begin(), terms.end());
  FieldSelector sel;
  for (std::string_view term : terms) {
    if (term.empty()) continue;
    // The first operator occurrence splits the term; at one position "!=" and "=="
    // win over "=".
    size_t at = term.find_first_of("!=");
    while (at != std::string_view::npos && term.substr(at, 2) != "!=" && term[at] != '=') {
      at = term.find_first_of("!=", at + 1);
    }
    if (at == std::string_view::npos) {
      return BadRequest("invalid selector: '" + std::string(s) + "'; can't understand '" +
                        std::string(term) + "'");
    }
    bool negate = term[at] == '!';
    size_t op_len = (negate || term.substr(at, 2) == "==") ? 2 : 1;
    ASSIGN_OR_RETURN(std::string value, UnescapeFieldValue(term.substr(at + op_len)));
    sel.requirements_.push_back({std::string(term.substr(0, at)), std::move(value), negate});
  }
  return sel;
}

bool FieldSelector::Matches(
    const std::function<std::string(std::string_view field)>& field_value) const {
  return std::all_of(requirements_.begin(), requirements_.end(), [&](const Requirement& r) {
    return (field_value(r.field) == r.value) != r.negate;
  });
}

}  // namespace kubepp::api
