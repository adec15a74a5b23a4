#include "apiserver/managed_fields.h"

#include <catch2/catch.hpp>

#include "common/testing/json.h"

namespace kubepp::apiserver {
namespace {

using testing::Json;

// The first container of a Deployment (or null).
const api::Value* App(const api::Value& d) {
  const api::Value* list = api::Find(d, "spec.template.spec.containers");
  return list != nullptr && list->IsArray() && !list->Empty() ? &(*list)[0] : nullptr;
}

const std::string kDeployment = R"({"apiVersion":"apps/v1","kind":"Deployment",
  "metadata":{"name":"web","namespace":"ns","labels":{"app":"web"}},
  "spec":{"replicas":2,"template":{"spec":{"containers":[
    {"name":"app","image":"nginx:1","command":["nginx","-g"],"ports":[{"containerPort":80}]}]}}},
  "status":{"replicas":2}})";

TEST_CASE("FieldsOf: leaves, keyed list elements, atomic lists; no server metadata or status") {
  FieldSet f = FieldsOf(Json(kDeployment), "Deployment");
  const std::string app = R"(k:{"name":"app"})";
  const FieldPath containers = {"f:spec", "f:template", "f:spec", "f:containers"};
  auto under = [&](std::vector<std::string> tail) {
    FieldPath p = containers;
    p.insert(p.end(), tail.begin(), tail.end());
    return p;
  };
  CHECK(f.count({"f:metadata", "f:labels", "f:app"}));
  CHECK(f.count({"f:spec", "f:replicas"}));
  CHECK(f.count(under({app, "."})));
  CHECK(f.count(under({app, "f:image"})));
  CHECK(f.count(under({app, "f:command"})));  // atomic: one field
  CHECK(f.count(under({app, "f:ports", R"(k:{"containerPort":80})", "f:containerPort"})));
  for (const auto& p : f) {
    CHECK(p.front() != "f:status");
    CHECK(p.front() != "f:apiVersion");
    CHECK(p != FieldPath{"f:metadata", "f:name"});
  }
  CHECK(FieldPathString(under({app, "f:image"})) ==
        R"(.spec.template.spec.containers[name="app"].image)");
}

TEST_CASE("FieldsV1 encoding round-trips") {
  FieldSet f = FieldsOf(Json(kDeployment), "Deployment");
  api::Document d;
  EncodeFieldsV1(f, d, d.GetAllocator());
  CHECK(api::ToJson(d).find(R"("k:{\"name\":\"app\"}":{".":{},)") != std::string::npos);
  CHECK(DecodeFieldsV1(d) == f);
}

TEST_CASE("ServerSideApply: conflicts, forced takeover, and fields given up are removed") {
  api::Document live = Json(kDeployment);
  api::Document applied = Json(kDeployment);
  SetAppliedFields(live, applied, "Deployment", "alice", "apps/v1", "t0");

  // bob sets the image alice owns to another value: a conflict, nothing changes.
  api::Document bob = Json(R"({"spec":{"template":{"spec":{"containers":[
      {"name":"app","image":"nginx:2"}]}}}})");
  std::string before = api::ToJson(live);
  Status st = ServerSideApply(live, bob, "Deployment", "bob", false, "apps/v1", "t1");
  REQUIRE(st.code() == Code::kConflict);
  CHECK(st.message() == R"(Apply failed with 1 conflict: conflict with "alice": )"
                        R"(.spec.template.spec.containers[name="app"].image)");
  REQUIRE(st.details() != nullptr);
  CHECK(st.details()->causes.at(0).type == "FieldManagerConflict");
  CHECK(api::ToJson(live) == before);

  // The same value is no conflict: bob co-owns the image.
  api::Document same = Json(R"({"spec":{"template":{"spec":{"containers":[
      {"name":"app","image":"nginx:1"}]}}}})");
  REQUIRE(ServerSideApply(live, same, "Deployment", "bob", false, "apps/v1", "t1").ok());

  // Forced: bob takes the image over.
  REQUIRE(ServerSideApply(live, bob, "Deployment", "bob", true, "apps/v1", "t2").ok());
  REQUIRE(App(live) != nullptr);
  CHECK(api::GetString(*App(live), "image") == "nginx:2");

  // alice drops command and the label from her configuration: they go; the image stays
  // (bob's), and alice no longer conflicts on it since she does not apply it.
  api::Document alice2 = Json(R"({"apiVersion":"apps/v1","kind":"Deployment",
      "metadata":{"name":"web","namespace":"ns"},
      "spec":{"replicas":3,"template":{"spec":{"containers":[{"name":"app","ports":[{"containerPort":80}]}]}}}})");
  REQUIRE(ServerSideApply(live, alice2, "Deployment", "alice", false, "apps/v1", "t3").ok());
  REQUIRE(App(live) != nullptr);
  CHECK(!api::Has(*App(live), "command"));
  CHECK(!api::Has(live, "metadata.labels"));
  REQUIRE(App(live) != nullptr);
  CHECK(api::GetString(*App(live), "image") == "nginx:2");
  CHECK(api::GetInt(live, "spec.replicas", 0) == 3);
  const api::Value* managed = api::Find(live, "metadata.managedFields");
  REQUIRE(managed != nullptr);
  REQUIRE(managed->Size() == 2);
  CHECK(api::GetString((*managed)[0], "manager") == "alice");
  CHECK(api::GetString((*managed)[0], "time") == "t3");

  // bob gives up the container entirely: the element stays, alice still names it.
  api::Document bob2 = Json(R"({"metadata":{"annotations":{"x":"y"}}})");
  REQUIRE(ServerSideApply(live, bob2, "Deployment", "bob", false, "apps/v1", "t4").ok());
  REQUIRE(App(live) != nullptr);
  CHECK(api::GetString(*App(live), "name") == "app");
  CHECK(!api::Has(*App(live), "image"));
}

}  // namespace
}  // namespace kubepp::apiserver
