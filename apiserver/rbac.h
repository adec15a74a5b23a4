// Authorization on the apiserver's secure port: what a request asks to do (upstream's
// authorizer.Attributes, parsed from the URL as its RequestInfoFactory does), whether
// RBAC rules allow it (plugin/pkg/auth/authorizer/rbac), and the 403 answer when not
// (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go).
//
//   RbacCache cache;                  // fed from storage events (Subscribe) or by hand
//   Authorizer authz({kModeRbac}, &cache);
//   Decision d = authz.Authorize(RequestAttributes(req));
//
// Thread safety: RbacCache is safe from any thread (a shared mutex guards its indexes;
// writers are the storage's writer thread). Authorizer is immutable after construction.
// The rest are pure functions.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "apiserver/storage/storage.h"
#include "common/api/json.h"
#include "common/http/server.h"
#include "common/status.h"

namespace kubepp::apiserver {

inline constexpr const char* kSystemMastersGroup = "system:masters";
inline constexpr const char* kRbacGroup = "rbac.authorization.k8s.io";

// One rbac.authorization.k8s.io/v1 PolicyRule.
struct PolicyRule {
  std::vector<std::string> verbs;
  std::vector<std::string> api_groups;
  std::vector<std::string> resources;
  std::vector<std::string> resource_names;
  std::vector<std::string> non_resource_urls;
};

// Reads a `rules` array; members of the wrong JSON type are skipped (validation rejects
// them before they are stored).
std::vector<PolicyRule> ParsePolicyRules(const api::Value* rules);

// What a request asks to do.
struct Attributes {
  std::string user;
  std::vector<std::string> groups;
  std::string verb;  // get list watch create update patch delete deletecollection, or the
                     // lower-case HTTP method of a non-resource request
  bool resource_request = false;
  std::string path;  // non-resource requests: the URL path
  std::string api_group;
  std::string api_version;
  std::string resource;
  std::string subresource;
  std::string ns;
  std::string name;
  // list/watch/deletecollection: the raw ?fieldSelector= (the Node authorizer lets a node
  // list only its own pods by spec.nodeName).
  std::string field_selector;
};

// The value a field selector ("a=b,c==d,e!=f") requires `field` to equal, or "".
std::string RequiredField(std::string_view selector, std::string_view field);

// Upstream's RequestInfoFactory: /api/<v>/... and /apis/<g>/<v>/... with at least a
// resource segment are resource requests (verbs from the method; GET without a name is
// list, or watch with ?watch; a list whose fieldSelector requires metadata.name=X names
// X; DELETE without a name is deletecollection; /namespaces/<ns>/... sets the namespace,
// and /namespaces/<name> addresses namespace <name> in namespace <name>). Everything
// else is a non-resource request for the path. The user comes from the request.
Attributes RequestAttributes(const http::Request& req);

// Whether `rule` allows the request (upstream's RuleAllows): the verb, API group,
// resource ("pods", "pods/log", "*", "*/log") and resource name match; for non-resource
// requests the verb and a URL (exact, "*", or a prefix ending in "*").
bool RuleAllows(const Attributes& a, const PolicyRule& rule);

// `User "jane" cannot list resource "pods" in API group "" in the namespace "default"`,
// `... at the cluster scope`, `User "jane" cannot get path "/metrics"`.
std::string ForbiddenMessage(const Attributes& a);
// The 403 Status: `pods is forbidden: <message>[: <reason>]` (`pods "x" is forbidden`,
// `deployments.apps is forbidden`, `forbidden: ...` for non-resource requests), details
// naming the resource, group and object, as upstream's NewForbidden.
Status ForbiddenStatus(const Attributes& a, const std::string& reason);

// Upstream's escalation check: "" when every permission `requested` grants is also
// granted by some rule of `owned` (wildcards and resource names expanded; a requested
// "*" is covered only by an owned "*"), else the first permission that is not, written
// as upstream's message lists it: {APIGroups:["apps"], Resources:["deployments"],
// Verbs:["delete"]}.
std::string FirstUncoveredRule(const std::vector<PolicyRule>& owned,
                               const std::vector<PolicyRule>& requested);

// A RoleBinding/ClusterRoleBinding subject.
struct Subject {
  std::string kind;  // User, Group, ServiceAccount
  std::string api_group;
  std::string name;
  std::string ns;
};

struct Decision {
  bool allowed = false;
  // "RBAC: allowed by ClusterRoleBinding ..." when allowed by RBAC; "RBAC: <errors>"
  // (dangling role references met on the way) when not; "" otherwise.
  std::string reason;
};

// The rules a user holds in a namespace ("" for the cluster scope), and the errors met
// (bindings to missing roles), for SelfSubjectRulesReview.
struct RulesResult {
  std::vector<PolicyRule> rules;
  std::vector<std::string> errors;
};

// An in-memory index of the stored Roles, ClusterRoles, RoleBindings and
// ClusterRoleBindings, kept current from storage events: authorization never reads the
// database.
class RbacCache {
 public:
  RbacCache() = default;
  RbacCache(const RbacCache&) = delete;
  RbacCache& operator=(const RbacCache&) = delete;

  // Watches the four RBAC resources from revision 0 (their current objects first,
  // delivered before this returns), then follows every change. Events are published
  // before a write is acknowledged, so a client that created a binding is authorized by
  // it on its next request. The watches end when this cache is destroyed, which must
  // happen before `storage` is.
  Status Subscribe(Storage* storage);

  // Adds or replaces (json non-null) or removes (json null) one object of `resource`
  // ("roles.rbac.authorization.k8s.io", ...). Unparsable objects are ignored.
  void Apply(const std::string& resource, const std::string& ns, const std::string& name,
             const std::string* json);

  Decision Authorize(const Attributes& a) const;
  RulesResult RulesFor(const std::string& user, const std::vector<std::string>& groups,
                       const std::string& ns) const;
  // The rules of ClusterRole `name` (kind "ClusterRole") or Role `ns`/`name`; null when
  // it does not exist.
  std::shared_ptr<const std::vector<PolicyRule>> RoleRules(const std::string& kind,
                                                           const std::string& ns,
                                                           const std::string& name) const;

 private:
  struct Binding {
    std::string name, ns;
    std::string role_kind, role_name;
    std::vector<Subject> subjects;
  };
  using Rules = std::shared_ptr<const std::vector<PolicyRule>>;

  // Calls visit(binding, subject, rules) for every rule source that applies to the
  // user in `ns` (cluster bindings first), and on_error(message) for dangling
  // references. Stops when visit returns true. Caller holds mu_ (shared).
  template <typename Visit>
  void VisitRules(const std::string& user, const std::vector<std::string>& groups,
                  const std::string& ns, Visit visit, std::vector<std::string>* errors) const;

  mutable std::shared_mutex mu_;
  std::map<std::string, Rules> cluster_roles_;
  std::map<std::pair<std::string, std::string>, Rules> roles_;  // (ns, name)
  std::map<std::string, Binding> cluster_role_bindings_;
  std::map<std::string, std::map<std::string, Binding>> role_bindings_;  // ns -> name ->
  std::vector<std::unique_ptr<WatchHandle>> watches_;
};

// --authorization-mode values.
inline constexpr const char* kModeAlwaysAllow = "AlwaysAllow";
inline constexpr const char* kModeAlwaysDeny = "AlwaysDeny";
inline constexpr const char* kModeRbac = "RBAC";
inline constexpr const char* kModeNode = "Node";

class NodeAuthorizer;  // node_authorizer.h

// The authorizer chain, as upstream's union authorizer: members of system:masters are
// always allowed; then each mode in order until one allows. AlwaysAllow allows every
// authenticated request and, as this server did before RBAC, only the public health and
// version paths to system:anonymous (upstream would allow it everything).
class Authorizer {
 public:
  // "Node,RBAC", "RBAC", "AlwaysAllow,RBAC", ...: BadRequest for an empty list, an
  // unknown or repeated mode (ABAC and Webhook are not supported).
  static Result<std::vector<std::string>> ParseModes(const std::string& modes);

  // `rbac` and `node` must outlive the authorizer; either may be null when its mode is
  // not listed.
  Authorizer(std::vector<std::string> modes, const RbacCache* rbac,
             const NodeAuthorizer* node = nullptr)
      : modes_(std::move(modes)), rbac_(rbac), node_(node) {}

  Decision Authorize(const Attributes& a) const;
  // For SelfSubjectRulesReview: RBAC's rules, plus everything (rules "*") under
  // AlwaysAllow. system:masters gets no rules of its own, as upstream: it shows those of
  // the cluster-admin binding. Under Node, a node's list is incomplete, as upstream's
  // (the error "node authorizer does not support user rule resolution").
  RulesResult RulesFor(const std::string& user, const std::vector<std::string>& groups,
                       const std::string& ns) const;

 private:
  std::vector<std::string> modes_;
  const RbacCache* rbac_;
  const NodeAuthorizer* node_;
};

// Wraps `next`: authorizes each (authenticated) request. A denied request gets 403 with
// the upstream Status, except anonymous ones, which keep the 401 they got before RBAC.
http::Handler WithAuthorization(std::shared_ptr<const Authorizer> authorizer, http::Handler next);

}  // namespace kubepp::apiserver
