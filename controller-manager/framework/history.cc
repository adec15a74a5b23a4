#include "controller-manager/framework/history.h"

#include <algorithm>

#include "controller-manager/framework/canonical.h"
#include "controller-manager/framework/owner.h"

namespace kubepp::controller {

using informer::ObjectPtr;

api::Document RevisionData(const api::Value& tmpl) {
  api::Document data;
  data.SetObject();
  auto& a = data.GetAllocator();
  api::Value t(tmpl, a);
  if (!t.IsObject()) t.SetObject();
  api::Remove(t, "$patch");
  t.AddMember("$patch", "replace", a);
  api::SetValue(data, "spec.template", std::move(t), a);
  return data;
}

api::Document RevisionTemplate(const api::Value& revision) {
  const api::Value* t = api::Find(revision, "data.spec.template");
  api::Document out;
  if (t == nullptr || !t->IsObject()) {
    out.SetObject();
    return out;
  }
  out.CopyFrom(*t, out.GetAllocator());
  api::Remove(out, "$patch");
  return out;
}

std::string RevisionName(const std::string& parent, const std::string& hash) {
  return parent.substr(0, 223) + "-" + hash;
}

api::Document NewRevision(const api::Value& parent, std::string_view api_version,
                          std::string_view kind, const api::Value& tmpl, int64_t revision,
                          int64_t collision_count) {
  std::string hash = TemplateHash(tmpl, collision_count);
  api::Document cr;
  cr.SetObject();
  auto& a = cr.GetAllocator();
  api::SetString(cr, "apiVersion", "apps/v1", a);
  api::SetString(cr, "kind", "ControllerRevision", a);
  api::SetString(cr, "metadata.name", RevisionName(api::GetString(parent, "metadata.name"), hash), a);
  api::SetString(cr, "metadata.namespace", api::GetString(parent, "metadata.namespace"), a);
  auto labels = api::GetStringMap(tmpl, "metadata.labels");
  labels[kControllerRevisionHashLabel] = hash;
  api::SetStringMap(cr, "metadata.labels", labels, a);
  api::Value refs(rapidjson::kArrayType);
  refs.PushBack(ControllerRefJson(parent, api_version, kind, a), a);
  api::SetValue(cr, "metadata.ownerReferences", std::move(refs), a);
  api::Document data = RevisionData(tmpl);
  api::SetValue(cr, "data", api::Value(data, a), a);
  api::SetInt(cr, "revision", revision, a);
  return cr;
}

std::vector<ObjectPtr> OwnedRevisions(const std::vector<ObjectPtr>& all, const api::Value& parent) {
  std::string ns = api::GetString(parent, "metadata.namespace");
  std::string uid = api::GetString(parent, "metadata.uid");
  std::vector<ObjectPtr> out;
  for (const auto& r : all) {
    if (api::GetString(*r, "metadata.namespace") != ns) continue;
    auto ref = ControllerOf(*r);
    if (ref && ref->uid == uid) out.push_back(r);
  }
  std::sort(out.begin(), out.end(), [](const ObjectPtr& x, const ObjectPtr& y) {
    int64_t rx = api::GetInt(*x, "revision"), ry = api::GetInt(*y, "revision");
    if (rx != ry) return rx < ry;
    return api::GetString(*x, "metadata.name") < api::GetString(*y, "metadata.name");
  });
  return out;
}

namespace {

bool SameTemplate(const api::Value& revision, const api::Value& tmpl) {
  return SemanticEqual(RevisionTemplate(revision), tmpl);
}

}  // namespace

Result<RevisionState> SyncRevisions(client::RestClient* client, const api::Value& parent,
                                    std::string_view api_version, std::string_view kind,
                                    const api::Value& tmpl, const std::vector<ObjectPtr>& owned,
                                    const std::string& current_name) {
  RevisionState st;
  st.collision_count = api::GetInt(parent, "status.collisionCount", 0);
  int64_t max_revision = owned.empty() ? 0 : api::GetInt(*owned.back(), "revision");
  std::string ns = api::GetString(parent, "metadata.namespace");
  // The newest revision equal to the template.
  ObjectPtr equal;
  for (const auto& r : owned) {
    if (SameTemplate(*r, tmpl)) equal = r;
  }
  if (equal && equal == owned.back()) {
    st.update = equal;
  } else if (equal) {
    // A rollback to an older template: that revision becomes the newest.
    api::Document next = api::Clone(*equal);
    api::SetInt(next, "revision", max_revision + 1, next.GetAllocator());
    ASSIGN_OR_RETURN(api::Document updated, client->Update(client::kControllerRevisions, ns, next));
    st.update = std::make_shared<const api::Document>(std::move(updated));
  } else {
    for (int attempt = 0;; ++attempt) {
      api::Document cr = NewRevision(parent, api_version, kind, tmpl, max_revision + 1,
                                     st.collision_count);
      std::string name = api::GetString(cr, "metadata.name");
      auto created = client->Create(client::kControllerRevisions, ns, cr);
      if (created.ok()) {
        st.update = std::make_shared<const api::Document>(std::move(created).value());
        break;
      }
      if (created.status().code() != Code::kAlreadyExists) return created.status();
      // The name is taken: by this very template (our cache is behind), or by another
      // one (a hash collision: try the next salt).
      ASSIGN_OR_RETURN(api::Document existing, client->Get(client::kControllerRevisions, ns, name));
      auto ref = ControllerOf(existing);
      if (ref && ref->uid == api::GetString(parent, "metadata.uid") && SameTemplate(existing, tmpl)) {
        st.update = std::make_shared<const api::Document>(std::move(existing));
        break;
      }
      if (attempt >= 10) return Internal("too many ControllerRevision name collisions for " + name);
      ++st.collision_count;
    }
  }
  st.current = st.update;
  for (const auto& r : owned) {
    if (api::GetString(*r, "metadata.name") == current_name) st.current = r;
  }
  if (api::GetString(*st.current, "metadata.name") == api::GetString(*st.update, "metadata.name")) {
    st.current = st.update;  // the fresher copy
  }
  return st;
}

Status TruncateHistory(client::RestClient* client, const std::vector<ObjectPtr>& owned,
                       const std::set<std::string>& live, int64_t limit) {
  std::vector<ObjectPtr> history;
  for (const auto& r : owned) {
    if (!live.count(api::GetString(*r, "metadata.name"))) history.push_back(r);
  }
  if (static_cast<int64_t>(history.size()) <= limit) return Status::Ok();
  size_t excess = history.size() - static_cast<size_t>(std::max<int64_t>(limit, 0));
  for (size_t i = 0; i < excess; ++i) {
    client::DeleteOptions opts;
    opts.precondition_uid = api::GetString(*history[i], "metadata.uid");
    Status st = client->Delete(client::kControllerRevisions,
                               api::GetString(*history[i], "metadata.namespace"),
                               api::GetString(*history[i], "metadata.name"), opts);
    if (!st.ok() && st.code() != Code::kNotFound && st.code() != Code::kConflict) return st;
  }
  return Status::Ok();
}

}  // namespace kubepp::controller
