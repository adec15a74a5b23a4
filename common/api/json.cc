#include "common/api/json.h"

#include <set>
#include <unordered_map>
#include <unordered_set>

#include <rapidjson/encodedstream.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace kubepp::api {
namespace {

// Rejects documents nested deeper than kMaxJsonDepth (RapidJSON parses iteratively with
// kParseIterativeFlag, but our recursive helpers and patch code would not).
bool DepthOk(const Value& v, int depth) {
  if (depth > kMaxJsonDepth) return false;
  if (v.IsObject()) {
    for (auto& m : v.GetObject())
      if (!DepthOk(m.value, depth + 1)) return false;
  } else if (v.IsArray()) {
    for (auto& e : v.GetArray())
      if (!DepthOk(e, depth + 1)) return false;
  }
  return true;
}

// Builds a Document from the reader's events, converting numbers itself: RapidJSON 1.1's
// own conversion is inexact by default (a long number such as 9223372018446744073709550
// reads one ulp off, and the shortest form ToJson writes for it then parses to another
// double, so numbers drifted on every store/read cycle) and wrong with
// kParseFullPrecisionFlag ("0e300" reads as garbage, through clz(0) in its DiyFp code).
// std::from_chars is exact, as Go's strconv. Numbers keep RapidJSON's typing: integers
// that fit int64/uint64 stay integers, the rest are doubles.
class DocumentBuilder {
 public:
  explicit DocumentBuilder(Document& d) : d_(d) {}
  bool Null() { return d_.Null(); }
  bool Bool(bool b) { return d_.Bool(b); }
  bool Int(int i) { return d_.Int(i); }
  bool Uint(unsigned u) { return d_.Uint(u); }
  bool Int64(int64_t i) { return d_.Int64(i); }
  bool Uint64(uint64_t u) { return d_.Uint64(u); }
  bool Double(double x) { return d_.Double(x); }
  bool String(const char* s, rapidjson::SizeType n, bool copy) { return d_.String(s, n, copy); }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) { return d_.Key(s, n, copy); }
  bool StartObject() { return d_.StartObject(); }
  bool EndObject(rapidjson::SizeType n) { return d_.EndObject(n); }
  bool StartArray() { return d_.StartArray(); }
  bool EndArray(rapidjson::SizeType n) { return d_.EndArray(n); }

  // `s` is a number the reader has already checked against the JSON grammar. Returns false
  // (ending the parse) for one beyond double's range.
  bool RawNumber(const char* s, rapidjson::SizeType n, bool /*copy*/) {
    const char* end = s + n;
    bool integer = std::none_of(s, end, [](char c) { return c == '.' || c == 'e' || c == 'E'; });
    if (integer && *s == '-') {
      int64_t i;
      if (auto [p, ec] = std::from_chars(s, end, i); ec == std::errc() && p == end) return Int64(i);
    } else if (integer) {
      uint64_t u;
      if (auto [p, ec] = std::from_chars(s, end, u); ec == std::errc() && p == end) return Uint64(u);
    }
    double x = 0;
    auto [p, ec] = std::from_chars(s, end, x);
    if (ec == std::errc::result_out_of_range) {
      x = std::strtod(std::string(s, n).c_str(), nullptr);  // 0 on underflow, inf on overflow
    } else if (ec != std::errc() || p != end) {
      return false;
    }
    if (!std::isfinite(x)) {
      too_big_ = true;
      return false;
    }
    return Double(x);
  }
  bool too_big() const { return too_big_; }

 private:
  Document& d_;
  bool too_big_ = false;
};

template <typename V>
V* Walk(V* v, std::string_view path) {
  while (v != nullptr) {
    if (path.empty()) return v;
    size_t dot = path.find('.');
    std::string_view key = path.substr(0, dot);
    if (!v->IsObject()) return nullptr;
    auto it = v->FindMember(Value(rapidjson::StringRef(key.data(), key.size())));
    if (it == v->MemberEnd()) return nullptr;
    v = &it->value;
    if (dot == std::string_view::npos) return v;
    path.remove_prefix(dot + 1);
  }
  return nullptr;
}

}  // namespace

bool WithinMaxDepth(const Value& v) { return DepthOk(v, 0); }

Result<Document> ParseJson(std::string_view text) {
  Document d;
  rapidjson::ParseResult result;
  bool too_big = false;
  auto generate = [&](Document& handler) {
    rapidjson::MemoryStream ms(text.data(), text.size());
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> is(ms);
    DocumentBuilder builder(handler);
    rapidjson::Reader reader;
    result = reader.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag>(
        is, builder);
    too_big = builder.too_big();
    return !result.IsError();
  };
  d.Populate(generate);
  if (result.IsError()) {
    rapidjson::ParseErrorCode code = too_big ? rapidjson::kParseErrorNumberTooBig : result.Code();
    return BadRequest("invalid JSON at offset " + std::to_string(result.Offset()) + ": " +
                      rapidjson::GetParseError_En(code));
  }
  if (!DepthOk(d, 0)) return BadRequest("JSON nested deeper than 256 levels");
  return d;
}

namespace {

std::string_view NameOf(const Value::Member& m) {
  return {m.name.GetString(), m.name.GetStringLength()};
}

// Walks a document keeping only the path from the root (names and array indexes), so
// that a path is spelled out only for a field that is reported. Request bodies pass
// here on every write: the common case (no repeated name) allocates nothing for small
// objects.
class RepeatedDropper {
 public:
  explicit RepeatedDropper(std::vector<std::string>* repeated) : repeated_(repeated) {}

  void Walk(Value& v) {
    if (v.IsArray()) {
      for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
        path_.push_back({{}, static_cast<int>(i)});
        Walk(v[i]);
        path_.pop_back();
      }
      return;
    }
    if (!v.IsObject()) return;
    if (HasRepeated(v)) DropEarlier(v);
    // Names of members are stable from here on: nothing above erases any more.
    for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
      path_.push_back({NameOf(*m), -1});
      Walk(m->value);
      path_.pop_back();
    }
  }

 private:
  struct Segment {
    std::string_view name;
    int index;  // >= 0: an array element
  };

  static bool HasRepeated(const Value& v) {
    if (v.MemberCount() <= 16) {
      for (auto a = v.MemberBegin(); a != v.MemberEnd(); ++a) {
        for (auto b = a + 1; b != v.MemberEnd(); ++b) {
          if (NameOf(*a) == NameOf(*b)) return true;
        }
      }
      return false;
    }
    std::unordered_set<std::string_view> seen;
    for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
      if (!seen.insert(NameOf(*m)).second) return true;
    }
    return false;
  }

  // Erases all but the last of each repeated name and reports the name once.
  void DropEarlier(Value& v) {
    // Names are copied: erasing moves members, and short names live inside them.
    std::unordered_map<std::string, rapidjson::SizeType> last;
    rapidjson::SizeType i = 0;
    for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m, ++i) last[std::string(NameOf(*m))] = i;
    std::set<std::string> reported;
    i = 0;
    for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++i) {
      std::string name(NameOf(*m));
      if (last[name] == i) {  // by original index: `i` counts erased members too
        ++m;
        continue;
      }
      if (reported.insert(name).second) repeated_->push_back(PathTo(name));
      m = v.EraseMember(m);
    }
  }

  std::string PathTo(const std::string& name) const {
    std::string out;
    for (const Segment& s : path_) {
      if (s.index >= 0) {
        out += "[" + std::to_string(s.index) + "]";
      } else {
        if (!out.empty()) out += ".";
        out += s.name;
      }
    }
    return out.empty() ? name : out + "." + name;
  }

  std::vector<std::string>* repeated_;
  std::vector<Segment> path_;
};

}  // namespace

void DropRepeatedMembers(Value& v, std::vector<std::string>* repeated) { RepeatedDropper(repeated).Walk(v); }

std::string ToJson(const Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

std::string ToPrettyJson(const Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  w.SetIndent(' ', 2);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

Document Clone(const Value& v) {
  Document d;
  d.CopyFrom(v, d.GetAllocator());
  return d;
}

namespace {
// A document and the pool it lives in, one allocation (make_shared).
struct FrozenDocument {
  // CrtAllocator is stateless: one for all, instead of one made per pool.
  explicit FrozenDocument(size_t bytes) : pool(bytes, &crt), doc(&pool) {}
  static inline rapidjson::CrtAllocator crt;
  Allocator pool;  // declared first: it outlives doc
  Document doc;
};
}  // namespace

std::shared_ptr<const Document> Freeze(const Value& v) {
  // A copy into a scratch pool measures the bytes the copy takes: RapidJSON allocates
  // the same sizes in the same order every time, so the second copy fits one chunk.
  thread_local Allocator scratch(64 * 1024);
  { Value probe(v, scratch); }
  size_t bytes = scratch.Size();
  scratch.Clear();
  auto frozen = std::make_shared<FrozenDocument>(bytes > 0 ? bytes : 1);
  frozen->doc.CopyFrom(v, frozen->pool);
  return std::shared_ptr<const Document>(frozen, &frozen->doc);
}

const Value* Find(const Value& v, std::string_view path) { return Walk(&v, path); }
Value* FindMutable(Value& v, std::string_view path) { return Walk(&v, path); }

const Value* FindMember(const Value& v, std::string_view key) {
  if (!v.IsObject()) return nullptr;
  auto it = v.FindMember(Value(rapidjson::StringRef(key.data(), key.size())));
  return it == v.MemberEnd() ? nullptr : &it->value;
}

std::string GetString(const Value& v, std::string_view path, std::string_view fallback) {
  const Value* f = Find(v, path);
  if (f == nullptr || !f->IsString()) return std::string(fallback);
  return std::string(f->GetString(), f->GetStringLength());
}

int64_t GetInt(const Value& v, std::string_view path, int64_t fallback) {
  const Value* f = Find(v, path);
  if (f == nullptr) return fallback;
  if (f->IsInt64()) return f->GetInt64();
  if (f->IsUint64()) return static_cast<int64_t>(f->GetUint64());
  if (f->IsDouble()) return static_cast<int64_t>(f->GetDouble());
  return fallback;
}

bool GetBool(const Value& v, std::string_view path, bool fallback) {
  const Value* f = Find(v, path);
  return (f != nullptr && f->IsBool()) ? f->GetBool() : fallback;
}

bool Has(const Value& v, std::string_view path) {
  const Value* f = Find(v, path);
  return f != nullptr && !f->IsNull();
}

std::map<std::string, std::string> GetStringMap(const Value& v, std::string_view path) {
  std::map<std::string, std::string> out;
  const Value* f = Find(v, path);
  if (f == nullptr || !f->IsObject()) return out;
  for (auto& m : f->GetObject()) {
    if (m.value.IsString()) out.emplace(View(m.name), View(m.value));
  }
  return out;
}

Value& Ensure(Value& root, std::string_view path, Allocator& a) {
  Value* v = &root;
  if (!v->IsObject()) v->SetObject();
  while (!path.empty()) {
    size_t dot = path.find('.');
    std::string_view key = path.substr(0, dot);
    auto it = v->FindMember(Value(rapidjson::StringRef(key.data(), key.size())));
    if (it == v->MemberEnd()) {
      v->AddMember(Str(key, a), Value(rapidjson::kObjectType), a);
      v = &(v->MemberEnd() - 1)->value;
    } else {
      v = &it->value;
      if (!v->IsObject()) v->SetObject();
    }
    if (dot == std::string_view::npos) break;
    path.remove_prefix(dot + 1);
  }
  return *v;
}

void SetValue(Value& root, std::string_view path, Value val, Allocator& a) {
  size_t dot = path.rfind('.');
  Value& parent = dot == std::string_view::npos ? (root.IsObject() ? root : root.SetObject())
                                                : Ensure(root, path.substr(0, dot), a);
  std::string_view key = dot == std::string_view::npos ? path : path.substr(dot + 1);
  auto it = parent.FindMember(Value(rapidjson::StringRef(key.data(), key.size())));
  if (it == parent.MemberEnd()) {
    parent.AddMember(Str(key, a), val, a);
  } else {
    it->value = val;
  }
}

void SetString(Value& root, std::string_view path, std::string_view s, Allocator& a) {
  SetValue(root, path, Str(s, a), a);
}
void SetInt(Value& root, std::string_view path, int64_t n, Allocator& a) {
  SetValue(root, path, Value(n), a);
}
void SetBool(Value& root, std::string_view path, bool b, Allocator& a) {
  SetValue(root, path, Value(b), a);
}
void SetStringMap(Value& root, std::string_view path,
                  const std::map<std::string, std::string>& m, Allocator& a) {
  Value obj(rapidjson::kObjectType);
  for (auto& [k, v] : m) obj.AddMember(Str(k, a), Str(v, a), a);
  SetValue(root, path, std::move(obj), a);
}

bool Remove(Value& root, std::string_view path) {
  size_t dot = path.rfind('.');
  Value* parent = dot == std::string_view::npos ? &root : FindMutable(root, path.substr(0, dot));
  if (parent == nullptr || !parent->IsObject()) return false;
  std::string_view key = dot == std::string_view::npos ? path : path.substr(dot + 1);
  return parent->RemoveMember(Value(rapidjson::StringRef(key.data(), key.size())));
}

void AppendQuoted(std::string& out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 15]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

}  // namespace kubepp::api
