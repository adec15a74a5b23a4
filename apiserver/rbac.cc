#include "apiserver/rbac.h"

#include <algorithm>
#include <cstddef>
#include <optional>

#include "apiserver/authn.h"
#include "apiserver/node_authorizer.h"
#include "common/log.h"

namespace kubepp::apiserver {

namespace {

constexpr const char* kRolesResource = "roles.rbac.authorization.k8s.io";
constexpr const char* kClusterRolesResource = "clusterroles.rbac.authorization.k8s.io";
constexpr const char* kRoleBindingsResource = "rolebindings.rbac.authorization.k8s.io";
constexpr const char* kClusterRoleBindingsResource =
    "clusterrolebindings.rbac.authorization.k8s.io";

bool Has(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::vector<std::string> Strings(const api::Value& obj, const char* key) {
  std::vector<std::string> out;
  const api::Value* a = api::FindMember(obj, key);
  if (a == nullptr || !a->IsArray()) return out;
  for (const auto& v : a->GetArray()) {
    if (v.IsString()) out.emplace_back(api::View(v));
  }
  return out;
}

// Go's %q for the strings that appear here (names, verbs, paths).
std::string Q(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// utilerrors.NewAggregate(errs).Error(): one message as is, several deduplicated in [].
std::string Aggregate(const std::vector<std::string>& errs) {
  if (errs.size() == 1) return errs[0];
  std::vector<std::string> seen;
  for (const auto& e : errs) {
    if (!Has(seen, e)) seen.push_back(e);
  }
  std::string out;
  for (size_t i = 0; i < seen.size(); ++i) out += (i ? ", " : "") + seen[i];
  return seen.size() == 1 ? out : "[" + out + "]";
}

std::vector<std::string_view> SplitPath(std::string_view path) {
  // strings.Split(strings.Trim(path, "/"), "/")
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  std::vector<std::string_view> out;
  while (true) {
    size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

// path.IsValidPathSegmentName.
bool IsValidPathSegment(std::string_view s) {
  return s != "." && s != ".." && s.find('/') == std::string_view::npos &&
         s.find('%') == std::string_view::npos;
}

// "system:serviceaccount:<ns>:<name>"
bool IsServiceAccountUser(const std::string& user, const std::string& ns, const std::string& name) {
  return user == "system:serviceaccount:" + ns + ":" + name;
}

bool AppliesTo(const std::string& user, const std::vector<std::string>& groups, const Subject& s,
               const std::string& binding_ns) {
  if (s.kind == "User") return user == s.name;
  if (s.kind == "Group") return Has(groups, s.name);
  if (s.kind == "ServiceAccount") {
    // A subject without namespace means the binding's own.
    const std::string& ns = s.ns.empty() ? binding_ns : s.ns;
    return !ns.empty() && IsServiceAccountUser(user, ns, s.name);
  }
  return false;
}

std::string DescribeSubject(const Subject& s, const std::string& binding_ns) {
  if (s.kind == "ServiceAccount") {
    return s.kind + " " + Q(s.name + "/" + (s.ns.empty() ? binding_ns : s.ns));
  }
  return s.kind + " " + Q(s.name);
}

}  // namespace

std::string RequiredField(std::string_view selector, std::string_view field) {
  while (!selector.empty()) {
    size_t comma = selector.find(',');
    std::string_view term = selector.substr(0, comma);
    if (term.substr(0, field.size()) == field) {
      std::string_view op = term.substr(field.size());
      if (op.substr(0, 2) == "==") return std::string(op.substr(2));
      if (op.substr(0, 1) == "=") return std::string(op.substr(1));
    }
    if (comma == std::string_view::npos) break;
    selector.remove_prefix(comma + 1);
  }
  return "";
}

std::vector<PolicyRule> ParsePolicyRules(const api::Value* rules) {
  std::vector<PolicyRule> out;
  if (rules == nullptr || !rules->IsArray()) return out;
  for (const auto& r : rules->GetArray()) {
    if (!r.IsObject()) continue;
    PolicyRule p;
    p.verbs = Strings(r, "verbs");
    p.api_groups = Strings(r, "apiGroups");
    p.resources = Strings(r, "resources");
    p.resource_names = Strings(r, "resourceNames");
    p.non_resource_urls = Strings(r, "nonResourceURLs");
    out.push_back(std::move(p));
  }
  return out;
}

Attributes RequestAttributes(const http::Request& req) {
  Attributes a;
  a.user = req.user;
  a.groups = req.groups;
  a.path = req.path;
  a.verb = http::ToLower(req.method);
  auto parts = SplitPath(req.path);
  if (parts.size() < 3 || (parts[0] != "api" && parts[0] != "apis")) return a;
  size_t i = 1;
  if (parts[0] == "apis") {
    if (parts.size() < 4) return a;
    a.api_group = std::string(parts[1]);
    i = 2;
  }
  a.resource_request = true;
  a.api_version = std::string(parts[i++]);
  const std::string& m = req.method;
  if (parts[i] == "watch" || parts[i] == "proxy") {
    a.verb = std::string(parts[i++]);
  } else {
    a.verb = m == "POST"                  ? "create"
             : m == "GET" || m == "HEAD" ? "get"
             : m == "PUT"                 ? "update"
             : m == "PATCH"               ? "patch"
             : m == "DELETE"              ? "delete"
                                          : "";
  }
  std::vector<std::string_view> rest(
      parts.begin() + static_cast<std::ptrdiff_t>(std::min(i, parts.size())), parts.end());
  if (!rest.empty() && rest[0] == "namespaces" && rest.size() > 1) {
    a.ns = std::string(rest[1]);
    // namespaces/<ns>/<resource>...; but namespaces/<name>[/status|/finalize] is the
    // namespace object itself, in its own namespace.
    if (rest.size() > 2 && rest[2] != "status" && rest[2] != "finalize") {
      rest.erase(rest.begin(), rest.begin() + 2);
    }
  }
  if (rest.size() >= 3 && a.verb != "proxy") a.subresource = std::string(rest[2]);
  if (rest.size() >= 2) a.name = std::string(rest[1]);
  if (!rest.empty()) a.resource = std::string(rest[0]);
  if (a.name.empty() && a.verb == "get") {
    std::string w = http::ToLower(req.Query("watch"));
    a.verb = !w.empty() && w != "false" && w != "0" ? "watch" : "list";
    a.field_selector = req.Query("fieldSelector");
    std::string name = RequiredField(a.field_selector, "metadata.name");
    if (!name.empty() && IsValidPathSegment(name)) a.name = name;
  }
  if (a.name.empty() && a.verb == "delete") {
    a.verb = "deletecollection";
    a.field_selector = req.Query("fieldSelector");
  }
  return a;
}

std::string FirstUncoveredRule(const std::vector<PolicyRule>& owned,
                               const std::vector<PolicyRule>& requested) {
  auto covered = [&](const Attributes& a) {
    for (const auto& rule : owned) {
      if (RuleAllows(a, rule)) return true;
    }
    return false;
  };
  auto quoted = [](std::initializer_list<std::string> v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "\"" : ", \"") + s + "\"";
    return "[" + out + "]";
  };
  for (const auto& rule : requested) {
    for (const auto& verb : rule.verbs) {
      for (const auto& url : rule.non_resource_urls) {
        Attributes a;
        a.verb = verb;
        a.path = url;
        if (!covered(a)) return "{NonResourceURLs:" + quoted({url}) + ", Verbs:" + quoted({verb}) + "}";
      }
      for (const auto& group : rule.api_groups) {
        for (const auto& resource : rule.resources) {
          std::vector<std::string> names = rule.resource_names;
          if (names.empty()) names.push_back("");
          for (const auto& name : names) {
            Attributes a;
            a.resource_request = true;
            a.verb = verb;
            a.api_group = group;
            a.resource = resource;  // may hold "pods/log": RuleAllows compares it whole
            a.name = name;
            if (covered(a)) continue;
            std::string out = "{APIGroups:" + quoted({group}) + ", Resources:" + quoted({resource});
            if (!name.empty()) out += ", ResourceNames:" + quoted({name});
            return out + ", Verbs:" + quoted({verb}) + "}";
          }
        }
      }
    }
  }
  return "";
}

bool RuleAllows(const Attributes& a, const PolicyRule& rule) {
  auto any = [](const std::vector<std::string>& v, std::string_view want) {
    return Has(v, "*") || Has(v, want);
  };
  if (!any(rule.verbs, a.verb)) return false;
  if (!a.resource_request) {
    for (const auto& url : rule.non_resource_urls) {
      if (url == "*" || url == a.path) return true;
      if (!url.empty() && url.back() == '*') {
        std::string_view prefix(url);
        while (!prefix.empty() && prefix.back() == '*') prefix.remove_suffix(1);  // TrimRight
        if (std::string_view(a.path).substr(0, prefix.size()) == prefix) return true;
      }
    }
    return false;
  }
  if (!any(rule.api_groups, a.api_group)) return false;
  std::string combined = a.subresource.empty() ? a.resource : a.resource + "/" + a.subresource;
  bool resource_ok = false;
  for (const auto& r : rule.resources) {
    if (r == "*" || r == combined ||
        (!a.subresource.empty() && r.size() == a.subresource.size() + 2 && r.rfind("*/", 0) == 0 &&
         r.compare(2, std::string::npos, a.subresource) == 0)) {
      resource_ok = true;
      break;
    }
  }
  if (!resource_ok) return false;
  return rule.resource_names.empty() || Has(rule.resource_names, a.name);
}

std::string ForbiddenMessage(const Attributes& a) {
  if (!a.resource_request) return "User " + Q(a.user) + " cannot " + a.verb + " path " + Q(a.path);
  std::string resource = a.subresource.empty() ? a.resource : a.resource + "/" + a.subresource;
  std::string out = "User " + Q(a.user) + " cannot " + a.verb + " resource " + Q(resource) +
                    " in API group " + Q(a.api_group);
  return out + (a.ns.empty() ? " at the cluster scope" : " in the namespace " + Q(a.ns));
}

Status ForbiddenStatus(const Attributes& a, const std::string& reason) {
  std::string msg = ForbiddenMessage(a);
  if (!reason.empty()) msg += ": " + reason;
  std::string qualified;
  if (!a.resource.empty()) {
    qualified = a.api_group.empty() ? a.resource : a.resource + "." + a.api_group;
  }
  std::string message = qualified.empty() ? "forbidden: " + msg
                        : a.name.empty()  ? qualified + " is forbidden: " + msg
                                          : qualified + " " + Q(a.name) + " is forbidden: " + msg;
  return Status(Code::kForbidden, std::move(message)).WithDetails(a.name, a.api_group, a.resource);
}

// ---- RbacCache -------------------------------------------------------------------------

Status RbacCache::Subscribe(Storage* storage) {
  for (const char* resource : {kClusterRolesResource, kRolesResource, kClusterRoleBindingsResource,
                               kRoleBindingsResource}) {
    std::string res = resource;
    auto handle = storage->Watch(res, 0, Delivery::kBeforeAck, [this, res](const EventPtr& ev) {
      const StoredObject& o = *ev->object;
      Apply(res, o.ns, o.name, ev->type == EventType::kDeleted ? nullptr : &o.json);
    });
    if (!handle.ok()) return handle.status();
    std::unique_lock<std::shared_mutex> l(mu_);
    watches_.push_back(std::move(handle).value());
  }
  return Status::Ok();
}

void RbacCache::Apply(const std::string& resource, const std::string& ns, const std::string& name,
                      const std::string* json) {
  std::optional<api::Document> doc;
  if (json != nullptr) {
    auto parsed = api::ParseJson(*json);
    if (!parsed.ok() || !parsed->IsObject()) {
      LOG(WARNING) << "rbac: ignoring unparsable " << resource << " " << ns << "/" << name;
      return;
    }
    doc = std::move(*parsed);
  }
  auto binding = [&]() {
    Binding b;
    b.name = name;
    b.ns = ns;
    b.role_kind = api::GetString(*doc, "roleRef.kind");
    b.role_name = api::GetString(*doc, "roleRef.name");
    const api::Value* subjects = api::FindMember(*doc, "subjects");
    if (subjects != nullptr && subjects->IsArray()) {
      for (const auto& s : subjects->GetArray()) {
        if (!s.IsObject()) continue;
        b.subjects.push_back({api::GetString(s, "kind"), api::GetString(s, "apiGroup"),
                              api::GetString(s, "name"), api::GetString(s, "namespace")});
      }
    }
    return b;
  };
  auto rules = [&]() -> Rules {
    return std::make_shared<const std::vector<PolicyRule>>(
        ParsePolicyRules(api::FindMember(*doc, "rules")));
  };
  std::unique_lock<std::shared_mutex> l(mu_);
  if (resource == kClusterRolesResource && doc) {
    cluster_roles_[name] = rules();
  } else if (resource == kClusterRolesResource) {
    cluster_roles_.erase(name);
  } else if (resource == kRolesResource && doc) {
    roles_[{ns, name}] = rules();
  } else if (resource == kRolesResource) {
    roles_.erase({ns, name});
  } else if (resource == kClusterRoleBindingsResource && doc) {
    cluster_role_bindings_[name] = binding();
  } else if (resource == kClusterRoleBindingsResource) {
    cluster_role_bindings_.erase(name);
  } else if (resource == kRoleBindingsResource) {
    if (doc) {
      role_bindings_[ns][name] = binding();
    } else if (auto it = role_bindings_.find(ns); it != role_bindings_.end()) {
      it->second.erase(name);
      if (it->second.empty()) role_bindings_.erase(it);
    }
  }
}

template <typename Visit>
void RbacCache::VisitRules(const std::string& user, const std::vector<std::string>& groups,
                           const std::string& ns, Visit visit,
                           std::vector<std::string>* errors) const {
  // Upstream's GetRoleReferenceRules: a ClusterRole by name, or a Role in the binding's
  // namespace.
  auto role_rules = [&](const Binding& b) -> Rules {
    if (b.role_kind == "ClusterRole") {
      auto it = cluster_roles_.find(b.role_name);
      if (it != cluster_roles_.end()) return it->second;
      errors->push_back("clusterrole.rbac.authorization.k8s.io " + Q(b.role_name) + " not found");
    } else if (b.role_kind == "Role") {
      auto it = roles_.find({b.ns, b.role_name});
      if (it != roles_.end()) return it->second;
      errors->push_back("role.rbac.authorization.k8s.io " + Q(b.role_name) + " not found");
    } else {
      errors->push_back("unsupported role reference kind: " + Q(b.role_kind));
    }
    return nullptr;
  };
  auto visit_binding = [&](const Binding& b) {
    for (const Subject& s : b.subjects) {
      if (!AppliesTo(user, groups, s, b.ns)) continue;
      Rules rules = role_rules(b);
      if (rules == nullptr) return false;
      return visit(b, s, *rules);
    }
    return false;
  };
  for (const auto& [name, b] : cluster_role_bindings_) {
    if (visit_binding(b)) return;
  }
  if (ns.empty()) return;
  auto it = role_bindings_.find(ns);
  if (it == role_bindings_.end()) return;
  for (const auto& [name, b] : it->second) {
    if (visit_binding(b)) return;
  }
}

Decision RbacCache::Authorize(const Attributes& a) const {
  std::shared_lock<std::shared_mutex> l(mu_);
  Decision d;
  std::vector<std::string> errors;
  VisitRules(
      a.user, a.groups, a.ns,
      [&](const Binding& b, const Subject& s, const std::vector<PolicyRule>& rules) {
        for (const PolicyRule& r : rules) {
          if (!RuleAllows(a, r)) continue;
          d.allowed = true;
          std::string source = b.ns.empty() ? "ClusterRoleBinding " + Q(b.name)
                                            : "RoleBinding " + Q(b.name + "/" + b.ns);
          d.reason = "RBAC: allowed by " + source + " of " + b.role_kind + " " + Q(b.role_name) +
                     " to " + DescribeSubject(s, b.ns);
          return true;
        }
        return false;
      },
      &errors);
  if (!d.allowed && !errors.empty()) d.reason = "RBAC: " + Aggregate(errors);
  return d;
}

std::shared_ptr<const std::vector<PolicyRule>> RbacCache::RoleRules(const std::string& kind,
                                                                    const std::string& ns,
                                                                    const std::string& name) const {
  std::shared_lock<std::shared_mutex> l(mu_);
  if (kind == "ClusterRole") {
    auto it = cluster_roles_.find(name);
    return it == cluster_roles_.end() ? nullptr : it->second;
  }
  auto it = roles_.find({ns, name});
  return it == roles_.end() ? nullptr : it->second;
}

RulesResult RbacCache::RulesFor(const std::string& user, const std::vector<std::string>& groups,
                                const std::string& ns) const {
  std::shared_lock<std::shared_mutex> l(mu_);
  RulesResult out;
  VisitRules(
      user, groups, ns,
      [&](const Binding&, const Subject&, const std::vector<PolicyRule>& rules) {
        out.rules.insert(out.rules.end(), rules.begin(), rules.end());
        return false;
      },
      &out.errors);
  return out;
}

// ---- Authorizer ------------------------------------------------------------------------

Result<std::vector<std::string>> Authorizer::ParseModes(const std::string& modes) {
  std::vector<std::string> out;
  std::string_view rest(modes);
  while (true) {
    size_t comma = rest.find(',');
    std::string mode(rest.substr(0, comma));
    mode.erase(0, mode.find_first_not_of(' '));
    mode.erase(mode.find_last_not_of(' ') + 1);
    if (mode != kModeAlwaysAllow && mode != kModeAlwaysDeny && mode != kModeRbac &&
        mode != kModeNode) {
      return BadRequest("--authorization-mode: unsupported mode \"" + mode +
                        "\" (supported: AlwaysAllow, AlwaysDeny, Node, RBAC)");
    }
    if (Has(out, mode)) return BadRequest("--authorization-mode: \"" + mode + "\" given twice");
    out.push_back(mode);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

Decision Authorizer::Authorize(const Attributes& a) const {
  if (Has(a.groups, kSystemMastersGroup)) return {true, ""};
  std::vector<std::string> reasons;
  for (const auto& mode : modes_) {
    Decision d;
    if (mode == kModeAlwaysAllow) {
      d.allowed = a.user != kAnonymousUser || (!a.resource_request && IsPublicPath(a.path));
    } else if (mode == kModeRbac && rbac_ != nullptr) {
      d = rbac_->Authorize(a);
    } else if (mode == kModeNode && node_ != nullptr) {
      d = node_->Authorize(a);
    }
    if (d.allowed) return d;
    if (!d.reason.empty()) reasons.push_back(d.reason);
  }
  Decision denied;
  for (size_t i = 0; i < reasons.size(); ++i) denied.reason += (i ? "\n" : "") + reasons[i];
  return denied;
}

RulesResult Authorizer::RulesFor(const std::string& user, const std::vector<std::string>& groups,
                                 const std::string& ns) const {
  RulesResult out;
  // As upstream, system:masters' rules are those of its bindings (cluster-admin).
  if (Has(modes_, kModeAlwaysAllow) && user != kAnonymousUser) {
    out.rules.push_back({{"*"}, {"*"}, {"*"}, {}, {}});
    out.rules.push_back({{"*"}, {}, {}, {}, {"*"}});
  }
  for (const auto& mode : modes_) {
    std::string node;
    if (mode == kModeNode && NodeIdentity(user, groups, &node)) {
      out.errors.push_back("node authorizer does not support user rule resolution");
    } else if (mode == kModeRbac && rbac_ != nullptr) {
      RulesResult r = rbac_->RulesFor(user, groups, ns);
      out.rules.insert(out.rules.end(), r.rules.begin(), r.rules.end());
      out.errors.insert(out.errors.end(), r.errors.begin(), r.errors.end());
    }
  }
  return out;
}

http::Handler WithAuthorization(std::shared_ptr<const Authorizer> authorizer, http::Handler next) {
  return [authorizer = std::move(authorizer), next = std::move(next)](
             http::Request req, std::shared_ptr<http::ResponseWriter> w) {
    Attributes attrs = RequestAttributes(req);
    Decision d = authorizer->Authorize(attrs);
    if (d.allowed) return next(std::move(req), std::move(w));
    Status st = attrs.user == kAnonymousUser ? Status(Code::kUnauthorized, "Unauthorized")
                                             : ForbiddenStatus(attrs, d.reason);
    http::Response r;
    r.status = st.http_status();
    r.body = st.ToJson();
    w->Send(std::move(r));
  };
}

}  // namespace kubepp::apiserver
