#include "kubelet/node_agent.h"

#include <catch2/catch.hpp>
#include <algorithm>
#include <csignal>
#include <mutex>

#include "common/util/file.h"
#include "kubelet/container_config.h"
#include "kubelet/runtime/fake_runtime.h"
#include "kubelet/testing/test_util.h"

namespace kubepp::kubelet {
namespace {

using std::chrono::milliseconds;
using testing::Json;
using testing::WaitFor;

// One node agent on a fake runtime and a fake apiserver, with a manual clock: the pod
// worker's state machine is driven by calling Sync() directly.
struct Harness {
  testing::TempDir dir;
  ManualClock clock;
  client::FakeRestClient api;
  FakeRuntime runtime{clock.AsClock()};
  HollowProber prober{&runtime};
  ProbeManager probes{1, clock.AsClock()};
  std::unique_ptr<NodeAgent> agent;
  std::mutex mu;
  std::vector<std::string> enqueued;  // keys the agent asked to sync

  Harness() { agent = MakeAgent(); }
  bool Enqueued(const std::string& key) {
    std::lock_guard lock(mu);
    return std::find(enqueued.begin(), enqueued.end(), key) != enqueued.end();
  }
  ~Harness() {
    if (agent) agent->StopPodInformer();
    probes.Stop();
  }

  std::unique_ptr<NodeAgent> MakeAgent() {
    NodeConfig c;
    c.node_name = "node-a";
    c.node_ip = "192.0.2.10";
    c.root_dir = dir.path();
    c.pod_cidr = "10.244.5.0/24";
    c.cpu_millis = 4000;
    c.memory_bytes = int64_t{8} << 30;
    c.ephemeral_storage_bytes = int64_t{100} << 30;
    c.labels = {{"tier", "test"}};
    c.taints = {{"dedicated", "x", "NoSchedule"}};
    auto a = std::make_unique<NodeAgent>(c, &api, &runtime, &prober, &probes, clock.AsClock(),
                                         [this](const std::string& key, milliseconds) {
                                           std::lock_guard lock(mu);
                                           enqueued.push_back(key);
                                         });
    a->StartPodInformer();
    REQUIRE(WaitFor([&] { return a->PodsSynced(); }));
    return a;
  }

  // Creates a pod bound to the node and waits until the agent's informer has it.
  void CreatePod(const std::string& json) {
    auto pod = Json(json);
    api::SetString(pod, "spec.nodeName", "node-a", pod.GetAllocator());
    if (!api::Has(pod, "metadata.namespace")) api::SetString(pod, "metadata.namespace", "default", pod.GetAllocator());
    auto created = api.Create(client::kPods, "", pod);
    REQUIRE(created.ok());
    WaitForInformer(api::GetString(*created, "metadata.resourceVersion"));
  }
  void WaitForInformer(const std::string& rv) {
    REQUIRE(WaitFor([&] {
      for (auto& p : agent->Pods()) {
        if (api::GetString(*p, "metadata.resourceVersion") == rv) return true;
      }
      return false;
    }));
  }
  void WaitForGone(const std::string& name) {
    REQUIRE(WaitFor([&] {
      for (auto& p : agent->Pods()) {
        if (api::GetString(*p, "metadata.name") == name) return false;
      }
      return true;
    }));
  }

  milliseconds Sync(const std::string& key) {
    milliseconds again(0);
    Status st = agent->SyncPod(key, &again);
    REQUIRE(st.ok());
    return again;
  }

  api::Document Pod(const std::string& name) {
    auto p = api.Get(client::kPods, "default", name);
    REQUIRE(p.ok());
    return std::move(p).value();
  }
  const api::Value& Container(const api::Document& pod, int i = 0) {
    return (*api::Find(pod, "status.containerStatuses"))[i];
  }
  std::string Condition(const api::Document& pod, const std::string& type) {
    for (auto& c : api::Find(pod, "status.conditions")->GetArray()) {
      if (api::GetString(c, "type") == type) return api::GetString(c, "status");
    }
    return "";
  }
};

constexpr const char* kSimplePod = R"({"metadata":{"name":"web"},"spec":{"containers":[{"name":"c","image":"busybox"}]}})";

TEST_CASE("node agent: registers the node and renews its lease") {
  Harness h;
  REQUIRE(h.agent->RegisterNode().ok());
  auto node = h.api.Get(client::kNodes, "", "node-a");
  REQUIRE(node.ok());
  auto labels = api::GetStringMap(*node, "metadata.labels");
  CHECK(labels["kubernetes.io/hostname"] == "node-a");
  CHECK(labels["kubernetes.io/os"] == "linux");
  CHECK(labels["tier"] == "test");
  CHECK(api::GetString(*node, "status.capacity.cpu") == "4");
  CHECK(api::GetString(*node, "status.capacity.pods") == "110");
  CHECK(api::GetString(*node, "status.capacity.memory") == "8388608Ki");
  CHECK(api::GetInt(*node, "status.daemonEndpoints.kubeletEndpoint.Port") == 10250);
  CHECK(api::GetString(*node, "status.nodeInfo.containerRuntimeVersion") == "fake://0.1.0");
  CHECK(api::GetString((*api::Find(*node, "spec.taints"))[0], "effect") == "NoSchedule");
  bool ready = false;
  for (auto& c : api::Find(*node, "status.conditions")->GetArray()) {
    if (api::GetString(c, "type") == "Ready") ready = api::GetString(c, "status") == "True";
  }
  CHECK(ready);

  REQUIRE(h.agent->RenewLease().ok());
  auto lease = h.api.Get(client::kLeases, "kube-node-lease", "node-a");
  REQUIRE(lease.ok());
  CHECK(api::GetString(*lease, "spec.holderIdentity") == "node-a");
  CHECK(api::GetInt(*lease, "spec.leaseDurationSeconds") == 40);
  std::string rv = api::GetString(*lease, "metadata.resourceVersion");
  REQUIRE(h.agent->RenewLease().ok());
  CHECK(api::GetString(*h.api.Get(client::kLeases, "kube-node-lease", "node-a"), "metadata.resourceVersion") != rv);

  // A second registration (kubelet restart) adopts the node.
  auto again = h.MakeAgent();
  CHECK(again->RegisterNode().ok());
  again->StopPodInformer();
}

TEST_CASE("node agent: a pod runs, gets an IP from the pod CIDR and becomes ready") {
  Harness h;
  h.CreatePod(kSimplePod);
  h.Sync("default/web");
  auto pod = h.Pod("web");
  CHECK(api::GetString(pod, "status.phase") == "Running");
  CHECK(api::GetString(pod, "status.podIP") == "10.244.5.2");
  CHECK(api::GetString(pod, "status.hostIP") == "192.0.2.10");
  CHECK_FALSE(api::GetString(pod, "status.startTime").empty());
  CHECK(h.Condition(pod, "Ready") == "True");
  CHECK(h.Condition(pod, "ContainersReady") == "True");
  CHECK(h.Condition(pod, "Initialized") == "True");
  CHECK(h.Condition(pod, "PodScheduled") == "True");
  const auto& cs = h.Container(pod);
  CHECK(api::Has(cs, "state.running.startedAt"));
  CHECK(api::GetBool(cs, "ready"));
  CHECK(api::GetInt(cs, "restartCount") == 0);
  CHECK(api::GetString(cs, "containerID").rfind("fake://", 0) == 0);
  CHECK(api::GetString(cs, "imageID").rfind("sha256:", 0) == 0);

  // Syncing again changes nothing: no new container, no status write.
  std::string rv = api::GetString(pod, "metadata.resourceVersion");
  h.Sync("default/web");
  CHECK(h.runtime.StartedCount() == 1);
  CHECK(api::GetString(h.Pod("web"), "metadata.resourceVersion") == rv);
}

TEST_CASE("node agent: configMap volume waits for its object, then follows its updates") {
  Harness h;
  h.CreatePod(R"({"metadata":{"name":"web"},"spec":{
      "volumes":[{"name":"cfg","configMap":{"name":"settings"}}],
      "containers":[{"name":"c","image":"busybox","volumeMounts":[{"name":"cfg","mountPath":"/etc/cfg"}]}]}})");
  // No ConfigMap yet: the container waits in ContainerCreating saying why; retried soon.
  CHECK(h.Sync("default/web") == milliseconds(2000));
  auto pod = h.Pod("web");
  CHECK(api::GetString(pod, "status.phase") == "Pending");
  CHECK(api::GetString(h.Container(pod), "state.waiting.reason") == "ContainerCreating");
  CHECK(api::GetString(h.Container(pod), "state.waiting.message") ==
        "MountVolume.SetUp failed for volume \"cfg\" : configmap \"settings\" not found");
  CHECK(h.runtime.StartedCount() == 0);

  auto cm = Json(R"({"metadata":{"name":"settings","namespace":"default"},"data":{"color":"blue"}})");
  REQUIRE(h.api.Create(client::kConfigMaps, "default", cm).ok());
  CHECK(h.Sync("default/web") <= milliseconds(2000));  // resynced periodically
  pod = h.Pod("web");
  CHECK(api::GetString(pod, "status.phase") == "Running");
  std::string file = PathsOf(h.dir.path(), api::GetString(pod, "metadata.uid"))
                         .VolumeDir("kubernetes.io~configmap", "cfg") + "/color";
  auto read = [&] {
    auto r = util::ReadFile(file);
    return r.ok() ? *r : "<missing>";
  };
  CHECK(read() == "blue");

  // An update reaches the file at the next sync; the container is not restarted.
  auto current = h.api.Get(client::kConfigMaps, "default", "settings");
  REQUIRE(current.ok());
  api::SetString(*current, "data.color", "green", current->GetAllocator());
  REQUIRE(h.api.Update(client::kConfigMaps, "default", *current).ok());
  h.Sync("default/web");
  CHECK(read() == "green");
  CHECK(h.runtime.StartedCount() == 1);
}

TEST_CASE("node agent: a crashing container restarts with CrashLoopBackOff 10s, 20s") {
  Harness h;
  h.CreatePod(R"({"metadata":{"name":"crash"},"spec":{"containers":[{"name":"c","image":"busybox","command":["sh","-c","exit 3"]}]}})");
  h.Sync("default/crash");  // attempt 0 starts and exits at once
  h.Sync("default/crash");  // the first restart is immediate: attempt 1
  CHECK(h.runtime.StartedCount() == 2);
  milliseconds again = h.Sync("default/crash");  // attempt 1 died: back off 10 s
  CHECK(h.runtime.StartedCount() == 2);
  CHECK(again.count() > 9000);
  CHECK(again.count() <= 10000);
  auto pod = h.Pod("crash");
  const auto& cs = h.Container(pod);
  CHECK(api::GetString(cs, "state.waiting.reason") == "CrashLoopBackOff");
  CHECK(api::GetString(cs, "state.waiting.message").find("back-off 10s") == 0);
  CHECK(api::GetInt(cs, "lastState.terminated.exitCode") == 3);
  CHECK(api::GetString(cs, "lastState.terminated.reason") == "Error");
  CHECK(api::GetInt(cs, "restartCount") == 1);
  CHECK(api::GetString(pod, "status.phase") == "Running");
  CHECK(h.Condition(pod, "Ready") == "False");

  h.clock.AdvanceSeconds(10);
  h.Sync("default/crash");  // attempt 2
  CHECK(h.runtime.StartedCount() == 3);
  again = h.Sync("default/crash");
  CHECK(again.count() > 19000);
  CHECK(api::GetString(h.Container(h.Pod("crash")), "state.waiting.message").find("back-off 20s") == 0);
  CHECK(api::GetInt(h.Container(h.Pod("crash")), "restartCount") == 2);
  h.clock.AdvanceSeconds(19);
  h.Sync("default/crash");
  CHECK(h.runtime.StartedCount() == 3);  // still backing off
}

TEST_CASE("node agent: restartPolicy Never and OnFailure end in terminal phases") {
  Harness h;
  h.CreatePod(R"({"metadata":{"name":"fail"},"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox","command":["exit","2"]}]}})");
  h.CreatePod(R"({"metadata":{"name":"ok"},"spec":{"restartPolicy":"OnFailure","containers":[{"name":"c","image":"busybox","command":["true"]}]}})");
  h.Sync("default/fail");
  h.Sync("default/fail");
  auto fail = h.Pod("fail");
  CHECK(api::GetString(fail, "status.phase") == "Failed");
  CHECK(api::GetInt(h.Container(fail), "state.terminated.exitCode") == 2);
  CHECK(api::GetInt(h.Container(fail), "restartCount") == 0);
  h.Sync("default/ok");
  h.Sync("default/ok");
  auto ok = h.Pod("ok");
  CHECK(api::GetString(ok, "status.phase") == "Succeeded");
  CHECK(api::GetString(h.Container(ok), "state.terminated.reason") == "Completed");
  CHECK(h.Condition(ok, "Ready") == "False");
  CHECK(h.runtime.StartedCount() == 2);
  // Once the API says Succeeded, the sandbox is stopped (its IP freed).
  h.WaitForInformer(api::GetString(ok, "metadata.resourceVersion"));
  h.Sync("default/ok");
  auto sandboxes = h.runtime.ListPodSandboxes();
  for (auto& s : *sandboxes) {
    if (s.pod.name == "ok") CHECK_FALSE(s.ready);
  }
}

TEST_CASE("node agent: init containers run in order before the app containers") {
  Harness h;
  h.CreatePod(R"({"metadata":{"name":"init"},"spec":{"initContainers":[
      {"name":"i1","image":"busybox","command":["true"]},{"name":"i2","image":"busybox","command":["true"]}],
      "containers":[{"name":"c","image":"busybox"}]}})");
  h.Sync("default/init");
  auto pod = h.Pod("init");
  CHECK(api::GetString(pod, "status.phase") == "Pending");
  CHECK(h.Condition(pod, "Initialized") == "False");
  CHECK(api::GetString(h.Container(pod), "state.waiting.reason") == "PodInitializing");
  h.Sync("default/init");  // i2
  h.Sync("default/init");  // c
  pod = h.Pod("init");
  CHECK(api::GetString(pod, "status.phase") == "Running");
  CHECK(h.Condition(pod, "Initialized") == "True");
  CHECK(h.runtime.StartedCount() == 3);
  auto inits = api::Find(pod, "status.initContainerStatuses");
  CHECK(api::GetString((*inits)[1], "state.terminated.reason") == "Completed");
}

TEST_CASE("node agent: a missing image is ErrImagePull, then ImagePullBackOff") {
  Harness h;
  h.CreatePod(R"({"metadata":{"name":"img"},"spec":{"containers":[{"name":"c","image":"doesnotexist:1"}]}})");
  milliseconds again = h.Sync("default/img");
  CHECK(api::GetString(h.Container(h.Pod("img")), "state.waiting.reason") == "ErrImagePull");
  CHECK(again.count() > 0);
  h.Sync("default/img");
  auto pod = h.Pod("img");
  CHECK(api::GetString(h.Container(pod), "state.waiting.reason") == "ImagePullBackOff");
  CHECK(api::GetString(pod, "status.phase") == "Pending");
}

TEST_CASE("node agent: pull policy Never with a missing image is ErrImageNeverPull") {
  Harness h;
  h.CreatePod(R"({"metadata":{"name":"never"},"spec":{"containers":[
      {"name":"c","image":"app:1","imagePullPolicy":"Never"}]}})");
  milliseconds again = h.Sync("default/never");
  auto pod = h.Pod("never");
  CHECK(api::GetString(h.Container(pod), "state.waiting.reason") == "ErrImageNeverPull");
  CHECK(api::GetString(h.Container(pod), "state.waiting.message") ==
        "Container image \"app:1\" is not present with pull policy of Never");
  CHECK(again.count() > 0);
  CHECK(h.runtime.StartedCount() == 0);
}

TEST_CASE("node agent: graceful deletion kills the containers, then deletes the pod") {
  Harness h;
  h.CreatePod(kSimplePod);
  h.Sync("default/web");
  auto pod = h.Pod("web");
  api::SetString(pod, "metadata.deletionTimestamp", "2030-01-01T00:00:00Z", pod.GetAllocator());
  api::SetInt(pod, "metadata.deletionGracePeriodSeconds", 30, pod.GetAllocator());
  auto updated = h.api.Update(client::kPods, "default", pod);
  REQUIRE(updated.ok());
  h.WaitForInformer(api::GetString(*updated, "metadata.resourceVersion"));
  h.Sync("default/web");  // SIGTERM: the fake exits with 143
  auto containers = h.runtime.ListContainers();
  REQUIRE(containers->size() == 1);
  CHECK((*containers)[0].exit_code == 128 + SIGTERM);
  h.Sync("default/web");  // nothing runs: the final DELETE
  CHECK(h.api.Get(client::kPods, "default", "web").status().code() == Code::kNotFound);
  h.WaitForGone("web");
  h.Sync("default/web");  // the informer's DELETED event: everything is removed
  CHECK(h.runtime.ListContainers()->empty());
  CHECK(h.runtime.ListPodSandboxes()->empty());
}

TEST_CASE("node agent: a restarted kubelet adopts running containers") {
  Harness h;
  h.CreatePod(kSimplePod);
  h.Sync("default/web");
  std::string id = api::GetString(h.Container(h.Pod("web")), "containerID");
  h.agent->StopPodInformer();
  h.agent = h.MakeAgent();  // same runtime, fresh memory
  h.Sync("default/web");
  auto pod = h.Pod("web");
  CHECK(api::GetString(h.Container(pod), "containerID") == id);
  CHECK(api::GetInt(h.Container(pod), "restartCount") == 0);
  CHECK(h.runtime.StartedCount() == 1);
}

TEST_CASE("node agent: containers of pods gone from the API are removed") {
  Harness h;
  SandboxConfig sc;
  sc.pod = PodRef{"default", "ghost", "uid-ghost"};
  auto sid = h.runtime.RunPodSandbox(sc);
  REQUIRE(sid.ok());
  ContainerConfig cc;
  cc.name = "c";
  cc.image = "busybox";
  auto cid = h.runtime.CreateContainer(*sid, cc);
  REQUIRE(h.runtime.StartContainer(*cid).ok());
  h.Sync("default/ghost");
  CHECK(h.runtime.ListContainers()->empty());
  CHECK(h.runtime.ListPodSandboxes()->empty());
}

TEST_CASE("node agent: a failing liveness probe restarts the container") {
  Harness h;
  h.CreatePod(R"({"metadata":{"name":"live"},"spec":{"containers":[{"name":"c","image":"busybox",
      "livenessProbe":{"exec":{"command":["false"]},"periodSeconds":1,"failureThreshold":1}}]}})");
  h.Sync("default/live");
  auto containers = h.runtime.ListContainers();
  std::string id = (*containers)[0].id;
  REQUIRE(WaitFor([&] { return h.probes.Result(api::GetString(h.Pod("live"), "metadata.uid"), id,
                                                ProbeType::kLiveness) == ProbeResult::kFailure; }));
  h.Sync("default/live");  // kill
  h.Sync("default/live");  // restart (the first restart is immediate)
  auto pod = h.Pod("live");
  CHECK(api::GetInt(h.Container(pod), "restartCount") == 1);
  CHECK(api::GetInt(h.Container(pod), "lastState.terminated.exitCode") == 128 + SIGTERM);
}

TEST_CASE("node agent: readiness follows the readiness probe") {
  Harness h;
  h.CreatePod(R"({"metadata":{"name":"ready"},"spec":{"containers":[{"name":"c","image":"busybox",
      "readinessProbe":{"exec":{"command":["exit","1"]},"periodSeconds":1}}]}})");
  h.Sync("default/ready");
  auto pod = h.Pod("ready");
  CHECK(h.Condition(pod, "Ready") == "False");
  CHECK_FALSE(api::GetBool(h.Container(pod), "ready"));
}

TEST_CASE("node agent: a passing readiness probe makes the pod Ready") {
  Harness h;
  h.CreatePod(R"({"metadata":{"name":"ok"},"spec":{"containers":[{"name":"c","image":"busybox",
      "readinessProbe":{"exec":{"command":["true"]},"periodSeconds":1}}]}})");
  {
    std::lock_guard lock(h.mu);
    h.enqueued.clear();
  }
  h.Sync("default/ok");
  // The probe's result change asks for a sync of the pod, which then reports Ready. Other
  // things may ask for a sync first (the container starting), so each requested sync is
  // run until one reports Ready.
  REQUIRE(WaitFor([&] {
    if (!h.Enqueued("default/ok")) return false;
    {
      std::lock_guard lock(h.mu);
      h.enqueued.clear();
    }
    h.Sync("default/ok");
    return h.Condition(h.Pod("ok"), "Ready") == "True";
  }));
}

TEST_CASE("node agent: labels and taints flags parse") {
  auto labels = ParseLabels("a=b, c=d");
  REQUIRE(labels.ok());
  CHECK(labels->at("c") == "d");
  CHECK_FALSE(ParseLabels("nope").ok());
  auto taints = ParseTaints("k=v:NoSchedule,k2:NoExecute");
  REQUIRE(taints.ok());
  CHECK(taints->size() == 2);
  CHECK((*taints)[1].key == "k2");
  CHECK((*taints)[1].value.empty());
  CHECK_FALSE(ParseTaints("k=v:Sometimes").ok());
}

}  // namespace
}  // namespace kubepp::kubelet
