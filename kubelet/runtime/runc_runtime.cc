#include "kubelet/runtime/runc_runtime.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "common/api/json.h"
#include "common/log.h"
#include "common/util/exec.h"
#include "common/util/file.h"
#include "common/util/random.h"
#include "common/util/time.h"
#include "kubelet/runtime/oci_spec.h"

extern char** environ;

namespace kubepp::kubelet {

namespace fs = std::filesystem;

namespace {

constexpr const char* kCgroupRoot = "/sys/fs/cgroup";

std::string RandomHex(int n) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < n; ++i) out += hex[util::RandomBelow(16)];
  return out;
}



// Runs a helper; a non-zero exit is Internal with its stderr.
Result<util::CommandResult> RunChecked(const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(auto r, util::RunCommand(argv));
  if (r.exit_code != 0) {
    std::string msg = r.err.empty() ? r.out : r.err;
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return Internal(argv[0] + " " + (argv.size() > 1 ? argv[1] : "") + " failed (exit " +
                    std::to_string(r.exit_code) + "): " + msg);
  }
  return r;
}

bool Alive(pid_t pid) { return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM); }

pid_t ReadPid(const std::string& path) {
  std::ifstream f(path);
  pid_t pid = 0;
  f >> pid;
  return pid;
}

// Whether `path` is a network namespace pinned by a bind mount (`ip netns add`), rather
// than the empty file such a mount leaves when the mount namespace holding it ends.
bool IsPinnedNamespace(const std::string& path) {
  struct statfs st{};
  constexpr decltype(st.f_type) kNsfsMagic = 0x6e736673;
  return statfs(path.c_str(), &st) == 0 && st.f_type == kNsfsMagic;
}

}  // namespace

std::string OwnMemoryCgroup() {
  std::ifstream f("/proc/self/cgroup");
  std::string line;
  while (std::getline(f, line)) {
    // "4:memory:/process_api/<id>"
    auto first = line.find(':');
    auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    std::string controllers = line.substr(first + 1, second - first - 1);
    std::stringstream ss(controllers);
    std::string c;
    while (std::getline(ss, c, ',')) {
      if (c == "memory") return line.substr(second + 1);
    }
  }
  return "/";
}

namespace {

// What containerStatuses.imageID reports, as containerd: the image's repo digest for the
// repository the pod named (else its first one), else the image id.
std::string ImageRefOf(const Image& image, const std::string& requested) {
  auto ref = ParseImageReference(requested);
  for (auto& d : image.repo_digests) {
    if (ref.ok() && d.rfind(ref->Repository() + "@", 0) == 0) return d;
  }
  return image.repo_digests.empty() ? image.id : image.repo_digests.front();
}

}  // namespace

RuncRuntime::RuncRuntime(RuncOptions options, std::unique_ptr<ImageStore> images)
    : options_(std::move(options)),
      images_(std::move(images)),
      registry_(options_.registry),
      puller_(images_.get(), &registry_),
      cni_(CniOptions{options_.cni_bin_dir, options_.cni_conf_dir, options_.root_dir + "/cni",
                      options_.cni_bridge}) {}

RuncRuntime::~RuncRuntime() {
  stop_ = true;
  if (scanner_.joinable()) scanner_.join();
}

Result<std::unique_ptr<RuncRuntime>> RuncRuntime::Create(const RuncOptions& options) {
  std::error_code ec;
  for (const char* d : {"/runtime/sandboxes", "/runtime/containers", "/runtime/removing", "/runtime/runc"}) {
    fs::create_directories(options.root_dir + d, ec);
    if (ec) return Internal("creating " + options.root_dir + d + ": " + ec.message());
  }
  if (!options.images_dir.empty()) fs::create_directories(options.images_dir, ec);
  ASSIGN_OR_RETURN(auto images, ImageStore::Open(options.root_dir + "/images"));
  std::unique_ptr<RuncRuntime> rt(new RuncRuntime(options, std::move(images)));
  auto v = util::RunCommand({options.runc_binary, "--version"});
  if (v.ok() && v->exit_code == 0) {
    std::string first = v->out.substr(0, v->out.find('\n'));  // "runc version 1.1.5+ds1"
    rt->version_ = first.substr(first.rfind(' ') + 1);
  } else {
    rt->version_ = "unknown";
    LOG(WARNING) << "runc binary " << options.runc_binary << " does not run: the node is NotReady";
  }
  std::string own = OwnMemoryCgroup();
  rt->cgroup_parent_ = !options.cgroup_parent.empty()
                           ? options.cgroup_parent
                           : (own == "/" ? "" : own) + "/kubepp-" + options.node_name;
  rt->RecoverSandboxes();
  rt->CleanupLeaks();
  rt->ScanImagesDir();
  rt->scanner_ = std::thread([r = rt.get()] {
    int ticks = 0;
    while (!r->stop_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      if (++ticks % 10 == 0) r->ScanImagesDir();
    }
  });
  return rt;
}

void RuncRuntime::ScanImagesDir(bool reimport_removed) {
  if (options_.images_dir.empty()) return;
  std::lock_guard lock(scan_mu_);
  std::error_code ec;
  std::set<std::string> present;
  for (auto& e : fs::directory_iterator(options_.images_dir, ec)) {
    if (!e.is_regular_file()) continue;
    std::string path = e.path().string();
    if (path.find(".tar") == std::string::npos) continue;
    present.insert(path);
    int64_t mtime = e.last_write_time().time_since_epoch().count();
    auto& rec = imported_[path];
    if (rec.mtime == mtime && !(rec.removed && reimport_removed)) continue;
    rec = Imported{mtime, {}, false};
    auto r = images_->Import(path);
    if (!r.ok()) {
      LOG(WARNING) << "importing " << path << ": " << r.status().message();
      continue;
    }
    for (auto& img : *r) {
      rec.ids.push_back(img.id);
      LOG(INFO) << "imported image " << img.id << (img.repo_tags.empty() ? "" : " " + img.repo_tags[0]);
    }
  }
  std::erase_if(imported_, [&](auto& entry) { return !present.count(entry.first); });
  std::set<std::string> pinned;
  for (auto& [path, rec] : imported_) {
    if (!rec.removed) pinned.insert(rec.ids.begin(), rec.ids.end());
  }
  std::lock_guard plock(pinned_mu_);
  pinned_ = std::move(pinned);
}

void RuncRuntime::RecoverSandboxes() {
  std::error_code ec;
  std::optional<std::vector<ContainerStatus>> containers;  // listed once, when first needed
  for (auto& e : fs::directory_iterator(options_.root_dir + "/runtime/sandboxes", ec)) {
    if (e.path().extension() != ".json") continue;
    auto s = ReadSandbox(e.path().stem().string());
    std::string netns = s.ok() ? NetnsOf(s->id) : "";
    if (!s.ok() || !s->ready || netns.empty() || IsPinnedNamespace(netns)) continue;
    if (!containers) {
      auto listed = ListContainers();
      containers = listed.ok() ? std::move(listed).value() : std::vector<ContainerStatus>{};
    }
    pid_t holder = 0;
    for (auto& c : *containers) {
      if (c.sandbox_id != s->id || c.state != ContainerState::kRunning) continue;
      pid_t pid = ReadPid(BundlePath(c.id) + "/init.pid");
      if (Alive(pid)) holder = pid;
    }
    if (holder > 0) {
      fs::create_directories(fs::path(netns).parent_path(), ec);
      if (!fs::exists(netns)) std::ofstream(netns).flush();
      std::string source = "/proc/" + std::to_string(holder) + "/ns/net";
      if (mount(source.c_str(), netns.c_str(), nullptr, MS_BIND, nullptr) == 0) {
        LOG(INFO) << "sandbox " << s->id << " of pod " << s->pod.Key() << ": network namespace "
                  << netns << " pinned again";
        continue;
      }
      LOG(WARNING) << "sandbox " << s->id << ": cannot pin " << source << " at " << netns << ": "
                   << std::strerror(errno);
    }
    LOG(WARNING) << "sandbox " << s->id << " of pod " << s->pod.Key()
                 << ": its network namespace is gone; the pod gets a new sandbox";
    s->ready = false;
    (void)WriteSandbox(*s, netns);
  }
}

void RuncRuntime::CleanupLeaks() {
  std::set<std::string> live;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(options_.root_dir + "/runtime/sandboxes", ec)) {
    // A hostname file without its sandbox record: left by a kubelet killed mid-removal.
    if (e.path().extension() == ".hostname" && !fs::exists(SandboxPath(e.path().stem().string()))) {
      std::error_code rm;
      fs::remove(e.path(), rm);
      continue;
    }
    if (e.path().extension() != ".json") continue;
    auto s = ReadSandbox(e.path().stem().string());
    if (s.ok() && s->ready) live.insert(s->id);
  }
  int n = cni_.ReleaseLeaked(live);
  if (n > 0) LOG(INFO) << "released " << n << " leaked pod IP(s)";
  // A bundle without its container.json: a creation cut short by a kill -9 (nothing is
  // being created yet, so none of them is in progress).
  for (auto& e : fs::directory_iterator(options_.root_dir + "/runtime/containers", ec)) {
    if (fs::exists(e.path() / "container.json")) continue;
    LOG(INFO) << "removing the unfinished bundle " << e.path().string();
    (void)RemoveContainer(e.path().filename().string());
  }
  EmptyRemoving();
}

void RuncRuntime::EmptyRemoving() {
  std::lock_guard lock(removing_mu_);
  std::error_code ec;
  for (auto& e : fs::directory_iterator(options_.root_dir + "/runtime/removing", ec)) {
    std::error_code rm;
    umount2((e.path() / "rootfs").c_str(), MNT_DETACH);
    fs::remove_all(e.path(), rm);
    if (rm) LOG(WARNING) << "removing " << e.path().string() << ": " << rm.message();
  }
}

std::vector<std::string> RuncRuntime::Runc(std::vector<std::string> args) const {
  std::vector<std::string> v = {options_.runc_binary, "--root", options_.root_dir + "/runtime/runc"};
  v.insert(v.end(), args.begin(), args.end());
  return v;
}

std::string RuncRuntime::HostnamePath(const std::string& id) const {
  return options_.root_dir + "/runtime/sandboxes/" + id + ".hostname";
}

std::string RuncRuntime::SandboxPath(const std::string& id) const {
  return options_.root_dir + "/runtime/sandboxes/" + id + ".json";
}

std::string RuncRuntime::BundlePath(const std::string& id) const {
  return options_.root_dir + "/runtime/containers/" + id;
}

std::string RuncRuntime::PodCgroup(const std::string& uid) const {
  return cgroup_parent_ + "/pod" + uid;
}

Status RuncRuntime::Healthy() {
  if (version_ == "unknown") return Unavailable("container runtime not ready: runc does not run");
  return cni_.Ready();
}

Result<SandboxStatus> RuncRuntime::ReadSandbox(const std::string& id) const {
  ASSIGN_OR_RETURN(auto text, util::ReadFile(SandboxPath(id)));
  ASSIGN_OR_RETURN(auto d, api::ParseJson(text));
  SandboxStatus s;
  s.id = api::GetString(d, "id");
  s.pod = PodRef{api::GetString(d, "namespace"), api::GetString(d, "name"), api::GetString(d, "uid")};
  s.attempt = static_cast<uint32_t>(api::GetInt(d, "attempt"));
  s.ready = api::GetBool(d, "ready");
  s.ip = api::GetString(d, "ip");
  s.created_at = api::GetInt(d, "createdAt");
  return s;
}

std::string RuncRuntime::NetnsOf(const std::string& sandbox_id) const {
  auto text = util::ReadFile(SandboxPath(sandbox_id));
  if (!text.ok()) return "";
  auto d = api::ParseJson(*text);
  return d.ok() ? api::GetString(*d, "netns") : "";
}

Status RuncRuntime::WriteSandbox(const SandboxStatus& s, const std::string& netns) {
  api::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("id", api::Str(s.id, a), a);
  d.AddMember("namespace", api::Str(s.pod.ns, a), a);
  d.AddMember("name", api::Str(s.pod.name, a), a);
  d.AddMember("uid", api::Str(s.pod.uid, a), a);
  d.AddMember("attempt", s.attempt, a);
  d.AddMember("ready", s.ready, a);
  d.AddMember("ip", api::Str(s.ip, a), a);
  d.AddMember("createdAt", s.created_at, a);
  d.AddMember("netns", api::Str(netns, a), a);
  return util::WriteFileAtomic(SandboxPath(s.id), api::ToJson(d));
}

Result<std::string> RuncRuntime::RunPodSandbox(const SandboxConfig& config) {
  SandboxStatus s;
  s.id = RandomHex(32);
  s.pod = config.pod;
  s.attempt = config.attempt;
  s.created_at = util::NowUnixMicros();
  std::string name = "kubepp-" + s.id.substr(0, 16);
  std::string netns = config.host_network ? "" : "/run/netns/" + name;
  // Recorded before anything exists, so that a crash halfway leaves something to clean.
  RETURN_IF_ERROR(WriteSandbox(s, netns));
  // The hostname the pod's containers get.
  RETURN_IF_ERROR(util::WriteFileAtomic(HostnamePath(s.id), config.hostname));
  if (!config.host_network) {
    auto added = RunChecked({"ip", "netns", "add", name});
    if (!added.ok()) {
      (void)RemovePodSandbox(s.id);
      return added.status();
    }
    auto ip = cni_.Add(s.id, netns, config.port_mappings);
    if (!ip.ok()) {
      (void)RemovePodSandbox(s.id);
      return ip.status();
    }
    s.ip = *ip;
  }
  s.ready = true;
  RETURN_IF_ERROR(WriteSandbox(s, netns));
  return s.id;
}

Status RuncRuntime::StopPodSandbox(const std::string& sandbox_id) {
  auto s = ReadSandbox(sandbox_id);
  if (!s.ok()) return Status::Ok();
  ASSIGN_OR_RETURN(auto containers, ListContainers());
  for (auto& c : containers) {
    if (c.sandbox_id == sandbox_id && c.state == ContainerState::kRunning) {
      (void)SignalContainer(c.id, SIGKILL);
    }
  }
  std::string netns = NetnsOf(sandbox_id);
  if (!netns.empty() && (s->ready || fs::exists(netns))) {
    // A namespace no longer pinned (see RecoverSandboxes) is gone: DEL releases the
    // address without entering it, and the leftover file is just a file.
    bool pinned = IsPinnedNamespace(netns);
    RETURN_IF_ERROR(cni_.Del(sandbox_id, pinned ? netns : ""));
    if (pinned) {
      RETURN_IF_ERROR(RunChecked({"ip", "netns", "delete", fs::path(netns).filename().string()}).status());
    } else {
      std::error_code ec;
      fs::remove(netns, ec);
    }
  }
  if (s->ready) {
    s->ready = false;
    RETURN_IF_ERROR(WriteSandbox(*s, netns));
  }
  return Status::Ok();
}

Status RuncRuntime::RemovePodSandbox(const std::string& sandbox_id) {
  std::error_code ec;
  auto s = ReadSandbox(sandbox_id);
  if (!s.ok()) {
    // No record: a creation that failed early or a removal cut short; only the hostname
    // file can be left (the record is written first and removed last).
    fs::remove(HostnamePath(sandbox_id), ec);
    return Status::Ok();
  }
  RETURN_IF_ERROR(StopPodSandbox(sandbox_id));
  ASSIGN_OR_RETURN(auto containers, ListContainers());
  for (auto& c : containers) {
    if (c.sandbox_id == sandbox_id) RETURN_IF_ERROR(RemoveContainer(c.id));
  }
  fs::remove(HostnamePath(sandbox_id), ec);
  fs::remove(SandboxPath(sandbox_id), ec);  // last: while it exists, removal is retried
  // The pod's cgroup, once no container is left in it (rmdir fails otherwise).
  for (auto& h : fs::directory_iterator(kCgroupRoot, ec)) {
    std::string dir = h.path().string() + PodCgroup(s->pod.uid);
    if (fs::is_directory(dir)) rmdir(dir.c_str());
  }
  return Status::Ok();
}

Result<std::vector<SandboxStatus>> RuncRuntime::ListPodSandboxes() {
  std::vector<SandboxStatus> out;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(options_.root_dir + "/runtime/sandboxes", ec)) {
    if (e.path().extension() != ".json") continue;
    auto s = ReadSandbox(e.path().stem().string());
    if (s.ok()) out.push_back(std::move(s).value());
  }
  return out;
}

Result<ImageInfo> RuncRuntime::EnsureImage(const std::string& image, PullPolicy policy,
                                           const std::vector<PullCredential>& credentials) {
  auto img = images_->Resolve(image);
  if (!img.ok() && policy != PullPolicy::kAlways) {
    ScanImagesDir(true);  // a tarball may have just been dropped in, or its image removed
    img = images_->Resolve(image);
  }
  if (policy == PullPolicy::kAlways || (!img.ok() && policy == PullPolicy::kIfNotPresent)) {
    return puller_.Pull(image, credentials, &stop_);
  }
  if (!img.ok()) return NotFound("image \"" + image + "\" is not present in the node's image store");
  return InfoOf(*img);
}

std::vector<ImageInfo> RuncRuntime::ListImages() {
  auto images = images_->List();
  std::lock_guard lock(pinned_mu_);
  for (auto& img : images) img.pinned = pinned_.count(img.id) > 0;
  return images;
}

Status RuncRuntime::RemoveImage(const std::string& image_id) {
  std::unique_lock use(image_use_mu_);
  ASSIGN_OR_RETURN(auto containers, ListContainers());
  for (auto& c : containers) {
    if (c.image_id == image_id) {
      return Conflict("image " + image_id + " is in use by container " + c.id + " (" + c.name +
                      " of pod " + c.pod.Key() + ")");
    }
  }
  ASSIGN_OR_RETURN(auto removed, images_->Remove(image_id));
  if (!removed.found) return Status::Ok();
  LOG(INFO) << "removed image " << image_id << ": " << removed.layers << " layer(s) no other image uses, "
            << removed.disk_bytes << " bytes on disk";
  std::lock_guard scan(scan_mu_);
  bool pinned = false;
  for (auto& [path, rec] : imported_) {
    if (std::find(rec.ids.begin(), rec.ids.end(), image_id) != rec.ids.end()) {
      rec.removed = true;
      pinned = true;
    }
  }
  if (pinned) {
    std::lock_guard plock(pinned_mu_);
    pinned_.erase(image_id);
  }
  return Status::Ok();
}

Result<std::string> RuncRuntime::CreateContainer(const std::string& sandbox_id,
                                                 const ContainerConfig& config) {
  ASSIGN_OR_RETURN(auto sandbox, ReadSandbox(sandbox_id));
  if (!sandbox.ready) return BadRequest("sandbox " + sandbox_id + " is not ready");
  std::shared_lock use(image_use_mu_);
  ASSIGN_OR_RETURN(auto image, images_->Resolve(config.image));
  std::string id = RandomHex(32);
  std::string bundle = BundlePath(id);
  std::error_code ec;
  for (const char* d : {"/rootfs", "/upper", "/work", "/empty"}) fs::create_directories(bundle + d, ec);
  fs::create_directories(fs::path(config.log_path).parent_path(), ec);
  if (ec) return Internal("creating bundle " + bundle + ": " + ec.message());
  auto fail = [&](Status st) {
    umount2((bundle + "/rootfs").c_str(), MNT_DETACH);
    fs::remove_all(bundle, ec);
    return st;
  };
  std::string lower;
  for (auto it = image.layer_dirs.rbegin(); it != image.layer_dirs.rend(); ++it) {
    lower += (lower.empty() ? "" : ":") + *it;
  }
  if (lower.empty()) lower = bundle + "/empty";
  std::string opts = "lowerdir=" + lower + ",upperdir=" + bundle + "/upper,workdir=" + bundle + "/work";
  if (mount("overlay", (bundle + "/rootfs").c_str(), "overlay", 0, opts.c_str()) != 0) {
    return fail(Internal("mounting the container's overlayfs: " + std::string(std::strerror(errno))));
  }
  auto hostname = util::ReadFile(HostnamePath(sandbox_id));
  BundleContext ctx{bundle + "/rootfs", NetnsOf(sandbox_id),
                    hostname.ok() ? *hostname : sandbox.pod.name,
                    PodCgroup(sandbox.pod.uid) + "/" + id};
  auto spec = BuildOciSpec(config, image.config, ctx);
  if (!spec.ok()) return fail(spec.status());
  if (Status st = util::WriteFileAtomic(bundle + "/config.json", api::ToJson(*spec)); !st.ok()) return fail(st);

  api::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("id", api::Str(id, a), a);
  d.AddMember("sandboxId", api::Str(sandbox_id, a), a);
  d.AddMember("namespace", api::Str(sandbox.pod.ns, a), a);
  d.AddMember("pod", api::Str(sandbox.pod.name, a), a);
  d.AddMember("uid", api::Str(sandbox.pod.uid, a), a);
  d.AddMember("name", api::Str(config.name, a), a);
  d.AddMember("attempt", config.attempt, a);
  d.AddMember("createdAt", util::NowUnixMicros(), a);
  d.AddMember("image", api::Str(config.image, a), a);
  d.AddMember("imageRef", api::Str(ImageRefOf(image, config.image), a), a);
  d.AddMember("imageId", api::Str(image.id, a), a);
  d.AddMember("logPath", api::Str(config.log_path, a), a);
  d.AddMember("memoryCgroup", api::Str(std::string(kCgroupRoot) + "/memory" + ctx.cgroups_path, a), a);
  if (Status st = util::WriteFileAtomic(bundle + "/container.json", api::ToJson(d)); !st.ok()) return fail(st);
  if (Status st = images_->MarkUsed(image.id, util::NowUnixMicros()); !st.ok()) {
    LOG(WARNING) << "recording the use of image " << image.id << ": " << st.message();
  }
  return id;
}

Status RuncRuntime::StartContainer(const std::string& container_id) {
  std::string bundle = BundlePath(container_id);
  ASSIGN_OR_RETURN(auto text, util::ReadFile(bundle + "/container.json"));
  ASSIGN_OR_RETURN(auto d, api::ParseJson(text));
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Internal(std::string("pipe: ") + std::strerror(errno));
  std::vector<std::string> argv = {"/proc/self/exe", "shim",
                                   "--runc", options_.runc_binary,
                                   "--root", options_.root_dir + "/runtime/runc",
                                   "--bundle", bundle,
                                   "--id", container_id,
                                   "--log", api::GetString(d, "logPath"),
                                   "--memory-cgroup", api::GetString(d, "memoryCgroup")};
  std::vector<char*> args;
  for (auto& s : argv) args.push_back(s.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  std::string shim_log = bundle + "/shim.log";
  posix_spawn_file_actions_addopen(&fa, 1, shim_log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0640);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 3);
  posix_spawn_file_actions_addclosefrom_np(&fa, 4);
  // An empty signal mask (the kubelet blocks SIGTERM for its signal thread) and
  // SIGPIPE back to default: the shim and the container inherit both.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, pipe;
  sigemptyset(&none);
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &pipe);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, args[0], &fa, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return Internal(std::string("starting the shim: ") + std::strerror(rc));
  }
  // The shim's first process exits at once (it detaches); its child reports on the pipe.
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::string report;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, 1000) <= 0) continue;
    char buf[4096];
    ssize_t n = read(fds[0], buf, sizeof(buf));
    if (n <= 0) break;
    report.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  while (!report.empty() && report.back() == '\n') report.pop_back();
  if (report == "ok") return Status::Ok();
  return Internal(report.empty() ? "the shim ended without reporting" : report);
}

Status RuncRuntime::SignalContainer(const std::string& container_id, int signal) {
  std::string bundle = BundlePath(container_id);
  if (!fs::exists(bundle)) return NotFound("no container " + container_id);
  if (!fs::exists(bundle + "/started") || fs::exists(bundle + "/exit.json")) return Status::Ok();
  auto r = util::RunCommand(Runc({"kill", container_id, std::to_string(signal)}));
  if (!r.ok()) return r.status();
  if (r->exit_code != 0 && r->err.find("not running") == std::string::npos &&
      r->err.find("does not exist") == std::string::npos) {
    return Internal("runc kill " + container_id + ": " + r->err);
  }
  return Status::Ok();
}

Status RuncRuntime::RemoveContainer(const std::string& container_id) {
  std::string bundle = BundlePath(container_id);
  if (!fs::exists(bundle)) return Status::Ok();
  auto r = util::RunCommand(Runc({"delete", "--force", container_id}));
  if (r.ok() && r->exit_code != 0 && r->err.find("does not exist") == std::string::npos &&
      r->err.find("not exist") == std::string::npos) {
    LOG(WARNING) << "runc delete " << container_id << ": " << r->err;
  }
  if (umount2((bundle + "/rootfs").c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
    return Internal("unmounting " + bundle + "/rootfs: " + std::strerror(errno));
  }
  // One rename takes the whole bundle out of containers/, so the container is either
  // listed with its container.json (and its removal retried) or gone.
  std::error_code ec;
  fs::rename(bundle, options_.root_dir + "/runtime/removing/" + container_id, ec);
  if (ec) return Internal("moving " + bundle + " to removing/: " + ec.message());
  EmptyRemoving();
  return Status::Ok();
}

Result<std::vector<ContainerStatus>> RuncRuntime::ListContainers() {
  std::vector<ContainerStatus> out;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(options_.root_dir + "/runtime/containers", ec)) {
    std::string bundle = e.path().string();
    auto text = util::ReadFile(bundle + "/container.json");
    if (!text.ok()) continue;  // being created or removed
    auto d = api::ParseJson(*text);
    if (!d.ok()) continue;
    ContainerStatus c;
    c.id = api::GetString(*d, "id");
    c.sandbox_id = api::GetString(*d, "sandboxId");
    c.pod = PodRef{api::GetString(*d, "namespace"), api::GetString(*d, "pod"), api::GetString(*d, "uid")};
    c.name = api::GetString(*d, "name");
    c.attempt = static_cast<uint32_t>(api::GetInt(*d, "attempt"));
    c.created_at = api::GetInt(*d, "createdAt");
    c.image = api::GetString(*d, "image");
    c.image_ref = api::GetString(*d, "imageRef");
    c.image_id = api::GetString(*d, "imageId");
    if (c.image_id.empty()) {  // recorded before imageId: its imageRef names the image
      if (auto img = images_->Resolve(c.image_ref.empty() ? c.image : c.image_ref); img.ok()) c.image_id = img->id;
    }
    c.log_path = api::GetString(*d, "logPath");
    c.state = ContainerState::kCreated;
    if (auto started = util::ReadFile(bundle + "/started"); started.ok()) {
      c.started_at = std::atoll(started->c_str());
      c.state = ContainerState::kRunning;
    }
    if (auto exit = util::ReadFile(bundle + "/exit.json"); exit.ok()) {
      if (auto x = api::ParseJson(*exit); x.ok()) {
        c.state = ContainerState::kExited;
        c.exit_code = static_cast<int>(api::GetInt(*x, "exitCode"));
        c.finished_at = api::GetInt(*x, "finishedAt");
        c.reason = api::GetString(*x, "reason");
        c.message = api::GetString(*x, "message");
      }
    } else if (c.state == ContainerState::kRunning) {
      pid_t init = ReadPid(bundle + "/init.pid");
      if (!Alive(init)) {
        // The shim writes exit.json right after the init process ends; give it a moment
        // before calling the exit lost (shim killed, host rebooted).
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (!fs::exists(bundle + "/exit.json")) {
          c.state = ContainerState::kExited;
          c.exit_code = 255;
          c.reason = "Error";
          c.message = "the container's exit status was lost";
          c.finished_at = util::NowUnixMicros();
        } else {
          return ListContainers();
        }
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

Result<ExecResult> RuncRuntime::ExecSync(const std::string& container_id,
                                         const std::vector<std::string>& cmd, int timeout_seconds) {
  std::vector<std::string> args = {"exec", container_id};
  args.insert(args.end(), cmd.begin(), cmd.end());
  ASSIGN_OR_RETURN(auto r, util::RunCommand(Runc(args), "", std::chrono::seconds(std::max(1, timeout_seconds))));
  return ExecResult{r.exit_code, r.out + r.err};
}

}  // namespace kubepp::kubelet
