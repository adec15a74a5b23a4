#include "apiserver/protobuf.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace kubepp::apiserver {
namespace {

using api::Value;

// Request bodies captured from kubectl 1.33 (`kubectl.1.33 --server` pointed at a logging
// stub), each with what `kubectl ... --dry-run=client -o json` prints for the same
// command.
struct Capture {
  const char* name;
  const char* hex;
  const char* json;
};

const Capture kCaptures[] = {
    // kubectl create deployment web --image=busybox --replicas=0 --port=80
    {"deploy",
     "6b3873000a150a07617070732f7631120a4465706c6f796d656e7412bc010a1f0a0377656212001a0022002a"
     "003200380042005a0a0a036170701203776562128a010800120c0a0a0a0361707012037765621a700a1c0a00"
     "12001a0022002a003200380042005a0a0a036170701203776562125012320a0762757379626f781207627573"
     "79626f782a00320a0a001000185022002a0042006a007200800100880100900100a201001a00320042004a00"
     "52005800600068008201008a01009a0100c2010022020a00280038001a0c0800100018002000280038001a00"
     "2200",
     R"({"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"web",)"
     R"("creationTimestamp":null,"labels":{"app":"web"}},"spec":{"replicas":0,"selector":{)"
     R"("matchLabels":{"app":"web"}},"template":{"metadata":{"creationTimestamp":null,)"
     R"("labels":{"app":"web"}},"spec":{"containers":[{"name":"busybox","image":"busybox",)"
     R"("ports":[{"containerPort":80}],"resources":{}}]}},"strategy":{}},"status":{}})"},
    // kubectl create deployment multi --image=nginx --image=redis
    {"deploy_multi",
     "6b3873000a150a07617070732f7631120a4465706c6f796d656e7412d9010a230a056d756c746912001a0022"
     "002a003200380042005a0c0a0361707012056d756c746912a3010801120e0a0c0a0361707012056d756c7469"
     "1a86010a1e0a0012001a0022002a003200380042005a0c0a0361707012056d756c7469126412220a056e6769"
     "6e7812056e67696e782a0042006a007200800100880100900100a2010012220a057265646973120572656469"
     "732a0042006a007200800100880100900100a201001a00320042004a0052005800600068008201008a01009a"
     "0100c2010022020a00280038001a0c0800100018002000280038001a002200",
     R"({"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"multi",)"
     R"("creationTimestamp":null,"labels":{"app":"multi"}},"spec":{"replicas":1,"selector":{)"
     R"("matchLabels":{"app":"multi"}},"template":{"metadata":{"creationTimestamp":null,)"
     R"("labels":{"app":"multi"}},"spec":{"containers":[{"name":"nginx","image":"nginx",)"
     R"("resources":{}},{"name":"redis","image":"redis","resources":{}}]}},"strategy":{}},)"
     R"("status":{}})"},
    // kubectl create configmap cfg --from-literal=a=b --from-literal=greeting="hello world"
    {"configmap",
     "6b3873000a0f0a0276311209436f6e6669674d617012360a130a0363666712001a0022002a00320038004200"
     "12060a016112016212170a086772656574696e67120b68656c6c6f20776f726c641a002200",
     R"({"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"cfg",)"
     R"("creationTimestamp":null},"data":{"a":"b","greeting":"hello world"}})"},
    // kubectl create secret generic creds --from-literal=user=admin
    //     --from-literal=pass='s3cr3t!'
    {"secret",
     "6b3873000a0c0a027631120653656372657412390a150a05637265647312001a0022002a0032003800420012"
     "0f0a0470617373120773336372337421120d0a0475736572120561646d696e1a001a002200",
     R"({"kind":"Secret","apiVersion":"v1","metadata":{"name":"creds",)"
     R"("creationTimestamp":null},"data":{"pass":"czNjcjN0IQ==","user":"YWRtaW4="}})"},
    // kubectl create secret docker-registry reg --docker-server=r.io --docker-username=u
    //     --docker-password=p
    {"secret_tls",
     "6b3873000a0c0a0276311206536563726574128c010a130a0372656712001a0022002a003200380042001255"
     "0a112e646f636b6572636f6e6669676a736f6e12407b226175746873223a7b22722e696f223a7b2275736572"
     "6e616d65223a2275222c2270617373776f7264223a2270222c2261757468223a2264547077227d7d7d1a1e6b"
     "756265726e657465732e696f2f646f636b6572636f6e6669676a736f6e1a002200",
     R"({"kind":"Secret","apiVersion":"v1","metadata":{"name":"reg","creationTimestamp":null},)"
     R"("data":{".dockerconfigjson":"eyJhdXRocyI6eyJyLmlvIjp7InVzZXJuYW1lIjoidSIsInBhc3N3b3JkI)"
     R"(joicCIsImF1dGgiOiJkVHB3In19fQ=="},"type":"kubernetes.io/dockerconfigjson"})"},
    // kubectl create service clusterip web --tcp=80:8080
    {"svc_clusterip",
     "6b3873000a0d0a02763112075365727669636512690a1f0a0377656212001a0022002a003200380042005a0a"
     "0a03617070120377656212420a1b0a0738302d38303830120354435018502207080010903f1a002800120a0a"
     "0361707012037765621a002209436c757374657249503a00420052005a00600068001a020a001a002200",
     R"({"kind":"Service","apiVersion":"v1","metadata":{"name":"web","creationTimestamp":null,)"
     R"("labels":{"app":"web"}},"spec":{"ports":[{"name":"80-8080","protocol":"TCP","port":80,)"
     R"("targetPort":8080}],"selector":{"app":"web"},"type":"ClusterIP"},"status":{)"
     R"("loadBalancer":{}}})"},
    // kubectl create service nodeport np --tcp=80:8080 --node-port=30080
    {"svc_nodeport",
     "6b3873000a0d0a02763112075365727669636512670a1d0a026e7012001a0022002a003200380042005a090a"
     "0361707012026e7012420a1d0a0738302d38303830120354435018502207080010903f1a002880eb0112090a"
     "0361707012026e701a0022084e6f6465506f72743a00420052005a00600068001a020a001a002200",
     R"({"kind":"Service","apiVersion":"v1","metadata":{"name":"np","creationTimestamp":null,)"
     R"("labels":{"app":"np"}},"spec":{"ports":[{"name":"80-8080","protocol":"TCP","port":80,)"
     R"("targetPort":8080,"nodePort":30080}],"selector":{"app":"np"},"type":"NodePort"},)"
     R"("status":{"loadBalancer":{}}})"},
    // kubectl create service loadbalancer lb --tcp=443:8443
    {"svc_lb",
     "6b3873000a0d0a027631120753657276696365126b0a1d0a026c6212001a0022002a003200380042005a090a"
     "0361707012026c6212460a1d0a083434332d38343433120354435018bb032207080010fb411a00280012090a"
     "0361707012026c621a00220c4c6f616442616c616e6365723a00420052005a00600068001a020a001a002200",
     R"({"kind":"Service","apiVersion":"v1","metadata":{"name":"lb","creationTimestamp":null,)"
     R"("labels":{"app":"lb"}},"spec":{"ports":[{"name":"443-8443","protocol":"TCP",)"
     R"("port":443,"targetPort":8443}],"selector":{"app":"lb"},"type":"LoadBalancer"},)"
     R"("status":{"loadBalancer":{}}})"},
    // kubectl create service externalname ext --external-name=example.com
    {"svc_ext",
     "6b3873000a0d0a027631120753657276696365125a0a1f0a0365787412001a0022002a003200380042005a0a"
     "0a0361707012036578741233120a0a0361707012036578741a00220c45787465726e616c4e616d653a004200"
     "520b6578616d706c652e636f6d5a00600068001a020a001a002200",
     R"({"kind":"Service","apiVersion":"v1","metadata":{"name":"ext","creationTimestamp":null,)"
     R"("labels":{"app":"ext"}},"spec":{"selector":{"app":"ext"},"type":"ExternalName",)"
     R"("externalName":"example.com"},"status":{"loadBalancer":{}}})"},
    // kubectl create namespace team-a
    {"namespace",
     "6b3873000a0f0a02763112094e616d657370616365121e0a160a067465616d2d6112001a0022002a00320038"
     "00420012001a020a001a002200",
     R"({"kind":"Namespace","apiVersion":"v1","metadata":{"name":"team-a",)"
     R"("creationTimestamp":null},"spec":{},"status":{}})"},
    // kubectl create job hello --image=busybox -- echo hi
    {"job",
     "6b3873000a0f0a0862617463682f763112034a6f62128a010a150a0568656c6c6f12001a0022002a00320038"
     "004200126732650a100a0012001a0022002a003200380042001251122e0a0568656c6c6f120762757379626f"
     "781a046563686f1a0268692a0042006a007200800100880100900100a201001a054e65766572320042004a00"
     "52005800600068008201008a01009a0100c201001a082000280030003a001a002200",
     R"({"kind":"Job","apiVersion":"batch/v1","metadata":{"name":"hello",)"
     R"("creationTimestamp":null},"spec":{"template":{"metadata":{"creationTimestamp":null},)"
     R"("spec":{"containers":[{"name":"hello","image":"busybox","command":["echo","hi"],)"
     R"("resources":{}}],"restartPolicy":"Never"}}},"status":{}})"},
    // kubectl create cronjob tick --image=busybox --schedule="*/5 * * * *" -- date
    {"cronjob",
     "6b3873000a130a0862617463682f7631120743726f6e4a6f6212aa010a140a047469636b12001a0022002a00"
     "320038004200128f010a0b2a2f35202a202a202a202a1a002a7e0a140a047469636b12001a0022002a003200"
     "38004200126632640a100a0012001a0022002a00320038004200125012290a047469636b120762757379626f"
     "781a04646174652a0042006a007200800100880100900100a201001a094f6e4661696c757265320042004a00"
     "52005800600068008201008a01009a0100c201001a001a002200",
     R"({"kind":"CronJob","apiVersion":"batch/v1","metadata":{"name":"tick",)"
     R"("creationTimestamp":null},"spec":{"schedule":"*/5 * * * *","jobTemplate":{"metadata":{)"
     R"("name":"tick","creationTimestamp":null},"spec":{"template":{"metadata":{)"
     R"("creationTimestamp":null},"spec":{"containers":[{"name":"tick","image":"busybox",)"
     R"("command":["date"],"resources":{}}],"restartPolicy":"OnFailure"}}}}},"status":{}})"},
    // kubectl create ingress web --rule="example.com/path*=svc:80"
    //     --rule="tls.example.com/=svc2:http,tls=mycert" --class=nginx
    {"ingress",
     "6b3873000a1f0a146e6574776f726b696e672e6b38732e696f2f76311207496e677265737312a8010a130a03"
     "77656212001a0022002a00320038004200128c0112190a0f746c732e6578616d706c652e636f6d12066d7963"
     "6572741a310a0b6578616d706c652e636f6d12220a200a1e0a052f70617468120d220b0a0373766312040a00"
     "10501a065072656669781a350a0f746c732e6578616d706c652e636f6d12220a200a1e0a012f121222100a04"
     "7376633212080a046874747010001a05457861637422056e67696e781a020a001a002200",
     R"({"kind":"Ingress","apiVersion":"networking.k8s.io/v1","metadata":{"name":"web",)"
     R"("creationTimestamp":null},"spec":{"ingressClassName":"nginx","tls":[{"hosts":[)"
     R"("tls.example.com"],"secretName":"mycert"}],"rules":[{"host":"example.com","http":{)"
     R"("paths":[{"path":"/path","pathType":"Prefix","backend":{"service":{"name":"svc",)"
     R"("port":{"number":80}}}}]}},{"host":"tls.example.com","http":{"paths":[{"path":"/",)"
     R"("pathType":"Exact","backend":{"service":{"name":"svc2","port":{"name":"http"}}}}]}}]},)"
     R"("status":{"loadBalancer":{}}})"},
    // kubectl create serviceaccount robot
    {"sa",
     "6b3873000a140a027631120e536572766963654163636f756e7412170a150a05726f626f7412001a0022002a"
     "003200380042001a002200",
     R"({"kind":"ServiceAccount","apiVersion":"v1","metadata":{"name":"robot",)"
     R"("creationTimestamp":null}})"},
    // kubectl create job manual --from=cronjob/tick (the stub served the CronJob: limits, env,
    //     probe, securityContext, volumes, tolerations)
    {"job_from",
     "6b3873000a0f0a0862617463682f763112034a6f6212b9030a91010a066d616e75616c12001a0022002a0032"
     "00380042005a090a047465616d120161622b0a2163726f6e6a6f622e6b756265726e657465732e696f2f696e"
     "7374616e746961746512066d616e75616c6a410a0743726f6e4a6f621a047469636b22243166306133633965"
     "2d303030302d343030302d383030302d3030303030303030303030312a0862617463682f7631300112980232"
     "93020a100a0012001a0022002a0032003800420012fe010a130a03636667120c9a01090a050a036366672001"
     "0a120a03746d70120b12090a0012050a03314769128f010a047469636b120762757379626f781a0464617465"
     "2a003a060a01411201313a1c0a03504f4412001a130a110a00120d6d657461646174612e6e616d6542210a0d"
     "0a0363707512060a043235306d0a100a066d656d6f727912060a0436344d6952140a080a060a047472756510"
     "001800200a280030006a0072007a0720e80728013800800100880100900100a201001a094f6e4661696c7572"
     "652000320042004a0052005800600068008201008a01009a0100b201190a016b12064578697374731a00220a"
     "4e6f5363686564756c65c2010038001a082000280030003a001a002200",
     R"({"kind":"Job","apiVersion":"batch/v1","metadata":{"name":"manual",)"
     R"("creationTimestamp":null,"labels":{"team":"a"},"annotations":{)"
     R"("cronjob.kubernetes.io/instantiate":"manual"},"ownerReferences":[{)"
     R"("apiVersion":"batch/v1","kind":"CronJob","name":"tick",)"
     R"("uid":"1f0a3c9e-0000-4000-8000-000000000001","controller":true}]},"spec":{)"
     R"("backoffLimit":0,"template":{"metadata":{"creationTimestamp":null},"spec":{"volumes":[)"
     R"({"name":"cfg","configMap":{"name":"cfg","optional":true}},{"name":"tmp","emptyDir":{)"
     R"("sizeLimit":"1Gi"}}],"containers":[{"name":"tick","image":"busybox","command":[)"
     R"("date"],"env":[{"name":"A","value":"1"},{"name":"POD","valueFrom":{"fieldRef":{)"
     R"("fieldPath":"metadata.name"}}}],"resources":{"limits":{"cpu":"250m","memory":"64Mi"}},)"
     R"("livenessProbe":{"exec":{"command":["true"]},"periodSeconds":10},"securityContext":{)"
     R"("runAsUser":1000,"runAsNonRoot":true,"allowPrivilegeEscalation":false}}],)"
     R"("restartPolicy":"OnFailure","terminationGracePeriodSeconds":0,"tolerations":[{)"
     R"("key":"k","operator":"Exists","effect":"NoSchedule"}]}}},"status":{}})"},
    // kubectl create rolebinding rb --clusterrole=view --user=jane --group=devs
    //     --serviceaccount=default:robot -n default
    {"rolebinding",
     "6b3873000a2b0a1c726261632e617574686f72697a6174696f6e2e6b38732e696f2f7631120b526f6c654269"
     "6e64696e6712c6010a190a02726212001a0764656661756c7422002a0032003800420012290a045573657212"
     "19726261632e617574686f72697a6174696f6e2e6b38732e696f1a046a616e652200122a0a0547726f757012"
     "19726261632e617574686f72697a6174696f6e2e6b38732e696f1a0464657673220012220a0e536572766963"
     "654163636f756e7412001a05726f626f74220764656661756c741a2e0a19726261632e617574686f72697a61"
     "74696f6e2e6b38732e696f120b436c7573746572526f6c651a04766965771a002200",
     R"({"kind":"RoleBinding","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{"name":"rb",)"
     R"("namespace":"default","creationTimestamp":null},"subjects":[{"kind":"User",)"
     R"("apiGroup":"rbac.authorization.k8s.io","name":"jane"},{"kind":"Group",)"
     R"("apiGroup":"rbac.authorization.k8s.io","name":"devs"},{"kind":"ServiceAccount",)"
     R"("name":"robot","namespace":"default"}],"roleRef":{"apiGroup":"rbac.authorization.k8s.io",)"
     R"("kind":"ClusterRole","name":"view"}})"},
    // kubectl create role r1 --verb=get,list --resource=pods,pods/log --resource-name=web
    //     -n default
    {"role",
     "6b3873000a240a1c726261632e617574686f72697a6174696f6e2e6b38732e696f2f76311204526f6c65123f"
     "0a190a02723112001a0764656661756c7422002a0032003800420012220a036765740a046c69737412001a04"
     "706f64731a08706f64732f6c6f6722037765621a002200",
     R"({"kind":"Role","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{"name":"r1",)"
     R"("namespace":"default","creationTimestamp":null},"rules":[{"verbs":["get","list"],)"
     R"("apiGroups":[""],"resources":["pods","pods/log"],"resourceNames":["web"]}]})"},
    // kubectl auth can-i list pods -n default
    {"ssar",
     "6b3873000a320a17617574686f72697a6174696f6e2e6b38732e696f2f7631121753656c665375626a656374"
     "416363657373526576696577123d0a100a0012001a0022002a00320038004200121f0a1d0a0764656661756c"
     "7412046c6973741a0022002a04706f647332003a001a08080012001a0020001a002200",
     R"({"kind":"SelfSubjectAccessReview","apiVersion":"authorization.k8s.io/v1",)"
     R"("metadata":{"creationTimestamp":null},"spec":{"resourceAttributes":{"namespace":"default",)"
     R"("verb":"list","resource":"pods"}},"status":{"allowed":false}})"},
};

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

// Go prints absent pointers and zero Times as null; the decoder omits them.
void RemoveNulls(Value& v) {
  if (v.IsArray()) {
    for (Value& e : v.GetArray()) RemoveNulls(e);
  } else if (v.IsObject()) {
    for (auto it = v.MemberBegin(); it != v.MemberEnd();) {
      if (it->value.IsNull()) {
        it = v.EraseMember(it);
      } else {
        RemoveNulls(it->value);
        ++it;
      }
    }
  }
}

// Protobuf encoding helpers for hand-made bodies.
std::string Varint(uint64_t v) {
  std::string out;
  for (; v >= 0x80; v >>= 7) out += static_cast<char>((v & 0x7f) | 0x80);
  return out + static_cast<char>(v);
}
std::string Key(int number, int wire_type) {
  return Varint(static_cast<uint64_t>(number) << 3 | wire_type);
}
std::string Int(int number, int64_t v) { return Key(number, 0) + Varint(static_cast<uint64_t>(v)); }
std::string Len(int number, std::string_view bytes) {
  return Key(number, 2) + Varint(bytes.size()) + std::string(bytes);
}
std::string Entry(std::string_view key, std::string_view value) {
  return Len(1, key) + Len(2, value);
}
std::string Body(std::string_view api_version, std::string_view kind, std::string_view raw,
                 std::string_view encoding = "") {
  return std::string("k8s\0", 4) + Len(1, Len(1, api_version) + Len(2, kind)) + Len(2, raw) +
         Len(3, encoding) + Len(4, "");
}

api::Document Decode(const std::string& body) {
  auto doc = DecodeProtobufObject(body);
  INFO(doc.status().ToString());
  REQUIRE(doc.ok());
  return std::move(doc).value();
}

Status DecodeError(const std::string& body) {
  auto doc = DecodeProtobufObject(body);
  REQUIRE_FALSE(doc.ok());
  return doc.status();
}

bool Contains(const Status& s, std::string_view text) {
  return s.message().find(text) != std::string::npos;
}

TEST_CASE("kubectl 1.33 protobuf bodies decode to the JSON kubectl would send") {
  for (const Capture& c : kCaptures) {
    DYNAMIC_SECTION(c.name) {
      api::Document got = Decode(Unhex(c.hex));
      auto want = api::ParseJson(c.json);
      REQUIRE(want.ok());
      RemoveNulls(*want);
      INFO("got  " << api::ToJson(got));
      INFO("want " << api::ToJson(*want));
      CHECK(got == *want);
    }
  }
}

TEST_CASE("captured bodies: the fields that matter") {
  auto body = [](std::string_view name) {
    for (const Capture& c : kCaptures) {
      if (name == c.name) return Unhex(c.hex);
    }
    FAIL("no capture " << name);
    return std::string();
  };
  api::Document ssar = Decode(body("ssar"));
  CHECK(api::ToJson(*api::Find(ssar, "spec")) ==
        R"({"resourceAttributes":{"namespace":"default","verb":"list","resource":"pods"}})");

  api::Document deploy = Decode(body("deploy"));
  const Value* replicas = api::Find(deploy, "spec.replicas");  // a pointer field sent as 0
  REQUIRE(replicas != nullptr);
  CHECK(replicas->IsInt());
  CHECK(replicas->GetInt() == 0);
  CHECK(api::ToJson(*api::Find(deploy, "spec.template.spec.containers")) ==
        R"([{"name":"busybox","image":"busybox","ports":[{"containerPort":80}],"resources":{}}])");

  api::Document secret = Decode(body("secret"));
  CHECK(api::GetString(secret, "data.user") == "YWRtaW4=");      // "admin"
  CHECK(api::GetString(secret, "data.pass") == "czNjcjN0IQ==");  // "s3cr3t!"

  api::Document svc = Decode(body("svc_nodeport"));
  CHECK(api::ToJson(*api::Find(svc, "spec.ports")) ==
        R"([{"name":"80-8080","protocol":"TCP","port":80,"targetPort":8080,"nodePort":30080}])");
}

TEST_CASE("value types") {
  SECTION("Time, MicroTime, pointers and zero values") {
    std::string meta = Len(1, "l") + Len(5, "") + Int(7, 0) + Len(8, Int(1, 1767323045)) +
                       Len(9, "") + Int(10, 0);
    std::string spec = Len(1, "") + Int(2, 0) + Len(4, Int(1, 1767323045) + Int(2, 123456789)) +
                       Int(5, 0);
    api::Document doc =
        Decode(Body("coordination.k8s.io/v1", "Lease", Len(1, meta) + Len(2, spec)));
    CHECK(api::ToJson(doc) ==
          R"({"apiVersion":"coordination.k8s.io/v1","kind":"Lease",)"
          R"("metadata":{"name":"l","creationTimestamp":"2026-01-02T03:04:05Z",)"
          R"("deletionGracePeriodSeconds":0},)"
          R"("spec":{"holderIdentity":"","leaseDurationSeconds":0,)"
          R"("renewTime":"2026-01-02T03:04:05.123456Z","leaseTransitions":0}})");
  }

  SECTION("IntOrString, Quantity maps, negative int32, packed and unpacked lists, inline") {
    std::string port = Len(1, "web") + Int(3, 80) + Len(4, Int(1, 1) + Int(2, 0) + Len(3, "http"));
    std::string port2 = Int(3, 81) + Len(4, Int(1, 0) + Int(2, 8081) + Len(3, ""));
    api::Document svc =
        Decode(Body("v1", "Service", Len(2, Len(1, port) + Len(1, port2) + Len(4, "NodePort"))));
    CHECK(api::ToJson(*api::Find(svc, "spec")) ==
          R"({"ports":[{"name":"web","port":80,"targetPort":"http"},)"
          R"({"port":81,"targetPort":8081}],"type":"NodePort"})");

    std::string probe = Len(1, Len(2, Len(1, "/healthz") + Len(2, Int(2, 8080)))) + Int(4, 5);
    std::string container = Len(1, "c") + Len(8, Len(1, Entry("cpu", Len(1, "500m")))) +
                            Len(10, probe);
    std::string volume = Len(1, "v") + Len(2, Len(19, Len(1, Len(1, "cm")) + Int(3, 420)));
    std::string security = Len(4, Varint(1) + Varint(2)) + Int(4, 3);  // packed, then not
    std::string spec = Len(1, volume) + Len(2, container) + Len(14, security) + Int(25, -5);
    api::Document pod = Decode(Body("v1", "Pod", Len(2, spec)));
    CHECK(api::ToJson(*api::Find(pod, "spec")) ==
          R"({"volumes":[{"name":"v","configMap":{"name":"cm","defaultMode":420}}],)"
          R"("containers":[{"name":"c","resources":{"limits":{"cpu":"500m"}},)"
          R"("livenessProbe":{"httpGet":{"path":"/healthz","port":8080},"periodSeconds":5}}],)"
          R"("securityContext":{"supplementalGroups":[1,2,3]},"priority":-5})");
  }

  SECTION("bytes maps are base64, FieldsV1 is raw JSON") {
    std::string managed = Len(1, "kubectl") + Len(6, "FieldsV1") +
                          Len(7, Len(1, R"({"f:data":{"f:a":{}}})"));
    std::string raw = Len(1, Len(1, "cm") + Len(17, managed)) +
                      Len(3, Entry("bin", std::string("\0\xff\x10", 3))) + Len(3, Len(1, "empty"));
    api::Document cm = Decode(Body("v1", "ConfigMap", raw));
    CHECK(api::ToJson(cm) ==
          R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm","managedFields":[)"
          R"({"manager":"kubectl","fieldsType":"FieldsV1","fieldsV1":{"f:data":{"f:a":{}}}}]},)"
          R"("binaryData":{"bin":"AP8Q","empty":""}})");

    std::string bad = Len(1, Len(17, Len(7, Len(1, "{nope"))));
    Status st = DecodeError(Body("v1", "ConfigMap", bad));
    CHECK(st.code() == Code::kBadRequest);
    CHECK(Contains(st, "FieldsV1 is not JSON"));

    st = DecodeError(Body("v1", "ConfigMap", Len(1, Len(8, Int(1, 253402300800)))));
    CHECK(st.code() == Code::kBadRequest);
    CHECK(Contains(st, "time out of range"));
  }
}

TEST_CASE("errors") {
  SECTION("a body without the magic") {
    Status st = DecodeError(R"({"kind":"ConfigMap","apiVersion":"v1"})");
    CHECK(st.code() == Code::kBadRequest);
    CHECK(Contains(st, "magic"));
  }
  SECTION("truncated bodies") {
    std::string deploy = Unhex(kCaptures[0].hex);
    Status st = DecodeError(deploy.substr(0, deploy.size() - 10));
    CHECK(st.code() == Code::kBadRequest);
    CHECK(Contains(st, "field 2 is truncated in runtime.Unknown"));

    st = DecodeError(std::string("k8s\0\x0a\x80", 6));
    CHECK(st.code() == Code::kBadRequest);
    CHECK(Contains(st, "truncated varint"));

    std::string cut_inside = Len(1, std::string("\x0a\x05", 2) + "ab");  // metadata.name cut
    st = DecodeError(Body("v1", "ConfigMap", cut_inside));
    CHECK(Contains(st, "field 1 is truncated in meta.v1.ObjectMeta"));
  }
  SECTION("a field number the schema does not know is never dropped") {
    Status st = DecodeError(Body("v1", "ConfigMap", Len(1, Len(1, "cm")) + Int(99, 1)));
    CHECK(st.code() == Code::kUnsupportedMedia);
    CHECK(Contains(st, "protobuf field 99 of core.v1.ConfigMap is not known"));

    st = DecodeError(Body("v1", "Pod", Len(2, Len(2, Len(1, "c")) + Len(77, "x"))));
    CHECK(st.code() == Code::kUnsupportedMedia);
    CHECK(Contains(st, "field 77 of core.v1.PodSpec"));

    st = DecodeError(Body("v1", "ConfigMap", Len(2, Entry("a", "b") + Int(3, 1))));
    CHECK(st.code() == Code::kUnsupportedMedia);
    CHECK(Contains(st, "field 3 of core.v1.ConfigMap.data entry"));
  }
  SECTION("wrong wire types") {
    Status st = DecodeError(Body("v1", "ConfigMap", Int(1, 5)));
    CHECK(st.code() == Code::kBadRequest);
    CHECK(Contains(st, "field 1 of core.v1.ConfigMap has wire type 0, want 2"));

    st = DecodeError(Body("v1", "ConfigMap", Key(1, 3)));  // a group
    CHECK(st.code() == Code::kBadRequest);
    CHECK(Contains(st, "unsupported wire type 3"));
  }
  SECTION("kinds and encodings without a schema") {
    Status st = DecodeError(Body("v1", "PersistentVolume", ""));
    CHECK(st.code() == Code::kUnsupportedMedia);
    CHECK(Contains(st, "protobuf is not supported for PersistentVolume"));

    st = DecodeError(Body("apps/v1", "Pod", ""));  // right kind, wrong group
    CHECK(st.code() == Code::kUnsupportedMedia);

    st = DecodeError(Body("v1", "ConfigMap", "", "gzip"));
    CHECK(st.code() == Code::kUnsupportedMedia);
    CHECK(Contains(st, "contentEncoding \"gzip\""));
  }
}

}  // namespace
}  // namespace kubepp::apiserver

TEST_CASE("UnknownFields names the members a kind does not declare", "[protobuf]") {
  auto doc = kubepp::api::ParseJson(R"({"apiVersion":"apps/v1","kind":"Deployment",
    "metadata":{"name":"d","labels":{"any":"thing"}},
    "spec":{"replicass":2,"template":{"spec":{"containers":[{"name":"c","image":"i"},
      {"name":"d","imagee":"i","livenessProbe":{"httpGet":{"port":80},"bogus":1}}]}}}})");
  REQUIRE(doc.ok());
  auto unknown = kubepp::apiserver::UnknownFields("apps/v1", "Deployment", *doc);
  REQUIRE(unknown.size() == 3);
  CHECK(unknown[0] == "spec.replicass");
  CHECK(unknown[1] == "spec.template.spec.containers[1].imagee");
  CHECK(unknown[2] == "spec.template.spec.containers[1].livenessProbe.bogus");
  CHECK(kubepp::apiserver::UnknownFields("v1", "NoSuchKind", *doc).empty());
}
