#include "kubelet/container_config.h"

#include <catch2/catch.hpp>
#include <fstream>

#include "kubelet/runtime/oci_spec.h"
#include "kubelet/testing/test_util.h"

namespace kubepp::kubelet {
namespace {

using testing::Json;

constexpr const char* kPod = R"json({
  "metadata":{"name":"web","namespace":"shop","uid":"u-1","labels":{"app":"web"}},
  "spec":{"nodeName":"n1","serviceAccountName":"sa",
    "securityContext":{"runAsUser":1000},
    "volumes":[{"name":"scratch","emptyDir":{}},{"name":"host","hostPath":{"path":"/srv/data"}},
               {"name":"cfg","configMap":{"name":"c"}}],
    "containers":[{"name":"app","image":"busybox","command":["sh","-c"],"args":["echo $(GREETING) $(MISSING)"],
      "workingDir":"/work",
      "env":[{"name":"GREETING","value":"hi $(POD)"},
             {"name":"POD","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}},
             {"name":"GREETING2","value":"hi $(POD) $$(POD)"},
             {"name":"IP","valueFrom":{"fieldRef":{"fieldPath":"status.podIP"}}},
             {"name":"NODE","valueFrom":{"fieldRef":{"fieldPath":"spec.nodeName"}}},
             {"name":"APP","valueFrom":{"fieldRef":{"fieldPath":"metadata.labels['app']"}}},
             {"name":"MEM","valueFrom":{"resourceFieldRef":{"resource":"limits.memory","divisor":"1Mi"}}},
             {"name":"COLOR","valueFrom":{"configMapKeyRef":{"name":"c","key":"color"}}},
             {"name":"PASS","valueFrom":{"secretKeyRef":{"name":"s","key":"password"}}}],
      "envFrom":[{"prefix":"CM_","configMapRef":{"name":"c"}}],
      "volumeMounts":[{"name":"scratch","mountPath":"/scratch"},{"name":"host","mountPath":"/data","readOnly":true}],
      "resources":{"limits":{"cpu":"500m","memory":"128Mi"},"requests":{"cpu":"250m"}},
      "securityContext":{"runAsGroup":3000,"capabilities":{"add":["NET_ADMIN"],"drop":["MKNOD"]},
                         "allowPrivilegeEscalation":false,"readOnlyRootFilesystem":true}}]}})json";

PodContext Context(const std::string& root) {
  PodContext ctx;
  ctx.node_name = "n1";
  ctx.pod_ip = "10.244.1.7";
  ctx.host_ip = "192.0.2.1";
  ctx.cluster_dns = "10.96.0.10";
  ctx.cluster_domain = "cluster.local";
  ctx.paths = PathsOf(root, "u-1");
  ctx.lookup = [](bool secret, const std::string& name, const std::string& key) -> Result<std::string> {
    if (!secret && name == "c") return key.empty() ? std::string("color=blue\nsize=L\n") : std::string("blue");
    if (secret && name == "s" && key == "password") return std::string("hunter2");
    return NotFound("no " + name);
  };
  return ctx;
}

std::string EnvOf(const ContainerConfig& c, const std::string& name) {
  for (auto& [k, v] : c.env) {
    if (k == name) return v;
  }
  return "<unset>";
}

TEST_CASE("container config: env, expansion, downward API, config maps and secrets") {
  testing::TempDir dir;
  auto pod = Json(kPod);
  // Drop the unsupported configMap volume for this case.
  (*api::FindMutable(pod, "spec.volumes")).PopBack();
  const api::Value& spec = (*api::Find(pod, "spec.containers"))[0];
  auto c = BuildContainerConfig(pod, spec, 2, Context(dir.path()));
  REQUIRE(c.ok());
  CHECK(EnvOf(*c, "POD") == "web");
  CHECK(EnvOf(*c, "GREETING") == "hi $(POD)");  // POD was not defined yet when GREETING was
  CHECK(EnvOf(*c, "GREETING2") == "hi web $(POD)");
  CHECK(EnvOf(*c, "IP") == "10.244.1.7");
  CHECK(EnvOf(*c, "NODE") == "n1");
  CHECK(EnvOf(*c, "APP") == "web");
  CHECK(EnvOf(*c, "MEM") == "128");
  CHECK(EnvOf(*c, "COLOR") == "blue");
  CHECK(EnvOf(*c, "PASS") == "hunter2");
  CHECK(EnvOf(*c, "CM_size") == "L");
  CHECK(c->args == std::vector<std::string>{"echo hi $(POD) $(MISSING)"});
  CHECK(c->attempt == 2);
  CHECK(c->log_path == dir.path() + "/pods/u-1/logs/app/2.log");
  CHECK(c->cpu_limit_millis == 500);
  CHECK(c->cpu_request_millis == 250);
  CHECK(c->memory_limit_bytes == 128 << 20);
  CHECK(*c->run_as_user == 1000);
  CHECK(*c->run_as_group == 3000);
  REQUIRE(c->mounts.size() == 4);
  CHECK(c->mounts[0].host_path == dir.path() + "/pods/u-1/volumes/kubernetes.io~empty-dir/scratch");
  CHECK(c->mounts[1].host_path == "/srv/data");
  CHECK(c->mounts[1].read_only);
  CHECK(c->mounts[2].container_path == "/etc/hosts");
  CHECK(c->mounts[3].container_path == "/etc/resolv.conf");
}

TEST_CASE("container config: service variables and API volume mounts") {
  testing::TempDir dir;
  auto pod = Json(kPod);
  auto& spec = (*api::FindMutable(pod, "spec.containers"))[0];
  auto mount = Json(R"({"name":"cfg","mountPath":"/cfg"})");
  spec["volumeMounts"].PushBack(api::Copy(mount, pod.GetAllocator()), pod.GetAllocator());
  auto env = Json(R"j({"name":"URL","value":"http://$(WEB_SERVICE_HOST):$(WEB_SERVICE_PORT)"})j");
  spec["env"].PushBack(api::Copy(env, pod.GetAllocator()), pod.GetAllocator());
  auto own = Json(R"({"name":"WEB_SERVICE_PORT","value":"1234"})");
  spec["env"].PushBack(api::Copy(own, pod.GetAllocator()), pod.GetAllocator());
  PodContext ctx = Context(dir.path());
  ctx.service_env = {{"WEB_SERVICE_HOST", "10.96.0.9"}, {"WEB_SERVICE_PORT", "80"}};
  // The configMap volume is not set up yet.
  CHECK(BuildContainerConfig(pod, spec, 0, ctx).status().code() == Code::kUnavailable);
  std::filesystem::create_directories(ctx.paths.VolumeDir("kubernetes.io~configmap", "cfg"));
  auto c = BuildContainerConfig(pod, spec, 0, ctx);
  REQUIRE(c.ok());
  CHECK(EnvOf(*c, "WEB_SERVICE_HOST") == "10.96.0.9");
  CHECK(EnvOf(*c, "WEB_SERVICE_PORT") == "1234");  // the container's own wins
  CHECK(EnvOf(*c, "URL") == "http://10.96.0.9:80");  // expansion sees service variables
  CHECK(c->env.back().first == "WEB_SERVICE_HOST");  // appended after the container's
  bool found = false;
  for (auto& m : c->mounts) {
    if (m.container_path != "/cfg") continue;
    found = true;
    CHECK(m.host_path == ctx.paths.VolumeDir("kubernetes.io~configmap", "cfg"));
    CHECK(m.read_only);
  }
  CHECK(found);
}

TEST_CASE("container config: unsupported volumes and missing keys are errors") {
  testing::TempDir dir;
  auto pod = Json(kPod);
  auto& spec = (*api::FindMutable(pod, "spec.containers"))[0];
  auto& mounts = spec["volumeMounts"];
  mounts.PushBack(api::Copy(Json(R"({"name":"cfg","mountPath":"/cfg"})"), pod.GetAllocator()), pod.GetAllocator());
  CHECK(BuildContainerConfig(pod, spec, 0, Context(dir.path())).status().message().find("cfg") !=
        std::string::npos);
  auto pod2 = Json(kPod);
  (*api::FindMutable(pod2, "spec.volumes")).PopBack();
  auto& env = (*api::FindMutable(pod2, "spec.containers"))[0]["env"];
  env.PushBack(api::Copy(Json(R"({"name":"X","valueFrom":{"secretKeyRef":{"name":"nope","key":"k"}}})"), pod2.GetAllocator()), pod2.GetAllocator());
  CHECK_FALSE(BuildContainerConfig(pod2, (*api::Find(pod2, "spec.containers"))[0], 0, Context(dir.path())).ok());
  env.PushBack(api::Copy(Json(R"({"name":"Y","valueFrom":{"secretKeyRef":{"name":"nope","key":"k","optional":true}}})"), pod2.GetAllocator()), pod2.GetAllocator());
  env.Erase(env.End() - 2);
  CHECK(BuildContainerConfig(pod2, (*api::Find(pod2, "spec.containers"))[0], 0, Context(dir.path())).ok());
}

TEST_CASE("container config: pod files and DNS") {
  testing::TempDir dir;
  auto pod = Json(kPod);
  PodContext ctx = Context(dir.path());
  REQUIRE(PreparePodFiles(pod, ctx).ok());
  std::ifstream resolv(ctx.paths.ResolvConf());
  std::string text((std::istreambuf_iterator<char>(resolv)), {});
  CHECK(text == "search shop.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n");
  CHECK(HostsFileFor(pod, ctx).find("10.244.1.7\tweb\n") != std::string::npos);
  CHECK(std::filesystem::is_directory(ctx.paths.VolumeDir("kubernetes.io~empty-dir", "scratch")));
}

TEST_CASE("oci spec: command/args merge with the image as upstream") {
  ImageConfig img;
  img.entrypoint = {"/entry"};
  img.cmd = {"--default"};
  CHECK(MergeArgs(img, {}, {}) == std::vector<std::string>{"/entry", "--default"});
  CHECK(MergeArgs(img, {}, {"--x"}) == std::vector<std::string>{"/entry", "--x"});
  CHECK(MergeArgs(img, {"/bin/sh"}, {}) == std::vector<std::string>{"/bin/sh"});
  CHECK(MergeArgs(img, {"/bin/sh"}, {"-c", "true"}) == std::vector<std::string>{"/bin/sh", "-c", "true"});
  img.env = {"PATH=/bin", "A=1"};
  CHECK(MergeEnv(img, {{"A", "2"}, {"B", "3"}}) == std::vector<std::string>{"PATH=/bin", "A=2", "B=3"});
  CHECK(MergeEnv(ImageConfig{}, {})[0].rfind("PATH=", 0) == 0);
}

TEST_CASE("oci spec: config.json from a pod spec") {
  testing::TempDir dir;
  auto pod = Json(kPod);
  (*api::FindMutable(pod, "spec.volumes")).PopBack();
  auto c = BuildContainerConfig(pod, (*api::Find(pod, "spec.containers"))[0], 0, Context(dir.path()));
  REQUIRE(c.ok());
  ImageConfig img;
  img.cmd = {"sh"};
  img.env = {"PATH=/usr/bin:/bin"};
  img.user = "5:5";
  BundleContext ctx{"/bundle/rootfs", "/run/netns/kubepp-x", "web", "/kubepp/podu-1/cid"};
  auto spec = BuildOciSpec(*c, img, ctx);
  REQUIRE(spec.ok());
  const auto& s = *spec;
  CHECK(api::GetString(s, "ociVersion") == "1.0.2");
  auto args = api::Find(s, "process.args");
  REQUIRE(args->Size() == 3);
  CHECK(api::View((*args)[0]) == "sh");
  CHECK(api::View((*args)[2]) == "echo hi $(POD) $(MISSING)");
  CHECK(api::GetString(s, "process.cwd") == "/work");
  CHECK(api::GetInt(s, "process.user.uid") == 1000);  // securityContext beats the image's User
  CHECK(api::GetInt(s, "process.user.gid") == 3000);
  CHECK(api::GetBool(s, "process.noNewPrivileges"));
  CHECK(api::GetBool(s, "root.readonly"));
  CHECK(api::GetString(s, "root.path") == "/bundle/rootfs");
  CHECK(api::GetString(s, "hostname") == "web");
  bool has_env = false, has_net_admin = false, has_mknod = false;
  for (auto& e : api::Find(s, "process.env")->GetArray()) has_env |= api::View(e) == "POD=web";
  for (auto& cap : api::Find(s, "process.capabilities.bounding")->GetArray()) {
    has_net_admin |= api::View(cap) == "CAP_NET_ADMIN";
    has_mknod |= api::View(cap) == "CAP_MKNOD";
  }
  CHECK(has_env);
  CHECK(has_net_admin);
  CHECK_FALSE(has_mknod);
  CHECK(api::GetInt(s, "linux.resources.memory.limit") == 128 << 20);
  CHECK(api::GetInt(s, "linux.resources.cpu.quota") == 50000);
  CHECK(api::GetInt(s, "linux.resources.cpu.period") == 100000);
  CHECK(api::GetInt(s, "linux.resources.cpu.shares") == 256);
  CHECK(api::GetString(s, "linux.cgroupsPath") == "/kubepp/podu-1/cid");
  bool netns = false;
  for (auto& n : api::Find(s, "linux.namespaces")->GetArray()) {
    if (api::GetString(n, "type") == "network") netns = api::GetString(n, "path") == "/run/netns/kubepp-x";
  }
  CHECK(netns);
  bool scratch = false, data_ro = false;
  for (auto& m : api::Find(s, "mounts")->GetArray()) {
    if (api::GetString(m, "destination") == "/scratch") scratch = api::GetString(m, "type") == "bind";
    if (api::GetString(m, "destination") == "/data") data_ro = api::View(m["options"][2]) == "ro";
  }
  CHECK(scratch);
  CHECK(data_ro);

  // Nothing to run is an error.
  ContainerConfig empty;
  CHECK_FALSE(BuildOciSpec(empty, ImageConfig{}, ctx).ok());
}

TEST_CASE("container config: $(VAR) expansion") {
  std::vector<std::pair<std::string, std::string>> env = {{"A", "x"}};
  CHECK(ExpandVars("$(A)-$(B)-$$(A)-$", env) == "x-$(B)-$(A)-$");
  CHECK(ExpandVars("$(A", env) == "$(A");
}

}  // namespace
}  // namespace kubepp::kubelet
