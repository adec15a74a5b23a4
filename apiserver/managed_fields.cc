#include "apiserver/managed_fields.h"

#include <algorithm>

#include "apiserver/patch.h"

namespace kubepp::apiserver {
namespace {

using api::Allocator;
using api::Value;

// Metadata the server owns: never a client's field.
constexpr std::string_view kServerMetadata[] = {
    "name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
    "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "selfLink"};

bool IsServerMetadata(std::string_view name) {
  return std::find(std::begin(kServerMetadata), std::end(kServerMetadata), name) !=
         std::end(kServerMetadata);
}

std::string Join(const std::string& path, std::string_view name) {
  return path.empty() ? std::string(name) : path + "." + std::string(name);
}

// k:{"<key>":<value>} for a keyed list element.
std::string KeyStep(const std::string& key, const Value& id) {
  return "k:{" + api::ToJson(Value(key.c_str(), static_cast<rapidjson::SizeType>(key.size()))) +
         ":" + api::ToJson(id) + "}";
}

class Collector {
 public:
  Collector(std::string_view kind, FieldSet& out) : kind_(kind), out_(out) {}

  void Object(const Value& obj, const std::string& path, FieldPath& at, bool root) {
    for (const auto& m : obj.GetObject()) {
      std::string_view name = api::View(m.name);
      if (root && (name == "apiVersion" || name == "kind" || name == "status")) continue;
      if (path == "metadata" && IsServerMetadata(name)) continue;
      if (m.value.IsNull()) continue;
      at.push_back("f:" + std::string(name));
      Member(m.value, Join(path, name), at);
      at.pop_back();
    }
  }

 private:
  void Member(const Value& v, const std::string& path, FieldPath& at) {
    if (v.IsObject() && v.MemberCount() > 0) return Object(v, path, at, false);
    if (!v.IsArray()) {
      out_.insert(at);
      return;
    }
    const std::string* key = ListMergeKey(kind_, path);
    if (key == nullptr) {  // atomic: the list is one field
      out_.insert(at);
      return;
    }
    for (const auto& e : v.GetArray()) {
      if (key->empty()) {  // a set of values
        at.push_back("v:" + api::ToJson(e));
        out_.insert(at);
        at.pop_back();
        continue;
      }
      const Value* id = e.IsObject() ? api::Find(e, *key) : nullptr;
      if (id == nullptr) continue;  // the merge refuses such an element
      at.push_back(KeyStep(*key, *id));
      at.push_back(".");
      out_.insert(at);
      at.pop_back();
      Object(e, path, at, false);
      at.pop_back();
    }
  }

  std::string_view kind_;
  FieldSet& out_;
};

// The list element `step` ("k:..." or "v:...") names, or end. `List` is Value or const
// Value.
template <class List>
auto FindElement(List& list, const std::string& step) {
  auto parsed = api::ParseJson(step.substr(2));
  if (!parsed.ok()) return list.End();
  for (auto it = list.Begin(); it != list.End(); ++it) {
    if (step[0] == 'v') {
      if (*it == *parsed) return it;
      continue;
    }
    if (!it->IsObject() || !parsed->IsObject()) continue;
    bool match = true;
    for (const auto& k : parsed->GetObject()) {
      auto f = it->FindMember(k.name);
      if (f == it->MemberEnd() || f->value != k.value) match = false;
    }
    if (match) return it;
  }
  return list.End();
}

// The value at `path` in `v`, or null.
const Value* Lookup(const Value& v, const FieldPath& path) {
  const Value* cur = &v;
  for (const auto& step : path) {
    if (step == ".") continue;
    if (step.starts_with("f:")) {
      if (!cur->IsObject()) return nullptr;
      auto it = cur->FindMember(step.c_str() + 2);
      if (it == cur->MemberEnd()) return nullptr;
      cur = &it->value;
    } else {
      if (!cur->IsArray()) return nullptr;
      auto it = FindElement(*cur, step);
      if (it == cur->End()) return nullptr;
      cur = &*it;
    }
  }
  return cur;
}

// Removes the field at `path` from `v`, then the maps it leaves empty on the way up.
bool Remove(Value& v, const FieldPath& path, size_t i = 0) {
  if (i == path.size()) return false;
  const std::string& step = path[i];
  bool last = i + 1 == path.size() || (i + 2 == path.size() && path[i + 1] == ".");
  if (step.starts_with("f:")) {
    if (!v.IsObject()) return false;
    auto it = v.FindMember(step.c_str() + 2);
    if (it == v.MemberEnd()) return false;
    if (last) {
      v.EraseMember(it);
      return true;
    }
    bool removed = Remove(it->value, path, i + 1);
    if (removed && it->value.IsObject() && it->value.MemberCount() == 0) v.EraseMember(it);
    return removed;
  }
  if (!v.IsArray()) return false;
  auto it = FindElement(v, step);
  if (it == v.End()) return false;
  if (last) {
    v.Erase(it);
    return true;
  }
  return Remove(*it, path, i + 1);
}

bool HasPrefix(const FieldPath& p, const FieldPath& prefix) {
  return p.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), p.begin());
}

struct Entry {
  std::string manager, operation, api_version, time, subresource;
  FieldSet fields;
};

std::vector<Entry> ReadEntries(const Value& object) {
  std::vector<Entry> out;
  const Value* list = api::Find(object, "metadata.managedFields");
  if (list == nullptr || !list->IsArray()) return out;
  for (const auto& e : list->GetArray()) {
    if (!e.IsObject()) continue;
    Entry entry{api::GetString(e, "manager"), api::GetString(e, "operation"),
                api::GetString(e, "apiVersion"), api::GetString(e, "time"),
                api::GetString(e, "subresource"), {}};
    if (const Value* f = api::Find(e, "fieldsV1")) entry.fields = DecodeFieldsV1(*f);
    out.push_back(std::move(entry));
  }
  return out;
}

void WriteEntries(api::Document& object, const std::vector<Entry>& entries) {
  Allocator& a = object.GetAllocator();
  Value list(rapidjson::kArrayType);
  for (const auto& e : entries) {
    if (e.fields.empty()) continue;
    Value v(rapidjson::kObjectType);
    auto add = [&](const char* name, const std::string& s) {
      if (!s.empty()) v.AddMember(Value(name, a), Value(s.c_str(), a), a);
    };
    add("manager", e.manager);
    add("operation", e.operation);
    add("apiVersion", e.api_version);
    add("time", e.time);
    add("fieldsType", "FieldsV1");
    Value fields;
    EncodeFieldsV1(e.fields, fields, a);
    v.AddMember("fieldsV1", fields, a);
    add("subresource", e.subresource);
    list.PushBack(v, a);
  }
  if (list.Empty()) {
    api::Remove(object, "metadata.managedFields");
  } else {
    api::SetValue(object, "metadata.managedFields", std::move(list), a);
  }
}

}  // namespace

FieldSet FieldsOf(const Value& config, std::string_view kind) {
  FieldSet out;
  if (!config.IsObject()) return out;
  FieldPath at;
  Collector(kind, out).Object(config, "", at, true);
  return out;
}

void EncodeFieldsV1(const FieldSet& set, Value& out, Allocator& a) {
  out.SetObject();
  for (const auto& path : set) {
    Value* node = &out;
    for (const auto& step : path) {
      auto it = node->FindMember(step.c_str());
      if (it == node->MemberEnd()) {
        node->AddMember(Value(step.c_str(), a), Value(rapidjson::kObjectType), a);
        it = node->MemberEnd() - 1;
      }
      node = &it->value;
    }
  }
}

FieldSet DecodeFieldsV1(const Value& fields) {
  FieldSet out;
  FieldPath at;
  auto walk = [&](auto&& self, const Value& node) -> void {
    if (!node.IsObject()) return;
    if (node.MemberCount() == 0) {
      if (!at.empty()) out.insert(at);
      return;
    }
    for (const auto& m : node.GetObject()) {
      at.emplace_back(m.name.GetString(), m.name.GetStringLength());
      self(self, m.value);
      at.pop_back();
    }
  };
  walk(walk, fields);
  return out;
}

std::string FieldPathString(const FieldPath& path) {
  std::string out;
  for (const auto& step : path) {
    if (step == ".") continue;
    if (step.starts_with("f:")) {
      out += "." + step.substr(2);
    } else if (step.starts_with("v:")) {
      out += "[=" + step.substr(2) + "]";
    } else if (step.starts_with("k:")) {
      auto key = api::ParseJson(step.substr(2));
      std::string inner;
      if (key.ok() && key->IsObject()) {
        for (const auto& m : key->GetObject()) {
          inner += (inner.empty() ? "" : ",") + std::string(api::View(m.name)) + "=" +
                   api::ToJson(m.value);
        }
      }
      out += "[" + inner + "]";
    }
  }
  return out;
}

Status ServerSideApply(api::Document& live, const Value& config, std::string_view kind,
                       const std::string& manager, bool force, const std::string& api_version,
                       const std::string& now) {
  std::vector<Entry> entries = ReadEntries(live);
  FieldSet applied = FieldsOf(config, kind);

  // Another manager's field that this apply would change.
  struct Conflict {
    FieldPath field;
    size_t entry;
  };
  std::vector<Conflict> conflicts;
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    if (e.manager == manager && e.operation == "Apply") continue;
    for (const auto& p : applied) {
      if (p.back() == "." || !e.fields.count(p)) continue;
      const Value* have = Lookup(live, p);
      const Value* want = Lookup(config, p);
      if (have != nullptr && want != nullptr && *have != *want) conflicts.push_back({p, i});
    }
  }
  if (!conflicts.empty() && !force) {
    std::string message = "Apply failed with " + std::to_string(conflicts.size()) +
                          (conflicts.size() == 1 ? " conflict:" : " conflicts:");
    std::vector<Cause> causes;
    for (const auto& c : conflicts) {
      std::string field = FieldPathString(c.field);
      std::string with = "conflict with \"" + entries[c.entry].manager + "\"";
      message += (conflicts.size() == 1 ? " " : "\n- ") + with + ": " + field;
      causes.push_back({"FieldManagerConflict", with, field});
    }
    Status out(Code::kConflict, message);
    out.mutable_details().causes = std::move(causes);
    return out;
  }

  api::Document next = api::Clone(live);
  RETURN_IF_ERROR(ApplyStrategicMergePatch(next, config, kind));

  // Fields this manager applied before and no longer does go, unless someone else owns
  // them (or something under them).
  auto mine = std::find_if(entries.begin(), entries.end(), [&](const Entry& e) {
    return e.manager == manager && e.operation == "Apply";
  });
  if (mine != entries.end()) {
    for (const auto& p : mine->fields) {
      if (applied.count(p)) continue;
      FieldPath target = p;
      if (target.back() == ".") target.pop_back();
      bool kept = false;
      for (const auto& e : entries) {
        if (&e == &*mine) continue;
        for (const auto& q : e.fields) kept = kept || HasPrefix(q, target);
      }
      for (const auto& q : applied) kept = kept || HasPrefix(q, target);
      if (!kept) Remove(next, p);
    }
  }

  // Forced: the conflicting fields change hands.
  for (const auto& c : conflicts) entries[c.entry].fields.erase(c.field);
  if (mine == entries.end()) {
    entries.push_back({manager, "Apply", api_version, now, "", applied});
  } else {
    mine->fields = applied;
    mine->time = now;
    mine->api_version = api_version;
  }
  WriteEntries(next, entries);
  live.Swap(next);
  return Status::Ok();
}

void SetAppliedFields(api::Document& object, const Value& config, std::string_view kind,
                      const std::string& manager, const std::string& api_version,
                      const std::string& now) {
  WriteEntries(object, {{manager, "Apply", api_version, now, "", FieldsOf(config, kind)}});
}

}  // namespace kubepp::apiserver
