#include "apiserver/patch.h"

#include <algorithm>
#include <deque>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace kubepp::apiserver {
namespace {

using api::Allocator;
using api::FindMember;
using api::ToJson;
using api::Value;
using api::View;

rapidjson::GenericStringRef<char> Ref(std::string_view s) {
  return rapidjson::StringRef(s.data(), s.size());
}

Value* MutableMember(Value& obj, std::string_view key) {
  auto it = obj.FindMember(Ref(key));
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

// ---------------------------------------------------------------------------------------
// RFC 7386 merge patch.

void MergeInto(Value& target, const Value& patch, Allocator& a) {
  if (!patch.IsObject()) {
    target.CopyFrom(patch, a);
    return;
  }
  if (!target.IsObject()) target.SetObject();
  for (auto& m : patch.GetObject()) {
    auto it = target.FindMember(m.name);
    if (m.value.IsNull()) {
      // EraseMember keeps the other members in order (RemoveMember would not).
      if (it != target.MemberEnd()) target.EraseMember(it);
      continue;
    }
    if (it == target.MemberEnd()) {
      target.AddMember(Value(m.name, a), Value(), a);
      it = target.MemberEnd() - 1;
    }
    MergeInto(it->value, m.value, a);
  }
}

// ---------------------------------------------------------------------------------------
// RFC 6902 JSON patch. Errors of a single operation are Invalid; the caller prefixes
// them with the operation's index.

using Pointer = std::vector<std::string>;

Result<Pointer> ParsePointer(std::string_view text) {
  Pointer tokens;
  if (text.empty()) return tokens;  // the whole document
  if (text[0] != '/') return Invalid("JSON pointer must be empty or start with '/'");
  size_t pos = 1;
  while (true) {
    size_t slash = text.find('/', pos);
    std::string_view raw = text.substr(pos, slash == std::string_view::npos ? slash : slash - pos);
    std::string token;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '~') {
        token += raw[i];
      } else if (i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
        token += raw[++i] == '0' ? '~' : '/';
      } else {
        return Invalid("invalid escape in JSON pointer");
      }
    }
    tokens.push_back(std::move(token));
    if (slash == std::string_view::npos) return tokens;
    pos = slash + 1;
  }
}

// The array position a token names. `for_add` admits the end position ("-" or size).
Result<size_t> ArrayIndex(const std::string& token, size_t size, bool for_add) {
  if (token == "-") {
    if (for_add) return size;
    return Invalid("'-' names no existing array element");
  }
  bool digits = !token.empty() && token.size() <= 9 &&
                std::all_of(token.begin(), token.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits || (token.size() > 1 && token[0] == '0')) {
    return Invalid("invalid array index \"" + token + "\"");
  }
  size_t index = std::stoul(token);
  if (index > size || (!for_add && index == size)) {
    return Invalid("array index " + token + " out of bounds");
  }
  return index;
}

// The value at `path`, or nullptr when it does not exist.
Value* Resolve(Value& root, const Pointer& path, size_t depth) {
  Value* v = &root;
  for (size_t i = 0; i < depth; ++i) {
    if (v->IsObject()) {
      v = MutableMember(*v, path[i]);
    } else if (v->IsArray()) {
      auto index = ArrayIndex(path[i], v->Size(), false);
      v = index.ok() ? &(*v)[static_cast<rapidjson::SizeType>(*index)] : nullptr;
    } else {
      v = nullptr;
    }
    if (v == nullptr) return nullptr;
  }
  return v;
}

Value* Resolve(Value& root, const Pointer& path) { return Resolve(root, path, path.size()); }

Status AddAt(Value& root, const Pointer& path, Value& value, Allocator& a) {
  if (path.empty()) {
    root = value;
    return Status::Ok();
  }
  Value* parent = Resolve(root, path, path.size() - 1);
  if (parent == nullptr) return Invalid("parent path not found");
  const std::string& last = path.back();
  if (parent->IsObject()) {
    if (Value* existing = MutableMember(*parent, last)) {
      *existing = value;
    } else {
      parent->AddMember(api::Str(last, a), value, a);
    }
    return Status::Ok();
  }
  if (!parent->IsArray()) return Invalid("parent is neither an object nor an array");
  ASSIGN_OR_RETURN(size_t index, ArrayIndex(last, parent->Size(), true));
  parent->PushBack(value, a);
  for (size_t i = parent->Size() - 1; i > index; --i) (*parent)[i].Swap((*parent)[i - 1]);
  return Status::Ok();
}

// Detaches and returns the value at `path`.
Result<Value> RemoveAt(Value& root, const Pointer& path) {
  if (path.empty()) return Invalid("the whole document cannot be removed");
  Value* parent = Resolve(root, path, path.size() - 1);
  if (parent == nullptr) return Invalid("path not found");
  Value out;
  if (parent->IsObject()) {
    auto it = parent->FindMember(Ref(path.back()));
    if (it == parent->MemberEnd()) return Invalid("path not found");
    out.Swap(it->value);
    parent->EraseMember(it);
  } else if (parent->IsArray()) {
    ASSIGN_OR_RETURN(size_t index, ArrayIndex(path.back(), parent->Size(), false));
    out.Swap((*parent)[static_cast<rapidjson::SizeType>(index)]);
    parent->Erase(parent->Begin() + index);
  } else {
    return Invalid("path not found");
  }
  return out;
}

// `copied` accumulates the JSON size of the values "copy" operations duplicated.
Status ApplyOp(api::Document& doc, const Value& op, size_t& copied) {
  Allocator& a = doc.GetAllocator();
  const Value* name = FindMember(op, "op");
  const Value* path_text = FindMember(op, "path");
  if (name == nullptr || !name->IsString()) return Invalid("missing \"op\"");
  if (path_text == nullptr || !path_text->IsString()) return Invalid("missing \"path\"");
  ASSIGN_OR_RETURN(Pointer path, ParsePointer(View(*path_text)));
  std::string_view kind = View(*name);

  const Value* value = FindMember(op, "value");
  if (value == nullptr && (kind == "add" || kind == "replace" || kind == "test")) {
    return Invalid("missing \"value\"");
  }
  Pointer from;
  if (kind == "move" || kind == "copy") {
    const Value* from_text = FindMember(op, "from");
    if (from_text == nullptr || !from_text->IsString()) return Invalid("missing \"from\"");
    ASSIGN_OR_RETURN(from, ParsePointer(View(*from_text)));
  }

  if (kind == "add") {
    Value v(*value, a);
    return AddAt(doc, path, v, a);
  }
  if (kind == "remove") return RemoveAt(doc, path).status();
  if (kind == "replace") {
    Value* target = Resolve(doc, path);
    if (target == nullptr) return Invalid("path not found");
    target->CopyFrom(*value, a);
    return Status::Ok();
  }
  if (kind == "test") {
    Value* target = Resolve(doc, path);
    if (target == nullptr) return Invalid("path not found");
    // RapidJSON equality is the RFC's: members in any order, numbers by numeric value.
    if (!(*target == *value)) return Invalid("test failed: value is " + ToJson(*target));
    return Status::Ok();
  }
  if (kind == "copy") {
    Value* source = Resolve(doc, from);
    if (source == nullptr) return Invalid("\"from\" path not found");
    // Each copy can double the document ("copy" of "" into "/a"): bound the growth.
    copied += ToJson(*source).size();
    if (copied > kMaxJsonPatchCopyBytes) {
      return Invalid("the accumulated size increase of copy is " + std::to_string(copied) +
                     " bytes, exceeding the limit of " + std::to_string(kMaxJsonPatchCopyBytes));
    }
    Value v(*source, a);
    return AddAt(doc, path, v, a);
  }
  if (kind == "move") {
    if (from == path) return Resolve(doc, from) ? Status::Ok() : Invalid("\"from\" path not found");
    if (path.size() > from.size() && std::equal(from.begin(), from.end(), path.begin())) {
      return Invalid("cannot move a value into one of its children");
    }
    ASSIGN_OR_RETURN(Value v, RemoveAt(doc, from));
    return AddAt(doc, path, v, a);
  }
  return Invalid("unknown op \"" + std::string(kind) + "\"");
}

// ---------------------------------------------------------------------------------------
// Strategic merge patch.

constexpr std::string_view kPatchDirective = "$patch";
constexpr std::string_view kRetainKeys = "$retainKeys";
constexpr std::string_view kSetElementOrderPrefix = "$setElementOrder/";
constexpr std::string_view kDeleteFromPrimitiveListPrefix = "$deleteFromPrimitiveList/";

bool IsDirectiveKey(std::string_view key) {
  return key == kPatchDirective || key == kRetainKeys || key.starts_with(kSetElementOrderPrefix) ||
         key.starts_with(kDeleteFromPrimitiveListPrefix);
}

// The merge rules of one kind: path of field names from the object root (list elements
// add no segment: "spec.template.spec.containers.env") -> patch merge key, where ""
// merges a list of primitives as a set. Lists not named here are replaced whole.
// Mirrors the patchStrategy/patchMergeKey struct tags of the upstream Go types.
using ListRules = std::unordered_map<std::string, std::string>;

struct FieldRule {
  std::string_view path;
  std::string_view merge_key;
};
struct PodSpecAt {
  std::string_view kind;
  std::string_view path;
};
struct KindRule {
  std::string_view kind;
  std::string_view path;
  std::string_view merge_key;
};

constexpr FieldRule kObjectMetaLists[] = {{"finalizers", ""}, {"ownerReferences", "uid"}};
constexpr std::string_view kContainerLists[] = {"containers", "initContainers",
                                                "ephemeralContainers"};
constexpr FieldRule kContainerFieldLists[] = {{"ports", "containerPort"},
                                              {"env", "name"},
                                              {"volumeMounts", "mountPath"},
                                              {"volumeDevices", "devicePath"}};
constexpr FieldRule kPodSpecLists[] = {{"volumes", "name"},
                                       {"imagePullSecrets", "name"},
                                       {"hostAliases", "ip"},
                                       {"topologySpreadConstraints", "topologyKey"},
                                       {"resourceClaims", "name"},
                                       {"schedulingGates", "name"}};
// Where each kind keeps a pod spec. The sibling "metadata" of its final "spec" is the
// pod template's ObjectMeta.
constexpr PodSpecAt kPodSpecPaths[] = {
    {"Pod", "spec"},
    {"PodTemplate", "template.spec"},
    {"ReplicationController", "spec.template.spec"},
    {"Deployment", "spec.template.spec"},
    {"ReplicaSet", "spec.template.spec"},
    {"DaemonSet", "spec.template.spec"},
    {"StatefulSet", "spec.template.spec"},
    {"Job", "spec.template.spec"},
    {"CronJob", "spec.jobTemplate.spec.template.spec"},
};
constexpr KindRule kKindLists[] = {
    {"Pod", "status.podIPs", "ip"},
    {"Pod", "status.hostIPs", "ip"},
    {"Node", "spec.podCIDRs", ""},
    {"Node", "status.addresses", "type"},
    {"Service", "spec.ports", "port"},
};
// Kinds whose status.conditions merge by type (others' conditions are atomic).
constexpr std::string_view kKindsWithMergedConditions[] = {
    "Pod",       "Node",       "Namespace",  "PersistentVolumeClaim", "Service",
    "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet",           "Job",
    "ReplicationController", "HorizontalPodAutoscaler", "PodDisruptionBudget"};

std::string Join(std::string_view path, std::string_view name) {
  return path.empty() ? std::string(name) : std::string(path) + "." + std::string(name);
}

ListRules BuildRules(std::string_view kind) {
  ListRules rules;
  auto add = [&](std::string_view prefix, const FieldRule& r) {
    rules.emplace(Join(prefix, r.path), r.merge_key);
  };
  for (const auto& r : kObjectMetaLists) add("metadata", r);
  for (const auto& [k, spec] : kPodSpecPaths) {
    if (k != kind) continue;
    std::string template_meta = std::string(spec.substr(0, spec.size() - 4)) + "metadata";
    for (const auto& r : kObjectMetaLists) add(template_meta, r);
    for (const auto& r : kPodSpecLists) add(spec, r);
    for (std::string_view list : kContainerLists) {
      add(spec, {list, "name"});
      for (const auto& r : kContainerFieldLists) add(Join(spec, list), r);
    }
  }
  for (const auto& r : kKindLists) {
    if (r.kind == kind) add("", {r.path, r.merge_key});
  }
  if (std::find(std::begin(kKindsWithMergedConditions), std::end(kKindsWithMergedConditions),
                kind) != std::end(kKindsWithMergedConditions)) {
    add("status", {"conditions", "type"});
  }
  return rules;
}

const ListRules& RulesFor(std::string_view kind) {
  static const auto* const by_kind = [] {
    auto* m = new std::map<std::string, ListRules, std::less<>>();
    auto build = [m](std::string_view k) { m->try_emplace(std::string(k), BuildRules(k)); };
    build("");  // any other kind: metadata rules only
    for (const auto& r : kPodSpecPaths) build(r.kind);
    for (const auto& r : kKindLists) build(r.kind);
    for (std::string_view k : kKindsWithMergedConditions) build(k);
    return m;
  }();
  auto it = by_kind->find(kind);
  return it != by_kind->end() ? it->second : by_kind->find("")->second;
}

constexpr size_t kNotFound = static_cast<size_t>(-1);

size_t IndexOf(const std::vector<const Value*>& ids, const Value* id) {
  if (id == nullptr) return kNotFound;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] != nullptr && *ids[i] == *id) return i;  // null: an element without the key
  }
  return kNotFound;
}

class StrategicMerger {
 public:
  StrategicMerger(const ListRules& rules, Allocator& a) : rules_(rules), a_(a) {}

  // Merges the object `patch` into `original` (which becomes an object if it is not).
  Status MergeMap(Value& original, const Value& patch, const std::string& path) {
    if (const Value* directive = FindMember(patch, kPatchDirective)) {
      std::string_view d = View(*directive);
      if (d == "delete") {
        original.SetObject();
        return Status::Ok();
      }
      if (d == "replace") {
        original.SetObject();
      } else if (d != "merge") {
        return BadRequest(At(path) + "unknown $patch directive " + ToJson(*directive));
      }
    }
    if (!original.IsObject()) original.SetObject();
    RETURN_IF_ERROR(RetainKeys(original, patch, path));

    // Lists named by $setElementOrder are merged and ordered here, before other keys.
    std::vector<std::string_view> ordered;
    for (const auto& m : patch.GetObject()) {
      std::string_view key = View(m.name);
      if (!key.starts_with(kSetElementOrderPrefix)) continue;
      std::string_view list = key.substr(kSetElementOrderPrefix.size());
      ASSIGN_OR_RETURN(bool handled, MergeOrderedList(original, patch, list, m.value, path));
      if (handled) ordered.push_back(list);
    }

    for (const auto& m : patch.GetObject()) {
      std::string_view key = View(m.name);
      if (key.starts_with(kDeleteFromPrimitiveListPrefix)) {
        RETURN_IF_ERROR(DeleteFromPrimitiveList(
            original, key.substr(kDeleteFromPrimitiveListPrefix.size()), m.value, path));
        continue;
      }
      if (IsDirectiveKey(key) ||
          std::find(ordered.begin(), ordered.end(), key) != ordered.end()) {
        continue;
      }
      std::string child = Join(path, key);
      auto it = original.FindMember(m.name);
      if (m.value.IsNull()) {
        if (it != original.MemberEnd()) original.EraseMember(it);
        continue;
      }
      if (it == original.MemberEnd()) {
        Value v;
        RETURN_IF_ERROR(FromPatch(m.value, child, v));
        original.AddMember(Value(m.name, a_), v, a_);
      } else if (it->value.IsObject() && m.value.IsObject()) {
        RETURN_IF_ERROR(MergeMap(it->value, m.value, child));
      } else if (it->value.IsArray() && m.value.IsArray()) {
        RETURN_IF_ERROR(MergeList(it->value, m.value, child));
      } else {
        Value v;
        RETURN_IF_ERROR(FromPatch(m.value, child, v));
        it->value = v;
      }
    }
    return Status::Ok();
  }

 private:
  static std::string At(const std::string& path) { return path.empty() ? "" : path + ": "; }

  // The value a patch value yields where the original has none: the patch applied to
  // nothing, so that directives are processed rather than copied.
  Status FromPatch(const Value& patch, const std::string& path, Value& out) {
    if (patch.IsObject()) return MergeMap(out, patch, path);
    if (patch.IsArray()) {
      out.SetArray();
      return MergeList(out, patch, path);
    }
    out.CopyFrom(patch, a_);
    return Status::Ok();
  }

  const std::string* MergeKeyOf(const std::string& path) const {
    auto it = rules_.find(path);
    return it == rules_.end() ? nullptr : &it->second;
  }

  // An element's identity in a merged list: its merge-key value, or itself for primitives.
  static const Value* IdOf(const Value& element, const std::string& merge_key) {
    return merge_key.empty() ? &element : FindMember(element, merge_key);
  }

  // Copies of the identities of `list`'s elements, stable across changes to the list.
  std::vector<const Value*> SnapshotIds(const Value& list, const std::string& merge_key) {
    std::vector<const Value*> ids;
    for (const auto& e : list.GetArray()) {
      const Value* id = IdOf(e, merge_key);
      ids.push_back(id == nullptr ? nullptr : &scratch_.emplace_back(*id, scratch_alloc_));
    }
    return ids;
  }

  Status MergeList(Value& original, const Value& patch, const std::string& path) {
    const std::string* merge_key = MergeKeyOf(path);
    if (merge_key == nullptr) {  // atomic list: the patch replaces it
      Value out(rapidjson::kArrayType);
      for (const auto& e : patch.GetArray()) {
        Value v;
        RETURN_IF_ERROR(FromPatch(e, path, v));
        out.PushBack(v, a_);
      }
      original = out;
      return Status::Ok();
    }
    return merge_key->empty() ? MergePrimitives(original, patch, path)
                              : MergeByKey(original, patch, path, *merge_key);
  }

  Status MergePrimitives(Value& original, const Value& patch, const std::string& path) {
    for (const Value* list : {static_cast<const Value*>(&original), &patch}) {
      for (const auto& e : list->GetArray()) {
        if (e.IsObject() || e.IsArray()) {
          return BadRequest(At(path) + "cannot merge lists without merge key");
        }
      }
    }
    std::vector<const Value*> server_order = SnapshotIds(original, "");
    std::vector<const Value*> patch_order;
    Value merged(rapidjson::kArrayType);
    auto add_unique = [&](Value& v) {
      for (const auto& m : merged.GetArray()) {
        if (m == v) return;
      }
      merged.PushBack(v, a_);
    };
    for (auto& e : original.GetArray()) add_unique(e);
    for (const auto& e : patch.GetArray()) {
      patch_order.push_back(&e);
      Value v(e, a_);
      add_unique(v);
    }
    original = merged;
    Reorder(original, patch_order, server_order, "");
    return Status::Ok();
  }

  Status MergeByKey(Value& original, const Value& patch, const std::string& path,
                    const std::string& key) {
    std::vector<const Value*> regular;
    bool replace = false;
    for (const auto& e : patch.GetArray()) {
      if (!e.IsObject()) {
        return BadRequest(At(path) + "elements of a list merged by \"" + key +
                          "\" must be objects, got " + ToJson(e));
      }
      const Value* directive = FindMember(e, kPatchDirective);
      std::string_view d = directive ? View(*directive) : "merge";
      if (d == "merge") {
        regular.push_back(&e);
      } else if (d == "replace") {
        replace = true;
      } else if (d == "delete") {
        const Value* id = FindMember(e, key);
        if (id == nullptr) return MissingKey(path, e, key);
        for (auto it = original.Begin(); it != original.End();) {
          const Value* other = IdOf(*it, key);
          it = other != nullptr && *other == *id ? original.Erase(it) : it + 1;
        }
      } else {
        return BadRequest(At(path) + "unknown $patch directive " + ToJson(*directive));
      }
    }
    if (replace) original.SetArray();

    std::vector<const Value*> server_order = SnapshotIds(original, key);
    std::vector<const Value*> patch_order;
    for (const Value* e : regular) {
      const Value* id = FindMember(*e, key);
      if (id == nullptr) return MissingKey(path, *e, key);
      patch_order.push_back(id);
      Value* match = nullptr;
      for (auto& o : original.GetArray()) {
        const Value* other = IdOf(o, key);
        if (other != nullptr && *other == *id) {
          match = &o;
          break;
        }
      }
      if (match != nullptr) {
        RETURN_IF_ERROR(MergeMap(*match, *e, path));
      } else {
        Value v;
        RETURN_IF_ERROR(FromPatch(*e, path, v));
        original.PushBack(v, a_);
      }
    }
    Reorder(original, patch_order, server_order, key);
    return Status::Ok();
  }

  static Status MissingKey(const std::string& path, const Value& element, const std::string& key) {
    return BadRequest(At(path) + "map " + ToJson(element) +
                      " does not contain declared merge key \"" + key + "\"");
  }

  // Upstream's element order: the elements whose identity is in `patch_order`, sorted by
  // it, interleaved with the other (server-only) elements kept in `server_order`; a
  // server-only element goes first when both elements were in the server list and it
  // came first there.
  void Reorder(Value& list, const std::vector<const Value*>& patch_order,
               const std::vector<const Value*>& server_order, const std::string& key) {
    std::vector<Value> from_patch, server_only;
    for (auto& e : list.GetArray()) {
      bool in_patch = IndexOf(patch_order, IdOf(e, key)) != kNotFound;
      (in_patch ? from_patch : server_only).push_back(std::move(e));
    }
    auto by = [&](const std::vector<const Value*>& order) {
      return [&order, &key](const Value& l, const Value& r) {
        return IndexOf(order, IdOf(l, key)) < IndexOf(order, IdOf(r, key));
      };
    };
    std::stable_sort(from_patch.begin(), from_patch.end(), by(patch_order));
    std::stable_sort(server_only.begin(), server_only.end(), by(server_order));

    list.SetArray();
    size_t i = 0, j = 0;
    while (i < server_only.size() || j < from_patch.size()) {
      bool take_server = j == from_patch.size();
      if (i < server_only.size() && j < from_patch.size()) {
        size_t li = IndexOf(server_order, IdOf(server_only[i], key));
        size_t ri = IndexOf(server_order, IdOf(from_patch[j], key));
        take_server = li != kNotFound && ri != kNotFound && li < ri;
      }
      list.PushBack(take_server ? server_only[i++] : from_patch[j++], a_);
    }
  }

  // `$retainKeys`: drops the original's keys not listed; every key the patch sets must
  // be listed.
  Status RetainKeys(Value& original, const Value& patch, const std::string& path) {
    const Value* retain = FindMember(patch, kRetainKeys);
    if (retain == nullptr) return Status::Ok();
    if (!retain->IsArray()) return BadRequest(At(path) + "$retainKeys must be a list");
    auto retained = [retain](std::string_view key) {
      for (const auto& r : retain->GetArray()) {
        if (r.IsString() && View(r) == key) return true;
      }
      return false;
    };
    for (const auto& m : patch.GetObject()) {
      std::string_view key = View(m.name);
      if (!m.value.IsNull() && !IsDirectiveKey(key) && !retained(key)) {
        return BadRequest(At(path) + "patch sets \"" + std::string(key) +
                          "\", which is not in $retainKeys");
      }
    }
    for (auto it = original.MemberBegin(); it != original.MemberEnd();) {
      it = retained(View(it->name)) ? it + 1 : original.EraseMember(it);
    }
    return Status::Ok();
  }

  // `$setElementOrder/<list>`: merges the patch's list (if any) into the original's and
  // orders the result. Returns false when `list` is not a merged list, whose order is
  // simply the patch's.
  Result<bool> MergeOrderedList(Value& original, const Value& patch, std::string_view list,
                                const Value& order, const std::string& path) {
    std::string list_path = Join(path, list);
    const std::string* key = MergeKeyOf(list_path);
    if (key == nullptr) return false;
    if (!order.IsArray()) return BadRequest(At(list_path) + "$setElementOrder must be a list");
    std::vector<const Value*> order_ids;
    for (const auto& o : order.GetArray()) {
      const Value* id = IdOf(o, *key);
      if (id == nullptr) return MissingKey(list_path, o, *key);
      order_ids.push_back(id);
    }
    const Value* patch_list = FindMember(patch, list);
    if (patch_list != nullptr && !patch_list->IsArray()) {
      return BadRequest(At(list_path) + "a list with $setElementOrder must be a list");
    }
    RETURN_IF_ERROR(CheckOrder(patch_list, order_ids, *key, list_path));

    Value* current = MutableMember(original, list);
    if (patch_list == nullptr && (current == nullptr || !current->IsArray())) return true;
    if (current == nullptr) {
      original.AddMember(api::Str(list, a_), Value(rapidjson::kArrayType), a_);
      current = &(original.MemberEnd() - 1)->value;
    } else if (!current->IsArray()) {
      current->SetArray();
    }
    std::vector<const Value*> server_order = SnapshotIds(*current, *key);
    if (patch_list != nullptr) RETURN_IF_ERROR(MergeList(*current, *patch_list, list_path));
    Reorder(*current, order_ids, server_order, *key);
    return true;
  }

  // The patch list's elements (deletions and other directives aside) must appear in
  // $setElementOrder, in the same relative order.
  static Status CheckOrder(const Value* patch_list, const std::vector<const Value*>& order_ids,
                           const std::string& key, const std::string& path) {
    if (patch_list == nullptr || order_ids.empty()) return Status::Ok();
    size_t next = 0;
    for (const auto& e : patch_list->GetArray()) {
      if (!key.empty() && FindMember(e, kPatchDirective) != nullptr) continue;
      const Value* id = IdOf(e, key);
      if (id == nullptr) continue;  // reported by the merge
      while (next < order_ids.size() && !(*order_ids[next] == *id)) ++next;
      if (next == order_ids.size()) {
        return BadRequest(At(path) + "the order in the patch list " + ToJson(*patch_list) +
                          " doesn't match the $setElementOrder list");
      }
      ++next;
    }
    return Status::Ok();
  }

  Status DeleteFromPrimitiveList(Value& original, std::string_view list, const Value& values,
                                 const std::string& path) {
    if (!values.IsArray()) {
      return BadRequest(At(Join(path, list)) + "$deleteFromPrimitiveList must be a list");
    }
    Value* current = MutableMember(original, list);
    if (current == nullptr || !current->IsArray()) return Status::Ok();
    for (auto it = current->Begin(); it != current->End();) {
      bool doomed = std::any_of(values.Begin(), values.End(),
                                [&](const Value& v) { return v == *it; });
      it = doomed ? current->Erase(it) : it + 1;
    }
    return Status::Ok();
  }

  const ListRules& rules_;
  Allocator& a_;
  // Identity snapshots (a deque keeps references to its elements valid as it grows).
  Allocator scratch_alloc_;
  std::deque<Value> scratch_;
};

}  // namespace

Status ApplyMergePatch(api::Document& target, const Value& patch) {
  if (!patch.IsObject()) return BadRequest("merge patch must be a JSON object");
  MergeInto(target, patch, target.GetAllocator());
  return Status::Ok();
}

Status ApplyJsonPatch(api::Document& target, const Value& ops) {
  if (!ops.IsArray()) return BadRequest("JSON patch must be a JSON array of operations");
  for (const auto& op : ops.GetArray()) {
    if (!op.IsObject()) return BadRequest("JSON patch operations must be objects");
  }
  if (ops.Size() > kMaxJsonPatchOps) {
    return Status(Code::kRequestTooLarge,
                  "The allowed maximum operations in a JSON patch is " +
                      std::to_string(kMaxJsonPatchOps) + ", got " + std::to_string(ops.Size()));
  }
  api::Document work;
  work.CopyFrom(target, work.GetAllocator());
  size_t copied = 0;
  for (rapidjson::SizeType i = 0; i < ops.Size(); ++i) {
    Status st = ApplyOp(work, ops[i], copied);
    if (!st.ok()) {
      std::string op = api::GetString(ops[i], "op");
      const Value* path = FindMember(ops[i], "path");
      return Invalid("JSON patch operation " + std::to_string(i) + " (" + op + " " +
                     (path ? ToJson(*path) : "<no path>") + "): " + st.message());
    }
  }
  target.Swap(work);
  return Status::Ok();
}

const std::string* ListMergeKey(std::string_view kind, const std::string& path) {
  const ListRules& rules = RulesFor(kind);
  auto it = rules.find(path);
  return it == rules.end() ? nullptr : &it->second;
}

Status ApplyStrategicMergePatch(api::Document& target, const Value& patch,
                                std::string_view kind) {
  if (!patch.IsObject()) return BadRequest("strategic merge patch must be a JSON object");
  api::Document work;
  work.CopyFrom(target, work.GetAllocator());
  StrategicMerger merger(RulesFor(kind), work.GetAllocator());
  RETURN_IF_ERROR(merger.MergeMap(work, patch, ""));
  target.Swap(work);
  return Status::Ok();
}

}  // namespace kubepp::apiserver
