#include "apiserver/node_restriction.h"

#include <catch2/catch.hpp>
#include <map>
#include <memory>

#include "common/testing/json.h"

namespace kubepp::apiserver {
namespace {

using testing::Json;

// A fake store of the objects admission looks up.
struct Store {
  std::map<std::tuple<std::string, std::string, std::string>, ObjectPtr> objects;
  void Put(const std::string& resource, const std::string& ns, const std::string& name,
           const std::string& json) {
    auto o = std::make_shared<StoredObject>();
    o->resource = resource;
    o->ns = ns;
    o->name = name;
    o->json = json;
    objects[{resource, ns, name}] = o;
  }
  AdmissionGetter Getter() const {
    return [this](const std::string& r, const std::string& ns, const std::string& n) -> ObjectPtr {
      auto it = objects.find({r, ns, n});
      return it == objects.end() ? nullptr : it->second;
    };
  }
};

AdmissionAttributes As(const std::string& node, AdmissionOperation op, const std::string& group,
                       const std::string& resource, const std::string& sub, const std::string& ns,
                       const std::string& name) {
  AdmissionAttributes a;
  a.user = "system:node:" + node;
  a.groups = {"system:nodes", "system:authenticated"};
  a.operation = op;
  a.api_group = group;
  a.resource = resource;
  a.subresource = sub;
  a.ns = ns;
  a.name = name;
  return a;
}

using Op = AdmissionOperation;

TEST_CASE("node restriction: other users pass") {
  Store store;
  AdmissionAttributes a = As("n1", Op::kDelete, "", "nodes", "", "", "n2");
  a.user = "jane";
  a.groups = {"system:authenticated"};
  CHECK(AdmitNodeRestriction(a, store.Getter()).ok());
  a.user = "system:node:";
  a.groups = {"system:nodes"};
  Status st = AdmitNodeRestriction(a, store.Getter());
  CHECK(st.code() == Code::kForbidden);
  CHECK(st.message() == "nodes \"n2\" is forbidden: could not determine node from user \"system:node:\"");
}

TEST_CASE("node restriction: pods") {
  Store store;
  store.Put("pods", "default", "mine", R"({"metadata":{"name":"mine","uid":"u1","labels":{"a":"b"}},"spec":{"nodeName":"n1"}})");
  store.Put("pods", "default", "theirs", R"({"metadata":{"name":"theirs","uid":"u2"},"spec":{"nodeName":"n2"}})");
  store.Put("nodes", "", "n1", R"({"metadata":{"name":"n1","uid":"node-uid"}})");
  auto admit = [&](const AdmissionAttributes& a) { return AdmitNodeRestriction(a, store.Getter()); };

  // Delete and evict: only its own pods.
  CHECK(admit(As("n1", Op::kDelete, "", "pods", "", "default", "mine")).ok());
  Status st = admit(As("n1", Op::kDelete, "", "pods", "", "default", "theirs"));
  CHECK(st.message() == "pods \"theirs\" is forbidden: node \"n1\" can only delete pods with spec.nodeName set to itself");
  CHECK(admit(As("n1", Op::kDelete, "", "pods", "", "default", "ghost")).code() == Code::kNotFound);
  CHECK(admit(As("n1", Op::kCreate, "", "pods", "eviction", "default", "mine")).ok());
  CHECK(admit(As("n1", Op::kCreate, "", "pods", "eviction", "default", "theirs")).message() ==
        "pods \"theirs\" is forbidden: node n1 can only evict pods with spec.nodeName set to itself");

  // Status: only of its own pods, labels untouched.
  auto old_mine = Json(store.objects.at({"pods", "default", "mine"})->json);
  auto new_mine = Json(R"({"metadata":{"name":"mine","labels":{"a":"b"}},"spec":{"nodeName":"n1"},"status":{"phase":"Running"}})");
  AdmissionAttributes status = As("n1", Op::kUpdate, "", "pods", "status", "default", "mine");
  status.old_object = &old_mine;
  status.object = &new_mine;
  CHECK(admit(status).ok());
  auto relabelled = Json(R"({"metadata":{"name":"mine","labels":{"a":"c"}},"spec":{"nodeName":"n1"}})");
  status.object = &relabelled;
  CHECK(admit(status).message() == "pods \"mine\" is forbidden: node \"n1\" cannot update labels through pod status");
  auto old_theirs = Json(store.objects.at({"pods", "default", "theirs"})->json);
  AdmissionAttributes status2 = As("n1", Op::kUpdate, "", "pods", "status", "default", "theirs");
  status2.old_object = &old_theirs;
  status2.object = &old_theirs;
  CHECK(admit(status2).message() ==
        "pods \"theirs\" is forbidden: node \"n1\" can only update pod status for pods with spec.nodeName set to itself");

  // No updates of the pod itself, no other subresources.
  AdmissionAttributes update = As("n1", Op::kUpdate, "", "pods", "", "default", "mine");
  update.old_object = &old_mine;
  update.object = &new_mine;
  CHECK(admit(update).message() ==
        "pods \"mine\" is forbidden: unexpected operation \"UPDATE\", node \"n1\" can only create and delete mirror pods");
  CHECK(admit(As("n1", Op::kCreate, "", "pods", "binding", "default", "mine")).message() ==
        "pods \"mine\" is forbidden: unexpected pod subresource \"binding\", only 'status' and 'eviction' are allowed");

  // Create: mirror pods bound to itself, owned by its Node, naming nothing.
  auto create = [&](const std::string& json) {
    auto pod = std::make_shared<api::Document>(Json(json));
    AdmissionAttributes a = As("n1", Op::kCreate, "", "pods", "", "default", "static-n1");
    a.object = pod.get();
    return admit(a).message();
  };
  const std::string mirror = R"("annotations":{"kubernetes.io/config.mirror":"hash"})";
  const std::string owner = R"("ownerReferences":[{"apiVersion":"v1","kind":"Node","name":"n1","uid":"node-uid","controller":true}])";
  CHECK(create(R"({"metadata":{"name":"static-n1"},"spec":{"nodeName":"n1"}})") ==
        "pods \"static-n1\" is forbidden: pod does not have \"kubernetes.io/config.mirror\" annotation, node \"n1\" can only create mirror pods");
  CHECK(create(R"({"metadata":{)" + mirror + "," + owner + R"(},"spec":{"nodeName":"n2"}})") ==
        "pods \"static-n1\" is forbidden: node \"n1\" can only create pods with spec.nodeName set to itself");
  CHECK(create(R"({"metadata":{)" + mirror + R"(},"spec":{"nodeName":"n1"}})") ==
        "pods \"static-n1\" is forbidden: node \"n1\" can only create pods with an owner reference set to itself");
  CHECK(create(R"({"metadata":{)" + mirror +
               R"(,"ownerReferences":[{"apiVersion":"v1","kind":"Node","name":"n1","uid":"node-uid"}]},"spec":{"nodeName":"n1"}})") ==
        "pods \"static-n1\" is forbidden: node \"n1\" can only create pods with a controller owner reference set to itself");
  CHECK(create(R"({"metadata":{)" + mirror +
               R"(,"ownerReferences":[{"apiVersion":"v1","kind":"Node","name":"n1","uid":"old","controller":true}]},"spec":{"nodeName":"n1"}})") ==
        "pods \"static-n1\" is forbidden: node n1 UID mismatch: expected old got node-uid");
  CHECK(create(R"({"metadata":{)" + mirror + "," + owner +
               R"(},"spec":{"nodeName":"n1","serviceAccountName":"default"}})") ==
        "pods \"static-n1\" is forbidden: node \"n1\" can not create pods that reference a service account");
  CHECK(create(R"({"metadata":{)" + mirror + "," + owner +
               R"(},"spec":{"nodeName":"n1","volumes":[{"name":"v","secret":{"secretName":"s"}}]}})") ==
        "pods \"static-n1\" is forbidden: node \"n1\" can not create pods that reference secrets");
  CHECK(create(R"({"metadata":{)" + mirror + "," + owner +
               R"(},"spec":{"nodeName":"n1","containers":[{"name":"c","envFrom":[{"configMapRef":{"name":"c"}}]}]}})") ==
        "pods \"static-n1\" is forbidden: node \"n1\" can not create pods that reference configmaps");
  CHECK(create(R"({"metadata":{)" + mirror + "," + owner +
               R"(},"spec":{"nodeName":"n1","volumes":[{"name":"v","persistentVolumeClaim":{"claimName":"d"}}]}})") ==
        "pods \"static-n1\" is forbidden: node \"n1\" can not create pods that reference persistentvolumeclaims");
  CHECK(create(R"({"metadata":{)" + mirror + "," + owner +
               R"(},"spec":{"nodeName":"n1","containers":[{"name":"c","image":"busybox"}]}})") == "");
}

TEST_CASE("node restriction: nodes") {
  Store store;
  auto admit = [&](const AdmissionAttributes& a) { return AdmitNodeRestriction(a, store.Getter()); };
  CHECK(admit(As("n1", Op::kDelete, "", "nodes", "", "", "n2")).message() ==
        "nodes \"n2\" is forbidden: node \"n1\" is not allowed to modify node \"n2\"");
  CHECK(admit(As("n1", Op::kDelete, "", "nodes", "", "", "n1")).ok());

  auto create = [&](const std::string& labels) {
    auto node = Json(R"({"metadata":{"name":"n1","labels":)" + labels + "}}");
    AdmissionAttributes a = As("n1", Op::kCreate, "", "nodes", "", "", "n1");
    a.object = &node;
    return admit(a).message();
  };
  CHECK(create(R"({"kubernetes.io/hostname":"n1","kubernetes.io/os":"linux","tier":"e2e",)"
               R"("node.kubernetes.io/instance-type":"big","x.kubelet.kubernetes.io/y":"z"})") == "");
  CHECK(create(R"({"node-role.kubernetes.io/control-plane":"","node-restriction.kubernetes.io/pci":"yes","example.com/ok":"1"})") ==
        "nodes \"n1\" is forbidden: node \"n1\" is not allowed to set the following labels: "
        "node-restriction.kubernetes.io/pci, node-role.kubernetes.io/control-plane");

  auto old_node = Json(R"({"metadata":{"name":"n1","labels":{"a":"1"}},"spec":{"taints":[{"key":"k","effect":"NoSchedule"}]}})");
  auto update = [&](const std::string& json, const std::string& sub = "") {
    auto node = Json(json);
    AdmissionAttributes a = As("n1", Op::kUpdate, "", "nodes", sub, "", "n1");
    a.object = &node;
    a.old_object = &old_node;
    return admit(a).message();
  };
  CHECK(update(R"({"metadata":{"name":"n1","labels":{"a":"2"}},"spec":{"taints":[{"key":"k","effect":"NoSchedule"}]}})") == "");
  CHECK(update(R"({"metadata":{"name":"n1","labels":{"a":"1"}},"spec":{"taints":[{"key":"k","effect":"NoSchedule"}]},"status":{"phase":"x"}})", "status") == "");
  CHECK(update(R"({"metadata":{"name":"n1","labels":{"a":"1"}},"spec":{}})") ==
        "nodes \"n1\" is forbidden: node \"n1\" is not allowed to modify taints");
  CHECK(update(R"({"metadata":{"name":"n1","labels":{"a":"1","kubernetes.io/role":"x"}},"spec":{"taints":[{"key":"k","effect":"NoSchedule"}]}})") ==
        "nodes \"n1\" is forbidden: is not allowed to modify labels: kubernetes.io/role");
  CHECK(update(R"({"metadata":{"name":"n1","labels":{"a":"1"}},"spec":{"configSource":{"configMap":{}},"taints":[{"key":"k","effect":"NoSchedule"}]}})") ==
        "nodes \"n1\" is forbidden: node \"n1\" is not allowed to update configSource to a new non-nil configSource");
  // Nil and empty taint lists are the same.
  auto untainted = Json(R"({"metadata":{"name":"n1"},"spec":{}})");
  auto empty_taints = Json(R"({"metadata":{"name":"n1"},"spec":{"taints":[]}})");
  AdmissionAttributes a = As("n1", Op::kUpdate, "", "nodes", "", "", "n1");
  a.old_object = &untainted;
  a.object = &empty_taints;
  CHECK(admit(a).ok());
}

TEST_CASE("node restriction: service account tokens and leases") {
  Store store;
  store.Put("pods", "default", "mine", R"({"metadata":{"name":"mine","uid":"u1"},"spec":{"nodeName":"n1"}})");
  store.Put("pods", "default", "theirs", R"({"metadata":{"name":"theirs","uid":"u2"},"spec":{"nodeName":"n2"}})");
  auto admit = [&](const AdmissionAttributes& a) { return AdmitNodeRestriction(a, store.Getter()); };
  auto token = [&](const std::string& ref) {
    auto tr = Json(R"({"spec":{"audiences":["x"])" + (ref.empty() ? "" : R"(,"boundObjectRef":)" + ref) + "}}");
    AdmissionAttributes a = As("n1", Op::kCreate, "", "serviceaccounts", "token", "default", "robot");
    a.object = &tr;
    return admit(a);
  };
  const std::string prefix = "serviceaccounts \"robot\" is forbidden: ";
  CHECK(token(R"({"apiVersion":"v1","kind":"Pod","name":"mine","uid":"u1"})").ok());
  CHECK(token("").message() == prefix + "node requested token not bound to a pod");
  CHECK(token(R"({"apiVersion":"v1","kind":"Secret","name":"s","uid":"x"})").message() ==
        prefix + "node requested token not bound to a pod");
  CHECK(token(R"({"apiVersion":"v1","kind":"Pod","name":"mine"})").message() ==
        prefix + "node requested token with a pod binding without a uid");
  CHECK(token(R"({"apiVersion":"v1","kind":"Pod","name":"mine","uid":"old"})").message() ==
        prefix + "the UID in the bound object reference (old) does not match the UID in record. "
                 "The object might have been deleted and then recreated");
  CHECK(token(R"({"apiVersion":"v1","kind":"Pod","name":"theirs","uid":"u2"})").message() ==
        prefix + "node requested token bound to a pod scheduled on a different node");
  CHECK(token(R"({"apiVersion":"v1","kind":"Pod","name":"ghost","uid":"u3"})").code() == Code::kNotFound);
  // Reading a service account is not a write: nothing to check here.
  CHECK(admit(As("n1", Op::kDelete, "", "serviceaccounts", "", "default", "robot")).ok());

  const std::string lease_prefix = "leases.coordination.k8s.io \"n2\" is forbidden: ";
  CHECK(admit(As("n1", Op::kCreate, "coordination.k8s.io", "leases", "", "kube-node-lease", "n1")).ok());
  CHECK(admit(As("n1", Op::kUpdate, "coordination.k8s.io", "leases", "", "kube-node-lease", "n2")).message() ==
        lease_prefix + "can only access node lease with the same name as the requesting node");
  CHECK(admit(As("n1", Op::kCreate, "coordination.k8s.io", "leases", "", "default", "n2")).message() ==
        lease_prefix + "can only access leases in the \"kube-node-lease\" system namespace");
  // Events and everything else: not this plugin's business.
  CHECK(admit(As("n1", Op::kCreate, "", "events", "", "default", "e")).ok());
}

}  // namespace
}  // namespace kubepp::apiserver
