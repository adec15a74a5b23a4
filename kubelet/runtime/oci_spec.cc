#include "kubelet/runtime/oci_spec.h"

#include <algorithm>

namespace kubepp::kubelet {

namespace {

using api::Value;

// containerd's default capability set.
const std::vector<std::string> kDefaultCaps = {
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"};
// Every capability of the running kernel generation (privileged containers).
const std::vector<std::string> kAllCaps = {
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
    "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
    "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE"};

std::string CapName(std::string c) {
  std::transform(c.begin(), c.end(), c.begin(), ::toupper);
  return c.rfind("CAP_", 0) == 0 ? c : "CAP_" + c;
}

Value Strings(const std::vector<std::string>& v, api::Allocator& a) {
  Value out(rapidjson::kArrayType);
  for (auto& s : v) out.PushBack(api::Str(s, a), a);
  return out;
}

Value MountJson(const std::string& dest, const std::string& type, const std::string& source,
                const std::vector<std::string>& options, api::Allocator& a) {
  Value m(rapidjson::kObjectType);
  m.AddMember("destination", api::Str(dest, a), a);
  m.AddMember("type", api::Str(type, a), a);
  m.AddMember("source", api::Str(source, a), a);
  m.AddMember("options", Strings(options, a), a);
  return m;
}

// "1000", "1000:1000" or "root"; anything else (a user name) runs as root.
void ParseUser(const std::string& user, int64_t* uid, int64_t* gid) {
  if (user.empty() || user == "root") return;
  auto colon = user.find(':');
  std::string u = user.substr(0, colon);
  if (!u.empty() && u.find_first_not_of("0123456789") == std::string::npos) *uid = std::stoll(u);
  if (colon != std::string::npos) {
    std::string g = user.substr(colon + 1);
    if (!g.empty() && g.find_first_not_of("0123456789") == std::string::npos) *gid = std::stoll(g);
  }
}

}  // namespace

std::vector<std::string> MergeArgs(const ImageConfig& image, const std::vector<std::string>& command,
                                   const std::vector<std::string>& args) {
  std::vector<std::string> out;
  if (!command.empty()) {
    out = command;
    out.insert(out.end(), args.begin(), args.end());
  } else {
    out = image.entrypoint;
    const auto& tail = args.empty() ? image.cmd : args;
    out.insert(out.end(), tail.begin(), tail.end());
  }
  return out;
}

std::vector<std::string> MergeEnv(const ImageConfig& image,
                                  const std::vector<std::pair<std::string, std::string>>& env) {
  std::vector<std::string> out = image.env;
  auto set = [&](const std::string& k, const std::string& v) {
    for (auto& e : out) {
      if (e.compare(0, k.size() + 1, k + "=") == 0) {
        e = k + "=" + v;
        return;
      }
    }
    out.push_back(k + "=" + v);
  };
  for (auto& [k, v] : env) set(k, v);
  bool has_path = std::any_of(out.begin(), out.end(), [](auto& e) { return e.rfind("PATH=", 0) == 0; });
  if (!has_path) out.insert(out.begin(), "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  return out;
}

Result<api::Document> BuildOciSpec(const ContainerConfig& c, const ImageConfig& image,
                                   const BundleContext& ctx) {
  std::vector<std::string> argv = MergeArgs(image, c.command, c.args);
  if (argv.empty()) return BadRequest("no command specified for container " + c.name);
  api::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("ociVersion", "1.0.2", a);

  Value proc(rapidjson::kObjectType);
  proc.AddMember("terminal", false, a);
  int64_t uid = 0, gid = 0;
  ParseUser(image.user, &uid, &gid);
  if (c.run_as_user) uid = *c.run_as_user;
  if (c.run_as_group) gid = *c.run_as_group;
  Value user(rapidjson::kObjectType);
  user.AddMember("uid", uid, a);
  user.AddMember("gid", gid, a);
  proc.AddMember("user", user, a);
  proc.AddMember("args", Strings(argv, a), a);
  std::vector<std::string> env = MergeEnv(image, c.env);
  env.push_back("HOSTNAME=" + ctx.hostname);
  proc.AddMember("env", Strings(env, a), a);
  std::string cwd = !c.working_dir.empty() ? c.working_dir : !image.working_dir.empty() ? image.working_dir : "/";
  proc.AddMember("cwd", api::Str(cwd, a), a);
  std::vector<std::string> caps = c.privileged ? kAllCaps : kDefaultCaps;
  if (!c.privileged) {
    for (auto& add : c.cap_add) {
      std::string n = CapName(add);
      if (n == "CAP_ALL") {
        caps = kAllCaps;
      } else if (std::find(caps.begin(), caps.end(), n) == caps.end()) {
        caps.push_back(n);
      }
    }
    for (auto& drop : c.cap_drop) {
      std::string n = CapName(drop);
      if (n == "CAP_ALL") caps.clear();
      std::erase(caps, n);
    }
  }
  Value capabilities(rapidjson::kObjectType);
  for (const char* set : {"bounding", "effective", "permitted"}) {
    capabilities.AddMember(rapidjson::StringRef(set), Strings(caps, a), a);
  }
  proc.AddMember("capabilities", capabilities, a);
  proc.AddMember("noNewPrivileges", !c.allow_privilege_escalation && !c.privileged, a);
  d.AddMember("process", proc, a);

  Value root(rapidjson::kObjectType);
  root.AddMember("path", api::Str(ctx.rootfs, a), a);
  root.AddMember("readonly", c.read_only_rootfs, a);
  d.AddMember("root", root, a);
  d.AddMember("hostname", api::Str(ctx.hostname, a), a);

  Value mounts(rapidjson::kArrayType);
  mounts.PushBack(MountJson("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}, a), a);
  mounts.PushBack(MountJson("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}, a), a);
  mounts.PushBack(MountJson("/dev/pts", "devpts", "devpts",
                            {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}, a), a);
  mounts.PushBack(MountJson("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}, a), a);
  mounts.PushBack(MountJson("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}, a), a);
  mounts.PushBack(MountJson("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", c.privileged ? "rw" : "ro"}, a), a);
  mounts.PushBack(MountJson("/sys/fs/cgroup", "cgroup", "cgroup",
                            {"nosuid", "noexec", "nodev", "relatime", c.privileged ? "rw" : "ro"}, a), a);
  for (auto& m : c.mounts) {
    if (m.type == "tmpfs") {
      mounts.PushBack(MountJson(m.container_path, "tmpfs", "tmpfs", {"nosuid", "nodev", "mode=1777"}, a), a);
    } else {
      std::vector<std::string> opts = {"rbind", "rprivate"};
      opts.push_back(m.read_only ? "ro" : "rw");
      mounts.PushBack(MountJson(m.container_path, "bind", m.host_path, opts, a), a);
    }
  }
  d.AddMember("mounts", mounts, a);

  Value linux_cfg(rapidjson::kObjectType);
  Value ns(rapidjson::kArrayType);
  for (const char* type : {"pid", "ipc", "uts", "mount"}) {
    Value n(rapidjson::kObjectType);
    n.AddMember("type", rapidjson::StringRef(type), a);
    ns.PushBack(n, a);
  }
  if (!ctx.netns_path.empty()) {
    Value n(rapidjson::kObjectType);
    n.AddMember("type", "network", a);
    n.AddMember("path", api::Str(ctx.netns_path, a), a);
    ns.PushBack(n, a);
  }
  linux_cfg.AddMember("namespaces", ns, a);
  linux_cfg.AddMember("cgroupsPath", api::Str(ctx.cgroups_path, a), a);

  Value res(rapidjson::kObjectType);
  Value devices(rapidjson::kArrayType);
  Value deny(rapidjson::kObjectType);
  deny.AddMember("allow", c.privileged, a);
  deny.AddMember("access", "rwm", a);
  devices.PushBack(deny, a);
  res.AddMember("devices", devices, a);
  if (c.memory_limit_bytes > 0) {
    Value mem(rapidjson::kObjectType);
    mem.AddMember("limit", c.memory_limit_bytes, a);
    // No swap beyond the limit, so the limit is what triggers the OOM kill.
    mem.AddMember("swap", c.memory_limit_bytes, a);
    res.AddMember("memory", mem, a);
  }
  Value cpu(rapidjson::kObjectType);
  // Upstream's MilliCPUToShares: 1024 per core, at least 2.
  int64_t shares = std::max<int64_t>(2, c.cpu_request_millis * 1024 / 1000);
  cpu.AddMember("shares", shares, a);
  if (c.cpu_limit_millis > 0) {
    constexpr int64_t kPeriod = 100000;
    cpu.AddMember("quota", std::max<int64_t>(1000, c.cpu_limit_millis * kPeriod / 1000), a);
    cpu.AddMember("period", kPeriod, a);
  }
  res.AddMember("cpu", cpu, a);
  if (c.pids_limit > 0) {
    Value pids(rapidjson::kObjectType);
    pids.AddMember("limit", c.pids_limit, a);
    res.AddMember("pids", pids, a);
  }
  linux_cfg.AddMember("resources", res, a);
  if (!c.privileged) {
    linux_cfg.AddMember("maskedPaths",
                    Strings({"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                             "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                             "/proc/sched_debug", "/proc/scsi", "/sys/firmware"}, a), a);
    linux_cfg.AddMember("readonlyPaths",
                    Strings({"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}, a), a);
  }
  d.AddMember("linux", linux_cfg, a);
  return d;
}

}  // namespace kubepp::kubelet
