#include "apiserver/admission.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

#include "common/testing/json.h"

namespace kubepp::apiserver {
namespace {

const ResourceInfo& Res(std::string_view plural) {
  for (const ResourceInfo& r : AllResources()) {
    if (r.plural == plural) return r;
  }
  std::abort();
}

using testing::Json;

api::Document Defaulted(std::string_view plural, std::string_view json) {
  api::Document d = Json(json);
  ApplyDefaults(Res(plural), d);
  return d;
}

// Defaults then validates, as the apiserver does on create.
Status Create(std::string_view plural, std::string_view json) {
  api::Document d = Defaulted(plural, json);
  return ValidateCreate(Res(plural), d);
}

Status Update(std::string_view plural, std::string_view new_json, std::string_view old_json) {
  api::Document now = Defaulted(plural, new_json);
  api::Document old = Defaulted(plural, old_json);
  return ValidateUpdate(Res(plural), now, old);
}

// "type field: message" per cause, for readable failures.
std::string Causes(const Status& st) {
  std::string out;
  if (st.details() == nullptr) return st.message();
  for (const Cause& c : st.details()->causes)
    out += c.type + " " + c.field + ": " + c.message + "\n";
  return out;
}

bool HasCause(const Status& st, std::string_view field, std::string_view type,
              std::string_view message_part = "") {
  if (st.details() == nullptr) return false;
  for (const Cause& c : st.details()->causes) {
    if (c.field == field && c.type == type && c.message.find(message_part) != std::string::npos) {
      return true;
    }
  }
  return false;
}

#define REQUIRE_CAUSE(st, ...)          \
  do {                                  \
    INFO(Causes(st));                   \
    REQUIRE(HasCause(st, __VA_ARGS__)); \
  } while (0)
#define REQUIRE_OK(st) \
  do {                 \
    Status _s = (st);  \
    INFO(Causes(_s));  \
    REQUIRE(_s.ok());  \
  } while (0)

constexpr const char* kPod = R"({"apiVersion":"v1","kind":"Pod",
  "metadata":{"name":"p","namespace":"default"},
  "spec":{"containers":[{"name":"c","image":"nginx"}]}})";

constexpr const char* kDeployment = R"({"apiVersion":"apps/v1","kind":"Deployment",
  "metadata":{"name":"web","namespace":"default"},
  "spec":{"selector":{"matchLabels":{"app":"web"}},
          "template":{"metadata":{"labels":{"app":"web"}},
                      "spec":{"containers":[{"name":"c","image":"nginx:1.25"}]}}}})";

constexpr const char* kService = R"({"apiVersion":"v1","kind":"Service",
  "metadata":{"name":"svc","namespace":"default"},
  "spec":{"selector":{"app":"web"},"ports":[{"port":80}]}})";

constexpr const char* kJob = R"({"apiVersion":"batch/v1","kind":"Job",
  "metadata":{"name":"j","namespace":"default"},
  "spec":{"template":{"spec":{"restartPolicy":"OnFailure",
                              "containers":[{"name":"c","image":"busybox"}]}}}})";

// ---------------------------------------------------------------------------------------

TEST_CASE("a minimal pod gets upstream's defaults") {
  api::Document d = Defaulted("pods", kPod);
  REQUIRE(api::GetString(d, "spec.restartPolicy") == "Always");
  REQUIRE(api::GetString(d, "spec.dnsPolicy") == "ClusterFirst");
  REQUIRE(api::GetString(d, "spec.schedulerName") == "default-scheduler");
  REQUIRE(api::GetInt(d, "spec.terminationGracePeriodSeconds") == 30);
  REQUIRE(api::Find(d, "spec.securityContext")->IsObject());
  REQUIRE(api::GetBool(d, "spec.enableServiceLinks"));
  REQUIRE(api::GetInt(d, "spec.priority", -1) == 0);
  REQUIRE(api::GetString(d, "spec.preemptionPolicy") == "PreemptLowerPriority");
  REQUIRE(api::GetString(d, "spec.serviceAccountName") == "default");
  REQUIRE(api::GetString(d, "spec.serviceAccount") == "default");
  const api::Value& c = (*api::Find(d, "spec.containers"))[0];
  REQUIRE(api::GetString(c, "imagePullPolicy") == "Always");  // no tag means :latest
  REQUIRE(api::GetString(c, "terminationMessagePath") == "/dev/termination-log");
  REQUIRE(api::GetString(c, "terminationMessagePolicy") == "File");
  REQUIRE(api::Find(c, "resources")->IsObject());

  const api::Value& tols = *api::Find(d, "spec.tolerations");
  REQUIRE(tols.Size() == 2);
  REQUIRE(api::ToJson(tols[0]) ==
          R"({"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute",)"
          R"("tolerationSeconds":300})");
  REQUIRE(api::GetString(tols[1], "key") == "node.kubernetes.io/unreachable");
  // Status is the strategy's business, on create only.
  REQUIRE_FALSE(api::Has(d, "status"));
  REQUIRE_OK(ValidateCreate(Res("pods"), d));

  SECTION("defaulting twice changes nothing") {
    std::string once = api::ToJson(d);
    ApplyDefaults(Res("pods"), d);
    REQUIRE(api::ToJson(d) == once);
  }
}

TEST_CASE("container defaults: pull policy, ports, probes, requests from limits") {
  api::Document d = Defaulted("pods", R"({"metadata":{"name":"p","namespace":"n"},"spec":{
    "containers":[
      {"name":"a","image":"nginx:1.25","ports":[{"containerPort":80}],
       "livenessProbe":{"httpGet":{"port":80}},
       "resources":{"limits":{"cpu":"500m","memory":"128Mi"},"requests":{"cpu":"100m"}}},
      {"name":"b","image":"nginx:latest","imagePullPolicy":"Never"},
      {"name":"c","image":"localhost:5000/app"},
      {"name":"d","image":"nginx@sha256:abc"}]}})");
  const api::Value& cs = *api::Find(d, "spec.containers");
  REQUIRE(api::GetString(cs[0], "imagePullPolicy") == "IfNotPresent");
  REQUIRE(api::GetString(cs[1], "imagePullPolicy") == "Never");
  REQUIRE(api::GetString(cs[2], "imagePullPolicy") == "Always");  // registry port is no tag
  REQUIRE(api::GetString(cs[3], "imagePullPolicy") == "IfNotPresent");
  REQUIRE(api::GetString((*api::Find(cs[0], "ports"))[0], "protocol") == "TCP");
  REQUIRE(api::ToJson(*api::Find(cs[0], "livenessProbe")) ==
          R"({"httpGet":{"port":80,"path":"/","scheme":"HTTP"},"timeoutSeconds":1,)"
          R"("periodSeconds":10,"successThreshold":1,"failureThreshold":3})");
  REQUIRE(api::GetString(cs[0], "resources.requests.cpu") == "100m");      // kept
  REQUIRE(api::GetString(cs[0], "resources.requests.memory") == "128Mi");  // from limits
}

TEST_CASE("default tolerations are not added twice") {
  api::Document d = Defaulted("pods", R"({"metadata":{"name":"p","namespace":"n"},"spec":{
    "containers":[{"name":"a","image":"x"}],
    "tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists",
                    "effect":"NoExecute","tolerationSeconds":5}]}})");
  const api::Value& tols = *api::Find(d, "spec.tolerations");
  REQUIRE(tols.Size() == 2);
  REQUIRE(api::GetInt(tols[0], "tolerationSeconds") == 5);
  REQUIRE(api::GetString(tols[1], "key") == "node.kubernetes.io/unreachable");
}

TEST_CASE("a minimal deployment gets upstream's defaults, its template no pod-only ones") {
  api::Document d = Defaulted("deployments", kDeployment);
  REQUIRE(api::GetInt(d, "spec.replicas") == 1);
  REQUIRE(api::ToJson(*api::Find(d, "spec.strategy")) ==
          R"({"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%","maxSurge":"25%"}})");
  REQUIRE(api::GetInt(d, "spec.revisionHistoryLimit") == 10);
  REQUIRE(api::GetInt(d, "spec.progressDeadlineSeconds") == 600);
  REQUIRE(api::GetString(d, "spec.template.spec.restartPolicy") == "Always");
  REQUIRE(api::GetString(d, "spec.template.spec.dnsPolicy") == "ClusterFirst");
  REQUIRE(api::GetInt(d, "spec.template.spec.terminationGracePeriodSeconds") == 30);
  const api::Value& c = (*api::Find(d, "spec.template.spec.containers"))[0];
  REQUIRE(api::GetString(c, "imagePullPolicy") == "IfNotPresent");
  REQUIRE_FALSE(api::Has(d, "spec.template.spec.tolerations"));
  REQUIRE_FALSE(api::Has(d, "spec.template.spec.enableServiceLinks"));
  REQUIRE_FALSE(api::Has(d, "spec.template.spec.priority"));
  REQUIRE_FALSE(api::Has(d, "spec.template.spec.serviceAccountName"));
  REQUIRE_FALSE(api::Has(d, "spec.selector.matchExpressions"));
  REQUIRE_FALSE(api::Has(d, "status"));
  REQUIRE_OK(ValidateCreate(Res("deployments"), d));
}

TEST_CASE("other workloads' defaults") {
  SECTION("replicaset") {
    api::Document d = Defaulted("replicasets", R"({"spec":{"template":{"spec":{}}}})");
    REQUIRE(api::GetInt(d, "spec.replicas") == 1);
  }
  SECTION("daemonset") {
    api::Document d = Defaulted("daemonsets", R"({"spec":{}})");
    REQUIRE(api::ToJson(*api::Find(d, "spec.updateStrategy")) ==
            R"({"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1,"maxSurge":0}})");
    REQUIRE(api::GetInt(d, "spec.revisionHistoryLimit") == 10);
    REQUIRE(api::GetString(d, "spec.template.spec.restartPolicy") == "Always");
  }
  SECTION("statefulset") {
    api::Document d = Defaulted("statefulsets", R"({"spec":{
      "volumeClaimTemplates":[{"metadata":{"name":"data"},"spec":{}}]}})");
    REQUIRE(api::GetInt(d, "spec.replicas") == 1);
    REQUIRE(api::GetString(d, "spec.podManagementPolicy") == "OrderedReady");
    REQUIRE(api::ToJson(*api::Find(d, "spec.updateStrategy")) ==
            R"({"type":"RollingUpdate","rollingUpdate":{"partition":0}})");
    REQUIRE(api::GetInt(d, "spec.revisionHistoryLimit") == 10);
    REQUIRE(api::GetString(d, "spec.persistentVolumeClaimRetentionPolicy.whenDeleted") == "Retain");
    const api::Value& claim = (*api::Find(d, "spec.volumeClaimTemplates"))[0];
    REQUIRE(api::GetString(claim, "spec.volumeMode") == "Filesystem");
    REQUIRE(api::GetString(claim, "status.phase") == "Pending");
  }
  SECTION("statefulset OnDelete gets no rollingUpdate") {
    api::Document d =
        Defaulted("statefulsets", R"({"spec":{"updateStrategy":{"type":"OnDelete"}}})");
    REQUIRE(api::ToJson(*api::Find(d, "spec.updateStrategy")) == R"({"type":"OnDelete"})");
  }
  SECTION("cronjob") {
    api::Document d = Defaulted("cronjobs", R"({"spec":{"schedule":"* * * * *",
      "jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"x"}]}}}}}})");
    REQUIRE(api::GetString(d, "spec.concurrencyPolicy") == "Allow");
    REQUIRE(api::Find(d, "spec.suspend")->IsFalse());
    REQUIRE(api::GetInt(d, "spec.successfulJobsHistoryLimit") == 3);
    REQUIRE(api::GetInt(d, "spec.failedJobsHistoryLimit") == 1);
    REQUIRE(api::GetString(d, "spec.jobTemplate.spec.template.spec.dnsPolicy") == "ClusterFirst");
    REQUIRE_FALSE(api::Has(d, "spec.jobTemplate.spec.backoffLimit"));  // not a Job
  }
}

TEST_CASE("a minimal job gets upstream's defaults and keeps its restartPolicy") {
  api::Document d = Defaulted("jobs", kJob);
  REQUIRE(api::GetInt(d, "spec.parallelism") == 1);
  REQUIRE(api::GetInt(d, "spec.completions") == 1);
  REQUIRE(api::GetInt(d, "spec.backoffLimit") == 6);
  REQUIRE(api::GetString(d, "spec.completionMode") == "NonIndexed");
  REQUIRE(api::Find(d, "spec.suspend")->IsFalse());
  REQUIRE(api::GetString(d, "spec.podReplacementPolicy") == "TerminatingOrFailed");
  REQUIRE(api::GetString(d, "spec.template.spec.restartPolicy") == "OnFailure");
  REQUIRE_OK(ValidateCreate(Res("jobs"), d));

  SECTION("completions stay unset when only parallelism is given") {
    api::Document p = Defaulted("jobs", R"({"spec":{"parallelism":3}})");
    REQUIRE_FALSE(api::Has(p, "spec.completions"));
    REQUIRE(api::GetInt(p, "spec.parallelism") == 3);
  }
  SECTION("a job without restartPolicy is rejected as upstream does") {
    Status st = Create("jobs", R"({"metadata":{"name":"j","namespace":"default"},
      "spec":{"template":{"spec":{"containers":[{"name":"c","image":"busybox"}]}}}})");
    REQUIRE(st.message() == R"(Job.batch "j" is invalid: spec.template.spec.restartPolicy: )"
                            R"(Required value: valid values: "OnFailure", "Never")");
  }
  SECTION("template labels become the job's labels") {
    api::Document l = Defaulted("jobs", R"({"metadata":{"name":"j"},
      "spec":{"template":{"metadata":{"labels":{"a":"b"}}}}})");
    REQUIRE(api::GetString(l, "metadata.labels.a") == "b");
  }
}

TEST_CASE("a minimal service gets upstream's defaults") {
  api::Document d = Defaulted("services", kService);
  REQUIRE(api::GetString(d, "spec.type") == "ClusterIP");
  REQUIRE(api::GetString(d, "spec.sessionAffinity") == "None");
  REQUIRE(api::ToJson((*api::Find(d, "spec.ports"))[0]) ==
          R"({"port":80,"protocol":"TCP","targetPort":80})");
  REQUIRE(api::GetString(d, "spec.ipFamilyPolicy") == "SingleStack");
  REQUIRE(api::ToJson(*api::Find(d, "spec.ipFamilies")) == R"(["IPv4"])");
  REQUIRE(api::GetString(d, "spec.internalTrafficPolicy") == "Cluster");
  REQUIRE_FALSE(api::Has(d, "spec.externalTrafficPolicy"));
  REQUIRE_OK(ValidateCreate(Res("services"), d));

  SECTION("NodePort gets externalTrafficPolicy") {
    api::Document n =
        Defaulted("services", R"({"spec":{"type":"NodePort","ports":[{"port":80}]}})");
    REQUIRE(api::GetString(n, "spec.externalTrafficPolicy") == "Cluster");
  }
  SECTION("ExternalName gets no IP families") {
    api::Document e =
        Defaulted("services", R"({"spec":{"type":"ExternalName","externalName":"x.org"}})");
    REQUIRE_FALSE(api::Has(e, "spec.ipFamilies"));
    REQUIRE_FALSE(api::Has(e, "spec.internalTrafficPolicy"));
  }
  SECTION("ClientIP affinity gets its timeout") {
    api::Document c = Defaulted("services", R"({"spec":{"sessionAffinity":"ClientIP"}})");
    REQUIRE(api::GetInt(c, "spec.sessionAffinityConfig.clientIP.timeoutSeconds") == 10800);
  }
}

TEST_CASE("namespace, secret and node defaults") {
  api::Document ns = Defaulted("namespaces", R"({"metadata":{"name":"team-a"}})");
  REQUIRE(api::GetStringMap(ns, "metadata.labels").at("kubernetes.io/metadata.name") == "team-a");
  REQUIRE(api::GetString(ns, "status.phase") == "Active");

  api::Document secret = Defaulted("secrets", R"({"stringData":{"user":"admin","k":"ab"}})");
  REQUIRE(api::GetString(secret, "type") == "Opaque");
  REQUIRE(api::GetString(secret, "data.user") == "YWRtaW4=");
  REQUIRE(api::GetString(secret, "data.k") == "YWI=");
  REQUIRE_FALSE(api::Has(secret, "stringData"));

  api::Document node = Defaulted("nodes", R"({"status":{"capacity":{"cpu":"4"}}})");
  REQUIRE(api::GetString(node, "status.allocatable.cpu") == "4");
}

TEST_CASE("PrepareForCreate resets status and fills strategy-owned fields") {
  SECTION("pod: Pending with its QoS class") {
    api::Document d = Defaulted("pods", R"({"metadata":{"name":"p","namespace":"n"},
      "spec":{"containers":[{"name":"c","image":"x",
        "resources":{"limits":{"cpu":"1","memory":"1Gi"}}}]},
      "status":{"phase":"Running"}})");
    PrepareForCreate(Res("pods"), d);
    REQUIRE(api::ToJson(*api::Find(d, "status")) ==
            R"({"phase":"Pending","qosClass":"Guaranteed"})");
    api::Document n = Defaulted("pods", R"({"metadata":{"name":"p","namespace":"n"},
      "spec":{"containers":[{"name":"c","image":"x","resources":{"requests":{"cpu":1}}}]}})");
    PrepareForCreate(Res("pods"), n);
    REQUIRE(api::GetString(n, "status.qosClass") == "Burstable");
    api::Document b = Defaulted("pods", kPod);
    PrepareForCreate(Res("pods"), b);
    REQUIRE(api::GetString(b, "status.qosClass") == "BestEffort");
  }
  SECTION("namespace: kubernetes finalizer and Active") {
    api::Document d =
        Defaulted("namespaces", R"({"metadata":{"name":"x"},"spec":{"finalizers":["a.io/b"]}})");
    PrepareForCreate(Res("namespaces"), d);
    REQUIRE(api::ToJson(*api::Find(d, "spec.finalizers")) == R"(["a.io/b","kubernetes"])");
    REQUIRE(api::GetString(d, "status.phase") == "Active");
  }
  SECTION("job: selector and labels from the uid") {
    api::Document d = Defaulted("jobs", kJob);
    api::SetString(d, "metadata.uid", "u-1", d.GetAllocator());
    PrepareForCreate(Res("jobs"), d);
    REQUIRE(api::GetStringMap(d, "spec.selector.matchLabels") ==
            std::map<std::string, std::string>{{"batch.kubernetes.io/controller-uid", "u-1"}});
    auto labels = api::GetStringMap(d, "spec.template.metadata.labels");
    REQUIRE(labels.at("batch.kubernetes.io/job-name") == "j");
    REQUIRE(labels.at("controller-uid") == "u-1");
    REQUIRE_OK(ValidateUpdate(Res("jobs"), d, d));
  }
  SECTION("deployment: status dropped") {
    api::Document d = Defaulted("deployments", kDeployment);
    api::SetInt(d, "status.replicas", 3, d.GetAllocator());
    PrepareForCreate(Res("deployments"), d);
    REQUIRE_FALSE(api::Has(d, "status"));
  }
}

// ---------------------------------------------------------------------------------------
// Messages.

TEST_CASE("the Invalid status has upstream's message, details and causes") {
  SECTION("one cause: no brackets") {
    Status st = Create("pods", R"({"metadata":{"name":"p","namespace":"default"},
      "spec":{"containers":[{"name":"c"}]}})");
    REQUIRE(st.code() == Code::kInvalid);
    REQUIRE(st.message() == R"(Pod "p" is invalid: spec.containers[0].image: Required value)");
    REQUIRE(st.details()->name == "p");
    REQUIRE(st.details()->group.empty());
    REQUIRE(st.details()->kind == "Pod");
    REQUIRE(st.details()->causes.size() == 1);
    const Cause& c = st.details()->causes[0];
    REQUIRE(c.type == "FieldValueRequired");
    REQUIRE(c.message == "Required value");
    REQUIRE(c.field == "spec.containers[0].image");
  }
  SECTION("two causes: bracketed, comma separated") {
    Status st = Create("deployments", R"({"metadata":{"name":"A_b","namespace":"default"},
      "spec":{"selector":{"matchLabels":{"app":"web"}},
              "template":{"metadata":{"labels":{"app":"web"}},
                          "spec":{"containers":[{"name":"c"}]}}}})");
    REQUIRE(
        st.message() ==
        R"(Deployment.apps "A_b" is invalid: [metadata.name: Invalid value: "A_b": a lowercase )"
        R"(RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', )"
        R"(and must start and end with an alphanumeric character (e.g. 'example.com', regex )"
        R"(used for validation is )"
        R"('[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*'), )"
        R"(spec.template.spec.containers[0].image: Required value])");
    REQUIRE(st.details()->group == "apps");
    REQUIRE(st.details()->kind == "Deployment");
    REQUIRE(st.details()->causes.size() == 2);
    REQUIRE(st.details()->causes[0].type == "FieldValueInvalid");
    REQUIRE(st.details()->causes[0].field == "metadata.name");
    REQUIRE(st.ToJson().find(R"("causes":[{"reason":"FieldValueInvalid")") != std::string::npos);
  }
  SECTION("identical messages are reported once") {
    Status st = Create("pods", R"({"metadata":{"name":"p","namespace":"default","labels":
      {"a":"bad value","b":"bad value"}},"spec":{"containers":[{"name":"c","image":"x"}]}})");
    REQUIRE(st.details()->causes.size() == 2);
    REQUIRE(st.message().find("is invalid: [") == std::string::npos);
    REQUIRE(st.message().find("a valid label") == st.message().rfind("a valid label"));
  }
}

// ---------------------------------------------------------------------------------------
// Validation rules.

TEST_CASE("metadata validation") {
  SECTION("name required unless generateName") {
    Status st = Create("pods", R"({"metadata":{"namespace":"default"},
      "spec":{"containers":[{"name":"c","image":"x"}]}})");
    REQUIRE_CAUSE(st, "metadata.name", "FieldValueRequired", "name or generateName is required");
    REQUIRE_OK(Create("pods", R"({"metadata":{"generateName":"web-","namespace":"default"},
      "spec":{"containers":[{"name":"c","image":"x"}]}})"));
    REQUIRE_CAUSE(Create("pods", R"({"metadata":{"generateName":"Web-","namespace":"default"},
      "spec":{"containers":[{"name":"c","image":"x"}]}})"),
                  "metadata.generateName", "FieldValueInvalid");
  }
  SECTION("namespace required for namespaced kinds, forbidden for others") {
    REQUIRE_CAUSE(Create("configmaps", R"({"metadata":{"name":"x"}})"), "metadata.namespace",
                  "FieldValueRequired");
    REQUIRE_CAUSE(Create("nodes", R"({"metadata":{"name":"n1","namespace":"default"}})"),
                  "metadata.namespace", "FieldValueForbidden", "not allowed on this type");
  }
  SECTION("name rules per kind") {
    REQUIRE_OK(Create("configmaps", R"({"metadata":{"name":"a.b-c","namespace":"d"}})"));
    REQUIRE_OK(Create("nodes", R"({"metadata":{"name":"node-1.example.com"}})"));
    REQUIRE_CAUSE(Create("nodes", R"({"metadata":{"name":"Node_1"}})"), "metadata.name",
                  "FieldValueInvalid", "RFC 1123 subdomain");
    REQUIRE_CAUSE(Create("namespaces", R"({"metadata":{"name":"a.b"}})"), "metadata.name",
                  "FieldValueInvalid", "must not contain dots");
    REQUIRE_CAUSE(Create("namespaces", R"({"metadata":{"name":"A"}})"), "metadata.name",
                  "FieldValueInvalid", "a lowercase RFC 1123 label must consist of");
    Status svc = Create("services", R"({"metadata":{"name":"1svc","namespace":"d"},
      "spec":{"ports":[{"port":80}]}})");
    REQUIRE(svc.message() ==
            R"(Service "1svc" is invalid: metadata.name: Invalid value: "1svc": a DNS-1035 label )"
            R"(must consist of lower case alphanumeric characters or '-', start with an )"
            R"(alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or )"
            R"('abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?'))");
    REQUIRE_CAUSE(Create("configmaps", "{\"metadata\":{\"name\":\"" + std::string(254, 'a') +
                                           "\",\"namespace\":\"d\"}}"),
                  "metadata.name", "FieldValueInvalid", "must be no more than 253 characters");
  }
  SECTION("labels and annotations") {
    REQUIRE_OK(Create("configmaps", R"({"metadata":{"name":"x","namespace":"d",
      "labels":{"example.com/My_name.1":"Val-1","a":""},
      "annotations":{"Example.com/Key":"any value"}}})"));
    Status bad_key = Create("configmaps", R"({"metadata":{"name":"x","namespace":"d",
      "labels":{"-bad":"v"}}})");
    REQUIRE(
        bad_key.message() ==
        R"(ConfigMap "x" is invalid: metadata.labels: Invalid value: "-bad": name part must )"
        R"(consist of alphanumeric characters, '-', '_' or '.', and must start and end with an )"
        R"(alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for )"
        R"(validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]'))");
    REQUIRE_CAUSE(Create("configmaps", R"({"metadata":{"name":"x","namespace":"d",
      "labels":{"k":"bad value"}}})"),
                  "metadata.labels", "FieldValueInvalid", "a valid label must be an empty string");
    REQUIRE_CAUSE(Create("configmaps",
                         "{\"metadata\":{\"name\":\"x\",\"namespace\":\"d\","
                         "\"labels\":{\"k\":\"" +
                             std::string(64, 'v') + "\"}}}"),
                  "metadata.labels", "FieldValueInvalid", "must be no more than 63 characters");
    REQUIRE_CAUSE(Create("configmaps", R"({"metadata":{"name":"x","namespace":"d",
      "labels":{"/a":"v"}}})"),
                  "metadata.labels", "FieldValueInvalid", "prefix part must be non-empty");
    REQUIRE_CAUSE(Create("configmaps",
                         "{\"metadata\":{\"name\":\"x\",\"namespace\":\"d\","
                         "\"annotations\":{\"k\":\"" +
                             std::string(300000, 'v') + "\"}}}"),
                  "metadata.annotations", "FieldValueTooLong", "must have at most 262144 bytes");
    REQUIRE_CAUSE(Create("configmaps", R"({"metadata":{"name":"x","namespace":"d",
      "labels":{"k":1}}})"),
                  "metadata.labels[k]", "FieldValueTypeInvalid");
  }
  SECTION("owner references") {
    REQUIRE_CAUSE(Create("configmaps", R"({"metadata":{"name":"x","namespace":"d",
      "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"rs"}]}})"),
                  "metadata.ownerReferences.uid", "FieldValueInvalid", "uid must not be empty");
  }
}

TEST_CASE("pod validation") {
  auto pod = [](std::string_view spec) {
    return Create("pods",
                  R"({"metadata":{"name":"p","namespace":"d"},"spec":)" + std::string(spec) + "}");
  };
  SECTION("at least one container") {
    REQUIRE_CAUSE(pod(R"({"containers":[]})"), "spec.containers", "FieldValueRequired");
  }
  SECTION("container names: required, DNS label, unique across init containers") {
    REQUIRE_CAUSE(pod(R"({"containers":[{"image":"x"}]})"), "spec.containers[0].name",
                  "FieldValueRequired");
    REQUIRE_CAUSE(pod(R"({"containers":[{"name":"Web","image":"x"}]})"), "spec.containers[0].name",
                  "FieldValueInvalid", "RFC 1123 label");
    Status dup = pod(R"({"containers":[{"name":"a","image":"x"},{"name":"a","image":"y"}]})");
    REQUIRE(dup.message() ==
            R"(Pod "p" is invalid: spec.containers[1].name: Duplicate value: "a")");
    REQUIRE(dup.details()->causes[0].type == "FieldValueDuplicate");
    REQUIRE_CAUSE(pod(R"({"initContainers":[{"name":"a","image":"x"}],"containers":[{"name":"a",
      "image":"y"}]})"),
                  "spec.initContainers[0].name", "FieldValueDuplicate");
  }
  SECTION("ports") {
    Status st = pod(R"({"containers":[{"name":"a","image":"x","ports":[
      {"containerPort":70000},{"containerPort":80,"protocol":"HTTP","name":"Http"},{}]}]})");
    REQUIRE_CAUSE(st, "spec.containers[0].ports[0].containerPort", "FieldValueInvalid",
                  "Invalid value: 70000: must be between 1 and 65535, inclusive");
    REQUIRE_CAUSE(st, "spec.containers[0].ports[1].protocol", "FieldValueNotSupported",
                  R"(Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP")");
    REQUIRE_CAUSE(st, "spec.containers[0].ports[1].name", "FieldValueInvalid",
                  "must contain only alpha-numeric characters");
    REQUIRE_CAUSE(st, "spec.containers[0].ports[2].containerPort", "FieldValueRequired");
  }
  SECTION("restartPolicy and dnsPolicy") {
    Status st = pod(R"({"restartPolicy":"Sometimes","dnsPolicy":"Bogus",
      "containers":[{"name":"a","image":"x"}]})");
    REQUIRE_CAUSE(
        st, "spec.restartPolicy", "FieldValueNotSupported",
        R"(Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never")");
    REQUIRE_CAUSE(
        st, "spec.dnsPolicy", "FieldValueNotSupported",
        R"(supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")");
    REQUIRE_CAUSE(pod(R"({"dnsPolicy":"None","containers":[{"name":"a","image":"x"}]})"),
                  "spec.dnsConfig", "FieldValueRequired");
  }
  SECTION("resources: quantities parse, requests <= limits") {
    REQUIRE_OK(pod(R"({"containers":[{"name":"a","image":"x","resources":{
      "limits":{"cpu":"0.5","memory":"1G"},"requests":{"cpu":"100m","memory":"1e3"}}}]})"));
    Status st = pod(R"({"containers":[{"name":"a","image":"x","resources":{
      "limits":{"cpu":"abc","memory":"128Mi"},"requests":{"memory":"1Gi"}}}]})");
    REQUIRE_CAUSE(st, "spec.containers[0].resources.limits[cpu]", "FieldValueInvalid",
                  R"(Invalid value: "abc": quantities must match the regular expression )"
                  R"('^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$')");
    REQUIRE_CAUSE(st, "spec.containers[0].resources.requests", "FieldValueInvalid",
                  R"(Invalid value: "1Gi": must be less than or equal to memory limit of 128Mi)");
    REQUIRE_CAUSE(
        pod(R"({"containers":[{"name":"a","image":"x","resources":{"requests":{"cpu":"-1"}}}]})"),
        "spec.containers[0].resources.requests[cpu]", "FieldValueInvalid",
        "must be greater than or equal to 0");
    REQUIRE_CAUSE(
        pod(R"({"containers":[{"name":"a","image":"x","resources":{"requests":{"gpu":"1"}}}]})"),
        "spec.containers[0].resources.requests[gpu]", "FieldValueInvalid",
        "must be a standard resource for containers");
  }
  SECTION("volumes and mounts") {
    Status st = pod(R"({"volumes":[{"name":"v"},{"name":"v"}],"containers":[{"name":"a","image":"x",
      "volumeMounts":[{"name":"w","mountPath":"/w"},{"name":"v"}]}]})");
    REQUIRE_CAUSE(st, "spec.volumes[1].name", "FieldValueDuplicate");
    REQUIRE_CAUSE(st, "spec.containers[0].volumeMounts[0].name", "FieldValueNotFound",
                  R"(Not found: "w")");
    REQUIRE_CAUSE(st, "spec.containers[0].volumeMounts[1].mountPath", "FieldValueRequired");
  }
  SECTION("probes need a handler; liveness successThreshold is 1") {
    Status st = pod(R"({"containers":[{"name":"a","image":"x",
      "livenessProbe":{"successThreshold":2,"exec":{"command":["true"]}},"readinessProbe":{}}]})");
    REQUIRE_CAUSE(st, "spec.containers[0].livenessProbe.successThreshold", "FieldValueInvalid",
                  "must be 1");
    REQUIRE_CAUSE(st, "spec.containers[0].readinessProbe", "FieldValueRequired",
                  "must specify a handler type");
  }
  SECTION("tolerations") {
    Status st = pod(R"({"containers":[{"name":"a","image":"x"}],"tolerations":[
      {"operator":"Equal","value":"x"},{"key":"k","operator":"Exists","effect":"NoSchedule",
      "tolerationSeconds":5},
      {"key":"k","effect":"Sometimes"}]})");
    REQUIRE_CAUSE(st, "spec.tolerations[0].operator", "FieldValueInvalid",
                  "operator must be Exists when `key` is empty");
    REQUIRE_CAUSE(st, "spec.tolerations[1].effect", "FieldValueInvalid",
                  "effect must be 'NoExecute' when `tolerationSeconds` is set");
    REQUIRE_CAUSE(st, "spec.tolerations[2].effect", "FieldValueNotSupported");
  }
  SECTION("wrong JSON types are reported, not crashed on") {
    Status st = pod(R"({"containers":"nope","restartPolicy":5})");
    REQUIRE_CAUSE(st, "spec.containers", "FieldValueTypeInvalid", "must be of type array");
    REQUIRE_CAUSE(st, "spec.restartPolicy", "FieldValueTypeInvalid", "must be of type string");
    REQUIRE_FALSE(Create("pods", R"({"metadata":[],"spec":7})").ok());
    REQUIRE_FALSE(
        Create("deployments", R"({"spec":{"template":[1],"selector":"x","replicas":"2"}})").ok());
  }
}

TEST_CASE("workload validation") {
  SECTION("deployment selector required; template must match") {
    Status st = Create("deployments", R"({"metadata":{"name":"d","namespace":"n"},"spec":{
      "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c",
      "image":"x"}]}}}})");
    REQUIRE(st.message() ==
            R"(Deployment.apps "d" is invalid: [spec.selector: Required value, )"
            R"(spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: )"
            R"(`selector` does not match template `labels`])");
    REQUIRE_CAUSE(Create("deployments", R"({"metadata":{"name":"d","namespace":"n"},"spec":{
      "selector":{"matchLabels":{"app":"other"}},
      "template":{"metadata":{"labels":{"app":"web","tier":"fe"}},
      "spec":{"containers":[{"name":"c","image":"x"}]}}}})"),
                  "spec.template.metadata.labels", "FieldValueInvalid",
                  R"(map[string]string{"app":"web", "tier":"fe"}: `selector` does not match )"
                  R"(template `labels`)");
    REQUIRE_CAUSE(
        Create("deployments", R"({"metadata":{"name":"d","namespace":"n"},"spec":{"selector":{},
      "template":{"spec":{"containers":[{"name":"c","image":"x"}]}}}})"),
        "spec.selector", "FieldValueInvalid",
        "Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for "
        "deployment");
  }
  SECTION("matchExpressions are evaluated") {
    REQUIRE_OK(Create("deployments", R"({"metadata":{"name":"d","namespace":"n"},"spec":{
      "selector":{"matchExpressions":[{"key":"app","operator":"In","values":["web","api"]},
                                      {"key":"legacy","operator":"DoesNotExist"}]},
      "template":{"metadata":{"labels":{"app":"api"}},"spec":{"containers":[{"name":"c",
      "image":"x"}]}}}})"));
    Status st = Create("deployments", R"({"metadata":{"name":"d","namespace":"n"},"spec":{
      "selector":{"matchExpressions":[{"key":"app","operator":"In"}]},
      "template":{"metadata":{"labels":{"app":"api"}},"spec":{"containers":[{"name":"c",
      "image":"x"}]}}}})");
    REQUIRE_CAUSE(st, "spec.selector.matchExpressions[0].values", "FieldValueRequired");
    REQUIRE_CAUSE(st, "spec.selector", "FieldValueInvalid", "invalid label selector");
  }
  SECTION("replicas >= 0, template restartPolicy Always, strategy") {
    Status st =
        Create("deployments", R"({"metadata":{"name":"d","namespace":"n"},"spec":{"replicas":-1,
      "selector":{"matchLabels":{"a":"b"}},"strategy":{"rollingUpdate":{"maxUnavailable":0,
      "maxSurge":0}},
      "template":{"metadata":{"labels":{"a":"b"}},"spec":{"restartPolicy":"Never",
                  "containers":[{"name":"c","image":"x"}]}}}})");
    REQUIRE_CAUSE(st, "spec.replicas", "FieldValueInvalid",
                  "Invalid value: -1: must be greater than or equal to 0");
    REQUIRE_CAUSE(st, "spec.template.spec.restartPolicy", "FieldValueNotSupported",
                  R"(Unsupported value: "Never": supported values: "Always")");
    REQUIRE_CAUSE(st, "spec.strategy.rollingUpdate.maxUnavailable", "FieldValueInvalid",
                  "may not be 0 when `maxSurge` is 0");
  }
  SECTION("replicaset") {
    REQUIRE_CAUSE(Create("replicasets", R"({"metadata":{"name":"r","namespace":"n"},"spec":{
      "template":{"spec":{"containers":[{"name":"c","image":"x"}]}}}})"),
                  "spec.selector", "FieldValueRequired");
  }
  SECTION("daemonset: as upstream, a missing selector shows as a mismatch") {
    Status st = Create("daemonsets", R"({"metadata":{"name":"ds","namespace":"n"},"spec":{
      "template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c",
      "image":"x"}]}}}})");
    REQUIRE_CAUSE(st, "spec.template.metadata.labels", "FieldValueInvalid",
                  "`selector` does not match");
    REQUIRE_OK(Create("daemonsets", R"({"metadata":{"name":"ds","namespace":"n"},"spec":{
      "selector":{"matchLabels":{"a":"b"}},
      "template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c",
      "image":"x"}]}}}})"));
  }
  SECTION("daemonset rolling update: exactly one of maxUnavailable and maxSurge") {
    Status st = Create("daemonsets", R"({"metadata":{"name":"ds","namespace":"n"},"spec":{
      "selector":{"matchLabels":{"a":"b"}},
      "updateStrategy":{"rollingUpdate":{"maxUnavailable":1,"maxSurge":"10%"}},
      "template":{"metadata":{"labels":{"a":"b"}},
                  "spec":{"containers":[{"name":"c","image":"x"}]}}}})");
    REQUIRE(st.message() ==
            R"(DaemonSet.apps "ds" is invalid: spec.updateStrategy.rollingUpdate.maxSurge: )"
            R"(Invalid )"
            R"(value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"10%"}: may not be set when )"
            R"(maxUnavailable is non-zero)");
  }
  SECTION("statefulset: claim templates count as volumes") {
    const char* sts = R"({"metadata":{"name":"db","namespace":"n"},"spec":{
      "selector":{"matchLabels":{"a":"b"}},"serviceName":"db",
      "volumeClaimTemplates":[{"metadata":{"name":"data"},
      "spec":{"accessModes":["ReadWriteOnce"]}}],
      "template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"x",
        "volumeMounts":[{"name":"data","mountPath":"/data"}]}]}}}})";
    REQUIRE_OK(Create("statefulsets", sts));
    REQUIRE_CAUSE(Create("statefulsets", R"({"metadata":{"name":"db","namespace":"n"},"spec":{
      "podManagementPolicy":"Sometimes","template":{"spec":{"containers":[{"name":"c",
      "image":"x"}]}}}})"),
                  "spec.podManagementPolicy", "FieldValueInvalid",
                  "must be 'OrderedReady' or 'Parallel'");
  }
  SECTION("job: template restartPolicy, user selectors need manualSelector") {
    REQUIRE_CAUSE(Create("jobs", R"({"metadata":{"name":"j","namespace":"n"},"spec":{
      "template":{"spec":{"restartPolicy":"Sometimes","containers":[{"name":"c",
      "image":"x"}]}}}})"),
                  "spec.template.spec.restartPolicy", "FieldValueNotSupported",
                  R"(supported values: "OnFailure", "Never")");
    REQUIRE_CAUSE(Create("jobs", R"({"metadata":{"name":"j","namespace":"n"},"spec":{
      "selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},
      "spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"x"}]}}}})"),
                  "spec.selector", "FieldValueInvalid", "`selector` not auto-generated");
    REQUIRE_OK(
        Create("jobs", R"({"metadata":{"name":"j","namespace":"n"},"spec":{"manualSelector":true,
      "selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},
      "spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"x"}]}}}})"));
    REQUIRE_CAUSE(
        Create("jobs", R"({"metadata":{"name":"j","namespace":"n"},"spec":{"backoffLimit":-1,
      "template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"x"}]}}}})"),
        "spec.backoffLimit", "FieldValueInvalid");
  }
  SECTION("cronjob: schedule, name length") {
    const std::string tail =
        R"(,"namespace":"n"},"spec":{"schedule":"*/5 * * * *","jobTemplate":{"spec":{
      "template":{"spec":{"restartPolicy":"OnFailure","containers":[{"name":"c",
      "image":"x"}]}}}}}})";
    REQUIRE_OK(Create("cronjobs", R"({"metadata":{"name":"cj")" + tail));
    REQUIRE_CAUSE(
        Create("cronjobs", R"({"metadata":{"name":")" + std::string(53, 'c') + "\"" + tail),
        "metadata.name", "FieldValueInvalid", "must be no more than 52 characters");
    REQUIRE_CAUSE(
        Create("cronjobs", R"({"metadata":{"name":"cj","namespace":"n"},"spec":{"schedule":"* * *",
      "jobTemplate":{"spec":{"template":{"spec":{"restartPolicy":"Never",
      "containers":[{"name":"c","image":"x"}]}}}}}})"),
        "spec.schedule", "FieldValueInvalid",
        R"(Invalid value: "* * *": expected exactly 5 fields, found 3: [* * *])");
    REQUIRE_CAUSE(
        Create("cronjobs",
               R"({"metadata":{"name":"cj","namespace":"n"},"spec":{"schedule":"61 * * * *",
      "jobTemplate":{"spec":{"template":{"spec":{"restartPolicy":"Never",
      "containers":[{"name":"c","image":"x"}]}}}}}})"),
        "spec.schedule", "FieldValueInvalid", "above maximum (59)");
  }
}

TEST_CASE("service validation") {
  auto svc = [](std::string_view spec) {
    return Create("services",
                  R"({"metadata":{"name":"s","namespace":"d"},"spec":)" + std::string(spec) + "}");
  };
  SECTION("ports required unless headless or ExternalName") {
    REQUIRE_CAUSE(svc(R"({"selector":{"a":"b"}})"), "spec.ports", "FieldValueRequired");
    REQUIRE_OK(svc(R"({"clusterIP":"None","selector":{"a":"b"}})"));
    REQUIRE_OK(svc(R"({"type":"ExternalName","externalName":"db.example.com."})"));
  }
  SECTION("ExternalName needs externalName") {
    REQUIRE_CAUSE(svc(R"({"type":"ExternalName"})"), "spec.externalName", "FieldValueRequired");
  }
  SECTION("type, port ranges, names") {
    Status st = svc(R"({"type":"Magic","ports":[{"port":0},{"port":80,"name":"Web"}]})");
    REQUIRE_CAUSE(st, "spec.type", "FieldValueNotSupported",
                  R"(supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort")");
    REQUIRE_CAUSE(st, "spec.ports[0].port", "FieldValueInvalid",
                  "must be between 1 and 65535, inclusive");
    REQUIRE_CAUSE(st, "spec.ports[0].name", "FieldValueRequired");
    REQUIRE_CAUSE(st, "spec.ports[1].name", "FieldValueInvalid");
    REQUIRE_CAUSE(svc(R"({"ports":[{"port":80,"name":"a"},{"port":81,"name":"a"}]})"),
                  "spec.ports[1].name", "FieldValueDuplicate");
    REQUIRE_CAUSE(svc(R"({"ports":[{"port":80,"name":"a"},{"port":80,"name":"b"}]})"),
                  "spec.ports[1]", "FieldValueDuplicate");
  }
  SECTION("nodePort only for NodePort/LoadBalancer; its range is the allocator's") {
    Status st = svc(R"({"ports":[{"port":80,"nodePort":30080}]})");
    REQUIRE(st.message() ==
            R"(Service "s" is invalid: spec.ports[0].nodePort: Forbidden: may not be )"
            R"(used when `type` is 'ClusterIP')");
    REQUIRE_OK(svc(R"({"type":"NodePort","ports":[{"port":80,"nodePort":80}]})"));
  }
  SECTION("clusterIP must be an IP or None") {
    REQUIRE_CAUSE(svc(R"({"clusterIP":"10.0.0.300","ports":[{"port":80}]})"), "spec.clusterIPs[0]",
                  "FieldValueInvalid", "must be a valid IP address");
    REQUIRE_OK(svc(R"({"clusterIP":"10.96.0.10","ports":[{"port":53,"protocol":"UDP"}]})"));
  }
  SECTION("externalIPs and status.loadBalancer.ingress must be IPs (the proxies write them into rules)") {
    Status st = svc(R"({"externalIPs":["192.0.2.1","1.2.3.4 } ; flush ruleset"],"ports":[{"port":80}]})");
    REQUIRE(st.message() ==
            R"(Service "s" is invalid: spec.externalIPs[1]: Invalid value: "1.2.3.4 } ; flush ruleset": )"
            R"(must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff))");
    REQUIRE_OK(svc(R"({"externalIPs":["192.0.2.1","2001:db8::1"],"ports":[{"port":80}]})"));
    auto lb = [](std::string_view ingress) {
      return Create("services", R"({"metadata":{"name":"s","namespace":"d"},"spec":{"type":"LoadBalancer",)"
                                R"("ports":[{"port":80}]},"status":{"loadBalancer":{"ingress":)" +
                                    std::string(ingress) + "}}}");
    };
    REQUIRE_CAUSE(lb(R"([{"ip":"192.0.2.1"},{"ip":"nope"}])"), "status.loadBalancer.ingress[1].ip",
                  "FieldValueInvalid", "must be a valid IP address");
    REQUIRE_CAUSE(lb(R"([{"hostname":"192.0.2.1"}])"), "status.loadBalancer.ingress[0].hostname",
                  "FieldValueInvalid", "must be a DNS name, not an IP address");
    REQUIRE_OK(lb(R"([{"ip":"192.0.2.1"},{"hostname":"lb.example.com"}])"));
  }
}

TEST_CASE("endpoint addresses must be addresses of the slice's type") {
  auto slice = [](std::string_view type, std::string_view endpoints) {
    return Create("endpointslices", R"({"metadata":{"name":"e","namespace":"d"},"addressType":")" +
                                        std::string(type) + R"(","ports":[{"port":80}],"endpoints":)" +
                                        std::string(endpoints) + "}");
  };
  REQUIRE_OK(slice("IPv4", R"([{"addresses":["10.244.1.2"]},{"addresses":["10.244.1.3"]}])"));
  REQUIRE_CAUSE(slice("IPv4", R"([{"addresses":["10.244.1.2"]},{"addresses":["1.2.3.4 }"]}])"),
                "endpoints[1].addresses[0]", "FieldValueInvalid", "must be a valid IPv4 address");
  REQUIRE_CAUSE(slice("IPv4", R"([{"addresses":["2001:db8::1"]}])"), "endpoints[0].addresses[0]",
                "FieldValueInvalid", "must be a valid IPv4 address");
  REQUIRE_CAUSE(slice("IPv6", R"([{"addresses":["10.0.0.1"]}])"), "endpoints[0].addresses[0]",
                "FieldValueInvalid", "must be a valid IPv6 address");
  REQUIRE_OK(slice("FQDN", R"([{"addresses":["db.example.com"]}])"));
  REQUIRE_CAUSE(slice("FQDN", R"([{"addresses":["not a name"]}])"), "endpoints[0].addresses[0]",
                "FieldValueInvalid");
  REQUIRE_CAUSE(slice("IPv4", R"([{"addresses":[]}])"), "endpoints[0].addresses", "FieldValueRequired",
                "must contain at least 1 address");
  REQUIRE_CAUSE(Create("endpointslices", R"({"metadata":{"name":"e","namespace":"d"},"addressType":"IPv4",)"
                                         R"("ports":[{"port":70000,"protocol":"ICMP"}]})"),
                "ports[0].port", "FieldValueInvalid", "must be between 1 and 65535, inclusive");

  Status ep = Create("endpoints", R"({"metadata":{"name":"e","namespace":"d"},"subsets":[)"
                                  R"({"addresses":[{"ip":"10.0.0.1"}],"notReadyAddresses":[{"ip":"x; y"}],)"
                                  R"("ports":[{"port":80,"protocol":"TCP"}]}]})");
  REQUIRE_CAUSE(ep, "subsets[0].notReadyAddresses[0].ip", "FieldValueInvalid", "must be a valid IP address");
}

TEST_CASE("configmap, secret, lease, namespace, node, event validation") {
  SECTION("configmap keys and size") {
    Status st = Create("configmaps", R"({"metadata":{"name":"c","namespace":"d"},
      "data":{"ok.key_1-x":"v","bad key":"v","..x":"v"}})");
    REQUIRE_CAUSE(st, "data[bad key]", "FieldValueInvalid",
                  "a valid config key must consist of alphanumeric characters, '-', '_' or '.'");
    REQUIRE_CAUSE(st, "data[..x]", "FieldValueInvalid", "must not start with '..'");
    REQUIRE(st.details()->causes.size() == 2);
    REQUIRE_CAUSE(Create("configmaps",
                         "{\"metadata\":{\"name\":\"c\",\"namespace\":\"d\"},"
                         "\"data\":{\"k\":\"" +
                             std::string(1024 * 1024 + 1, 'x') + "\"}}"),
                  "", "FieldValueTooLong", "must have at most 1048576 bytes");
  }
  SECTION("secret keys, base64 and type-specific keys") {
    REQUIRE_OK(
        Create("secrets", R"({"metadata":{"name":"s","namespace":"d"},"data":{"a":"YWI="}})"));
    REQUIRE_CAUSE(
        Create("secrets", R"({"metadata":{"name":"s","namespace":"d"},"data":{"a":"!!"}})"),
        "data[a]", "FieldValueInvalid", "illegal base64 data at input byte 0");
    REQUIRE_CAUSE(
        Create("secrets", R"({"metadata":{"name":"s","namespace":"d"},"type":"kubernetes.io/tls",
      "data":{"tls.crt":"YWI="}})"),
        "data[tls.key]", "FieldValueRequired");
    REQUIRE_CAUSE(
        Create("secrets", R"({"metadata":{"name":"s","namespace":"d"},"stringData":{"a b":"x"}})"),
        "data[a b]", "FieldValueInvalid");
  }
  SECTION("lease") {
    REQUIRE_OK(
        Create("leases", R"({"metadata":{"name":"l","namespace":"d"},"spec":{"holderIdentity":"x",
      "leaseDurationSeconds":15,"leaseTransitions":0}})"));
    REQUIRE_CAUSE(
        Create("leases",
               R"({"metadata":{"name":"l","namespace":"d"},"spec":{"leaseDurationSeconds":0}})"),
        "spec.leaseDurationSeconds", "FieldValueInvalid", "must be greater than 0");
  }
  SECTION("node taints") {
    REQUIRE_OK(Create(
        "nodes",
        R"({"metadata":{"name":"n1"},"spec":{"taints":[{"key":"a","effect":"NoSchedule"}]}})"));
    REQUIRE_CAUSE(Create("nodes", R"({"metadata":{"name":"n1"},"spec":{"taints":[{"key":"a"}]}})"),
                  "spec.taints[0].effect", "FieldValueRequired");
  }
  SECTION("event involvedObject must agree with the event's namespace") {
    REQUIRE_OK(Create("events", R"({"metadata":{"name":"p.17a","namespace":"d"},
      "involvedObject":{"kind":"Pod","name":"p","namespace":"d"},"reason":"Started"})"));
    REQUIRE_CAUSE(Create("events", R"({"metadata":{"name":"p.17a","namespace":"d"},"reason":"x"})"),
                  "involvedObject.namespace", "FieldValueInvalid",
                  "does not match event.namespace");
    REQUIRE_CAUSE(Create("events", R"({"metadata":{"name":"a/b","namespace":"d"},
      "involvedObject":{"namespace":"d"}})"),
                  "metadata.name", "FieldValueInvalid", "may not contain '/'");
  }
}

// ---------------------------------------------------------------------------------------
// Updates.

TEST_CASE("ValidateUpdate: metadata name and namespace are immutable") {
  Status st = Update("configmaps", R"({"metadata":{"name":"b","namespace":"d"}})",
                     R"({"metadata":{"name":"a","namespace":"d"}})");
  REQUIRE(st.message() ==
          R"(ConfigMap "b" is invalid: metadata.name: Invalid value: "b": field is immutable)");
  REQUIRE_CAUSE(Update("configmaps", R"({"metadata":{"name":"a","namespace":"e"}})",
                       R"({"metadata":{"name":"a","namespace":"d"}})"),
                "metadata.namespace", "FieldValueInvalid", "field is immutable");
  REQUIRE_OK(
      Update("configmaps",
             R"({"metadata":{"name":"a","namespace":"d","labels":{"x":"y"}},"data":{"k":"v2"}})",
             R"({"metadata":{"name":"a","namespace":"d"},"data":{"k":"v"}})"));
}

TEST_CASE("ValidateUpdate: workload selectors are immutable") {
  std::string changed = kDeployment;
  for (size_t pos; (pos = changed.find("\"app\":\"web\"")) != std::string::npos;) {
    changed.replace(pos, 11, "\"app\":\"web2\"");
  }
  Status st = Update("deployments", changed, kDeployment);
  REQUIRE(st.message() ==
          R"(Deployment.apps "web" is invalid: spec.selector: Invalid value: v1.LabelSelector{)"
          R"(MatchLabels:map[string]string{"app":"web2"}, )"
          R"(MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: )"
          R"(field is immutable)");
  // Scaling and new images are fine.
  std::string scaled = kDeployment;
  scaled.replace(scaled.find("nginx:1.25"), 10, "nginx:1.26");
  scaled.replace(scaled.find("\"spec\":{\"selector\""), 8, "\"spec\":{\"replicas\":5,");
  REQUIRE_OK(Update("deployments", scaled, kDeployment));
}

TEST_CASE("ValidateUpdate: pods change only images, deadlines and tolerations") {
  const char* old_pod =
      R"({"metadata":{"name":"p","namespace":"d"},"spec":{"activeDeadlineSeconds":100,
    "containers":[{"name":"c","image":"nginx:1.25","ports":[{"containerPort":80}]}]}})";
  REQUIRE_OK(Update("pods", R"({"metadata":{"name":"p","namespace":"d","labels":{"a":"b"}},"spec":{
    "activeDeadlineSeconds":50,"tolerations":[{"key":"k","operator":"Exists"}],
    "containers":[{"name":"c","image":"nginx:1.26","ports":[{"containerPort":80}]}]}})",
                    old_pod));

  Status port = Update(
      "pods", R"({"metadata":{"name":"p","namespace":"d"},"spec":{"activeDeadlineSeconds":100,
    "containers":[{"name":"c","image":"nginx:1.25","ports":[{"containerPort":81}]}]}})",
      old_pod);
  REQUIRE(port.message() ==
          "Pod \"p\" is invalid: spec: Forbidden: pod updates may not change fields other than "
          "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
          "`spec.tolerations` (only additions to existing tolerations),"
          "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously "
          "negative)");

  REQUIRE_CAUSE(
      Update("pods",
             R"({"metadata":{"name":"p","namespace":"d"},"spec":{"activeDeadlineSeconds":200,
    "containers":[{"name":"c","image":"nginx","ports":[{"containerPort":80}]}]}})",
             old_pod),
      "spec.activeDeadlineSeconds", "FieldValueInvalid",
      "must be less than or equal to previous value");
  REQUIRE_CAUSE(
      Update("pods",
             R"({"metadata":{"name":"p","namespace":"d"},"spec":{"activeDeadlineSeconds":100,
    "containers":[{"name":"c","image":"x"},{"name":"d","image":"y"}]}})",
             old_pod),
      "spec.containers", "FieldValueForbidden", "pod updates may not add or remove containers");
  REQUIRE_CAUSE(
      Update("pods",
             R"({"metadata":{"name":"p","namespace":"d"},"spec":{"activeDeadlineSeconds":100,
    "nodeName":"n1","containers":[{"name":"c","image":"nginx:1.25",
      "ports":[{"containerPort":80}]}]}})",
             old_pod),
      "spec", "FieldValueForbidden");
  // Removing a defaulted toleration is a modification.
  api::Document before = Defaulted("pods", old_pod);
  api::Document after = Defaulted("pods", old_pod);
  api::Value* tolerations = api::FindMutable(after, "spec.tolerations");
  tolerations->Erase(tolerations->Begin());
  REQUIRE_CAUSE(ValidateUpdate(Res("pods"), after, before), "spec.tolerations",
                "FieldValueForbidden",
                "existing toleration can not be modified except its tolerationSeconds");
}

TEST_CASE("ValidateUpdate: service clusterIP is immutable once set") {
  const char* old_svc = R"({"metadata":{"name":"s","namespace":"d"},"spec":{"clusterIP":"10.96.0.5",
    "clusterIPs":["10.96.0.5"],"ports":[{"port":80}]}})";
  Status st = Update("services",
                     R"({"metadata":{"name":"s","namespace":"d"},"spec":{"clusterIP":"10.96.0.6",
    "clusterIPs":["10.96.0.6"],"ports":[{"port":80}]}})",
                     old_svc);
  REQUIRE(st.message() ==
          R"(Service "s" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.96.0.6"}: )"
          R"(may not change once set)");
  REQUIRE_OK(Update("services",
                    R"({"metadata":{"name":"s","namespace":"d"},"spec":{"clusterIP":"10.96.0.5",
    "clusterIPs":["10.96.0.5"],"ports":[{"port":8080}]}})",
                    old_svc));
  // Omitted addresses are the old ones (kubectl replace of the original manifest).
  REQUIRE_OK(Update("services", R"({"metadata":{"name":"s","namespace":"d"},
    "spec":{"ports":[{"port":80}]}})",
                    old_svc));
  REQUIRE_OK(Update("services",
                    R"({"metadata":{"name":"s","namespace":"d"},"spec":{"type":"ExternalName",
    "externalName":"x.org"}})",
                    old_svc));
}

TEST_CASE("ValidateUpdate: immutable configmaps and secrets") {
  const char* old_cm =
      R"({"metadata":{"name":"c","namespace":"d"},"immutable":true,"data":{"k":"v"}})";
  Status st = Update(
      "configmaps",
      R"({"metadata":{"name":"c","namespace":"d"},"immutable":true,"data":{"k":"w"}})", old_cm);
  REQUIRE(
      st.message() ==
      R"(ConfigMap "c" is invalid: data: Forbidden: field is immutable when `immutable` is set)");
  REQUIRE_CAUSE(
      Update("configmaps", R"({"metadata":{"name":"c","namespace":"d"},"data":{"k":"v"}})", old_cm),
      "immutable", "FieldValueForbidden");
  REQUIRE_OK(Update("configmaps", R"({"metadata":{"name":"c","namespace":"d","labels":{"a":"b"}},
    "immutable":true,"data":{"k":"v"}})",
                    old_cm));
  REQUIRE_CAUSE(
      Update("secrets", R"({"metadata":{"name":"s","namespace":"d"},"type":"kubernetes.io/tls",
    "data":{"tls.crt":"YQ==","tls.key":"YQ=="}})",
             R"({"metadata":{"name":"s","namespace":"d"}})"),
      "type", "FieldValueInvalid", "field is immutable");
}

TEST_CASE("ValidateUpdate: jobs and statefulsets") {
  api::Document old_job = Defaulted("jobs", kJob);
  api::SetString(old_job, "metadata.uid", "u", old_job.GetAllocator());
  PrepareForCreate(Res("jobs"), old_job);
  api::Document new_job = api::Clone(old_job);
  api::SetString((*api::FindMutable(new_job, "spec.template.spec.containers"))[0], "image", "other",
                 new_job.GetAllocator());
  REQUIRE_CAUSE(ValidateUpdate(Res("jobs"), new_job, old_job), "spec.template", "FieldValueInvalid",
                "field is immutable");
  api::Document suspended = api::Clone(old_job);
  api::SetBool(suspended, "spec.suspend", true, suspended.GetAllocator());
  api::SetStringMap(suspended, "spec.template.spec.nodeSelector", {{"zone", "a"}},
                    suspended.GetAllocator());
  REQUIRE_OK(ValidateUpdate(Res("jobs"), suspended, old_job));

  const char* sts =
      R"({"metadata":{"name":"db","namespace":"n"},"spec":{"selector":{"matchLabels":{"a":"b"}},
    "serviceName":"db","template":{"metadata":{"labels":{"a":"b"}},
      "spec":{"containers":[{"name":"c","image":"x"}]}}}})";
  std::string renamed = sts;
  renamed.replace(renamed.find("\"serviceName\":\"db\""), 18, "\"serviceName\":\"db2\"");
  REQUIRE_CAUSE(
      Update("statefulsets", renamed, sts), "spec", "FieldValueForbidden",
      "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
      "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are "
      "forbidden");
  std::string scaled = sts;
  scaled.replace(scaled.find("\"serviceName\""), 13, "\"replicas\":3,\"serviceName\"");
  REQUIRE_OK(Update("statefulsets", scaled, sts));
}

// ---------------------------------------------------------------------------------------
// Helpers exported for the router and others.

TEST_CASE("DNS name predicates") {
  REQUIRE(IsDns1123Label("a"));
  REQUIRE(IsDns1123Label("my-name-1"));
  REQUIRE(IsDns1123Label(std::string(63, 'a')));
  REQUIRE_FALSE(IsDns1123Label(std::string(64, 'a')));
  REQUIRE_FALSE(IsDns1123Label(""));
  REQUIRE_FALSE(IsDns1123Label("-a"));
  REQUIRE_FALSE(IsDns1123Label("a-"));
  REQUIRE_FALSE(IsDns1123Label("a.b"));
  REQUIRE_FALSE(IsDns1123Label("A"));
  REQUIRE(IsDns1123Subdomain("a.b-c.d"));
  REQUIRE(IsDns1123Subdomain(std::string(253, 'a')));
  REQUIRE_FALSE(IsDns1123Subdomain(std::string(254, 'a')));
  REQUIRE_FALSE(IsDns1123Subdomain("a..b"));
  REQUIRE_FALSE(IsDns1123Subdomain("a.-b"));
  REQUIRE_FALSE(IsDns1123Subdomain(".a"));
  REQUIRE_FALSE(IsDns1123Subdomain("a_b"));
}


}  // namespace
}  // namespace kubepp::apiserver

namespace kubepp::apiserver {
namespace {

constexpr std::string_view kPvc =
    R"({"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"data","namespace":"ns"},
        "spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}})";

TEST_CASE("persistent volume claims: defaults and validation") {
  api::Document d = Defaulted("persistentvolumeclaims", kPvc);
  CHECK(api::GetString(d, "spec.volumeMode") == "Filesystem");
  CHECK(api::GetString(d, "status.phase") == "Pending");
  PrepareForCreate(Res("persistentvolumeclaims"), d);
  CHECK(api::ToJson(*api::Find(d, "metadata.finalizers")) == R"(["kubernetes.io/pvc-protection"])");
  CHECK(api::GetString(d, "status.phase") == "Pending");
  CHECK(Create("persistentvolumeclaims", kPvc).ok());
  Status st = Create("persistentvolumeclaims",
                     R"({"metadata":{"name":"data","namespace":"ns"},"spec":{}})");
  CHECK(HasCause(st, "spec.accessModes", "FieldValueRequired", "at least 1 access mode is required"));
  CHECK(HasCause(st, "spec.resources[storage]", "FieldValueRequired"));
  st = Create("persistentvolumeclaims",
              R"({"metadata":{"name":"data","namespace":"ns"},"spec":{"accessModes":["ReadWriteSometimes"],
                  "resources":{"requests":{"storage":"0"}},"storageClassName":"Bad_Class"}})");
  CHECK(HasCause(st, "spec.accessModes", "FieldValueNotSupported", "\"ReadWriteOnce\""));
  CHECK(HasCause(st, "spec.resources.requests.storage", "FieldValueInvalid", "must be greater than zero"));
  CHECK(HasCause(st, "spec.storageClassName", "FieldValueInvalid"));
}

TEST_CASE("ValidateUpdate: a claim's spec is immutable but for binding and growth") {
  std::string bound(kPvc);
  bound.replace(bound.find("\"accessModes\""), 0, R"("volumeName":"pv1",)");
  // Binding (volumeName set once) and a bigger request are fine.
  CHECK(Update("persistentvolumeclaims", bound, kPvc).ok());
  std::string bigger = bound;
  bigger.replace(bigger.find("1Gi"), 3, "2Gi");
  CHECK(Update("persistentvolumeclaims", bigger, bound).ok());
  Status st = Update("persistentvolumeclaims", bound, bigger);
  CHECK(HasCause(st, "spec.resources.requests.storage", "FieldValueForbidden",
                 "field can not be less than previous value"));
  std::string rebound = bound;
  rebound.replace(rebound.find("pv1"), 3, "pv2");
  st = Update("persistentvolumeclaims", rebound, bound);
  CHECK(HasCause(st, "spec", "FieldValueForbidden", "spec is immutable after creation"));
  std::string modes = bound;
  modes.replace(modes.find("ReadWriteOnce"), 13, "ReadWriteMany");
  CHECK(HasCause(Update("persistentvolumeclaims", modes, bound), "spec", "FieldValueForbidden"));
}

TEST_CASE("persistent volumes, storage classes and controller revisions") {
  constexpr std::string_view kPv =
      R"({"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"pv1"},
          "spec":{"accessModes":["ReadWriteOnce"],"capacity":{"storage":"5Gi"},"hostPath":{"path":"/srv/pv1"}}})";
  api::Document d = Defaulted("persistentvolumes", kPv);
  CHECK(api::GetString(d, "spec.persistentVolumeReclaimPolicy") == "Retain");
  CHECK(api::GetString(d, "status.phase") == "Pending");
  CHECK(Create("persistentvolumes", kPv).ok());
  Status st = Create("persistentvolumes", R"({"metadata":{"name":"pv1"},"spec":{}})");
  CHECK(HasCause(st, "spec.accessModes", "FieldValueRequired"));
  CHECK(HasCause(st, "spec.capacity", "FieldValueRequired"));
  CHECK(HasCause(st, "spec", "FieldValueRequired", "must specify a volume type"));
  st = Create("persistentvolumes",
              R"({"metadata":{"name":"pv1"},"spec":{"accessModes":["ReadWriteOnce"],"capacity":{"storage":"1Gi"},
                  "hostPath":{"path":"/a/../b"},"nfs":{"server":"x","path":"/"},"persistentVolumeReclaimPolicy":"Keep"}})");
  CHECK(HasCause(st, "spec.nfs", "FieldValueForbidden", "may not specify more than 1 volume type"));
  CHECK(HasCause(st, "spec.hostPath.path", "FieldValueInvalid", "must not contain '..'"));
  CHECK(HasCause(st, "spec.persistentVolumeReclaimPolicy", "FieldValueNotSupported"));
  std::string moved(kPv);
  moved.replace(moved.find("/srv/pv1"), 8, "/srv/pv2");
  CHECK(HasCause(Update("persistentvolumes", moved, kPv), "spec.persistentvolumesource",
                 "FieldValueForbidden"));
  std::string claimed(kPv);
  claimed.replace(claimed.find("\"accessModes\""), 0, R"("claimRef":{"namespace":"ns","name":"data"},)");
  CHECK(Update("persistentvolumes", claimed, kPv).ok());

  constexpr std::string_view kSc =
      R"({"apiVersion":"storage.k8s.io/v1","kind":"StorageClass","metadata":{"name":"fast"},"provisioner":"kubepp.io/local-path"})";
  d = Defaulted("storageclasses", kSc);
  CHECK(api::GetString(d, "reclaimPolicy") == "Delete");
  CHECK(api::GetString(d, "volumeBindingMode") == "Immediate");
  CHECK(Create("storageclasses", kSc).ok());
  CHECK(HasCause(Create("storageclasses", R"({"metadata":{"name":"fast"}})"), "provisioner",
                 "FieldValueRequired"));
  std::string other(kSc);
  other.replace(other.find("kubepp.io/local-path"), 20, "example.com/other");
  CHECK(HasCause(Update("storageclasses", other, kSc), "provisioner", "FieldValueForbidden",
                 "updates to provisioner are forbidden."));

  constexpr std::string_view kCr =
      R"({"apiVersion":"apps/v1","kind":"ControllerRevision","metadata":{"name":"web-abc","namespace":"ns"},
          "data":{"spec":{"template":{"$patch":"replace"}}},"revision":1})";
  CHECK(Create("controllerrevisions", kCr).ok());
  CHECK(HasCause(Create("controllerrevisions", R"({"metadata":{"name":"x","namespace":"ns"},"revision":-1})"),
                 "data", "FieldValueRequired", "data is mandatory"));
  std::string renumbered(kCr);
  renumbered.replace(renumbered.find("\"revision\":1"), 12, "\"revision\":3");
  CHECK(Update("controllerrevisions", renumbered, kCr).ok());
  std::string changed(kCr);
  changed.replace(changed.find("\"$patch\""), 0, R"("metadata":{},)");
  changed.replace(changed.find("replace"), 7, "merge");
  CHECK(HasCause(Update("controllerrevisions", changed, kCr), "data", "FieldValueInvalid",
                 "field is immutable"));
}

}  // namespace
}  // namespace kubepp::apiserver
