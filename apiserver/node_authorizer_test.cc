#include "apiserver/node_authorizer.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "apiserver/bootstrap_policy.h"
#include "common/testing/json.h"

namespace kubepp::apiserver {
namespace {

const std::vector<std::string> kNodeGroups = {"system:nodes", "system:authenticated"};

Attributes Node(const std::string& node, const std::string& method, const std::string& target) {
  http::Request r;
  r.method = method;
  r.target = target;
  REQUIRE(http::ParseTarget(target, &r.path, &r.query));
  r.user = "system:node:" + node;
  r.groups = kNodeGroups;
  return RequestAttributes(r);
}

using testing::Json;

// A pod on `node` in namespace "default" naming what `spec` adds.
api::Document Pod(const std::string& name, const std::string& node, const std::string& spec = "",
                  const std::string& annotations = "{}") {
  return Json(R"({"metadata":{"name":")" + name +
              R"(","namespace":"default","annotations":)" + annotations +
              R"(},"spec":{"nodeName":")" + node + "\"" + (spec.empty() ? "" : "," + spec) + "}}");
}

TEST_CASE("node authorizer: node identity as upstream's") {
  std::string n;
  CHECK(NodeIdentity("system:node:n1", {"system:nodes"}, &n));
  CHECK(n == "n1");
  CHECK(NodeIdentity("system:node:", {"system:nodes"}, &n));
  CHECK(n.empty());
  CHECK_FALSE(NodeIdentity("system:node:n1", {"system:authenticated"}, &n));
  CHECK_FALSE(NodeIdentity("n1", {"system:nodes"}, &n));
}

TEST_CASE("node authorizer: the objects a pod names") {
  auto pod = Json(R"({"metadata":{"name":"p"},"spec":{
    "serviceAccountName":"sa",
    "imagePullSecrets":[{"name":"pull"}],
    "initContainers":[{"name":"i","env":[{"name":"A","valueFrom":{"secretKeyRef":{"name":"init-env","key":"k"}}}]}],
    "containers":[{"name":"c",
      "env":[{"name":"B","valueFrom":{"configMapKeyRef":{"name":"cm-env","key":"k"}}},{"name":"C","value":"x"}],
      "envFrom":[{"secretRef":{"name":"from-secret"}},{"configMapRef":{"name":"from-cm"}}]}],
    "ephemeralContainers":[{"name":"e","envFrom":[{"secretRef":{"name":"eph"}}]}],
    "volumes":[
      {"name":"s","secret":{"secretName":"vol-secret"}},
      {"name":"m","configMap":{"name":"vol-cm"}},
      {"name":"p","projected":{"sources":[{"secret":{"name":"proj-secret"}},{"configMap":{"name":"proj-cm"}},
                                           {"serviceAccountToken":{"path":"token"}}]}},
      {"name":"csi","csi":{"driver":"d","nodePublishSecretRef":{"name":"csi-secret"}}},
      {"name":"claim","persistentVolumeClaim":{"claimName":"data"}},
      {"name":"scratch","ephemeral":{"volumeClaimTemplate":{"spec":{}}}},
      {"name":"again","secret":{"secretName":"vol-secret"}}]}})");
  PodRefs r = PodReferences(pod);
  CHECK(r.service_account == "sa");
  CHECK(r.secrets == std::vector<std::string>{"pull", "init-env", "from-secret", "eph", "vol-secret",
                                              "proj-secret", "csi-secret"});
  CHECK(r.configmaps == std::vector<std::string>{"from-cm", "cm-env", "vol-cm", "proj-cm"});
  CHECK(r.pvcs == std::vector<std::string>{"data", "p-scratch"});
}

TEST_CASE("node authorizer: the graph follows pods, their nodes and what they name") {
  NodeGraph g;
  g.AddPod("default", "unbound", Pod("unbound", "", R"("volumes":[{"name":"v","secret":{"secretName":"s"}}])"));
  CHECK_FALSE(g.HasPath("", NodeObject::kSecret, "default", "s"));

  g.AddPod("default", "a", Pod("a", "n1", R"("volumes":[{"name":"v","secret":{"secretName":"shared"}}])"));
  g.AddPod("default", "b", Pod("b", "n1", R"("volumes":[{"name":"v","secret":{"secretName":"shared"}}])"));
  g.AddPod("default", "c", Pod("c", "n2", R"("serviceAccountName":"robot","volumes":[{"name":"v","secret":{"secretName":"only2"}}])"));
  CHECK(g.HasPath("n1", NodeObject::kPod, "default", "a"));
  CHECK_FALSE(g.HasPath("n2", NodeObject::kPod, "default", "a"));
  CHECK(g.HasPath("n1", NodeObject::kSecret, "default", "shared"));
  CHECK_FALSE(g.HasPath("n1", NodeObject::kSecret, "default", "only2"));
  CHECK(g.HasPath("n2", NodeObject::kSecret, "default", "only2"));
  CHECK_FALSE(g.HasPath("n2", NodeObject::kSecret, "other", "only2"));  // namespaced
  CHECK(g.HasPath("n2", NodeObject::kServiceAccount, "default", "robot"));
  CHECK_FALSE(g.HasPath("n2", NodeObject::kSecret, "default", "robot"));  // kinds are apart

  // Two pods name "shared": it stays readable until both are gone.
  g.DeletePod("default", "a");
  CHECK(g.HasPath("n1", NodeObject::kSecret, "default", "shared"));
  g.DeletePod("default", "b");
  CHECK_FALSE(g.HasPath("n1", NodeObject::kSecret, "default", "shared"));

  // A pod recreated under the same name on another node moves its references.
  g.AddPod("default", "c", Pod("c", "n3", R"("volumes":[{"name":"v","secret":{"secretName":"only2"}}])"));
  CHECK_FALSE(g.HasPath("n2", NodeObject::kSecret, "default", "only2"));
  CHECK_FALSE(g.HasPath("n2", NodeObject::kServiceAccount, "default", "robot"));
  CHECK(g.HasPath("n3", NodeObject::kSecret, "default", "only2"));

  // A mirror pod grants its node nothing but itself.
  g.AddPod("default", "m",
           Pod("m", "n1", R"("volumes":[{"name":"v","secret":{"secretName":"mirror"}}])",
               R"({"kubernetes.io/config.mirror":"x"})"));
  CHECK(g.HasPath("n1", NodeObject::kPod, "default", "m"));
  CHECK_FALSE(g.HasPath("n1", NodeObject::kSecret, "default", "mirror"));
}

TEST_CASE("node authorizer: decisions and reasons as upstream's") {
  NodeGraph g;
  g.AddPod("default", "web",
           Pod("web", "n1",
               R"("serviceAccountName":"robot","volumes":[{"name":"v","secret":{"secretName":"s1"}},)"
               R"({"name":"c","configMap":{"name":"cm1"}},{"name":"d","persistentVolumeClaim":{"claimName":"data"}}])"));
  g.AddPod("default", "db",
           Pod("db", "n2", R"("volumes":[{"name":"v","secret":{"secretName":"s2"}}])"));
  NodeAuthorizer authz(&g, NodePolicyRules());
  auto decide = [&](const std::string& node, const std::string& method, const std::string& target) {
    return authz.Authorize(Node(node, method, target));
  };
  const std::string none1 = "no relationship found between node 'n1' and this object";

  // Secrets and ConfigMaps: read one by one when a pod on the node names them.
  CHECK(decide("n1", "GET", "/api/v1/namespaces/default/secrets/s1").allowed);
  CHECK(decide("n1", "GET", "/api/v1/namespaces/default/secrets?fieldSelector=metadata.name%3Ds1&watch=1").allowed);
  Decision d = decide("n1", "GET", "/api/v1/namespaces/default/secrets/s2");
  CHECK_FALSE(d.allowed);
  CHECK(d.reason == none1);
  CHECK(decide("n2", "GET", "/api/v1/namespaces/default/secrets/s2").allowed);
  CHECK(decide("n1", "GET", "/api/v1/namespaces/default/secrets").reason == "No Object name found");
  CHECK(decide("n1", "GET", "/api/v1/secrets?fieldSelector=metadata.name%3Ds1").reason ==
        "can only read namespaced object of this type");
  CHECK(decide("n1", "PUT", "/api/v1/namespaces/default/secrets/s1").reason ==
        "can only read resources of this type");
  CHECK(decide("n1", "GET", "/api/v1/namespaces/default/configmaps/cm1").allowed);
  CHECK(decide("n1", "GET", "/api/v1/namespaces/default/configmaps/other").reason == none1);
  CHECK(decide("n1", "GET", "/api/v1/namespaces/default/persistentvolumeclaims/data").allowed);
  CHECK(decide("n1", "GET", "/api/v1/namespaces/default/persistentvolumeclaims").reason ==
        "can only get individual resources of this type");
  CHECK(decide("n1", "GET", "/api/v1/persistentvolumes/pv").reason == none1);
  // A PersistentVolume: once a claim of the node's pods is bound to it.
  g.SetClaimVolume("default", "data", "pv");
  CHECK(decide("n1", "GET", "/api/v1/persistentvolumes/pv").allowed);
  CHECK(decide("n2", "GET", "/api/v1/persistentvolumes/pv").reason ==
        "no relationship found between node 'n2' and this object");
  CHECK(decide("n1", "GET", "/api/v1/persistentvolumes").reason ==
        "can only get individual resources of this type");
  g.SetClaimVolume("default", "data", "");
  CHECK(decide("n1", "GET", "/api/v1/persistentvolumes/pv").reason == none1);

  // ServiceAccounts: only tokens, only for the accounts of its pods.
  CHECK(decide("n1", "POST", "/api/v1/namespaces/default/serviceaccounts/robot/token").allowed);
  CHECK(decide("n2", "POST", "/api/v1/namespaces/default/serviceaccounts/robot/token").reason ==
        "no relationship found between node 'n2' and this object");
  CHECK(decide("n1", "GET", "/api/v1/namespaces/default/serviceaccounts/robot").reason ==
        "can only create tokens for individual service accounts");

  // Leases: its own, in kube-node-lease (create: NodeRestriction checks the name).
  CHECK(decide("n1", "PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1").allowed);
  CHECK(decide("n1", "POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases").allowed);
  CHECK(decide("n1", "PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n2").reason ==
        "can only access node lease with the same name as the requesting node");
  CHECK(decide("n1", "GET", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/n1").reason ==
        "can only access leases in the \"kube-node-lease\" system namespace");
  CHECK(decide("n1", "GET", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases").reason ==
        "can only get, create, update, patch, or delete a node lease");

  // Nodes: read its own; writes are NodeRestriction's to narrow.
  CHECK(decide("n1", "GET", "/api/v1/nodes/n1").allowed);
  CHECK(decide("n1", "GET", "/api/v1/nodes?fieldSelector=metadata.name%3Dn1").allowed);
  CHECK(decide("n1", "GET", "/api/v1/nodes/n2").reason == "node 'n1' cannot read 'n2', only its own Node object");
  CHECK(decide("n1", "GET", "/api/v1/nodes").reason == "node 'n1' cannot read all nodes, only its own Node object");
  CHECK(decide("n1", "POST", "/api/v1/nodes").allowed);
  CHECK(decide("n1", "PATCH", "/api/v1/nodes/n2/status").allowed);
  CHECK_FALSE(decide("n1", "DELETE", "/api/v1/nodes/n1").allowed);

  // Pods: its own by name, or listed by spec.nodeName=<itself>.
  CHECK(decide("n1", "GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dn1").allowed);
  CHECK(decide("n1", "GET", "/api/v1/pods?fieldSelector=spec.nodeName%3D%3Dn1&watch=true").allowed);
  CHECK(decide("n1", "GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dn2").reason ==
        "can only list/watch pods with spec.nodeName field selector");
  CHECK(decide("n1", "GET", "/api/v1/namespaces/default/pods/web").allowed);
  CHECK(decide("n1", "GET", "/api/v1/namespaces/default/pods/db").reason == none1);
  CHECK(decide("n1", "PATCH", "/api/v1/namespaces/default/pods/db/status").allowed);
  CHECK(decide("n1", "DELETE", "/api/v1/namespaces/default/pods/db").allowed);
  CHECK(decide("n1", "POST", "/api/v1/namespaces/default/pods/db/eviction").allowed);
  CHECK_FALSE(decide("n1", "PUT", "/api/v1/namespaces/default/pods/db").allowed);
  CHECK_FALSE(decide("n1", "POST", "/api/v1/namespaces/default/pods/db/binding").allowed);

  // Everything else: the system:node rules.
  CHECK(decide("n1", "GET", "/api/v1/services?watch=1").allowed);
  CHECK(decide("n1", "POST", "/api/v1/namespaces/default/events").allowed);
  CHECK(decide("n1", "GET", "/api/v1/namespaces/default/endpoints/kubernetes").allowed);
  CHECK(decide("n1", "POST", "/apis/authentication.k8s.io/v1/tokenreviews").allowed);
  Decision other = decide("n1", "GET", "/apis/apps/v1/deployments");
  CHECK_FALSE(other.allowed);
  CHECK(other.reason.empty());

  // Not a node: no opinion.
  http::Request r;
  r.method = "GET";
  REQUIRE(http::ParseTarget("/api/v1/namespaces/default/secrets/s1", &r.path, &r.query));
  r.user = "system:node:n1";
  r.groups = {"system:authenticated"};
  Decision jane = authz.Authorize(RequestAttributes(r));
  CHECK((!jane.allowed && jane.reason.empty()));
  r.user = "system:node:";
  r.groups = kNodeGroups;
  CHECK(authz.Authorize(RequestAttributes(r)).reason == "unknown node for user \"system:node:\"");
}

TEST_CASE("node authorizer: in the chain, before RBAC, with upstream's 403") {
  NodeGraph g;
  g.AddPod("default", "web", Pod("web", "n2", R"("volumes":[{"name":"v","secret":{"secretName":"s"}}])"));
  NodeAuthorizer node(&g, NodePolicyRules());
  RbacCache rbac;
  for (const auto& obj : BootstrapPolicy()) rbac.Apply(obj.resource, "", obj.name, &obj.json);
  Authorizer authz({kModeNode, kModeRbac}, &rbac, &node);
  Attributes a = Node("n1", "GET", "/api/v1/namespaces/default/secrets/s");
  Decision d = authz.Authorize(a);
  REQUIRE_FALSE(d.allowed);
  CHECK(ForbiddenStatus(a, d.reason).message() ==
        "secrets \"s\" is forbidden: User \"system:node:n1\" cannot get resource \"secrets\" in API "
        "group \"\" in the namespace \"default\": no relationship found between node 'n1' and this "
        "object");
  CHECK(authz.Authorize(Node("n2", "GET", "/api/v1/namespaces/default/secrets/s")).allowed);
  // What RBAC gives every authenticated user still holds for nodes.
  CHECK(authz.Authorize(Node("n1", "GET", "/apis")).allowed);
  // Rules reviews: incomplete for nodes, as upstream.
  RulesResult rules = authz.RulesFor("system:node:n1", kNodeGroups, "default");
  CHECK(rules.errors == std::vector<std::string>{"node authorizer does not support user rule resolution"});
  CHECK(authz.RulesFor("jane", {"system:authenticated"}, "default").errors.empty());
}

TEST_CASE("node authorizer: the bootstrap policy binds system:node to nobody") {
  bool found = false;
  for (const auto& obj : BootstrapPolicy()) {
    if (obj.name != "system:node") continue;
    auto doc = Json(obj.json);
    if (obj.resource == "clusterrolebindings.rbac.authorization.k8s.io") {
      found = true;
      CHECK(api::FindMember(doc, "subjects") == nullptr);
      CHECK(api::GetString(doc, "roleRef.name") == "system:node");
    } else {
      // The role's rules are the ones the Node authorizer applies.
      auto rules = ParsePolicyRules(api::FindMember(doc, "rules"));
      auto mine = NodePolicyRules();
      REQUIRE(rules.size() == mine.size());
      for (size_t i = 0; i < rules.size(); ++i) {
        CHECK(rules[i].verbs == mine[i].verbs);
        CHECK(rules[i].resources == mine[i].resources);
        CHECK(rules[i].api_groups == mine[i].api_groups);
      }
    }
  }
  CHECK(found);
}

// Real storage: a pod bound by a write is in the graph when the write is acknowledged.
TEST_CASE("node authorizer: the graph follows the storage") {
  auto dir = std::filesystem::temp_directory_path() / ("kubepp-nodegraph-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    SqliteOptions o;
    o.path = (dir / "db.sqlite").string();
    auto s = OpenSqliteStorage(o);
    REQUIRE(s.ok());
    auto write = [&](Write::Kind kind, const std::string& name, api::Document doc) {
      Write w;
      w.kind = kind;
      w.resource = "pods";
      w.ns = "default";
      w.name = name;
      w.object = std::move(doc);
      REQUIRE((*s)->SubmitAndWait(std::move(w)).ok());
    };
    const std::string vol = R"("volumes":[{"name":"v","secret":{"secretName":"s"}}])";
    write(Write::Kind::kCreate, "early", Pod("early", "n1", vol));  // before Subscribe
    NodeGraph g;
    REQUIRE(g.Subscribe(s->get()).ok());
    CHECK(g.HasPath("n1", NodeObject::kPod, "default", "early"));
    write(Write::Kind::kCreate, "late", Pod("late", "", R"("volumes":[{"name":"v","secret":{"secretName":"t"}}])"));
    CHECK_FALSE(g.HasPath("n2", NodeObject::kSecret, "default", "t"));
    write(Write::Kind::kUpdate, "late", Pod("late", "n2", R"("volumes":[{"name":"v","secret":{"secretName":"t"}}])"));
    CHECK(g.HasPath("n2", NodeObject::kSecret, "default", "t"));
    write(Write::Kind::kDelete, "late", api::Document());
    CHECK_FALSE(g.HasPath("n2", NodeObject::kSecret, "default", "t"));
    CHECK(g.HasPath("n1", NodeObject::kSecret, "default", "s"));
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kubepp::apiserver
