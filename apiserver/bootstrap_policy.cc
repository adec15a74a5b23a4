#include "apiserver/bootstrap_policy.h"

#include <initializer_list>
#include <utility>

#include "common/api/json.h"

namespace kubepp::apiserver {

namespace {

using List = std::vector<const char*>;

// One PolicyRule, as upstream's rbacv1helpers.NewRule(verbs).Groups().Resources()...
struct Rule {
  List verbs;
  List groups;
  List resources;
  List names = {};
  List urls = {};
};

Rule Urls(List verbs, List urls) { return {verbs, {}, {}, {}, urls}; }

const List kRead = {"get", "list", "watch"};
const List kWrite = {"create", "update", "patch", "delete", "deletecollection"};
const List kReadWrite = {"get", "list", "watch", "create", "update", "patch", "delete",
                         "deletecollection"};

// Upstream's eventsRule().
Rule Events() { return {{"create", "update", "patch"}, {"", "events.k8s.io"}, {"events"}}; }

void AppendList(std::string& out, const char* key, const List& values) {
  if (values.empty()) return;
  out += ",\"";
  out += key;
  out += "\":[";
  bool first = true;
  for (const char* v : values) {
    if (!first) out += ',';
    first = false;
    api::AppendQuoted(out, v);
  }
  out += ']';
}

std::string RuleJson(const Rule& r) {
  std::string out = "{";
  std::string body;
  AppendList(body, "verbs", r.verbs);
  AppendList(body, "apiGroups", r.groups);
  AppendList(body, "resources", r.resources);
  AppendList(body, "resourceNames", r.names);
  AppendList(body, "nonResourceURLs", r.urls);
  return out + body.substr(1) + "}";
}

std::string Metadata(const std::string& name) {
  std::string out = R"("metadata":{"name":)";
  api::AppendQuoted(out, name);
  return out + R"(,"labels":{"kubernetes.io/bootstrapping":"rbac-defaults"},)"
               R"("annotations":{"rbac.authorization.kubernetes.io/autoupdate":"true"}})";
}

BootstrapObject ClusterRole(const std::string& name,
                            std::initializer_list<std::vector<Rule>> parts) {
  std::string rules;
  for (const auto& part : parts) {
    for (const Rule& r : part) rules += (rules.empty() ? "" : ",") + RuleJson(r);
  }
  return {"clusterroles.rbac.authorization.k8s.io", name,
          R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole",)" + Metadata(name) +
              R"(,"rules":[)" + rules + "]}"};
}

// A ClusterRoleBinding of the ClusterRole `name` to `subjects` ({kind, name}).
BootstrapObject Binding(const std::string& name,
                        std::initializer_list<std::pair<const char*, const char*>> subjects) {
  std::string list;
  for (const auto& [kind, subject] : subjects) {
    if (!list.empty()) list += ',';
    list += R"({"kind":")" + std::string(kind) +
            R"(","apiGroup":"rbac.authorization.k8s.io","name":)";
    api::AppendQuoted(list, subject);
    list += '}';
  }
  std::string ref;
  api::AppendQuoted(ref, name);
  // No subjects: the field is left out, as upstream's omitempty.
  return {"clusterrolebindings.rbac.authorization.k8s.io", name,
          R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding",)" +
              Metadata(name) +
              R"(,"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":)" +
              ref + "}" + (list.empty() ? "" : R"(,"subjects":[)" + list + "]") + "}"};
}

// system:aggregate-to-view.
std::vector<Rule> ViewRules() {
  return {
      {kRead, {""}, {"pods", "replicationcontrollers", "replicationcontrollers/scale",
                     "serviceaccounts", "services", "services/status", "endpoints",
                     "persistentvolumeclaims", "persistentvolumeclaims/status", "configmaps"}},
      {kRead, {""}, {"limitranges", "resourcequotas", "bindings", "events", "pods/status",
                     "resourcequotas/status", "namespaces/status", "replicationcontrollers/status",
                     "pods/log"}},
      // Read access to namespaces at the namespace scope means reading *this* namespace.
      {kRead, {""}, {"namespaces"}},
      {kRead, {"discovery.k8s.io"}, {"endpointslices"}},
      {kRead, {"apps"}, {"controllerrevisions", "statefulsets", "statefulsets/status",
                         "statefulsets/scale", "daemonsets", "daemonsets/status", "deployments",
                         "deployments/status", "deployments/scale", "replicasets",
                         "replicasets/status", "replicasets/scale"}},
      {kRead, {"autoscaling"}, {"horizontalpodautoscalers", "horizontalpodautoscalers/status"}},
      {kRead, {"batch"}, {"jobs", "cronjobs", "cronjobs/status", "jobs/status"}},
      {kRead, {"extensions"}, {"daemonsets", "daemonsets/status", "deployments",
                               "deployments/scale", "deployments/status", "ingresses",
                               "ingresses/status", "replicasets", "replicasets/scale",
                               "replicasets/status", "replicationcontrollers/scale",
                               "networkpolicies"}},
      {kRead, {"policy"}, {"poddisruptionbudgets", "poddisruptionbudgets/status"}},
      {kRead, {"networking.k8s.io"}, {"networkpolicies", "ingresses", "ingresses/status"}},
  };
}

// system:aggregate-to-edit.
std::vector<Rule> EditRules() {
  return {
      {kRead, {""}, {"pods/attach", "pods/proxy", "pods/exec", "pods/portforward", "secrets",
                     "services/proxy"}},
      {{"impersonate"}, {""}, {"serviceaccounts"}},
      {kWrite, {""}, {"pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward"}},
      {{"create"}, {""}, {"pods/eviction"}},
      {kWrite, {""}, {"replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts",
                      "services", "services/proxy", "persistentvolumeclaims", "configmaps",
                      "secrets"}},
      {{"create"}, {""}, {"serviceaccounts/token"}},
      {kWrite, {"apps"}, {"statefulsets", "statefulsets/scale", "daemonsets", "deployments",
                          "deployments/scale", "deployments/rollback", "replicasets",
                          "replicasets/scale"}},
      {kWrite, {"autoscaling"}, {"horizontalpodautoscalers"}},
      {kWrite, {"batch"}, {"jobs", "cronjobs"}},
      {kWrite, {"extensions"}, {"daemonsets", "deployments", "deployments/scale",
                                "deployments/rollback", "ingresses", "replicasets",
                                "replicasets/scale", "replicationcontrollers/scale",
                                "networkpolicies"}},
      {kWrite, {"policy"}, {"poddisruptionbudgets"}},
      {kWrite, {"networking.k8s.io"}, {"networkpolicies", "ingresses"}},
  };
}

// system:aggregate-to-admin.
std::vector<Rule> AdminRules() {
  return {
      {{"create"}, {"authorization.k8s.io"}, {"localsubjectaccessreviews"}},
      {kReadWrite, {"rbac.authorization.k8s.io"}, {"roles", "rolebindings"}},
  };
}

// Upstream's NodeRules(), without the kinds kubepp does not serve that need feature gates.
std::vector<Rule> NodeRules() {
  return {
      {{"create"}, {"authentication.k8s.io"}, {"tokenreviews"}},
      {{"create"}, {"authorization.k8s.io"}, {"subjectaccessreviews", "localsubjectaccessreviews"}},
      {kRead, {""}, {"services"}},
      {{"create", "get", "list", "watch"}, {""}, {"nodes"}},
      {{"update", "patch"}, {""}, {"nodes/status"}},
      {{"update", "patch"}, {""}, {"nodes"}},
      {{"create", "update", "patch"}, {""}, {"events"}},
      {kRead, {""}, {"pods"}},
      {{"create", "delete"}, {""}, {"pods"}},
      {{"update", "patch"}, {""}, {"pods/status"}},
      {{"create"}, {""}, {"pods/eviction"}},
      {kRead, {""}, {"secrets", "configmaps"}},
      {{"get"}, {""}, {"persistentvolumeclaims", "persistentvolumes"}},
      {{"get"}, {""}, {"endpoints"}},
      {{"create", "get", "list", "watch"}, {"certificates.k8s.io"}, {"certificatesigningrequests"}},
      {{"get", "create", "update", "patch", "delete"}, {"coordination.k8s.io"}, {"leases"}},
      {{"get"}, {"storage.k8s.io"}, {"volumeattachments"}},
      {{"create"}, {""}, {"serviceaccounts/token"}},
      {{"get", "list", "watch"}, {"storage.k8s.io"}, {"csidrivers"}},
      {{"get", "create", "update", "patch", "delete"}, {"storage.k8s.io"}, {"csinodes"}},
      {kRead, {"node.k8s.io"}, {"runtimeclasses"}},
  };
}

}  // namespace

std::vector<PolicyRule> NodePolicyRules() {
  std::vector<PolicyRule> out;
  auto strings = [](const List& l) { return std::vector<std::string>(l.begin(), l.end()); };
  for (const Rule& r : NodeRules()) {
    out.push_back({strings(r.verbs), strings(r.groups), strings(r.resources), strings(r.names),
                   strings(r.urls)});
  }
  return out;
}

std::vector<BootstrapObject> BootstrapPolicy() {
  std::vector<BootstrapObject> out = {
      // A "root" role which can do absolutely anything.
      ClusterRole("cluster-admin", {{{{"*"}, {"*"}, {"*"}}, Urls({"*"}, {"*"})}}),
      // Enough to check that the server is up and to discover API versions.
      ClusterRole("system:discovery",
                  {{Urls({"get"}, {"/livez", "/readyz", "/healthz", "/version", "/version/",
                                   "/openapi", "/openapi/*", "/api", "/api/*", "/apis",
                                   "/apis/*"})}}),
      // Minimal access for a user to learn about themselves.
      ClusterRole("system:basic-user",
                  {{{{"create"}, {"authorization.k8s.io"},
                     {"selfsubjectaccessreviews", "selfsubjectrulesreviews"}},
                    {{"create"}, {"authentication.k8s.io"}, {"selfsubjectreviews"}}}}),
      // Insensitive cluster information, for everyone.
      ClusterRole("system:public-info-viewer",
                  {{Urls({"get"}, {"/livez", "/readyz", "/healthz", "/version", "/version/"})}}),
      ClusterRole("admin", {ViewRules(), EditRules(), AdminRules()}),
      ClusterRole("edit", {ViewRules(), EditRules()}),
      ClusterRole("view", {ViewRules()}),
      ClusterRole("system:node", {NodeRules()}),
      ClusterRole("system:node-proxier",
                  {{{{"list", "watch"}, {""}, {"services", "endpoints"}},
                    {kRead, {""}, {"nodes"}},
                    Events(),
                    {{"list", "watch"}, {"discovery.k8s.io"}, {"endpointslices"}},
                    // kubepp's proxy: load balancer and Ingress controller (which makes
                    // its IngressClass and reads the TLS Secrets Ingresses name).
                    {{"list", "watch"}, {"networking.k8s.io"}, {"ingresses", "ingressclasses"}},
                    {{"get", "create"}, {"networking.k8s.io"}, {"ingressclasses"}},
                    {{"list", "watch"}, {""}, {"secrets"}},
                    {{"get", "create"}, {""}, {"services"}},  // the kube-dns Service
                    {{"update", "patch"}, {""}, {"services/status"}},
                    {{"update", "patch"}, {"networking.k8s.io"}, {"ingresses/status"}}}}),
      // For external provisioners.
      ClusterRole("system:persistent-volume-provisioner",
                  {{{{"get", "list", "watch", "create", "delete"}, {""}, {"persistentvolumes"}},
                    // update sets the lock annotations on claims
                    {{"get", "list", "watch", "update"}, {""}, {"persistentvolumeclaims"}},
                    {kRead, {"storage.k8s.io"}, {"storageclasses"}},
                    // provisioning success and failure events
                    {{"watch"}, {""}, {"events"}},
                    Events()}}),
      ClusterRole(
          "system:kube-scheduler",
          {{Events(),
            // Leader election.
            {{"create"}, {"coordination.k8s.io"}, {"leases"}},
            {{"get", "update"}, {"coordination.k8s.io"}, {"leases"}, {"kube-scheduler"}},
            {{"create"}, {""}, {"endpoints"}},
            {{"get", "update"}, {""}, {"endpoints"}, {"kube-scheduler"}},
            // Fundamental resources.
            {kRead, {""}, {"nodes"}},
            {{"get", "list", "watch", "delete"}, {""}, {"pods"}},
            {{"create"}, {""}, {"pods/binding", "bindings"}},
            {{"patch", "update"}, {""}, {"pods/status"}},
            // Things that select pods.
            {kRead, {""}, {"services", "replicationcontrollers"}},
            {kRead, {"apps", "extensions"}, {"replicasets"}},
            {kRead, {"apps"}, {"statefulsets"}},
            // Things that pods use or that apply to them.
            {kRead, {"policy"}, {"poddisruptionbudgets"}},
            {kRead, {""}, {"persistentvolumeclaims", "persistentvolumes"}},
            {kRead, {""}, {"namespaces"}},
            {kRead, {"scheduling.k8s.io"}, {"priorityclasses"}},
            {{"create"}, {"authentication.k8s.io"}, {"tokenreviews"}},
            {{"create"}, {"authorization.k8s.io"}, {"subjectaccessreviews"}},
            {kRead, {"storage.k8s.io"}, {"csinodes", "csidrivers", "csistoragecapacities"}}}}),
      ClusterRole(
          "system:kube-controller-manager",
          {{Events(),
            // Leader election.
            {{"create"}, {"coordination.k8s.io"}, {"leases"}},
            {{"get", "update"}, {"coordination.k8s.io"}, {"leases"}, {"kube-controller-manager"}},
            {{"create"}, {""}, {"endpoints"}},
            {{"get", "update"}, {""}, {"endpoints"}, {"kube-controller-manager"}},
            // Fundamental resources.
            {{"create"}, {""}, {"secrets", "serviceaccounts"}},
            {{"delete"}, {""}, {"secrets"}},
            {{"get"}, {""}, {"namespaces", "secrets", "serviceaccounts", "configmaps"}},
            {{"update"}, {""}, {"secrets", "serviceaccounts"}},
            {{"create"}, {"authentication.k8s.io"}, {"tokenreviews"}},
            {{"create"}, {"authorization.k8s.io"}, {"subjectaccessreviews"}},
            // Every shared informer.
            {{"list", "watch"}, {"*"}, {"*"}},
            {{"create"}, {""}, {"serviceaccounts/token"}},
            // The controllers' own roles (upstream: one service account each). The garbage
            // collector and the namespace controller read, change and delete anything.
            {{"get", "list", "watch", "patch", "update", "delete", "deletecollection"},
             {"*"},
             {"*"}},
            {{"create"}, {""}, {"pods", "pods/eviction", "endpoints", "configmaps",
                               "persistentvolumeclaims", "persistentvolumes"}},
            {{"create"}, {"apps"}, {"replicasets", "controllerrevisions"}},
            // kubepp's local-path provisioner makes the default StorageClass.
            {{"create"}, {"storage.k8s.io"}, {"storageclasses"}},
            {{"create"}, {"batch"}, {"jobs"}},
            {{"create"}, {"discovery.k8s.io"}, {"endpointslices"}}}}),
      // Bindings.
      Binding("cluster-admin", {{"Group", "system:masters"}}),
      Binding("system:discovery", {{"Group", "system:authenticated"}}),
      Binding("system:basic-user", {{"Group", "system:authenticated"}}),
      Binding("system:public-info-viewer",
              {{"Group", "system:authenticated"}, {"Group", "system:unauthenticated"}}),
      Binding("system:node-proxier", {{"User", "system:kube-proxy"}}),
      Binding("system:kube-controller-manager", {{"User", "system:kube-controller-manager"}}),
      Binding("system:kube-scheduler", {{"User", "system:kube-scheduler"}}),
      // Kept, with no subjects, as upstream: the Node authorizer grants kubelets these
      // rules, narrowed to their own node.
      Binding("system:node", {}),
  };
  return out;
}

}  // namespace kubepp::apiserver
