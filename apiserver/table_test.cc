#include "apiserver/table.h"

#include <catch2/catch.hpp>

#include <ctime>
#include <string>
#include <vector>

namespace kubepp::apiserver {
namespace {

// 2026-11-27T10:43:36Z
constexpr int64_t kNow = 1795776216;

// RFC 3339 time `seconds_ago` before kNow.
std::string Ago(int64_t seconds_ago) {
  std::time_t t = static_cast<std::time_t>(kNow - seconds_ago);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

const ResourceInfo& Info(std::string_view group, std::string_view plural) {
  const ResourceInfo* info = FindResource(group, "v1", plural);
  REQUIRE(info != nullptr);
  return *info;
}

api::Document Parse(const std::string& text) {
  auto doc = api::ParseJson(text);
  REQUIRE(doc.ok());
  return std::move(doc).value();
}

// Builds the table of `objects` (JSON texts) and parses it back.
api::Document Table(const ResourceInfo& info, const std::vector<std::string>& objects,
                    IncludeObject include = IncludeObject::kMetadata,
                    std::string_view rv = "42", std::string_view cont = "") {
  std::vector<api::Document> docs;
  for (const auto& o : objects) docs.push_back(Parse(o));
  std::vector<const api::Value*> ptrs;
  for (const auto& d : docs) ptrs.push_back(&d);
  return Parse(BuildTable(info, ptrs, include, rv, cont, kNow));
}

std::vector<std::string> Cells(const api::Document& table, rapidjson::SizeType row = 0) {
  std::vector<std::string> out;
  for (const auto& c : table["rows"][row]["cells"].GetArray()) {
    out.push_back(c.IsString() ? std::string(api::View(c)) : std::to_string(c.GetInt64()));
  }
  return out;
}

std::vector<std::string> ColumnNames(const api::Document& table) {
  std::vector<std::string> out;
  for (const auto& c : table["columnDefinitions"].GetArray()) {
    out.push_back(api::GetString(c, "name"));
  }
  return out;
}

// The cells of a single object of resource `plural` in `group`.
std::vector<std::string> RowOf(std::string_view group, std::string_view plural,
                               const std::string& object) {
  return Cells(Table(Info(group, plural), {object}));
}

std::vector<std::string> PodRow(const std::string& pod) { return RowOf("", "pods", pod); }

TEST_CASE("HumanDuration matches upstream at each boundary") {
  CHECK(HumanDuration(-2) == "<invalid>");
  CHECK(HumanDuration(-1) == "0s");
  CHECK(HumanDuration(0) == "0s");
  CHECK(HumanDuration(5) == "5s");
  CHECK(HumanDuration(119) == "119s");
  CHECK(HumanDuration(120) == "2m");
  CHECK(HumanDuration(200) == "3m20s");
  CHECK(HumanDuration(599) == "9m59s");
  CHECK(HumanDuration(600) == "10m");
  CHECK(HumanDuration(3 * 3600 - 1) == "179m");
  CHECK(HumanDuration(3 * 3600) == "3h");
  CHECK(HumanDuration(3 * 3600 + 60) == "3h1m");
  CHECK(HumanDuration(8 * 3600 - 1) == "7h59m");
  CHECK(HumanDuration(8 * 3600) == "8h");
  CHECK(HumanDuration(48 * 3600 - 1) == "47h");
  CHECK(HumanDuration(48 * 3600) == "2d");
  CHECK(HumanDuration(51 * 3600) == "2d3h");
  CHECK(HumanDuration(8 * 86400 - 1) == "7d23h");
  CHECK(HumanDuration(8 * 86400) == "8d");
  CHECK(HumanDuration(730 * 86400 - 1) == "729d");
  CHECK(HumanDuration(730 * 86400) == "2y");
  CHECK(HumanDuration(731 * 86400) == "2y1d");
  CHECK(HumanDuration(8 * 365 * 86400 - 1) == "7y364d");
  CHECK(HumanDuration(8 * 365 * 86400) == "8y");
  CHECK(HumanDuration(20 * 365 * 86400) == "20y");
}

TEST_CASE("ParseIncludeObject") {
  CHECK(*ParseIncludeObject("") == IncludeObject::kMetadata);
  CHECK(*ParseIncludeObject("Metadata") == IncludeObject::kMetadata);
  CHECK(*ParseIncludeObject("None") == IncludeObject::kNone);
  CHECK(*ParseIncludeObject("Object") == IncludeObject::kObject);
  auto bad = ParseIncludeObject("object");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == Code::kBadRequest);
}

TEST_CASE("Table envelope and column definitions") {
  const std::string pod = R"({"metadata":{"name":"p"}})";
  auto t = Table(Info("", "pods"), {pod}, IncludeObject::kMetadata, "42", "tok");
  CHECK(api::GetString(t, "kind") == "Table");
  CHECK(api::GetString(t, "apiVersion") == "meta.k8s.io/v1");
  CHECK(api::GetString(t, "metadata.resourceVersion") == "42");
  CHECK(api::GetString(t, "metadata.continue") == "tok");

  CHECK(ColumnNames(t) == std::vector<std::string>{"Name", "Ready", "Status", "Restarts", "Age",
                                                   "IP", "Node", "Nominated Node",
                                                   "Readiness Gates"});
  const auto& cols = t["columnDefinitions"];
  CHECK(api::GetString(cols[0], "format") == "name");
  CHECK(api::GetString(cols[1], "format").empty());
  CHECK(cols[1].HasMember("format"));
  CHECK(api::GetString(cols[3], "type") == "string");
  CHECK(api::GetInt(cols[4], "priority", -1) == 0);
  CHECK(api::GetInt(cols[5], "priority", -1) == 1);
  CHECK_FALSE(api::GetString(cols[0], "description").empty());

  auto bare = Table(Info("", "pods"), {}, IncludeObject::kMetadata, "", "");
  CHECK(bare["metadata"].IsObject());
  CHECK(bare["metadata"].MemberCount() == 0);
  CHECK(bare["rows"].Size() == 0);

  auto rv_only = Table(Info("", "pods"), {}, IncludeObject::kMetadata, "7", "");
  CHECK(rv_only["metadata"].MemberCount() == 1);
}

TEST_CASE("includeObject decides what each row carries") {
  const std::string pod =
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"ns",)"
      R"("labels":{"app":"x"},"resourceVersion":"9"},"spec":{"containers":[{"name":"c"}]}})";
  auto none = Table(Info("", "pods"), {pod}, IncludeObject::kNone);
  CHECK_FALSE(none["rows"][0].HasMember("object"));

  auto meta = Table(Info("", "pods"), {pod}, IncludeObject::kMetadata);
  const auto& m = meta["rows"][0]["object"];
  CHECK(api::GetString(m, "kind") == "PartialObjectMetadata");
  CHECK(api::GetString(m, "apiVersion") == "meta.k8s.io/v1");
  CHECK(api::GetString(m, "metadata.namespace") == "ns");
  CHECK(api::GetString(m, "metadata.labels.app") == "x");
  CHECK(api::GetString(m, "metadata.resourceVersion") == "9");
  CHECK_FALSE(m.HasMember("spec"));

  auto full = Table(Info("", "pods"), {pod}, IncludeObject::kObject);
  CHECK(full["rows"][0]["object"] == Parse(pod));

  // An object without metadata still yields a well-formed PartialObjectMetadata.
  auto empty = Table(Info("", "pods"), {"{}"}, IncludeObject::kMetadata);
  CHECK(empty["rows"][0]["object"]["metadata"].IsObject());
}

TEST_CASE("pod: running 1/1") {
  const std::string pod = R"({"metadata":{"name":"web","creationTimestamp":")" + Ago(300) +
                          R"("},"spec":{"nodeName":"n1","containers":[{"name":"c"}]},)"
                          R"("status":{"phase":"Running","podIP":"10.0.0.5",)"
                          R"("podIPs":[{"ip":"10.0.0.5"}],"conditions":[{"type":"Ready","status":"True"}],)"
                          R"("containerStatuses":[{"name":"c","ready":true,"restartCount":0,)"
                          R"("state":{"running":{"startedAt":")" + Ago(290) + R"("}}}]}})";
  CHECK(PodRow(pod) == std::vector<std::string>{"web", "1/1", "Running", "0", "5m", "10.0.0.5",
                                                "n1", "<none>", "<none>"});
  auto t = Table(Info("", "pods"), {pod});
  CHECK_FALSE(t["rows"][0].HasMember("conditions"));
}

TEST_CASE("pod: pending, unscheduled") {
  const std::string pod =
      R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"a"},{"name":"b"}]},)"
      R"("status":{"phase":"Pending"}})";
  CHECK(PodRow(pod) == std::vector<std::string>{"p", "0/2", "Pending", "0", "<unknown>",
                                                "<none>", "<none>", "<none>", "<none>"});
}

TEST_CASE("pod: CrashLoopBackOff with restarts and last restart age") {
  const std::string pod =
      R"({"metadata":{"name":"crash","creationTimestamp":")" + Ago(3600) +
      R"("},"spec":{"containers":[{"name":"c"}]},"status":{"phase":"Running",)"
      R"("containerStatuses":[{"name":"c","ready":false,"restartCount":5,)"
      R"("state":{"waiting":{"reason":"CrashLoopBackOff","message":"back-off"}},)"
      R"("lastState":{"terminated":{"exitCode":1,"reason":"Error","finishedAt":")" +
      Ago(125) + R"("}}}]}})";
  auto row = PodRow(pod);
  CHECK(row[1] == "0/1");
  CHECK(row[2] == "CrashLoopBackOff");
  CHECK(row[3] == "5 (2m5s ago)");
  CHECK(row[4] == "60m");
}

TEST_CASE("pod: terminating unless already terminal") {
  const std::string running =
      R"({"metadata":{"name":"t","deletionTimestamp":")" + Ago(1) +
      R"("},"spec":{"containers":[{"name":"c"}]},"status":{"phase":"Running",)"
      R"("containerStatuses":[{"name":"c","ready":true,"state":{"running":{}}}]}})";
  CHECK(PodRow(running)[2] == "Terminating");

  const std::string lost = R"({"metadata":{"name":"t","deletionTimestamp":")" + Ago(1) +
                           R"("},"status":{"phase":"Running","reason":"NodeLost"}})";
  CHECK(PodRow(lost)[2] == "Unknown");

  const std::string done =
      R"({"metadata":{"name":"t","deletionTimestamp":")" + Ago(1) +
      R"("},"spec":{"containers":[{"name":"c"}]},"status":{"phase":"Succeeded",)"
      R"("containerStatuses":[{"name":"c","state":{"terminated":{"exitCode":0,"reason":"Completed"}}}]}})";
  CHECK(PodRow(done)[2] == "Completed");

  const std::string null_deletion =
      R"({"metadata":{"name":"t","deletionTimestamp":null},"status":{"phase":"Running"}})";
  CHECK(PodRow(null_deletion)[2] == "Running");
}

TEST_CASE("pod: completed and failed carry a Completed row condition") {
  const std::string done =
      R"({"metadata":{"name":"job-x"},"spec":{"containers":[{"name":"c"}]},)"
      R"("status":{"phase":"Succeeded","containerStatuses":[{"name":"c","ready":false,)"
      R"("state":{"terminated":{"exitCode":0,"reason":"Completed"}}}]}})";
  auto t = Table(Info("", "pods"), {done});
  CHECK(Cells(t)[1] == "0/1");
  CHECK(Cells(t)[2] == "Completed");
  const auto& cond = t["rows"][0]["conditions"][0];
  CHECK(api::GetString(cond, "type") == "Completed");
  CHECK(api::GetString(cond, "status") == "True");
  CHECK(api::GetString(cond, "reason") == "Succeeded");

  const std::string failed =
      R"({"metadata":{"name":"f"},"spec":{"containers":[{"name":"c"}]},)"
      R"("status":{"phase":"Failed","containerStatuses":[{"name":"c",)"
      R"("state":{"terminated":{"exitCode":137}}}]}})";
  auto tf = Table(Info("", "pods"), {failed});
  CHECK(Cells(tf)[2] == "ExitCode:137");
  CHECK(api::GetString(tf["rows"][0]["conditions"][0], "reason") == "Failed");

  const std::string signaled =
      R"({"metadata":{"name":"s"},"status":{"phase":"Failed","containerStatuses":[)"
      R"({"name":"c","state":{"terminated":{"exitCode":0,"signal":9}}}]}})";
  CHECK(PodRow(signaled)[2] == "Signal:9");

  const std::string evicted =
      R"({"metadata":{"name":"e"},"status":{"phase":"Failed","reason":"Evicted"}})";
  CHECK(PodRow(evicted)[2] == "Evicted");
}

TEST_CASE("pod: a completed first container does not hide running ones") {
  const std::string base =
      R"({"metadata":{"name":"m"},"spec":{"containers":[{"name":"a"},{"name":"b"}]},)"
      R"("status":{"phase":"Running","conditions":[{"type":"Ready","status":"%READY%"}],)"
      R"("containerStatuses":[{"name":"a","state":{"terminated":{"exitCode":0,"reason":"Completed"}}},)"
      R"({"name":"b","ready":true,"state":{"running":{}}}]}})";
  auto with = [&](const std::string& ready) {
    std::string s = base;
    s.replace(s.find("%READY%"), 7, ready);
    return s;
  };
  CHECK(PodRow(with("True"))[2] == "Running");
  CHECK(PodRow(with("False"))[2] == "NotReady");
  CHECK(PodRow(with("True"))[1] == "1/2");
}

TEST_CASE("pod: init containers") {
  const std::string spec =
      R"("spec":{"initContainers":[{"name":"i1"},{"name":"i2"}],"containers":[{"name":"c"}]})";
  const std::string waiting =
      R"({"metadata":{"name":"p"},)" + spec +
      R"(,"status":{"phase":"Pending","initContainerStatuses":[)"
      R"({"name":"i1","state":{"terminated":{"exitCode":0,"reason":"Completed"}}},)"
      R"({"name":"i2","state":{"running":{}}}],)"
      R"("containerStatuses":[{"name":"c","state":{"waiting":{"reason":"PodInitializing"}}}]}})";
  CHECK(PodRow(waiting)[2] == "Init:1/2");
  CHECK(PodRow(waiting)[1] == "0/1");

  const std::string first =
      R"({"metadata":{"name":"p"},)" + spec +
      R"(,"status":{"phase":"Pending","initContainerStatuses":[)"
      R"({"name":"i1","state":{"waiting":{"reason":"PodInitializing"}}}]}})";
  CHECK(PodRow(first)[2] == "Init:0/2");

  const std::string crash =
      R"({"metadata":{"name":"p"},)" + spec +
      R"(,"status":{"phase":"Pending","initContainerStatuses":[)"
      R"({"name":"i1","restartCount":3,"state":{"waiting":{"reason":"CrashLoopBackOff"}},)"
      R"("lastState":{"terminated":{"exitCode":1,"finishedAt":")" + Ago(30) + R"("}}}]}})";
  CHECK(PodRow(crash)[2] == "Init:CrashLoopBackOff");
  CHECK(PodRow(crash)[3] == "3 (30s ago)");

  const std::string failed =
      R"({"metadata":{"name":"p"},)" + spec +
      R"(,"status":{"phase":"Failed","initContainerStatuses":[)"
      R"({"name":"i1","state":{"terminated":{"exitCode":2}}}]}})";
  CHECK(PodRow(failed)[2] == "Init:ExitCode:2");
}

TEST_CASE("pod: restartable init containers count as containers") {
  const std::string pod =
      R"({"metadata":{"name":"p"},"spec":{"initContainers":[{"name":"side","restartPolicy":"Always"}],)"
      R"("containers":[{"name":"c"}]},"status":{"phase":"Running",)"
      R"("conditions":[{"type":"Initialized","status":"True"}],)"
      R"("initContainerStatuses":[{"name":"side","started":true,"ready":true,"restartCount":1,)"
      R"("state":{"running":{}},"lastState":{"terminated":{"exitCode":1,"finishedAt":")" +
      Ago(600) + R"("}}}],)"
      R"("containerStatuses":[{"name":"c","ready":true,"restartCount":2,"state":{"running":{}}}]}})";
  auto row = PodRow(pod);
  CHECK(row[1] == "2/2");
  CHECK(row[2] == "Running");
  CHECK(row[3] == "3 (10m ago)");
}

TEST_CASE("pod: wide columns") {
  const std::string pod =
      R"({"metadata":{"name":"p"},"spec":{"nodeName":"n2","containers":[{"name":"c"}],)"
      R"("readinessGates":[{"conditionType":"a/one"},{"conditionType":"a/two"}]},)"
      R"("status":{"phase":"Running","nominatedNodeName":"n3","podIPs":[{"ip":"fd00::1"},{"ip":"10.1.1.1"}],)"
      R"("conditions":[{"type":"a/one","status":"True"},{"type":"a/two","status":"False"}]}})";
  auto row = PodRow(pod);
  CHECK(row[5] == "fd00::1");
  CHECK(row[6] == "n2");
  CHECK(row[7] == "n3");
  CHECK(row[8] == "1/2");
}

TEST_CASE("pod: scheduling gated") {
  const std::string pod =
      R"({"metadata":{"name":"p"},"status":{"phase":"Pending","conditions":[)"
      R"({"type":"PodScheduled","status":"False","reason":"SchedulingGated"}]}})";
  CHECK(PodRow(pod)[2] == "SchedulingGated");
}

TEST_CASE("node: status, roles, wide columns") {
  const std::string ready =
      R"({"metadata":{"name":"n1","creationTimestamp":")" + Ago(2 * 86400 + 3 * 3600) +
      R"(","labels":{"node-role.kubernetes.io/worker":"","node-role.kubernetes.io/control-plane":"",)"
      R"("node-role.kubernetes.io/":"x","kubernetes.io/role":"infra","kubernetes.io/hostname":"n1"}},)"
      R"("status":{"conditions":[{"type":"MemoryPressure","status":"False"},{"type":"Ready","status":"True"}],)"
      R"("addresses":[{"type":"Hostname","address":"n1"},{"type":"InternalIP","address":"192.168.1.10"}],)"
      R"j("nodeInfo":{"kubeletVersion":"v1.30.0-kubepp","osImage":"Debian GNU/Linux 12 (bookworm)",)j"
      R"("kernelVersion":"6.1.0","containerRuntimeVersion":"runc://1.1.5"}}})";
  CHECK(RowOf("", "nodes", ready) ==
        std::vector<std::string>{"n1", "Ready", "control-plane,infra,worker", "2d3h",
                                 "v1.30.0-kubepp", "192.168.1.10", "<none>",
                                 "Debian GNU/Linux 12 (bookworm)", "6.1.0", "runc://1.1.5"});

  const std::string cordoned =
      R"({"metadata":{"name":"n2"},"spec":{"unschedulable":true},)"
      R"("status":{"conditions":[{"type":"Ready","status":"Unknown"}]}})";
  auto row = RowOf("", "nodes", cordoned);
  CHECK(row[1] == "NotReady,SchedulingDisabled");
  CHECK(row[2] == "<none>");

  auto bare = RowOf("", "nodes", R"({"metadata":{"name":"n3"}})");
  CHECK(bare[1] == "Unknown");
  CHECK(bare[7] == "<unknown>");
  CHECK(bare[9] == "<unknown>");
}

TEST_CASE("deployment") {
  const std::string d =
      R"({"metadata":{"name":"web","creationTimestamp":")" + Ago(45) +
      R"("},"spec":{"replicas":3,"selector":{"matchLabels":{"tier":"fe","app":"web"},)"
      R"("matchExpressions":[{"key":"env","operator":"In","values":["prod","dev"]},)"
      R"({"key":"canary","operator":"DoesNotExist"}]},)"
      R"("template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.25"},)"
      R"({"name":"side","image":"busybox"}]}}},)"
      R"("status":{"replicas":3,"readyReplicas":2,"updatedReplicas":3,"availableReplicas":2}})";
  auto t = Table(Info("apps", "deployments"), {d});
  CHECK(ColumnNames(t) == std::vector<std::string>{"Name", "Ready", "Up-to-date", "Available",
                                                   "Age", "Containers", "Images", "Selector"});
  CHECK(Cells(t) == std::vector<std::string>{"web", "2/3", "3", "2", "45s", "nginx,side",
                                             "nginx:1.25,busybox",
                                             "app=web,!canary,env in (dev,prod),tier=fe"});
  CHECK(t["rows"][0]["cells"][2].IsInt64());

  // Defaulted replicas, no status yet.
  auto fresh = RowOf("apps", "deployments", R"({"metadata":{"name":"x"},"spec":{}})");
  CHECK(fresh[1] == "0/1");
  CHECK(fresh[7].empty());
}

TEST_CASE("service: types, ports, external IPs") {
  const std::string lb =
      R"({"metadata":{"name":"lb","creationTimestamp":")" + Ago(7200) +
      R"("},"spec":{"type":"LoadBalancer","clusterIP":"10.96.0.10","clusterIPs":["10.96.0.10"],)"
      R"("ports":[{"port":80,"nodePort":30080,"protocol":"TCP"},{"port":53,"nodePort":30053,"protocol":"UDP"}],)"
      R"("selector":{"app":"web","tier":"fe"}},"status":{"loadBalancer":{}}})";
  auto t = Table(Info("", "services"), {lb});
  CHECK(ColumnNames(t) == std::vector<std::string>{"Name", "Type", "Cluster-IP", "External-IP",
                                                   "Port(s)", "Age", "Selector"});
  CHECK(Cells(t) == std::vector<std::string>{"lb", "LoadBalancer", "10.96.0.10", "<pending>",
                                             "80:30080/TCP,53:30053/UDP", "120m",
                                             "app=web,tier=fe"});

  const std::string lb_ready =
      R"({"metadata":{"name":"lb"},"spec":{"type":"LoadBalancer","externalIPs":["1.1.1.1"]},)"
      R"("status":{"loadBalancer":{"ingress":[{"ip":"5.5.5.5"},{"hostname":"lb.example.com"},{"ip":"5.5.5.5"}]}}})";
  CHECK(RowOf("", "services", lb_ready)[3] == "5.5.5.5,lb.example.com,1.1.1.1");

  const std::string headless =
      R"({"metadata":{"name":"h"},"spec":{"type":"ClusterIP","clusterIP":"None"}})";
  auto h = RowOf("", "services", headless);
  CHECK(h[2] == "None");
  CHECK(h[3] == "<none>");
  CHECK(h[4] == "<none>");
  CHECK(h[6] == "<none>");

  const std::string ext =
      R"({"metadata":{"name":"e"},"spec":{"type":"ExternalName","externalName":"db.example.com"}})";
  auto e = RowOf("", "services", ext);
  CHECK(e[2] == "<none>");
  CHECK(e[3] == "db.example.com");

  const std::string node_port =
      R"({"metadata":{"name":"np"},"spec":{"type":"NodePort","clusterIPs":["10.96.1.1"],)"
      R"("externalIPs":["2.2.2.2","3.3.3.3"],"ports":[{"port":8080,"nodePort":31000}]}})";
  auto np = RowOf("", "services", node_port);
  CHECK(np[3] == "2.2.2.2,3.3.3.3");
  CHECK(np[4] == "8080:31000/TCP");
}

TEST_CASE("replicasets, daemonsets, statefulsets") {
  const std::string rs =
      R"({"metadata":{"name":"web-abc"},"spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},)"
      R"("template":{"spec":{"containers":[{"name":"c","image":"i"}]}}},)"
      R"("status":{"replicas":3,"readyReplicas":1}})";
  CHECK(RowOf("apps", "replicasets", rs) ==
        std::vector<std::string>{"web-abc", "3", "3", "1", "<unknown>", "c", "i", "app=web"});

  const std::string ds =
      R"({"metadata":{"name":"agent"},"spec":{"selector":{},"template":{"spec":{)"
      R"("nodeSelector":{"kubernetes.io/os":"linux"},"containers":[{"name":"a","image":"agent:1"}]}}},)"
      R"("status":{"desiredNumberScheduled":3,"currentNumberScheduled":3,"numberReady":2,)"
      R"("updatedNumberScheduled":3,"numberAvailable":2}})";
  CHECK(RowOf("apps", "daemonsets", ds) ==
        std::vector<std::string>{"agent", "3", "3", "2", "3", "2", "kubernetes.io/os=linux",
                                 "<unknown>", "a", "agent:1", "<none>"});

  const std::string sts =
      R"({"metadata":{"name":"db"},"spec":{"replicas":2,"template":{"spec":{"containers":[)"
      R"({"name":"pg","image":"postgres"}]}}},"status":{"readyReplicas":2}})";
  CHECK(RowOf("apps", "statefulsets", sts) ==
        std::vector<std::string>{"db", "2/2", "<unknown>", "pg", "postgres"});
}

TEST_CASE("jobs and cronjobs") {
  const std::string done =
      R"({"metadata":{"name":"pi","creationTimestamp":")" + Ago(600) +
      R"("},"spec":{"completions":1,"selector":{"matchLabels":{"job-name":"pi"}},)"
      R"("template":{"spec":{"containers":[{"name":"pi","image":"perl"}]}}},)"
      R"("status":{"succeeded":1,"startTime":")" + Ago(590) + R"(","completionTime":")" +
      Ago(500) + R"(","conditions":[{"type":"Complete","status":"True"}]}})";
  auto t = Table(Info("batch", "jobs"), {done});
  CHECK(ColumnNames(t) == std::vector<std::string>{"Name", "Status", "Completions", "Duration",
                                                   "Age", "Containers", "Images", "Selector"});
  CHECK(Cells(t) == std::vector<std::string>{"pi", "Complete", "1/1", "90s", "10m", "pi", "perl",
                                             "job-name=pi"});

  const std::string running =
      R"({"metadata":{"name":"w"},"spec":{"parallelism":3},"status":{"startTime":")" + Ago(200) +
      R"("}})";
  auto r = RowOf("batch", "jobs", running);
  CHECK(r[1] == "Running");
  CHECK(r[2] == "0/1 of 3");
  CHECK(r[3] == "3m20s");

  auto fresh = RowOf("batch", "jobs", R"({"metadata":{"name":"n"}})");
  CHECK(fresh[2] == "0/1");
  CHECK(fresh[3].empty());

  const std::string failed =
      R"({"metadata":{"name":"f"},"status":{"conditions":[{"type":"Failed","status":"True"}]}})";
  CHECK(RowOf("batch", "jobs", failed)[1] == "Failed");

  const std::string cj =
      R"({"metadata":{"name":"nightly"},"spec":{"schedule":"0 3 * * *","suspend":false,)"
      R"("jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"b","image":"backup"}]}}}}},)"
      R"("status":{"active":[{"name":"nightly-1"}],"lastScheduleTime":")" + Ago(3600) + R"("}})";
  auto ct = Table(Info("batch", "cronjobs"), {cj});
  CHECK(ColumnNames(ct) == std::vector<std::string>{"Name", "Schedule", "Timezone", "Suspend",
                                                    "Active", "Last Schedule", "Age",
                                                    "Containers", "Images", "Selector"});
  CHECK(Cells(ct) == std::vector<std::string>{"nightly", "0 3 * * *", "<none>", "False", "1",
                                              "60m", "<unknown>", "b", "backup", "<none>"});
  auto unset = RowOf("batch", "cronjobs",
                     R"({"metadata":{"name":"c"},"spec":{"schedule":"@daily","timeZone":"UTC"}})");
  CHECK(unset[2] == "UTC");
  CHECK(unset[3] == "<unset>");
  CHECK(unset[5] == "<none>");
}

TEST_CASE("endpoints and endpointslices") {
  const std::string ep =
      R"({"metadata":{"name":"web"},"subsets":[{"addresses":[{"ip":"10.0.0.1"},{"ip":"10.0.0.2"},)"
      R"({"ip":"fd00::3"}],"ports":[{"port":80},{"port":443}]}]})";
  CHECK(RowOf("", "endpoints", ep)[1] == "10.0.0.1:80,10.0.0.2:80,[fd00::3]:80 + 3 more...");
  const std::string headless =
      R"({"metadata":{"name":"h"},"subsets":[{"addresses":[{"ip":"10.0.0.1"}]}]})";
  CHECK(RowOf("", "endpoints", headless)[1] == "10.0.0.1");
  CHECK(RowOf("", "endpoints", R"({"metadata":{"name":"e"}})")[1] == "<none>");

  const std::string es =
      R"({"metadata":{"name":"web-x1"},"addressType":"IPv4","ports":[{"port":80},{"name":"dns"},{}],)"
      R"("endpoints":[{"addresses":["10.0.0.1"]},{"addresses":["10.0.0.2"]}]})";
  auto t = Table(Info("discovery.k8s.io", "endpointslices"), {es});
  CHECK(ColumnNames(t) ==
        std::vector<std::string>{"Name", "AddressType", "Ports", "Endpoints", "Age"});
  CHECK(Cells(t) ==
        std::vector<std::string>{"web-x1", "IPv4", "80,dns,*", "10.0.0.1,10.0.0.2", "<unknown>"});
  auto empty = RowOf("discovery.k8s.io", "endpointslices",
                     R"({"metadata":{"name":"e"},"addressType":"IPv4"})");
  CHECK(empty[2] == "<unset>");
  CHECK(empty[3] == "<unset>");
}

TEST_CASE("ingresses and ingressclasses") {
  const std::string ing =
      R"({"metadata":{"name":"site"},"spec":{"ingressClassName":"kubepp","tls":[{"hosts":["a.com"]}],)"
      R"("rules":[{"host":"a.com"},{},{"host":"b.com"},{"host":"c.com"},{"host":"d.com"}]},)"
      R"("status":{"loadBalancer":{"ingress":[{"ip":"192.168.1.10"}]}}})";
  CHECK(RowOf("networking.k8s.io", "ingresses", ing) ==
        std::vector<std::string>{"site", "kubepp", "a.com,b.com,c.com + 2 more...",
                                 "192.168.1.10", "80, 443", "<unknown>"});
  auto plain = RowOf("networking.k8s.io", "ingresses",
                     R"({"metadata":{"name":"p"},"spec":{"rules":[{},{"host":"x"},{"host":"y"},{"host":"z"}]}})");
  CHECK(plain[1] == "<none>");
  CHECK(plain[2] == "x,y,z");
  CHECK(plain[3].empty());
  CHECK(plain[4] == "80");

  const std::string ic =
      R"({"metadata":{"name":"kubepp"},"spec":{"controller":"kubepp.io/ingress",)"
      R"("parameters":{"apiGroup":"k8s.example.com","kind":"IngressParameters","name":"p"}}})";
  CHECK(RowOf("networking.k8s.io", "ingressclasses", ic) ==
        std::vector<std::string>{"kubepp", "kubepp.io/ingress",
                                 "IngressParameters.k8s.example.com/p", "<unknown>"});
}

TEST_CASE("persistent volumes, claims, storage classes, controller revisions") {
  const std::string pv =
      R"({"metadata":{"name":"pvc-1"},"spec":{"capacity":{"storage":"1Gi"},)"
      R"("accessModes":["ReadWriteMany","ReadWriteOnce","ReadWriteOnce"],"persistentVolumeReclaimPolicy":"Delete",)"
      R"("claimRef":{"namespace":"ns","name":"data"},"storageClassName":"local-path","volumeMode":"Filesystem"},)"
      R"("status":{"phase":"Bound"}})";
  CHECK(RowOf("", "persistentvolumes", pv) ==
        std::vector<std::string>{"pvc-1", "1Gi", "RWO,RWX", "Delete", "Bound", "ns/data",
                                 "local-path", "<unset>", "", "<unknown>", "Filesystem"});
  const std::string bound =
      R"({"metadata":{"name":"data"},"spec":{"volumeName":"pvc-1","storageClassName":"local-path",)"
      R"("resources":{"requests":{"storage":"500Mi"}}},)"
      R"("status":{"phase":"Bound","capacity":{"storage":"1Gi"},"accessModes":["ReadWriteOnce"]}})";
  CHECK(RowOf("", "persistentvolumeclaims", bound) ==
        std::vector<std::string>{"data", "Bound", "pvc-1", "1Gi", "RWO", "local-path", "<unset>",
                                 "<unknown>", "<unset>"});
  auto pending = RowOf("", "persistentvolumeclaims",
                       R"({"metadata":{"name":"p","deletionTimestamp":"2026-01-01T00:00:00Z"},)"
                       R"("spec":{"resources":{"requests":{"storage":"1Gi"}}},"status":{"phase":"Pending"}})");
  CHECK(pending[1] == "Terminating");
  CHECK(pending[3].empty());
  const std::string sc =
      R"({"metadata":{"name":"local-path","annotations":{"storageclass.kubernetes.io/is-default-class":"true"}},)"
      R"("provisioner":"kubepp.io/local-path","reclaimPolicy":"Delete","volumeBindingMode":"Immediate"})";
  CHECK(RowOf("storage.k8s.io", "storageclasses", sc) ==
        std::vector<std::string>{"local-path (default)", "kubepp.io/local-path", "Delete",
                                 "Immediate", "false", "<unknown>"});
  const std::string cr =
      R"({"metadata":{"name":"web-abc","ownerReferences":[{"apiVersion":"apps/v1","kind":"StatefulSet",)"
      R"("name":"web","uid":"u","controller":true}]},"revision":3,"data":{}})";
  CHECK(RowOf("apps", "controllerrevisions", cr) ==
        std::vector<std::string>{"web-abc", "statefulset.apps/web", "3", "<unknown>"});
}

TEST_CASE("namespaces, configmaps, secrets, serviceaccounts, leases") {
  CHECK(RowOf("", "namespaces", R"({"metadata":{"name":"default"},"status":{"phase":"Active"}})") ==
        std::vector<std::string>{"default", "Active", "<unknown>"});
  CHECK(RowOf("", "configmaps",
              R"({"metadata":{"name":"cm"},"data":{"a":"1","b":"2"},"binaryData":{"c":"AA=="}})") ==
        std::vector<std::string>{"cm", "3", "<unknown>"});
  CHECK(RowOf("", "secrets", R"({"metadata":{"name":"s"},"type":"Opaque","data":{"k":"dg=="}})") ==
        std::vector<std::string>{"s", "Opaque", "1", "<unknown>"});
  CHECK(RowOf("", "serviceaccounts", R"({"metadata":{"name":"default"}})") ==
        std::vector<std::string>{"default", "<unknown>"});
  CHECK(RowOf("coordination.k8s.io", "leases",
              R"({"metadata":{"name":"kube-scheduler"},"spec":{"holderIdentity":"m1_abc"}})") ==
        std::vector<std::string>{"kube-scheduler", "m1_abc", "<unknown>"});
}

TEST_CASE("events") {
  const std::string ev =
      R"({"metadata":{"name":"web.17a"},"involvedObject":{"kind":"Pod","name":"web",)"
      R"("fieldPath":"spec.containers{c}"},"reason":"Pulled","type":"Normal",)"
      R"("message":"  Container \"image\" pulled\n","source":{"component":"kubelet","host":"n1"},)"
      R"("firstTimestamp":")" + Ago(600) + R"(","lastTimestamp":")" + Ago(30) + R"(","count":4})";
  auto t = Table(Info("", "events"), {ev});
  CHECK(ColumnNames(t) == std::vector<std::string>{"Last Seen", "Type", "Reason", "Object",
                                                   "Subobject", "Source", "Message",
                                                   "First Seen", "Count", "Name"});
  CHECK(api::GetString(t["columnDefinitions"][9], "format") == "name");
  CHECK(api::GetInt(t["columnDefinitions"][9], "priority") == 1);
  CHECK(Cells(t) == std::vector<std::string>{"30s", "Normal", "Pulled", "pod/web",
                                             "spec.containers{c}", "kubelet, n1",
                                             "Container \"image\" pulled", "10m", "4", "web.17a"});

  // events.k8s.io-style: eventTime only, series, reporting fields.
  const std::string series =
      R"({"metadata":{"name":"e"},"involvedObject":{"kind":"Node"},"eventTime":"2026-11-27T10:33:36.123456Z",)"
      R"("series":{"count":7,"lastObservedTime":"2026-11-27T10:43:06.000001+00:00"},)"
      R"("reportingComponent":"scheduler","reason":"Scheduled"})";
  auto s = RowOf("", "events", series);
  CHECK(s[0] == "30s");
  CHECK(s[3] == "node");
  CHECK(s[5] == "scheduler");
  CHECK(s[7] == "10m");
  CHECK(s[8] == "7");

  auto single = RowOf("", "events", R"({"metadata":{"name":"e"}})");
  CHECK(single[0] == "<unknown>");
  CHECK(single[8] == "1");
}

TEST_CASE("timestamps with offsets") {
  // 10:43:36Z == 12:43:36+02:00.
  auto row = RowOf("", "configmaps",
                   R"({"metadata":{"name":"c","creationTimestamp":"2026-11-27T12:41:36+02:00"}})");
  CHECK(row[2] == "2m");
  auto bad = RowOf("", "configmaps",
                   R"({"metadata":{"name":"c","creationTimestamp":"2026-13-27T12:41:36Z"}})");
  CHECK(bad[2] == "<unknown>");
}

TEST_CASE("every served resource yields one cell per column, even from odd objects") {
  const std::vector<std::string> objects = {
      "{}", R"({"metadata":{"name":"x"}})",
      R"({"metadata":null,"spec":null,"status":null})",
      R"({"metadata":{"name":"x"},"spec":{"containers":"no","selector":{"matchExpressions":[{"key":"a","operator":"Bogus"}]}},"status":{"conditions":7}})"};
  for (const ResourceInfo& info : AllResources()) {
    for (const std::string& o : objects) {
      INFO(info.plural << " " << o);
      auto t = Table(info, {o});
      CHECK(t["rows"][0]["cells"].Size() == t["columnDefinitions"].Size());
    }
  }
}

TEST_CASE("other resources print Name and Age") {
  ResourceInfo widgets;
  widgets.group = "example.com";
  widgets.plural = "widgets";
  widgets.kind = "Widget";
  auto t = Table(widgets, {R"({"metadata":{"name":"w","creationTimestamp":")" + Ago(5) + R"("}})"});
  CHECK(ColumnNames(t) == std::vector<std::string>{"Name", "Age"});
  CHECK(Cells(t) == std::vector<std::string>{"w", "5s"});
}

TEST_CASE("many rows") {
  std::vector<std::string> pods;
  for (int i = 0; i < 50; ++i) {
    pods.push_back(R"({"metadata":{"name":"p)" + std::to_string(i) + R"("}})");
  }
  auto t = Table(Info("", "pods"), pods, IncludeObject::kNone);
  REQUIRE(t["rows"].Size() == 50);
  CHECK(Cells(t, 49)[0] == "p49");
}

}  // namespace
}  // namespace kubepp::apiserver
