#include "proxy/ingress/snapshot.h"

#include <catch2/catch.hpp>

namespace kubepp::proxy::ingress {
namespace {

informer::ObjectPtr Obj(const std::string& json) {
  auto d = api::ParseJson(json);
  REQUIRE(d.ok());
  return std::make_shared<const api::Document>(std::move(*d));
}

ServicePtr Service(const std::string& name) {
  return ServiceOf(*Obj(R"({"metadata":{"name":")" + name + R"(","namespace":"ns"},)"
             R"("spec":{"ports":[{"name":"http","port":80,"targetPort":8080},)"
             R"({"name":"admin","port":9000}]}})"));
}

SlicePtr Slice(const std::string& service, const std::string& eps) {
  return SliceOf(*Obj(R"({"metadata":{"name":")" + service + R"(-x","namespace":"ns",)"
             R"("labels":{"kubernetes.io/service-name":")" + service + R"("}},)"
             R"("addressType":"IPv4","ports":[{"name":"http","port":8080},{"name":"admin","port":9001}],)"
             R"("endpoints":)" + eps + "}"));
}

informer::ObjectPtr Ingress(const std::string& name, const std::string& spec,
                            const std::string& annotations = "{}",
                            const std::string& created = "2024-01-01T00:00:00Z") {
  return Obj(R"({"metadata":{"name":")" + name + R"(","namespace":"ns","creationTimestamp":")" +
             created + R"(","annotations":)" + annotations + R"(},"spec":)" + spec + "}");
}

std::vector<std::string> Ips(const Route* r) {
  std::vector<std::string> out;
  for (const auto& e : r->upstream->endpoints()) out.push_back(e.ip + ":" + std::to_string(e.port));
  return out;
}

const std::string kRules = R"({"ingressClassName":"kubepp","rules":[{"host":"a.example.com","http":{"paths":[
    {"path":"/","pathType":"Prefix","backend":{"service":{"name":"web","port":{"number":80}}}},
    {"path":"/admin","pathType":"Exact","backend":{"service":{"name":"web","port":{"name":"admin"}}}},
    {"path":"/gone","pathType":"Prefix","backend":{"service":{"name":"missing","port":{"number":80}}}}]}}]})";

TEST_CASE("rules resolve to the ready endpoints of the Service port") {
  BuildInput in;
  in.ingress_class = "kubepp";
  in.services = {Service("web")};
  in.slices = {Slice("web", R"([{"addresses":["10.0.0.1"],"conditions":{"ready":true}},
      {"addresses":["10.0.0.2"],"conditions":{"ready":false}},{"addresses":["10.0.0.3"]}])")};
  in.ingresses = {Ingress("ing", kRules)};
  BuildCache cache;
  BuildResult r = Build(in, &cache);
  REQUIRE(r.handled.size() == 1);
  const Route* root = r.snapshot->routes.Lookup("a.example.com", "/x");
  REQUIRE(root);
  CHECK(root->ingress == "ns/ing");
  CHECK(Ips(root) == std::vector<std::string>{"10.0.0.1:8080", "10.0.0.3:8080"});
  const Route* admin = r.snapshot->routes.Lookup("a.example.com", "/admin");
  REQUIRE(admin);
  CHECK(Ips(admin) == std::vector<std::string>{"10.0.0.1:9001", "10.0.0.3:9001"});
  // The unknown Service's rule is skipped (the "/" rule answers) and reported.
  CHECK(r.snapshot->routes.Lookup("a.example.com", "/gone")->ingress == "ns/ing");
  CHECK(r.snapshot->routes.size() == 2);
  REQUIRE(r.problems.size() == 1);
  CHECK(r.problems[0].reason == "BadBackend");
  CHECK_THAT(r.problems[0].message, Catch::Contains("ns/missing not found"));
}

TEST_CASE("a backend port number out of range is reported, not wrapped onto another port") {
  BuildInput in;
  in.ingress_class = "kubepp";
  in.services = {Service("web")};
  // 4294967376 is 80 in 32 bits.
  in.ingresses = {Ingress("ing", R"({"ingressClassName":"kubepp","rules":[{"host":"a.example.com",
      "http":{"paths":[{"path":"/","pathType":"Prefix",
      "backend":{"service":{"name":"web","port":{"number":4294967376}}}}]}}]})")};
  BuildCache cache;
  BuildResult r = Build(in, &cache);
  CHECK(r.snapshot->routes.Lookup("a.example.com", "/") == nullptr);
  REQUIRE(r.problems.size() == 1);
  CHECK(r.problems[0].reason == "BadBackend");
  CHECK_THAT(r.problems[0].message, Catch::Contains("a number 1-65535"));
}

TEST_CASE("a Service without endpoints still routes (the server answers 503)") {
  BuildInput in;
  in.ingress_class = "kubepp";
  in.services = {Service("web")};
  in.ingresses = {Ingress("ing", kRules)};
  BuildCache cache;
  auto r = Build(in, &cache);
  const Route* root = r.snapshot->routes.Lookup("a.example.com", "/");
  REQUIRE(root);
  CHECK(root->upstream->endpoints().empty());
}

TEST_CASE("class selection: by name, by legacy annotation, or the default class") {
  auto mine = Ingress("mine", R"({"ingressClassName":"kubepp","defaultBackend":{"service":{"name":"web","port":{"number":80}}}})");
  auto other = Ingress("other", R"({"ingressClassName":"nginx"})");
  auto legacy = Ingress("legacy", "{}", R"({"kubernetes.io/ingress.class":"kubepp"})");
  auto classless = Ingress("classless", "{}");
  CHECK(Handles(*mine, "kubepp", false));
  CHECK_FALSE(Handles(*other, "kubepp", true));
  CHECK(Handles(*legacy, "kubepp", false));
  CHECK_FALSE(Handles(*classless, "kubepp", false));
  CHECK(Handles(*classless, "kubepp", true));

  BuildInput in;
  in.ingress_class = "kubepp";
  in.services = {Service("web")};
  in.ingresses = {mine, other, classless};
  BuildCache cache;
  CHECK(Build(in, &cache).handled.size() == 1);
  in.ingress_classes = {Obj(R"({"metadata":{"name":"kubepp","annotations":{
      "ingressclass.kubernetes.io/is-default-class":"true"}}})")};
  auto r = Build(in, &cache);
  CHECK(r.handled.size() == 2);
  CHECK(r.snapshot->routes.Lookup("any.host", "/")->ingress == "ns/mine");
}

TEST_CASE("the oldest Ingress wins a conflicting rule") {
  std::string spec = R"({"ingressClassName":"kubepp","rules":[{"host":"h","http":{"paths":[
      {"path":"/","pathType":"Prefix","backend":{"service":{"name":"web","port":{"number":80}}}}]}}]})";
  BuildInput in;
  in.ingress_class = "kubepp";
  in.services = {Service("web")};
  in.ingresses = {Ingress("young", spec, "{}", "2024-05-01T00:00:00Z"),
                  Ingress("old", spec, "{}", "2023-05-01T00:00:00Z")};
  BuildCache cache;
  CHECK(Build(in, &cache).snapshot->routes.Lookup("h", "/")->ingress == "ns/old");
}

TEST_CASE("TLS: a bad Secret is reported, rules still route without redirect") {
  std::string spec = R"({"ingressClassName":"kubepp","tls":[{"hosts":["a.example.com"],"secretName":"bad"},
      {"hosts":["b.example.com"],"secretName":"absent"}],"rules":[{"host":"a.example.com","http":{"paths":[
      {"path":"/","pathType":"Prefix","backend":{"service":{"name":"web","port":{"number":80}}}}]}}]})";
  BuildInput in;
  in.ingress_class = "kubepp";
  in.services = {Service("web")};
  in.secrets = {Obj(R"({"metadata":{"name":"bad","namespace":"ns","resourceVersion":"7"},
      "type":"kubernetes.io/tls","data":{"tls.crt":"bm90IGEgY2VydA==","tls.key":"bm8ga2V5"}})")};
  in.ingresses = {Ingress("ing", spec)};
  BuildCache cache;
  auto r = Build(in, &cache);
  CHECK(r.snapshot->certs.empty());
  REQUIRE(r.problems.size() == 2);
  CHECK(r.problems[0].reason == "BadCertificate");
  CHECK_THAT(r.problems[0].message, Catch::Contains("no PEM certificate"));
  CHECK_THAT(r.problems[1].message, Catch::Contains("ns/absent not found"));
  const Route* route = r.snapshot->routes.Lookup("a.example.com", "/");
  REQUIRE(route);
  CHECK_FALSE(route->ssl_redirect);
}

TEST_CASE("rate limiters survive rebuilds while their limits stay the same") {
  std::string spec = R"({"ingressClassName":"kubepp","rules":[{"http":{"paths":[
      {"path":"/","pathType":"Prefix","backend":{"service":{"name":"web","port":{"number":80}}}}]}}]})";
  BuildInput in;
  in.ingress_class = "kubepp";
  in.services = {Service("web")};
  in.ingresses = {Ingress("ing", spec, R"({"nginx.ingress.kubernetes.io/limit-rps":"1"})")};
  BuildCache cache;
  auto first = Build(in, &cache).snapshot->routes.Lookup("h", "/")->limiter;
  REQUIRE(first);
  auto again = Build(in, &cache).snapshot->routes.Lookup("h", "/")->limiter;
  CHECK(first == again);
  in.ingresses = {Ingress("ing", spec, R"({"nginx.ingress.kubernetes.io/limit-rps":"2"})")};
  auto changed = Build(in, &cache).snapshot->routes.Lookup("h", "/")->limiter;
  CHECK(changed != first);
  in.ingresses = {Ingress("ing", spec, R"({"nginx.ingress.kubernetes.io/limit-rps":"x"})")};
  auto bad = Build(in, &cache);
  CHECK_FALSE(bad.snapshot->routes.Lookup("h", "/")->limiter);
  REQUIRE(bad.problems.size() == 1);
  CHECK(bad.problems[0].reason == "BadAnnotation");
}

TEST_CASE("Base64Decode") {
  CHECK(*Base64Decode("aGVsbG8=") == "hello");
  CHECK(*Base64Decode("aGVs\nbG8h") == "hello!");
  CHECK(*Base64Decode("") == "");
  CHECK_FALSE(Base64Decode("abc").ok());
}

TEST_CASE("a self-signed certificate can be made") {
  auto c = TlsCertificate::SelfSigned("test");
  REQUIRE(c.ok());
  CHECK((*c)->context() != nullptr);
  CHECK((*c)->names() == std::vector<std::string>{"test"});
}

}  // namespace
}  // namespace kubepp::proxy::ingress
