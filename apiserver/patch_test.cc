#include "apiserver/patch.h"

#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "common/testing/json.h"

namespace kubepp::apiserver {
namespace {

using testing::Json;

// The patched object as JSON, or "error: <code> <message>".
template <typename Apply>
std::string Patched(std::string_view original, std::string_view patch, Apply apply) {
  api::Document target = Json(original);
  api::Document p = Json(patch);
  Status st = apply(target, p);
  if (!st.ok()) return "error: " + std::string(st.reason()) + " " + st.message();
  return api::ToJson(target);
}

std::string Smp(std::string_view original, std::string_view patch, std::string_view kind = "Pod") {
  return Patched(original, patch, [kind](api::Document& t, const api::Value& p) {
    return ApplyStrategicMergePatch(t, p, kind);
  });
}
std::string Merge(std::string_view original, std::string_view patch) {
  return Patched(original, patch, ApplyMergePatch);
}
std::string JsonPatch(std::string_view original, std::string_view patch) {
  return Patched(original, patch, ApplyJsonPatch);
}

// JSON equality (object members in any order, array elements in order).
bool SameJson(const std::string& got, std::string_view want) {
  auto parsed = api::ParseJson(got);
  return parsed.ok() && static_cast<const api::Value&>(*parsed) == Json(want);
}

#define CHECK_JSON(got, want)                  \
  do {                                         \
    std::string got_ = (got);                  \
    INFO("got:  " << got_ << "\nwant: " << (want)); \
    CHECK(SameJson(got_, want));               \
  } while (0)

#define CHECK_ERROR(got, fragment)                            \
  do {                                                        \
    std::string got_ = (got);                                 \
    INFO("got: " << got_);                                    \
    CHECK(got_.rfind("error: ", 0) == 0);                     \
    CHECK(got_.find(fragment) != std::string::npos);          \
  } while (0)

// ---------------------------------------------------------------------------------------
// Strategic merge patch. Upstream's cases (strategicpatch/patch_test.go) use a test struct;
// here its mergingList is spec.containers (merge key name; value -> image, other ->
// workingDir), mergingIntList is metadata.finalizers, simpleMap is metadata.labels.

TEST_CASE("strategic merge patch: maps merge, null deletes") {
  CHECK_JSON(Smp(R"({"metadata":{"name":"p"}})", R"({"metadata":{"labels":{"a":"1"}}})"),
             R"({"metadata":{"name":"p","labels":{"a":"1"}}})");
  // delete field from nested map
  CHECK_JSON(Smp(R"({"metadata":{"labels":{"key1":"1","key2":"1","other":"a"}}})",
                 R"({"metadata":{"labels":{"key2":null}}})"),
             R"({"metadata":{"labels":{"key1":"1","other":"a"}}})");
  // defined null values for absent keys do not appear in the result
  CHECK_JSON(Smp(R"({"spec":{"nodeName":"a"}})",
                 R"({"spec":{"nodeName":"n1","hostname":"h","subdomain":null}})"),
             R"({"spec":{"nodeName":"n1","hostname":"h"}})");
  // scalars and mismatched types replace
  CHECK_JSON(Smp(R"({"spec":{"x":{"a":1}}})", R"({"spec":{"x":[1]}})"), R"({"spec":{"x":[1]}})");
  // nil patch
  CHECK_JSON(Smp(R"({"metadata":{"name":"p"}})", "{}"), R"({"metadata":{"name":"p"}})");
}

TEST_CASE("strategic merge patch: $patch in maps") {
  // delete map from nested map
  CHECK_JSON(Smp(R"({"metadata":{"labels":{"key1":"1","key2":"1"}}})",
                 R"({"metadata":{"labels":{"$patch":"delete"}}})"),
             R"({"metadata":{"labels":{}}})");
  // delete all keys from map / add key and delete all keys from map
  CHECK_JSON(Smp(R"({"metadata":{"labels":{"name":"1","value":"1"}}})",
                 R"({"metadata":{"labels":{"$patch":"replace"}}})"),
             R"({"metadata":{"labels":{}}})");
  CHECK_JSON(Smp(R"({"metadata":{"labels":{"name":"1","value":"1"}}})",
                 R"({"metadata":{"labels":{"other":"a","$patch":"replace"}}})"),
             R"({"metadata":{"labels":{"other":"a"}}})");
  CHECK_JSON(Smp(R"({"metadata":{"labels":{"a":"1"}}})",
                 R"({"metadata":{"labels":{"b":"2","$patch":"merge"}}})"),
             R"({"metadata":{"labels":{"a":"1","b":"2"}}})");
  CHECK_ERROR(Smp(R"({"metadata":{}})", R"({"metadata":{"$patch":"explode"}})"), "BadRequest");
  CHECK_ERROR(Smp("{}", "[]"), "must be a JSON object");
}

TEST_CASE("strategic merge patch: lists merged by key") {
  const char* two = R"({"spec":{"containers":[{"name":"1","workingDir":"a"},
                                               {"name":"2","image":"2","workingDir":"b"}]}})";
  // add field to map in merging list
  CHECK_JSON(Smp(two, R"({"spec":{"containers":[{"name":"1","image":"1"}]}})"),
             R"({"spec":{"containers":[{"name":"1","workingDir":"a","image":"1"},
                                        {"name":"2","image":"2","workingDir":"b"}]}})");
  // replace map field value in merging list
  CHECK_JSON(Smp(two, R"({"spec":{"containers":[{"name":"2","image":"x"}]}})"),
             R"({"spec":{"containers":[{"name":"1","workingDir":"a"},
                                        {"name":"2","image":"x","workingDir":"b"}]}})");
  // delete map from merging list; deleting a missing one is a no-op
  CHECK_JSON(Smp(two, R"({"spec":{"containers":[{"name":"1","$patch":"delete"}]}})"),
             R"({"spec":{"containers":[{"name":"2","image":"2","workingDir":"b"}]}})");
  CHECK_JSON(Smp(two, R"({"spec":{"containers":[{"name":"9","$patch":"delete"}]}})"), two);
  // delete all maps from merging list
  CHECK_JSON(Smp(two, R"({"spec":{"containers":[{"name":"1","$patch":"delete"},
                                                {"name":"2","$patch":"delete"}]}})"),
             R"({"spec":{"containers":[]}})");
  // delete all items from merging list ($patch: replace element), and replace with new ones
  CHECK_JSON(Smp(two, R"({"spec":{"containers":[{"$patch":"replace"}]}})"),
             R"({"spec":{"containers":[]}})");
  CHECK_JSON(Smp(two, R"({"spec":{"containers":[{"$patch":"replace"},{"name":"3"}]}})"),
             R"({"spec":{"containers":[{"name":"3"}]}})");
  // delete all duplicate entries in a merging list
  CHECK_JSON(Smp(R"({"spec":{"containers":[{"name":"1"},{"name":"1"},{"name":"2","image":"a"},
                                           {"name":"3"},{"name":"3"}]}})",
                 R"({"spec":{"containers":[{"name":"1","$patch":"delete"},
                                           {"name":"3","$patch":"delete"}]}})"),
             R"({"spec":{"containers":[{"name":"2","image":"a"}]}})");
  // merge empty merging lists
  CHECK_JSON(Smp(R"({"spec":{"containers":[]}})", R"({"spec":{"containers":[]}})"),
             R"({"spec":{"containers":[]}})");
  // missing merge key should error out
  CHECK_ERROR(Smp(R"({"spec":{"containers":[{"name":"1","image":"a"}]}})",
                  R"({"spec":{"containers":[{"image":"b"}]}})"),
              "does not contain declared merge key");
}

TEST_CASE("strategic merge patch: element order without $setElementOrder") {
  const char* three = R"({"spec":{"containers":[{"name":"1"},{"name":"2","image":"b"},
                                                 {"name":"3"}]}})";
  // preserve the order from the patch in a merging list
  CHECK_JSON(Smp(three, R"({"spec":{"containers":[{"name":"3","image":"c"},
                                                  {"name":"1","image":"a"},
                                                  {"name":"2","workingDir":"x"}]}})"),
             R"({"spec":{"containers":[{"name":"3","image":"c"},{"name":"1","image":"a"},
                                        {"name":"2","image":"b","workingDir":"x"}]}})");
  // preserve the order from the patch in a merging list 2
  CHECK_JSON(Smp(three, R"({"spec":{"containers":[{"name":"3","image":"c"},
                                                  {"name":"1","image":"a"}]}})"),
             R"({"spec":{"containers":[{"name":"2","image":"b"},{"name":"3","image":"c"},
                                        {"name":"1","image":"a"}]}})");
  // new elements go before the server-only ones (upstream's mergeSortedSlice)
  CHECK_JSON(Smp(R"({"spec":{"containers":[{"name":"1"},{"name":"2"}]}})",
                 R"({"spec":{"containers":[{"name":"3"}]}})"),
             R"({"spec":{"containers":[{"name":"3"},{"name":"1"},{"name":"2"}]}})");
}

TEST_CASE("strategic merge patch: $setElementOrder") {
  // merge lists of maps
  CHECK_JSON(Smp(R"({"spec":{"containers":[{"name":"1","workingDir":"a"},
                                           {"name":"2","image":"2","workingDir":"b"}]}})",
                 R"({"spec":{"$setElementOrder/containers":[{"name":"4"},{"name":"1"},
                                                             {"name":"2"},{"name":"3"}],
                             "containers":[{"name":"4","image":"4"},{"name":"3","image":"3"}]}})"),
             R"({"spec":{"containers":[{"name":"4","image":"4"},{"name":"1","workingDir":"a"},
                                        {"name":"2","image":"2","workingDir":"b"},
                                        {"name":"3","image":"3"}]}})");
  // $setElementOrder contains item that is not present in the list to be merged
  CHECK_JSON(Smp(R"({"spec":{"containers":[{"name":"1"},{"name":"3"}]}})",
                 R"({"spec":{"$setElementOrder/containers":[{"name":"3"},{"name":"2"},{"name":"1"}],
                             "containers":[{"name":"3","image":"3"},{"name":"1","image":"1"}]}})"),
             R"({"spec":{"containers":[{"name":"3","image":"3"},{"name":"1","image":"1"}]}})");
  // a pure reorder; the server-only "s" goes first as it preceded "c", the first ordered one
  CHECK_JSON(Smp(R"({"spec":{"containers":[{"name":"a"},{"name":"b"},{"name":"s"},{"name":"c"}]}})",
                 R"({"spec":{"$setElementOrder/containers":[{"name":"c"},{"name":"b"},{"name":"a"}]}})"),
             R"({"spec":{"containers":[{"name":"s"},{"name":"c"},{"name":"b"},{"name":"a"}]}})");
  // should check if order in $setElementOrder and patch list match
  CHECK_ERROR(Smp(R"({"spec":{"containers":[{"name":"1"},{"name":"3"},{"name":"2"}]}})",
                  R"({"spec":{"$setElementOrder/containers":[{"name":"1"},{"name":"2"},{"name":"3"}],
                              "containers":[{"name":"3","image":"3"},{"name":"1","image":"1"}]}})"),
              "doesn't match");
  // the list may be new
  CHECK_JSON(Smp(R"({"spec":{}})",
                 R"({"spec":{"$setElementOrder/initContainers":[{"name":"i"}],
                             "initContainers":[{"name":"i","image":"x"}]}})"),
             R"({"spec":{"initContainers":[{"name":"i","image":"x"}]}})");
}

TEST_CASE("strategic merge patch: primitive lists with merge strategy") {
  auto fin = [](std::string_view list) {
    return R"({"metadata":{"finalizers":)" + std::string(list) + "}}";
  };
  // unique scalars when merging lists
  CHECK_JSON(Smp(fin(R"(["1","2"])"), fin(R"(["2","3"])")), fin(R"(["1","2","3"])"));
  // preserve the order from the patch in a merging int list
  CHECK_JSON(Smp(fin(R"(["1","2","3"])"), fin(R"(["3","1","2"])")), fin(R"(["3","1","2"])"));
  CHECK_JSON(Smp(fin(R"(["1","2","3"])"), fin(R"(["3","1"])")), fin(R"(["2","3","1"])"));
  // delete items in lists of scalars
  CHECK_JSON(Smp(fin(R"(["1","2","3","4"])"),
                 R"({"metadata":{"$setElementOrder/finalizers":["1","2"],
                                 "$deleteFromPrimitiveList/finalizers":["3"]}})"),
             fin(R"(["1","2","4"])"));
  // delete all duplicate items in lists of scalars
  CHECK_JSON(Smp(fin(R"(["1","2","3","3","4"])"),
                 R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["3"]}})"),
             fin(R"(["1","2","4"])"));
  // add and delete items in lists of scalars
  CHECK_JSON(Smp(fin(R"(["1","2","3","4"])"),
                 R"({"metadata":{"$setElementOrder/finalizers":["1","2","4"],
                                 "$deleteFromPrimitiveList/finalizers":["3"],
                                 "finalizers":["4"]}})"),
             fin(R"(["1","2","4"])"));
  // $setElementOrder contains item that is not present in the int list to be merged
  CHECK_JSON(Smp(fin(R"(["1","3"])"),
                 R"({"metadata":{"$setElementOrder/finalizers":["3","2","1"]}})"),
             fin(R"(["3","1"])"));
  CHECK_ERROR(Smp(fin(R"(["1","3","2"])"),
                  R"({"metadata":{"$setElementOrder/finalizers":["1","2","3"],
                                  "finalizers":["3","1"]}})"),
              "doesn't match");
}

TEST_CASE("strategic merge patch: lists without merge key are replaced") {
  // replace list of scalars
  CHECK_JSON(Smp(R"({"spec":{"containers":[{"name":"c","args":["1","2"]}]}})",
                 R"({"spec":{"containers":[{"name":"c","args":["2","3"]}]}})"),
             R"({"spec":{"containers":[{"name":"c","args":["2","3"]}]}})");
  // tolerations, envFrom, readinessGates have no patch merge key upstream
  CHECK_JSON(Smp(R"({"spec":{"tolerations":[{"key":"a"},{"key":"b"}]}})",
                 R"({"spec":{"tolerations":[{"key":"c"}]}})"),
             R"({"spec":{"tolerations":[{"key":"c"}]}})");
  CHECK_JSON(Smp(R"({"subsets":[{"addresses":[{"ip":"1.1.1.1"}]}]})",
                 R"({"subsets":[{"ports":[{"port":80}]}]})", "Endpoints"),
             R"({"subsets":[{"ports":[{"port":80}]}]})");
  // custom resources: only metadata lists merge (new values go first, as upstream)
  CHECK_JSON(Smp(R"({"metadata":{"finalizers":["a"]},"spec":{"containers":[{"name":"x"}]}})",
                 R"({"metadata":{"finalizers":["b"]},"spec":{"containers":[{"name":"y"}]}})",
                 "Widget"),
             R"({"metadata":{"finalizers":["b","a"]},"spec":{"containers":[{"name":"y"}]}})");
}

TEST_CASE("strategic merge patch: $retainKeys") {
  // kubectl apply switching a Deployment to Recreate drops rollingUpdate
  CHECK_JSON(Smp(R"({"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}}}})",
                 R"({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}})",
                 "Deployment"),
             R"({"spec":{"strategy":{"type":"Recreate"}}})");
  // a volume changing source
  CHECK_JSON(Smp(R"({"spec":{"volumes":[{"name":"v","emptyDir":{}},{"name":"w","emptyDir":{}}]}})",
                 R"({"spec":{"volumes":[{"$retainKeys":["configMap","name"],"name":"v",
                                         "configMap":{"name":"cm"}}]}})"),
             R"({"spec":{"volumes":[{"name":"v","configMap":{"name":"cm"}},
                                     {"name":"w","emptyDir":{}}]}})");
  // retainKeys map can delete a field; nulls need not be listed
  CHECK_JSON(Smp(R"({"spec":{"strategy":{"type":"a","x":"1","y":"2"}}})",
                 R"({"spec":{"strategy":{"$retainKeys":["type","x"],"y":null}}})", "Deployment"),
             R"({"spec":{"strategy":{"type":"a","x":"1"}}})");
  CHECK_ERROR(Smp(R"({"spec":{"strategy":{"type":"a"}}})",
                  R"({"spec":{"strategy":{"$retainKeys":["type"],"other":"b"}}})", "Deployment"),
              "not in $retainKeys");
}

TEST_CASE("strategic merge patch: kubectl apply changing an image keeps the rest") {
  const char* live = R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},
    "spec":{"replicas":1,"template":{"metadata":{"labels":{"app":"d"}},"spec":{
      "containers":[{"name":"c","image":"old","command":["sleep","3600"],
                     "ports":[{"containerPort":80}],"env":[{"name":"A","value":"1"}]}],
      "restartPolicy":"Always"}}}})";
  const char* patch = R"({"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{}"}},
    "spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"c"}],
                                "containers":[{"image":"new","name":"c"}]}}}})";
  std::string got = Smp(live, patch, "Deployment");
  CHECK_JSON(got, R"({"apiVersion":"apps/v1","kind":"Deployment",
    "metadata":{"name":"d","annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{}"}},
    "spec":{"replicas":1,"template":{"metadata":{"labels":{"app":"d"}},"spec":{
      "containers":[{"name":"c","image":"new","command":["sleep","3600"],
                     "ports":[{"containerPort":80}],"env":[{"name":"A","value":"1"}]}],
      "restartPolicy":"Always"}}}})");
  CHECK(got.find('$') == std::string::npos);
}

TEST_CASE("strategic merge patch: nested lists inside merged containers") {
  const char* live = R"({"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[
    {"name":"c","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}],
     "ports":[{"containerPort":80,"name":"http"},{"containerPort":443}],
     "volumeMounts":[{"mountPath":"/a","name":"v"}]}]}}}}}})";
  std::string got = Smp(live, R"({"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[
    {"name":"c","$setElementOrder/env":[{"name":"A"},{"name":"B"},{"name":"C"}],
     "env":[{"name":"B","value":"3"},{"name":"C","value":"4"}],
     "ports":[{"containerPort":443,"$patch":"delete"},{"containerPort":80,"protocol":"TCP"}],
     "volumeMounts":[{"mountPath":"/a","readOnly":true}]}]}}}}}})", "CronJob");
  CHECK_JSON(got, R"({"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[
    {"name":"c","env":[{"name":"A","value":"1"},{"name":"B","value":"3"},{"name":"C","value":"4"}],
     "ports":[{"containerPort":80,"name":"http","protocol":"TCP"}],
     "volumeMounts":[{"mountPath":"/a","name":"v","readOnly":true}]}]}}}}}})");

  // directives inside a newly added element are processed, not copied
  got = Smp(R"({"spec":{"containers":[{"name":"a"}]}})",
            R"({"spec":{"$setElementOrder/containers":[{"name":"a"},{"name":"b"}],
                        "containers":[{"name":"b","$setElementOrder/env":[{"name":"X"}],
                                       "env":[{"name":"X","value":"1"},{"name":"Y","$patch":"delete"}]}]}})");
  CHECK_JSON(got, R"({"spec":{"containers":[{"name":"a"},
                                            {"name":"b","env":[{"name":"X","value":"1"}]}]}})");
}

TEST_CASE("strategic merge patch: per-kind merge keys") {
  CHECK_JSON(Smp(R"({"spec":{"ports":[{"port":80,"name":"http"},{"port":443,"name":"https"}]}})",
                 R"({"spec":{"ports":[{"port":80,"targetPort":8080}]}})", "Service"),
             R"({"spec":{"ports":[{"port":80,"name":"http","targetPort":8080},
                                   {"port":443,"name":"https"}]}})");
  CHECK_JSON(Smp(R"({"status":{"addresses":[{"type":"InternalIP","address":"10.0.0.1"},
                                            {"type":"Hostname","address":"n"}],
                               "conditions":[{"type":"Ready","status":"False"}]}})",
                 R"({"status":{"addresses":[{"type":"InternalIP","address":"10.0.0.2"}],
                               "conditions":[{"type":"Ready","status":"True"}]}})", "Node"),
             R"({"status":{"addresses":[{"type":"InternalIP","address":"10.0.0.2"},
                                        {"type":"Hostname","address":"n"}],
                           "conditions":[{"type":"Ready","status":"True"}]}})");
  CHECK_JSON(Smp(R"({"status":{"conditions":[{"type":"Ready","status":"False"},
                                             {"type":"PodScheduled","status":"True"}],
                               "containerStatuses":[{"name":"a"},{"name":"b"}]}})",
                 R"({"status":{"conditions":[{"type":"Ready","status":"True"}],
                               "containerStatuses":[{"name":"a","ready":true}]}})"),
             R"({"status":{"conditions":[{"type":"Ready","status":"True"},
                                         {"type":"PodScheduled","status":"True"}],
                           "containerStatuses":[{"name":"a","ready":true}]}})");
  CHECK_JSON(Smp(R"({"metadata":{"ownerReferences":[{"uid":"1","name":"a"},{"uid":"2","name":"b"}]}})",
                 R"({"metadata":{"ownerReferences":[{"uid":"2","controller":true}]}})", "ReplicaSet"),
             R"({"metadata":{"ownerReferences":[{"uid":"1","name":"a"},
                                                {"uid":"2","name":"b","controller":true}]}})");
}

TEST_CASE("strategic merge patch: errors leave the target unchanged") {
  api::Document target = Json(R"({"spec":{"containers":[{"name":"a","image":"x"}]}})");
  std::string before = api::ToJson(target);
  api::Document patch = Json(R"({"spec":{"nodeName":"n","containers":[{"image":"y"}]}})");
  Status st = ApplyStrategicMergePatch(target, patch, "Pod");
  CHECK(st.code() == Code::kBadRequest);
  CHECK(api::ToJson(target) == before);
}

// ---------------------------------------------------------------------------------------
// RFC 7386 merge patch (examples of its section 3 and appendix A).

TEST_CASE("merge patch: RFC 7386 examples") {
  CHECK_JSON(Merge(R"({"title":"Goodbye!","author":{"givenName":"John","familyName":"Doe"},
                       "tags":["example","sample"],"content":"This will be unchanged"})",
                   R"({"title":"Hello!","phoneNumber":"+01-123-456-7890",
                       "author":{"familyName":null},"tags":["example"]})"),
             R"({"title":"Hello!","author":{"givenName":"John"},"tags":["example"],
                 "content":"This will be unchanged","phoneNumber":"+01-123-456-7890"})");
  CHECK_JSON(Merge(R"({"a":"b"})", R"({"a":"c"})"), R"({"a":"c"})");
  CHECK_JSON(Merge(R"({"a":"b"})", R"({"b":"c"})"), R"({"a":"b","b":"c"})");
  CHECK_JSON(Merge(R"({"a":"b"})", R"({"a":null})"), R"({})");
  CHECK_JSON(Merge(R"({"a":"b","b":"c"})", R"({"a":null})"), R"({"b":"c"})");
  CHECK_JSON(Merge(R"({"a":["b"]})", R"({"a":"c"})"), R"({"a":"c"})");
  CHECK_JSON(Merge(R"({"a":"c"})", R"({"a":["b"]})"), R"({"a":["b"]})");
  CHECK_JSON(Merge(R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})"), R"({"a":{"b":"d"}})");
  CHECK_JSON(Merge(R"({"a":[{"b":"c"}]})", R"({"a":[1]})"), R"({"a":[1]})");
  CHECK_JSON(Merge(R"({"e":null})", R"({"a":1})"), R"({"e":null,"a":1})");
  CHECK_JSON(Merge(R"([1,2])", R"({"a":"b","c":null})"), R"({"a":"b"})");
  CHECK_JSON(Merge(R"({})", R"({"a":{"bb":{"ccc":null}}})"), R"({"a":{"bb":{}}})");
  // A patch that is not an object would replace the whole object: upstream refuses it.
  CHECK_ERROR(Merge(R"({"a":"b"})", R"(["c"])"), "BadRequest");
  CHECK_ERROR(Merge(R"({"a":"foo"})", "null"), "BadRequest");
  CHECK_ERROR(Merge(R"({"a":"foo"})", R"("bar")"), "BadRequest");
}

// ---------------------------------------------------------------------------------------
// RFC 6902 JSON patch (examples of its appendix A).

TEST_CASE("json patch: RFC 6902 examples") {
  CHECK_JSON(JsonPatch(R"({"foo":"bar"})", R"([{"op":"add","path":"/baz","value":"qux"}])"),
             R"({"baz":"qux","foo":"bar"})");
  CHECK_JSON(JsonPatch(R"({"foo":["bar","baz"]})", R"([{"op":"add","path":"/foo/1","value":"qux"}])"),
             R"({"foo":["bar","qux","baz"]})");
  CHECK_JSON(JsonPatch(R"({"baz":"qux","foo":"bar"})", R"([{"op":"remove","path":"/baz"}])"),
             R"({"foo":"bar"})");
  CHECK_JSON(JsonPatch(R"({"foo":["bar","qux","baz"]})", R"([{"op":"remove","path":"/foo/1"}])"),
             R"({"foo":["bar","baz"]})");
  CHECK_JSON(JsonPatch(R"({"baz":"qux","foo":"bar"})",
                       R"([{"op":"replace","path":"/baz","value":"boo"}])"),
             R"({"baz":"boo","foo":"bar"})");
  CHECK_JSON(JsonPatch(R"({"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}})",
                       R"([{"op":"move","from":"/foo/waldo","path":"/qux/thud"}])"),
             R"({"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}})");
  CHECK_JSON(JsonPatch(R"({"foo":["all","grass","cows","eat"]})",
                       R"([{"op":"move","from":"/foo/1","path":"/foo/3"}])"),
             R"({"foo":["all","cows","eat","grass"]})");
  CHECK_JSON(JsonPatch(R"({"baz":"qux","foo":["a",2,"c"]})",
                       R"([{"op":"test","path":"/baz","value":"qux"},
                           {"op":"test","path":"/foo/1","value":2}])"),
             R"({"baz":"qux","foo":["a",2,"c"]})");
  CHECK_ERROR(JsonPatch(R"({"baz":"qux"})", R"([{"op":"test","path":"/baz","value":"bar"}])"),
              "test failed");
  CHECK_JSON(JsonPatch(R"({"foo":"bar"})",
                       R"([{"op":"add","path":"/child","value":{"grandchild":{}}}])"),
             R"({"foo":"bar","child":{"grandchild":{}}})");
  // ignoring unrecognized elements
  CHECK_JSON(JsonPatch(R"({"foo":"bar"})",
                       R"([{"op":"add","path":"/baz","value":"qux","xyz":123}])"),
             R"({"foo":"bar","baz":"qux"})");
  // adding to a nonexistent target
  CHECK_ERROR(JsonPatch(R"({"foo":"bar"})", R"([{"op":"add","path":"/baz/bat","value":"qux"}])"),
              "Invalid");
  // ~ escape ordering; comparing strings and numbers
  CHECK_JSON(JsonPatch(R"({"/":9,"~1":10})", R"([{"op":"test","path":"/~01","value":10}])"),
             R"({"/":9,"~1":10})");
  CHECK_ERROR(JsonPatch(R"({"/":9,"~1":10})", R"([{"op":"test","path":"/~01","value":"10"}])"),
              "test failed");
  CHECK_JSON(JsonPatch(R"({"/":9})", R"([{"op":"replace","path":"/~1","value":1}])"), R"({"/":1})");
  // adding an array value
  CHECK_JSON(JsonPatch(R"({"foo":["bar"]})",
                       R"([{"op":"add","path":"/foo/-","value":["abc","def"]}])"),
             R"({"foo":["bar",["abc","def"]]})");
}

TEST_CASE("json patch: more operations and errors") {
  CHECK_JSON(JsonPatch(R"({"spec":{"replicas":1}})",
                       R"([{"op":"replace","path":"/spec/replicas","value":3}])"),
             R"({"spec":{"replicas":3}})");
  CHECK_JSON(JsonPatch(R"({"a":{"b":[1]}})", R"([{"op":"copy","from":"/a","path":"/c"},
                                                   {"op":"add","path":"/c/b/0","value":0}])"),
             R"({"a":{"b":[1]},"c":{"b":[0,1]}})");
  CHECK_JSON(JsonPatch(R"({"a":1.0})", R"([{"op":"test","path":"/a","value":1}])"), R"({"a":1.0})");
  CHECK_JSON(JsonPatch(R"({"a":1})", R"([{"op":"add","path":"","value":{"b":2}}])"), R"({"b":2})");
  CHECK_ERROR(JsonPatch(R"({"a":1})", R"([{"op":"remove","path":"/b"}])"), "Invalid");
  CHECK_ERROR(JsonPatch(R"({"a":1})", R"([{"op":"replace","path":"/b","value":1}])"), "Invalid");
  CHECK_ERROR(JsonPatch(R"({"a":[1]})", R"([{"op":"add","path":"/a/2","value":1}])"), "out of bounds");
  CHECK_ERROR(JsonPatch(R"({"a":[1]})", R"([{"op":"remove","path":"/a/01"}])"), "invalid array index");
  CHECK_ERROR(JsonPatch(R"({"a":{}})", R"([{"op":"move","from":"/a","path":"/a/b"}])"), "children");
  CHECK_ERROR(JsonPatch(R"({"a":1})", R"([{"op":"frob","path":"/a"}])"), "unknown op");
  CHECK_ERROR(JsonPatch(R"({"a":1})", R"([{"op":"add","path":"/b"}])"), "missing \"value\"");
  CHECK_ERROR(JsonPatch(R"({"a":1})", R"([{"op":"add","path":"b","value":1}])"), "Invalid");
  // not a list of operation objects: BadRequest, as upstream's DecodePatch
  CHECK_ERROR(JsonPatch(R"({"a":1})", R"({"op":"add"})"), "BadRequest");
  CHECK_ERROR(JsonPatch(R"({"a":1})", R"([1])"), "BadRequest");
}

TEST_CASE("json patch: a failing test op leaves the target unchanged") {
  api::Document target = Json(R"({"metadata":{"name":"x"},"spec":{"replicas":1}})");
  std::string before = api::ToJson(target);
  api::Document ops = Json(R"([{"op":"replace","path":"/spec/replicas","value":5},
                               {"op":"test","path":"/metadata/name","value":"y"}])");
  Status st = ApplyJsonPatch(target, ops);
  CHECK(st.code() == Code::kInvalid);
  CHECK(st.http_status() == 422);
  CHECK(st.message().find("operation 1") != std::string::npos);
  CHECK(st.message().find("/metadata/name") != std::string::npos);
  CHECK(api::ToJson(target) == before);
}

// Found by fuzz/fuzz_patch: 40 copies of the whole object into itself, a 1.7 KB body,
// asked for 2^40 times the object's memory.
TEST_CASE("json patch: copies are bounded by kMaxJsonPatchCopyBytes") {
  api::Document target = Json(R"({"a":")" + std::string(100, 'x') + R"("})");
  std::string before = api::ToJson(target);
  std::string ops = "[";
  for (int i = 0; i < 40; ++i) ops += R"({"op":"copy","from":"","path":"/k)" + std::to_string(i) + R"("},)";
  ops.back() = ']';
  Status st = ApplyJsonPatch(target, Json(ops));
  CHECK(st.code() == Code::kInvalid);
  CHECK(st.message().find("exceeding the limit of 3145728") != std::string::npos);
  CHECK(api::ToJson(target) == before);
  // Below the limit copies work as before.
  CHECK_JSON(JsonPatch(R"({"a":[1,2]})", R"([{"op":"copy","from":"/a","path":"/b"},
                                             {"op":"copy","from":"","path":"/c"}])"),
             R"({"a":[1,2],"b":[1,2],"c":{"a":[1,2],"b":[1,2]}})");
}

}  // namespace
}  // namespace kubepp::apiserver
