#include "apiserver/rbac.h"

#include <catch2/catch.hpp>
#include <filesystem>

#include "apiserver/bootstrap_policy.h"
#include "apiserver/node_authorizer.h"

namespace kubepp::apiserver {
namespace {

http::Request Req(const std::string& method, const std::string& target) {
  http::Request r;
  r.method = method;
  r.target = target;
  REQUIRE(http::ParseTarget(target, &r.path, &r.query));
  r.user = "jane";
  r.groups = {"devs", "system:authenticated"};
  return r;
}

std::string Describe(const Attributes& a) {
  if (!a.resource_request) return a.verb + " " + a.path;
  return a.verb + " g=" + a.api_group + " v=" + a.api_version + " r=" + a.resource +
         " sub=" + a.subresource + " ns=" + a.ns + " name=" + a.name;
}

TEST_CASE("rbac: request attributes as upstream's RequestInfoFactory") {
  auto d = [](const std::string& m, const std::string& t) { return Describe(RequestAttributes(Req(m, t))); };
  CHECK(d("GET", "/api/v1/namespaces/default/pods") == "list g= v=v1 r=pods sub= ns=default name=");
  CHECK(d("GET", "/api/v1/namespaces/default/pods?watch=true") ==
        "watch g= v=v1 r=pods sub= ns=default name=");
  CHECK(d("GET", "/api/v1/namespaces/default/pods?watch=false") ==
        "list g= v=v1 r=pods sub= ns=default name=");
  CHECK(d("GET", "/api/v1/namespaces/default/pods?fieldSelector=metadata.name%3Dweb") ==
        "list g= v=v1 r=pods sub= ns=default name=web");
  CHECK(d("GET", "/api/v1/namespaces/default/pods/web/log") ==
        "get g= v=v1 r=pods sub=log ns=default name=web");
  CHECK(d("POST", "/api/v1/namespaces/default/pods/web/binding") ==
        "create g= v=v1 r=pods sub=binding ns=default name=web");
  CHECK(d("DELETE", "/apis/apps/v1/namespaces/x/deployments") ==
        "deletecollection g=apps v=v1 r=deployments sub= ns=x name=");
  CHECK(d("DELETE", "/apis/apps/v1/namespaces/x/deployments/d") ==
        "delete g=apps v=v1 r=deployments sub= ns=x name=d");
  CHECK(d("PATCH", "/apis/apps/v1/namespaces/x/deployments/d/scale") ==
        "patch g=apps v=v1 r=deployments sub=scale ns=x name=d");
  CHECK(d("PUT", "/api/v1/nodes/n1/status") == "update g= v=v1 r=nodes sub=status ns= name=n1");
  CHECK(d("GET", "/apis/apps/v1/deployments") == "list g=apps v=v1 r=deployments sub= ns= name=");
  // A namespace object is in its own namespace; its list is not.
  CHECK(d("GET", "/api/v1/namespaces/team") == "get g= v=v1 r=namespaces sub= ns=team name=team");
  CHECK(d("PUT", "/api/v1/namespaces/team/finalize") ==
        "update g= v=v1 r=namespaces sub=finalize ns=team name=team");
  CHECK(d("GET", "/api/v1/namespaces") == "list g= v=v1 r=namespaces sub= ns= name=");
  // Discovery and the rest are non-resource requests.
  CHECK(d("GET", "/api/v1") == "get /api/v1");
  CHECK(d("GET", "/apis/apps/v1") == "get /apis/apps/v1");
  CHECK(d("GET", "/apis") == "get /apis");
  CHECK(d("POST", "/metrics") == "post /metrics");
  CHECK(d("GET", "/healthz/ping") == "get /healthz/ping");
}

PolicyRule Rule(std::vector<std::string> verbs, std::vector<std::string> groups,
                std::vector<std::string> resources, std::vector<std::string> names = {}) {
  return {std::move(verbs), std::move(groups), std::move(resources), std::move(names), {}};
}

TEST_CASE("rbac: rule matching") {
  auto allows = [](const PolicyRule& rule, const std::string& method, const std::string& target) {
    return RuleAllows(RequestAttributes(Req(method, target)), rule);
  };
  PolicyRule pods = Rule({"get", "list"}, {""}, {"pods"});
  CHECK(allows(pods, "GET", "/api/v1/namespaces/a/pods"));
  CHECK(allows(pods, "GET", "/api/v1/namespaces/a/pods/p"));
  CHECK_FALSE(allows(pods, "GET", "/api/v1/namespaces/a/pods?watch=1"));
  CHECK_FALSE(allows(pods, "DELETE", "/api/v1/namespaces/a/pods/p"));
  CHECK_FALSE(allows(pods, "GET", "/api/v1/namespaces/a/pods/p/log"));  // subresources are separate
  CHECK_FALSE(allows(pods, "GET", "/apis/apps/v1/namespaces/a/deployments"));
  CHECK_FALSE(allows(pods, "GET", "/apis/other/v1/namespaces/a/pods"));  // the group counts

  PolicyRule logs = Rule({"get"}, {""}, {"pods/log"});
  CHECK(allows(logs, "GET", "/api/v1/namespaces/a/pods/p/log"));
  CHECK_FALSE(allows(logs, "GET", "/api/v1/namespaces/a/pods/p"));

  PolicyRule any_status = Rule({"update"}, {"*"}, {"*/status"});
  CHECK(allows(any_status, "PUT", "/apis/apps/v1/namespaces/a/deployments/d/status"));
  CHECK_FALSE(allows(any_status, "PUT", "/apis/apps/v1/namespaces/a/deployments/d"));
  CHECK_FALSE(allows(any_status, "PUT", "/apis/apps/v1/namespaces/a/deployments/d/scale"));

  PolicyRule all = Rule({"*"}, {"*"}, {"*"});
  CHECK(allows(all, "DELETE", "/apis/x.io/v1/namespaces/a/things/t/sub"));
  CHECK_FALSE(allows(all, "GET", "/metrics"));  // resource rules never cover paths

  PolicyRule named = Rule({"get", "update"}, {"coordination.k8s.io"}, {"leases"}, {"kube-scheduler"});
  CHECK(allows(named, "GET", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler"));
  CHECK_FALSE(allows(named, "GET", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/other"));
  CHECK_FALSE(allows(Rule({"list"}, {"coordination.k8s.io"}, {"leases"}, {"kube-scheduler"}), "GET",
                     "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases"));
  // A list narrowed to one name by its field selector matches a rule for that name.
  CHECK(allows(Rule({"list"}, {""}, {"pods"}, {"p"}), "GET",
               "/api/v1/namespaces/a/pods?fieldSelector=metadata.name%3Dp"));

  PolicyRule urls{{"get"}, {}, {}, {}, {"/healthz", "/apis/*", "/version/"}};
  CHECK(allows(urls, "GET", "/healthz"));
  CHECK_FALSE(allows(urls, "GET", "/healthz/ping"));
  CHECK(allows(urls, "GET", "/apis/apps/v1"));
  CHECK(allows(urls, "GET", "/apis/"));
  CHECK_FALSE(allows(urls, "GET", "/apis"));
  CHECK_FALSE(allows(urls, "POST", "/healthz"));
  CHECK(allows(PolicyRule{{"*"}, {}, {}, {}, {"*"}}, "DELETE", "/anything"));
}

TEST_CASE("rbac: the forbidden message is upstream's") {
  auto st = [](const std::string& method, const std::string& target, const std::string& reason = "") {
    return ForbiddenStatus(RequestAttributes(Req(method, target)), reason);
  };
  Status s = st("GET", "/api/v1/namespaces/default/pods");
  CHECK(s.code() == Code::kForbidden);
  CHECK(s.http_status() == 403);
  CHECK(s.message() ==
        "pods is forbidden: User \"jane\" cannot list resource \"pods\" in API group \"\" in the "
        "namespace \"default\"");
  CHECK(s.ToJson() ==
        R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":)"
        R"("pods is forbidden: User \"jane\" cannot list resource \"pods\" in API group \"\" in )"
        R"(the namespace \"default\"","reason":"Forbidden","details":{"kind":"pods"},"code":403})");
  CHECK(st("GET", "/api/v1/namespaces/default/pods/web/log").message() ==
        "pods \"web\" is forbidden: User \"jane\" cannot get resource \"pods/log\" in API group "
        "\"\" in the namespace \"default\"");
  CHECK(st("GET", "/apis/apps/v1/deployments?watch=1").message() ==
        "deployments.apps is forbidden: User \"jane\" cannot watch resource \"deployments\" in API "
        "group \"apps\" at the cluster scope");
  CHECK(st("DELETE", "/api/v1/nodes/n1").message() ==
        "nodes \"n1\" is forbidden: User \"jane\" cannot delete resource \"nodes\" in API group "
        "\"\" at the cluster scope");
  CHECK(st("GET", "/metrics").message() == "forbidden: User \"jane\" cannot get path \"/metrics\"");
  CHECK(st("GET", "/api/v1/namespaces/a/pods", "RBAC: clusterrole.rbac.authorization.k8s.io \"x\" not found")
            .message() ==
        "pods is forbidden: User \"jane\" cannot list resource \"pods\" in API group \"\" in the "
        "namespace \"a\": RBAC: clusterrole.rbac.authorization.k8s.io \"x\" not found");
  Status named = st("GET", "/apis/apps/v1/namespaces/a/deployments/web");
  const StatusDetails* d = named.details();
  REQUIRE(d != nullptr);
  CHECK((d->name == "web" && d->group == "apps" && d->kind == "deployments"));
}

void Put(RbacCache& c, const std::string& resource, const std::string& ns, const std::string& name,
         const std::string& json) {
  c.Apply(resource + ".rbac.authorization.k8s.io", ns, name, &json);
}

std::string Binding(const std::string& role_kind, const std::string& role, const std::string& subjects) {
  return R"({"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":")" + role_kind +
         R"(","name":")" + role + R"("},"subjects":)" + subjects + "}";
}

Attributes As(const std::string& user, std::vector<std::string> groups, const std::string& method,
              const std::string& target) {
  http::Request r = Req(method, target);
  r.user = user;
  r.groups = std::move(groups);
  return RequestAttributes(r);
}

TEST_CASE("rbac: bindings, roles and subjects") {
  RbacCache c;
  Put(c, "clusterroles", "", "view", R"({"rules":[{"verbs":["get","list","watch"],"apiGroups":[""],"resources":["pods","pods/log"]}]})");
  Put(c, "roles", "team", "cm-writer", R"({"rules":[{"verbs":["create"],"apiGroups":[""],"resources":["configmaps"]}]})");
  Put(c, "rolebindings", "team", "jane-view", Binding("ClusterRole", "view", R"([{"kind":"User","name":"jane"}])"));
  Put(c, "rolebindings", "team", "devs-cm", Binding("Role", "cm-writer", R"([{"kind":"Group","name":"devs"}])"));
  Put(c, "rolebindings", "team", "robot", Binding("ClusterRole", "view", R"([{"kind":"ServiceAccount","name":"robot"}])"));
  Put(c, "clusterrolebindings", "", "ops-view", Binding("ClusterRole", "view", R"([{"kind":"ServiceAccount","name":"ops","namespace":"infra"}])"));

  // A RoleBinding to a ClusterRole grants it in the binding's namespace only.
  Decision d = c.Authorize(As("jane", {}, "GET", "/api/v1/namespaces/team/pods"));
  CHECK(d.allowed);
  CHECK(d.reason == "RBAC: allowed by RoleBinding \"jane-view/team\" of ClusterRole \"view\" to User \"jane\"");
  CHECK(c.Authorize(As("jane", {}, "GET", "/api/v1/namespaces/team/pods/p/log")).allowed);
  CHECK_FALSE(c.Authorize(As("jane", {}, "DELETE", "/api/v1/namespaces/team/pods/p")).allowed);
  CHECK_FALSE(c.Authorize(As("jane", {}, "GET", "/api/v1/namespaces/other/pods")).allowed);
  CHECK_FALSE(c.Authorize(As("jane", {}, "GET", "/api/v1/pods")).allowed);
  CHECK_FALSE(c.Authorize(As("jim", {}, "GET", "/api/v1/namespaces/team/pods")).allowed);
  // Groups, and Roles in the binding's namespace.
  CHECK(c.Authorize(As("jim", {"devs"}, "POST", "/api/v1/namespaces/team/configmaps")).allowed);
  CHECK_FALSE(c.Authorize(As("jim", {"devs"}, "POST", "/api/v1/namespaces/other/configmaps")).allowed);
  // Service accounts: the binding's namespace unless the subject names one.
  CHECK(c.Authorize(As("system:serviceaccount:team:robot", {}, "GET", "/api/v1/namespaces/team/pods")).allowed);
  CHECK_FALSE(c.Authorize(As("system:serviceaccount:other:robot", {}, "GET", "/api/v1/namespaces/team/pods")).allowed);
  d = c.Authorize(As("system:serviceaccount:infra:ops", {}, "GET", "/api/v1/pods"));
  CHECK(d.allowed);
  CHECK(d.reason == "RBAC: allowed by ClusterRoleBinding \"ops-view\" of ClusterRole \"view\" to ServiceAccount \"ops/infra\"");

  // Dangling references are the denial's reason.
  Put(c, "rolebindings", "team", "ghost", Binding("ClusterRole", "nope", R"([{"kind":"User","name":"jane"}])"));
  Put(c, "rolebindings", "team", "ghost2", Binding("Role", "gone", R"([{"kind":"User","name":"jane"}])"));
  d = c.Authorize(As("jane", {}, "DELETE", "/api/v1/namespaces/team/pods/p"));
  CHECK_FALSE(d.allowed);
  CHECK(d.reason == "RBAC: [clusterrole.rbac.authorization.k8s.io \"nope\" not found, "
                    "role.rbac.authorization.k8s.io \"gone\" not found]");
  Put(c, "clusterroles", "", "nope", R"({"rules":[{"verbs":["delete"],"apiGroups":[""],"resources":["pods"]}]})");
  CHECK(c.Authorize(As("jane", {}, "DELETE", "/api/v1/namespaces/team/pods/p")).allowed);

  // Removal takes effect at once.
  c.Apply("rolebindings.rbac.authorization.k8s.io", "team", "jane-view", nullptr);
  c.Apply("rolebindings.rbac.authorization.k8s.io", "team", "ghost", nullptr);
  CHECK_FALSE(c.Authorize(As("jane", {}, "GET", "/api/v1/namespaces/team/pods")).allowed);

  RulesResult rules = c.RulesFor("jim", {"devs"}, "team");
  REQUIRE(rules.rules.size() == 1);
  CHECK(rules.rules[0].resources == std::vector<std::string>{"configmaps"});
  CHECK(rules.errors.empty());
}

TEST_CASE("rbac: the authorizer chain") {
  CHECK(Authorizer::ParseModes("RBAC").ok());
  CHECK(*Authorizer::ParseModes("AlwaysAllow,RBAC") == std::vector<std::string>{"AlwaysAllow", "RBAC"});
  CHECK(*Authorizer::ParseModes("Node,RBAC") == std::vector<std::string>{"Node", "RBAC"});
  CHECK(Authorizer::ParseModes("Webhook,RBAC").status().message() ==
        "--authorization-mode: unsupported mode \"Webhook\" (supported: AlwaysAllow, AlwaysDeny, "
        "Node, RBAC)");
  CHECK_FALSE(Authorizer::ParseModes("").ok());
  CHECK_FALSE(Authorizer::ParseModes("RBAC,RBAC").ok());

  RbacCache c;
  Authorizer rbac({kModeRbac}, &c);
  CHECK(rbac.Authorize(As("root", {"system:masters"}, "DELETE", "/api/v1/nodes/n")).allowed);
  CHECK_FALSE(rbac.Authorize(As("jane", {}, "GET", "/api/v1/nodes")).allowed);
  Authorizer allow({kModeAlwaysAllow}, nullptr);
  CHECK(allow.Authorize(As("jane", {}, "DELETE", "/api/v1/nodes/n")).allowed);
  CHECK(allow.Authorize(As("system:anonymous", {}, "GET", "/healthz")).allowed);
  CHECK_FALSE(allow.Authorize(As("system:anonymous", {}, "GET", "/api/v1/nodes")).allowed);
  Authorizer deny({kModeAlwaysDeny}, nullptr);
  CHECK_FALSE(deny.Authorize(As("jane", {}, "GET", "/healthz")).allowed);
  CHECK(deny.Authorize(As("root", {"system:masters"}, "GET", "/healthz")).allowed);
}

struct Recorder : http::ResponseWriter {
  http::Response sent;
  bool answered = false;
  void Send(http::Response r) override {
    sent = std::move(r);
    answered = true;
  }
  void StartStream(int, const std::string&, std::vector<std::pair<std::string, std::string>>) override {}
  bool WriteChunk(std::shared_ptr<const std::string>) override { return false; }
  void EndStream() override {}
  bool Closed() const override { return false; }
  void OnClose(std::function<void()>) override {}
};

TEST_CASE("rbac: WithAuthorization answers 403, and 401 to anonymous") {
  auto authz = std::make_shared<const Authorizer>(std::vector<std::string>{kModeAlwaysAllow}, nullptr);
  auto deny = std::make_shared<const Authorizer>(std::vector<std::string>{kModeAlwaysDeny}, nullptr);
  int reached = 0;
  auto next = [&](http::Request, std::shared_ptr<http::ResponseWriter>) { ++reached; };
  auto w = std::make_shared<Recorder>();
  WithAuthorization(authz, next)(Req("GET", "/api/v1/pods"), w);
  CHECK((reached == 1 && !w->answered));

  w = std::make_shared<Recorder>();
  WithAuthorization(deny, next)(Req("GET", "/api/v1/namespaces/default/pods"), w);
  CHECK(reached == 1);
  CHECK(w->sent.status == 403);
  CHECK(w->sent.body.find(R"("message":"pods is forbidden: User \"jane\" cannot list resource \"pods\")") !=
        std::string::npos);

  for (const char* path : {"/healthz", "/livez", "/readyz", "/version", "/api/v1/namespaces", "/metrics"}) {
    http::Request anon = Req("GET", path);
    anon.user = "system:anonymous";
    anon.groups = {"system:unauthenticated"};
    w = std::make_shared<Recorder>();
    WithAuthorization(authz, next)(anon, w);
    if (w->answered) CHECK(w->sent.status == 401);
  }
  CHECK(reached == 5);  // the four public paths
}

// Real storage behind the cache: what a write commits is what the next request sees.
TEST_CASE("rbac: the cache follows the storage") {
  auto dir = std::filesystem::temp_directory_path() / ("kubepp-rbac-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    SqliteOptions o;
    o.path = (dir / "db.sqlite").string();
    auto s = OpenSqliteStorage(o);
    REQUIRE(s.ok());
    auto write = [&](Write::Kind kind, const std::string& resource, const std::string& ns,
                     const std::string& name, const std::string& json) {
      Write w;
      w.kind = kind;
      w.resource = resource;
      w.ns = ns;
      w.name = name;
      if (!json.empty()) {
        auto doc = api::ParseJson(json);
        REQUIRE(doc.ok());
        w.object = std::move(*doc);
      }
      REQUIRE((*s)->SubmitAndWait(std::move(w)).ok());
    };
    // Present before the cache subscribes: delivered by Subscribe itself.
    write(Write::Kind::kCreate, "clusterroles.rbac.authorization.k8s.io", "", "view",
          R"({"metadata":{"name":"view"},"rules":[{"verbs":["list"],"apiGroups":[""],"resources":["pods"]}]})");
    RbacCache c;
    REQUIRE(c.Subscribe(s->get()).ok());
    Attributes list = As("jane", {}, "GET", "/api/v1/namespaces/a/pods");
    CHECK_FALSE(c.Authorize(list).allowed);
    write(Write::Kind::kCreate, "rolebindings.rbac.authorization.k8s.io", "a", "b",
          R"({"metadata":{"name":"b","namespace":"a"},)" +
              Binding("ClusterRole", "view", R"([{"kind":"User","name":"jane"}])").substr(1));
    CHECK(c.Authorize(list).allowed);
    write(Write::Kind::kDelete, "rolebindings.rbac.authorization.k8s.io", "a", "b", "");
    CHECK_FALSE(c.Authorize(list).allowed);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("rbac: the bootstrap policy lets each component do its job") {
  RbacCache c;
  int bindings = 0;
  for (const auto& obj : BootstrapPolicy()) {
    auto doc = api::ParseJson(obj.json);
    REQUIRE(doc.ok());
    CHECK(api::GetStringMap(*doc, "metadata.labels").at("kubernetes.io/bootstrapping") == "rbac-defaults");
    c.Apply(obj.resource, "", obj.name, &obj.json);
    bindings += obj.resource == "clusterrolebindings.rbac.authorization.k8s.io";
  }
  CHECK(bindings == 8);
  struct Case {
    const char* user;
    std::vector<std::string> groups;
    const char* method;
    const char* target;
    bool allowed;
  };
  const std::vector<std::string> authed = {"system:authenticated"};
  const std::vector<std::string> node = {"system:nodes", "system:authenticated"};
  const char* kNode = "system:node:n1";
  const char* kCm = "system:kube-controller-manager";
  const char* kSched = "system:kube-scheduler";
  const char* kProxy = "system:kube-proxy";
  const Case cases[] = {
      {"root", {"system:masters", "system:authenticated"}, "DELETE", "/api/v1/nodes/n", true},
      {"jane", authed, "GET", "/apis/apps/v1", true},
      {"jane", authed, "GET", "/version", true},
      {"jane", authed, "GET", "/metrics", false},
      {"jane", authed, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", true},
      {"jane", authed, "GET", "/api/v1/namespaces/default/pods", false},
      {"system:anonymous", {"system:unauthenticated"}, "GET", "/healthz", true},
      {"system:anonymous", {"system:unauthenticated"}, "GET", "/api", false},
      // scheduler
      {kSched, authed, "POST", "/api/v1/namespaces/a/pods/p/binding", true},
      {kSched, authed, "GET", "/api/v1/pods?watch=1", true},
      {kSched, authed, "PATCH", "/api/v1/namespaces/a/pods/p/status", true},
      {kSched, authed, "POST", "/api/v1/namespaces/a/events", true},
      {kSched, authed, "PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler", true},
      {kSched, authed, "PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/other", false},
      {kSched, authed, "POST", "/api/v1/namespaces/a/pods", false},
      // controller-manager
      {kCm, authed, "POST", "/apis/apps/v1/namespaces/a/replicasets", true},
      {kCm, authed, "POST", "/api/v1/namespaces/a/pods", true},
      {kCm, authed, "PUT", "/apis/apps/v1/namespaces/a/deployments/d/status", true},
      {kCm, authed, "DELETE", "/api/v1/namespaces/a/pods/p", true},
      {kCm, authed, "POST", "/api/v1/namespaces/a/pods/p/eviction", true},
      {kCm, authed, "PATCH", "/api/v1/nodes/n/status", true},
      {kCm, authed, "PUT", "/api/v1/namespaces/a/finalize", true},
      {kCm, authed, "POST", "/apis/discovery.k8s.io/v1/namespaces/a/endpointslices", true},
      {kCm, authed, "POST", "/apis/batch/v1/namespaces/a/jobs", true},
      {kCm, authed, "PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager", true},
      {kCm, authed, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", false},
      // kubelet
      {kNode, node, "GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dn1", true},
      {kNode, node, "PATCH", "/api/v1/nodes/n1/status", true},
      {kNode, node, "PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1", true},
      {kNode, node, "PUT", "/api/v1/namespaces/a/pods/p/status", true},
      {kNode, node, "DELETE", "/api/v1/namespaces/a/pods/p", true},
      {kNode, node, "GET", "/api/v1/namespaces/a/secrets/s", true},
      {kNode, node, "GET", "/api/v1/namespaces/a/configmaps/c", true},
      {kNode, node, "POST", "/api/v1/namespaces/a/events", true},
      {kNode, node, "DELETE", "/api/v1/nodes/n2", false},
      {kNode, node, "GET", "/api/v1/namespaces/a/secrets/other", false},
      {kNode, node, "GET", "/api/v1/namespaces/a/secrets", false},
      {kNode, node, "GET", "/api/v1/pods", false},
      {kNode, node, "GET", "/api/v1/nodes/n1", true},
      {kNode, node, "GET", "/api/v1/nodes/n2", false},
      {kNode, node, "GET", "/api/v1/services?watch=1", true},
      {kNode, node, "GET", "/api/v1/namespaces/a/endpoints/e", true},
      // only a member of system:nodes is a kubelet
      {kNode, authed, "GET", "/api/v1/namespaces/a/secrets/s", false},
      // proxy
      {kProxy, authed, "GET", "/apis/discovery.k8s.io/v1/endpointslices?watch=1", true},
      {kProxy, authed, "GET", "/api/v1/services", true},
      {kProxy, authed, "PUT", "/api/v1/namespaces/a/services/s/status", true},
      {kProxy, authed, "PUT", "/apis/networking.k8s.io/v1/namespaces/a/ingresses/i/status", true},
      {kProxy, authed, "PUT", "/api/v1/namespaces/a/services/s", false},
  };
  // The kubelet's pod a/p names Secret s and ConfigMap c.
  NodeGraph graph;
  auto pod = api::ParseJson(R"({"metadata":{"name":"p","namespace":"a"},"spec":{"nodeName":"n1",)"
                            R"("volumes":[{"name":"v","secret":{"secretName":"s"}},)"
                            R"({"name":"w","configMap":{"name":"c"}}]}})");
  REQUIRE(pod.ok());
  graph.AddPod("a", "p", *pod);
  NodeAuthorizer node_authz(&graph, NodePolicyRules());
  for (const Case& k : cases) {
    INFO(k.user << " " << k.method << " " << k.target);
    Authorizer a({kModeNode, kModeRbac}, &c, &node_authz);
    CHECK(a.Authorize(As(k.user, k.groups, k.method, k.target)).allowed == k.allowed);
  }
}

}  // namespace
}  // namespace kubepp::apiserver

namespace kubepp::apiserver {
namespace {

TEST_CASE("rbac escalation: what one may grant is what one holds") {
  std::vector<PolicyRule> owned = {Rule({"get", "list"}, {""}, {"pods", "pods/log"}),
                                   Rule({"*"}, {"apps"}, {"deployments"}),
                                   Rule({"get"}, {""}, {"secrets"}, {"s1"})};
  CHECK(FirstUncoveredRule(owned, {Rule({"get"}, {""}, {"pods"})}).empty());
  CHECK(FirstUncoveredRule(owned, {Rule({"list"}, {""}, {"pods/log"})}).empty());
  CHECK(FirstUncoveredRule(owned, {Rule({"delete", "patch"}, {"apps"}, {"deployments"})}).empty());
  CHECK(FirstUncoveredRule(owned, {Rule({"get"}, {""}, {"secrets"}, {"s1"})}).empty());
  CHECK(FirstUncoveredRule(owned, {Rule({"delete"}, {""}, {"pods"})}) ==
        R"({APIGroups:[""], Resources:["pods"], Verbs:["delete"]})");
  // A name-restricted grant does not cover every name, nor a wildcard its parts.
  CHECK(FirstUncoveredRule(owned, {Rule({"get"}, {""}, {"secrets"})}) ==
        R"({APIGroups:[""], Resources:["secrets"], Verbs:["get"]})");
  CHECK(FirstUncoveredRule(owned, {Rule({"get"}, {""}, {"*"})}) ==
        R"({APIGroups:[""], Resources:["*"], Verbs:["get"]})");
  CHECK(FirstUncoveredRule(owned, {Rule({"get"}, {""}, {"secrets"}, {"s2"})}) ==
        R"({APIGroups:[""], Resources:["secrets"], ResourceNames:["s2"], Verbs:["get"]})");
  PolicyRule url;
  url.verbs = {"get"};
  url.non_resource_urls = {"/metrics"};
  CHECK(FirstUncoveredRule(owned, {url}) == R"({NonResourceURLs:["/metrics"], Verbs:["get"]})");
  CHECK(FirstUncoveredRule({Rule({"*"}, {"*"}, {"*"})}, {Rule({"*"}, {"*"}, {"*"})}).empty());
}

}  // namespace
}  // namespace kubepp::apiserver
