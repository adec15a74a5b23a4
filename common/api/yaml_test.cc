#include "common/api/yaml.h"

#include <catch2/catch.hpp>

namespace kubepp::api {
namespace {

Document One(std::string_view yaml) {
  auto docs = ParseYaml(yaml);
  REQUIRE(docs.ok());
  REQUIRE(docs->size() == 1);
  return std::move((*docs)[0]);
}

std::string OneJson(std::string_view yaml) { return ToJson(One(yaml)); }

constexpr std::string_view kDeployment = R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
    tier: "frontend"
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports:
        - containerPort: 80
          protocol: TCP
        env:
        - name: WORKERS
          value: "1"
        - name: DEBUG
          value: 'true'
        args: ["--port", "80"]
)";

TEST_CASE("ParseYaml refuses text that is not UTF-8 or holds control characters, as Go's") {
  auto r = ParseYaml("a: b\nk\xfe\xff: v\n");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kBadRequest);
  CHECK(r.status().message() == "yaml: invalid UTF-8 (byte 6)");
  CHECK_FALSE(ParseYaml("a: \xc3").ok());  // cut short
  // A NUL made yaml-cpp decode the rest as another encoding (found by fuzz_yaml).
  r = ParseYaml(std::string("+\"j{0\0Ns [O,m,", 14));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == "yaml: control characters are not allowed (byte 5)");
  CHECK_FALSE(ParseYaml("a: \x7f\n").ok());
  CHECK(ParseYaml("a:\tb\r\n").ok());
  auto ok = ParseYaml("name: \xc3\xa9t\xc3\xa9 \xe2\x9c\x93\n");
  REQUIRE(ok.ok());
  CHECK(GetString((*ok)[0], "name") == "\xc3\xa9t\xc3\xa9 \xe2\x9c\x93");
}

TEST_CASE("ParseYaml converts a Deployment manifest") {
  Document d = One(kDeployment);
  CHECK(GetString(d, "kind") == "Deployment");
  CHECK(GetString(d, "metadata.labels.tier") == "frontend");
  CHECK(Find(d, "spec.replicas")->IsInt64());
  CHECK(GetInt(d, "spec.replicas") == 3);
  const Value& c = (*Find(d, "spec.template.spec.containers"))[0];
  CHECK(GetString(c, "image") == "nginx:1.25");
  CHECK(c["ports"][0]["containerPort"].GetInt64() == 80);
  CHECK(c["env"][0]["value"].IsString());
  CHECK(View(c["env"][0]["value"]) == "1");
  CHECK(c["env"][1]["value"].IsString());
  CHECK(View(c["env"][1]["value"]) == "true");
  CHECK(ToJson(c["args"]) == R"(["--port","80"])");
}

TEST_CASE("ParseYaml resolves plain scalars per the core schema") {
  CHECK(OneJson("a: true\nb: False\nc: TRUE\nd: yes\ne: on\n") ==
        R"({"a":true,"b":false,"c":true,"d":"yes","e":"on"})");
  CHECK(OneJson("a: ~\nb: null\nc:\nd: NULL\n") == R"({"a":null,"b":null,"c":null,"d":null})");
  CHECK(OneJson("a: -12\nb: +7\nc: 0x1F\nd: 0o17\ne: 0644\nf: 0\ng: 08\n") ==
        R"({"a":-12,"b":7,"c":31,"d":15,"e":420,"f":0,"g":8.0})");
  CHECK(OneJson("a: 1.5\nb: -.5\nc: 1e3\nd: 2.\ne: .inf\nf: .nan\ng: 1e999\n") ==
        R"({"a":1.5,"b":-0.5,"c":1000.0,"d":2.0,"e":".inf","f":".nan","g":"1e999"})");
  CHECK(OneJson("a: 9223372036854775807\nb: -9223372036854775808\nc: 18446744073709551615\n") ==
        R"({"a":9223372036854775807,"b":-9223372036854775808,"c":18446744073709551615})");
  CHECK(OneJson("a: 1.2.3\nb: 12abc\nc: nginx:1.25\nd: -x\n") ==
        R"({"a":"1.2.3","b":"12abc","c":"nginx:1.25","d":"-x"})");
}

TEST_CASE("ParseYaml keeps quoted, tagged and block scalars as strings") {
  CHECK(OneJson("a: \"true\"\nb: 'null'\nc: \"1\"\nd: !!str 5\ne: ''\n") ==
        R"({"a":"true","b":"null","c":"1","d":"5","e":""})");
  CHECK(OneJson("a: |\n  12\n  x\nb: >\n  true\n") == R"({"a":"12\nx\n","b":"true\n"})");
  CHECK(OneJson("a: !!int 5\n") == R"({"a":5})");
}

TEST_CASE("ParseYaml mapping keys are strings; a repeated key keeps its last value") {
  CHECK(OneJson("1: a\ntrue: b\nnull: c\n\"x\": d\n") ==
        R"({"1":"a","true":"b","null":"c","x":"d"})");
  CHECK(OneJson("a: 1\nb: 2\na: 3\n") == R"({"a":3,"b":2})");
  auto r = ParseYaml("? [a, b]\n: 1\n");
  REQUIRE(!r.ok());
  CHECK(r.status().code() == Code::kBadRequest);
  CHECK(r.status().message().find("keys must be scalars") != std::string::npos);
}

TEST_CASE("ParseYaml splits multi-document streams and skips empty documents") {
  auto docs = ParseYaml("---\n---\n");
  REQUIRE(docs.ok());
  CHECK(docs->empty());

  docs = ParseYaml("a: 1\n---\n---\nb: 2\n--- ~\n---\n- x\n...\n");
  REQUIRE(docs.ok());
  REQUIRE(docs->size() == 3);
  CHECK(ToJson((*docs)[0]) == R"({"a":1})");
  CHECK(ToJson((*docs)[1]) == R"({"b":2})");
  CHECK(ToJson((*docs)[2]) == R"(["x"])");

  docs = ParseYaml("");
  REQUIRE(docs.ok());
  CHECK(docs->empty());

  // A document whose value resolves to null is empty too, however it is spelled (the
  // fuzz_yaml finding: a tagged empty quoted scalar came out as a null document that
  // ToYaml could not write back as one).
  docs = ParseYaml("null\n---\n!!null ''\n---\n!!s \"\"\n");
  REQUIRE(docs.ok());
  CHECK(docs->empty());
}

TEST_CASE("ParseYaml reports malformed YAML as BadRequest with a position") {
  for (std::string_view bad : {"a: [1, 2\nb: 3\n", "a: b: c\n", "a: *missing\n", "a: \"x\" y\n",
                               "a:\n  - 1\n b: 2\n", "a:\n\tb: 1\n"}) {
    auto r = ParseYaml(bad);
    REQUIRE(!r.ok());
    CHECK(r.status().code() == Code::kBadRequest);
    CHECK(r.status().message().rfind("invalid YAML: line ", 0) == 0);
  }
}

TEST_CASE("ParseYaml bounds alias expansion and depth") {
  // "Billion laughs": each level references the previous one ten times.
  std::string bomb = "a: &a [" + std::string(1000, 'x') + "]\n";
  for (char c = 'b'; c <= 'j'; ++c) {
    char prev = static_cast<char>(c - 1);
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) bomb += std::string(i ? ", *" : "*") + prev;
    bomb += "]\n";
  }
  auto r = ParseYaml(bomb);
  REQUIRE(!r.ok());
  CHECK(r.status().code() == Code::kBadRequest);
  CHECK(r.status().message().find("16 MiB") != std::string::npos);

  r = ParseYaml("&a [*a]\n");
  REQUIRE(!r.ok());
  CHECK(r.status().message().find("nested deeper") != std::string::npos);

  // Same limit as ParseJson: the innermost of 257 nested arrays is at depth 256.
  CHECK(ParseYaml(std::string(257, '[') + std::string(257, ']')).ok());
  CHECK(!ParseYaml(std::string(258, '[') + std::string(258, ']')).ok());
  CHECK(!ParseYaml(std::string(5000, '[') + std::string(5000, ']')).ok());

  CHECK(OneJson("base: &b {x: 1}\nuse: *b\n") == R"({"base":{"x":1},"use":{"x":1}})");
}

TEST_CASE("ParseJsonOrYaml picks the syntax and wants one document") {
  auto d = ParseJsonOrYaml("  \n{\"a\": 1}");
  REQUIRE(d.ok());
  CHECK(ToJson(*d) == R"({"a":1})");
  d = ParseJsonOrYaml("{\"a\": 1");  // JSON errors come from ParseJson
  REQUIRE(!d.ok());
  CHECK(d.status().message().find("invalid JSON") != std::string::npos);

  d = ParseJsonOrYaml("kind: Pod\nmetadata: {name: p}\n");
  REQUIRE(d.ok());
  CHECK(ToJson(*d) == R"({"kind":"Pod","metadata":{"name":"p"}})");

  CHECK(ParseJsonOrYaml("a: 1\n---\nb: 2\n").status().code() == Code::kBadRequest);
  CHECK(ParseJsonOrYaml("---\n").status().code() == Code::kBadRequest);
  CHECK(ParseJsonOrYaml("a: [\n").status().code() == Code::kBadRequest);
}

TEST_CASE("ToYaml uses kubectl's block layout and quotes ambiguous strings") {
  auto d = ParseJson(R"({"apiVersion":"v1","kind":"Pod",
    "metadata":{"name":"p","labels":{"app":"web"},"annotations":{"rev":"1"}},
    "spec":{"containers":[{"name":"c","image":"nginx","ports":[{"containerPort":80}],
      "env":[{"name":"A","value":"true"},{"name":"B","value":""}]}],
      "volumes":[],"nodeSelector":{}},
    "status":{"ratio":0.5,"ready":false,"hostIP":null,"matrix":[[1,2],[]]}})");
  REQUIRE(d.ok());
  CHECK(ToYaml(*d) == R"(apiVersion: v1
kind: Pod
metadata:
  name: p
  labels:
    app: web
  annotations:
    rev: "1"
spec:
  containers:
  - name: c
    image: nginx
    ports:
    - containerPort: 80
    env:
    - name: A
      value: "true"
    - name: B
      value: ""
  volumes: []
  nodeSelector: {}
status:
  ratio: 0.5
  ready: false
  hostIP: null
  matrix:
  - - 1
    - 2
  - []
)");
}

TEST_CASE("ToYaml quoting and literal blocks") {
  auto yaml_of = [](std::string_view json) {
    auto d = ParseJson(json);
    REQUIRE(d.ok());
    return ToYaml(*d);
  };
  CHECK(yaml_of(R"({"a":"plain text","b":"yes","c":"a: b","d":"- x","e":" lead","f":"1.2.3"})") ==
        "a: plain text\nb: \"yes\"\nc: \"a: b\"\nd: \"- x\"\ne: \" lead\"\nf: \"1.2.3\"\n");
  CHECK(yaml_of(R"({"k":"line1\nline2\n"})") == "k: |\n  line1\n  line2\n");
  CHECK(yaml_of(R"({"k":"line1\n\nline3"})") == "k: |-\n  line1\n\n  line3\n");
  CHECK(yaml_of(R"({"k":"x\n\n"})") == "k: |+\n  x\n\n");
  CHECK(yaml_of(R"({"k":" indented\nx"})") == "k: \" indented\\nx\"\n");
  CHECK(yaml_of(R"({"k":"bell\u0007"})") == "k: \"bell\\x07\"\n");
  CHECK(yaml_of(R"({"a: b":1,"":2,"true":3})") == "\"a: b\": 1\n\"\": 2\n\"true\": 3\n");
  CHECK(yaml_of(R"("just a string")") == "just a string\n");
  CHECK(yaml_of(R"({})") == "{}\n");
}

TEST_CASE("ToYaml output parses back to the same JSON") {
  std::vector<std::string> cases = {
      std::string(R"({"a":"1","b":1,"c":1.0,"d":"true","e":true,"f":"null","g":null,"h":"",)"
                  R"("i":"~","j":"0644","k":"0x1F","l":"1e3","m":".inf","n":"yes","o":"-",)"
                  R"("p":"#comment","q":"a #b","r":"x:","s":"[a]","t":"{b}","u":"*ref","v":"&anc",)"
                  R"("w":"!tag","x":"%pct","y":"@at","z":"`tick","aa":"'sq'","ab":"\"dq\"",)"
                  R"("ac":"|","ad":">","ae":"?","af":"trailing ","ag":"tab\there",)"
                  R"("ah":"back\\slash",)"
                  R"("ai":"multi\nline\n","aj":"multi\n  indented\n\n\n","ak":"no newline\nend",)"
                  R"("al":"\n leading newline","am":"crlf\r\n","an":"ünïcødé ✓",)"
                  R"("ao":"---","ap":"...",)"
                  R"("aq":-9223372036854775808,"ar":18446744073709551615,"as":1e300,"at":-0.001,)"
                  R"("au":"a\n  \n","av":"last line spaces\n  "})"),
      std::string(R"([[["deep"]],{"k":[{"x":{"y":[1,[2,{"z":[]}]]}}]},[],{}])"),
      std::string(R"("top\nlevel\n")"),
      std::string(R"(42)"),
  };
  Document deployment = One(kDeployment);
  cases.push_back(ToJson(deployment));
  for (const std::string& json : cases) {
    auto d = ParseJson(json);
    REQUIRE(d.ok());
    std::string yaml = ToYaml(*d);
    INFO(yaml);
    auto back = ParseYaml(yaml);
    REQUIRE(back.ok());
    REQUIRE(back->size() == 1);
    CHECK(ToJson((*back)[0]) == ToJson(*d));
  }
}

}  // namespace
}  // namespace kubepp::api

TEST_CASE("yaml: inputs that hang yaml-cpp's LoadAll are rejected or parsed, never loop",
          "[yaml]") {
  using kubepp::api::ParseYaml;
  for (const char* text : {",", ",a", "{a: 1},", "\"a\",", "a: 1\n---\n,\n---\nb: 2"}) {
    auto r = ParseYaml(text);  // returning at all is the point
    (void)r;
  }
  auto docs = ParseYaml("a: 1\n--- \nb: 2\n---\n---\nc: 3\n");
  REQUIRE(docs.ok());
  CHECK(docs->size() == 3);
  auto inline_doc = ParseYaml("--- {a: 1}\n");
  REQUIRE(inline_doc.ok());
  CHECK(inline_doc->size() == 1);
}

TEST_CASE("yaml: the \\N and \\_ escapes decode to UTF-8, as Go's reader (fuzz_yaml finding)") {
  auto docs = kubepp::api::ParseYaml("a: \"x\\_y\\Nz\"\n\"\\_k\": 1\n");
  REQUIRE(docs.ok());
  const auto& d = (*docs)[0];
  CHECK(kubepp::api::GetString(d, "a") == "x\xC2\xA0y\xC2\x85z");
  CHECK(kubepp::api::FindMember(d, "\xC2\xA0k") != nullptr);
  auto back = kubepp::api::ParseYaml(kubepp::api::ToYaml(d));
  REQUIRE(back.ok());
  CHECK(static_cast<const kubepp::api::Value&>((*back)[0]) == d);
}
