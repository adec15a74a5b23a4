// The authorization.k8s.io/v1 reviews: "may I / may they do this?" answered by the
// authorizer that guards the secure port (pkg/registry/authorization in upstream).
#include "apiserver/api.h"

namespace kubepp::apiserver {

namespace {

std::vector<std::string> StringList(const api::Value* v) {
  std::vector<std::string> out;
  if (v == nullptr || !v->IsArray()) return out;
  for (const auto& e : v->GetArray()) {
    if (e.IsString()) out.emplace_back(api::View(e));
  }
  return out;
}

// errors.NewInvalid with one field error.
Status InvalidReview(const ResourceInfo& r, const api::Value& doc, const std::string& field,
                     const std::string& body) {
  std::string name = api::GetString(doc, "metadata.name");
  std::string quoted;
  api::AppendQuoted(quoted, name);
  Status st =
      Invalid(r.kind + "." + r.group + " " + quoted + " is invalid: " + field + ": " + body);
  auto& d = st.mutable_details();
  d.name = name;
  d.group = r.group;
  d.kind = r.kind;
  d.causes.push_back({"FieldValueInvalid", body, field});
  return st;
}

api::Value StringArray(const std::vector<std::string>& v, api::Allocator& a) {
  api::Value arr(rapidjson::kArrayType);
  for (const auto& s : v) arr.PushBack(api::Str(s, a), a);
  return arr;
}

}  // namespace

void Api::Review(const http::Request& req, const RequestInfo& info, const Writer& w) {
  const ResourceInfo& r = *info.resource;
  auto body = DecodeBody(req);
  if (!body.ok()) return SendStatus(w, body.status());
  api::Document& doc = *body;
  if (!doc.IsObject()) return SendStatus(w, BadRequest("the request body must be a JSON object"));
  auto& a = doc.GetAllocator();
  std::string api_version = api::GetString(doc, "apiVersion", r.ApiVersion());
  std::string kind = api::GetString(doc, "kind", r.kind);
  if (api_version != r.ApiVersion() || kind != r.kind) {
    return SendStatus(w, BadRequest("the API version in the data (" + api_version + ", " + kind +
                                    ") does not match the expected API version (" +
                                    r.ApiVersion() + ", " + r.kind + ")"));
  }
  api::SetString(doc, "apiVersion", api_version, a);
  api::SetString(doc, "kind", kind, a);
  api::Ensure(doc, "metadata", a);
  api::Value status(rapidjson::kObjectType);

  if (r.kind == "SelfSubjectRulesReview") {
    std::string ns = api::GetString(doc, "spec.namespace");
    if (ns.empty()) return SendStatus(w, BadRequest("no namespace on request"));
    RulesResult rules = authorizer_->RulesFor(req.user, req.groups, ns);
    api::Value resource_rules(rapidjson::kArrayType), non_resource_rules(rapidjson::kArrayType);
    for (const PolicyRule& p : rules.rules) {
      if (!p.resources.empty()) {
        api::Value rr(rapidjson::kObjectType);
        rr.AddMember("verbs", StringArray(p.verbs, a), a);
        if (!p.api_groups.empty()) rr.AddMember("apiGroups", StringArray(p.api_groups, a), a);
        rr.AddMember("resources", StringArray(p.resources, a), a);
        if (!p.resource_names.empty()) {
          rr.AddMember("resourceNames", StringArray(p.resource_names, a), a);
        }
        resource_rules.PushBack(rr, a);
      }
      if (!p.non_resource_urls.empty()) {
        api::Value nr(rapidjson::kObjectType);
        nr.AddMember("verbs", StringArray(p.verbs, a), a);
        nr.AddMember("nonResourceURLs", StringArray(p.non_resource_urls, a), a);
        non_resource_rules.PushBack(nr, a);
      }
    }
    status.AddMember("resourceRules", resource_rules, a);
    status.AddMember("nonResourceRules", non_resource_rules, a);
    status.AddMember("incomplete", !rules.errors.empty(), a);
    if (!rules.errors.empty()) {
      std::string err;
      for (size_t i = 0; i < rules.errors.size(); ++i) err += (i ? ", " : "") + rules.errors[i];
      if (rules.errors.size() > 1) err = "[" + err + "]";
      status.AddMember("evaluationError", api::Str(err, a), a);
    }
  } else {
    const api::Value* spec = api::FindMember(doc, "spec");
    auto member = [&](const char* key) {
      return spec != nullptr ? api::FindMember(*spec, key) : nullptr;
    };
    const api::Value* res = member("resourceAttributes");
    const api::Value* non_res = member("nonResourceAttributes");
    if (res != nullptr && !res->IsObject()) res = nullptr;
    if (non_res != nullptr && !non_res->IsObject()) non_res = nullptr;
    if (res != nullptr && non_res != nullptr) {
      return SendStatus(w, InvalidReview(r, doc, "spec.nonResourceAttributes",
                                         "Invalid value: " + api::ToJson(*non_res) +
                                             ": cannot be specified in combination with "
                                             "resourceAttributes"));
    }
    if (res == nullptr && non_res == nullptr) {
      return SendStatus(w, InvalidReview(r, doc, "spec.resourceAttributes",
                                         "Invalid value: null: exactly one of "
                                         "nonResourceAttributes or resourceAttributes must be "
                                         "specified"));
    }
    Attributes attrs;
    bool self = r.kind == "SelfSubjectAccessReview";
    if (self) {
      attrs.user = req.user;
      attrs.groups = req.groups;
    } else {
      attrs.user = api::GetString(*spec, "user");
      attrs.groups = StringList(api::FindMember(*spec, "groups"));
      if (attrs.user.empty() && attrs.groups.empty()) {
        return SendStatus(w, InvalidReview(r, doc, "spec.user",
                                           "Invalid value: \"\": at least one of user or group "
                                           "must be specified"));
      }
    }
    if (res != nullptr) {
      attrs.resource_request = true;
      attrs.verb = api::GetString(*res, "verb");
      attrs.api_group = api::GetString(*res, "group");
      attrs.api_version = api::GetString(*res, "version");
      attrs.resource = api::GetString(*res, "resource");
      attrs.subresource = api::GetString(*res, "subresource");
      attrs.name = api::GetString(*res, "name");
      attrs.ns = api::GetString(*res, "namespace");
      attrs.field_selector = api::GetString(*res, "fieldSelector.rawSelector");
    } else {
      attrs.verb = api::GetString(*non_res, "verb");
      attrs.path = api::GetString(*non_res, "path");
    }
    if (r.kind == "LocalSubjectAccessReview") {
      // The review's namespace is the URL's; its attributes may only ask about it.
      std::string meta_ns = api::GetString(doc, "metadata.namespace", info.ns);
      if (meta_ns != info.ns) {
        return SendStatus(w, BadRequest("the namespace of the provided object does not match "
                                        "the namespace sent on the request"));
      }
      api::SetString(doc, "metadata.namespace", info.ns, a);
      if (non_res != nullptr) {
        return SendStatus(w, InvalidReview(r, doc, "spec.nonResourceAttributes",
                                           "Invalid value: " + api::ToJson(*non_res) +
                                               ": disallowed on this kind of request"));
      }
      if (attrs.ns != info.ns) {
        return SendStatus(w, InvalidReview(r, doc, "spec.resourceAttributes.namespace",
                                           "Invalid value: \"" + attrs.ns +
                                               "\": must match metadata.namespace"));
      }
    }
    Decision d = authorizer_->Authorize(attrs);
    status.AddMember("allowed", d.allowed, a);
    if (!d.reason.empty()) status.AddMember("reason", api::Str(d.reason, a), a);
  }
  api::Remove(doc, "status");
  doc.AddMember("status", status, a);
  SendJson(req, w, 201, api::ToJson(doc));
}

}  // namespace kubepp::apiserver
