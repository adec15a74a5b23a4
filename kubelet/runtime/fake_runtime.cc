#include "kubelet/runtime/fake_runtime.h"

#include <csignal>

#include "common/net/ipv4.h"

namespace kubepp::kubelet {

namespace {
constexpr const char* kDefaultFakeCidr = "10.244.255.0/24";
}  // namespace

std::optional<int> FakeExitCode(const std::vector<std::string>& argv) {
  auto parse = [](const std::string& s) -> std::optional<int> {
    if (s == "true") return 0;
    if (s == "false") return 1;
    if (s.rfind("exit", 0) == 0) {
      std::string rest = s.substr(4);
      if (rest.empty()) return 0;
      try {
        return std::stoi(rest);
      } catch (...) {
        return std::nullopt;
      }
    }
    return std::nullopt;
  };
  if (argv.empty()) return std::nullopt;
  if (argv.size() == 3 && (argv[0] == "sh" || argv[0] == "/bin/sh") && argv[1] == "-c") {
    return parse(argv[2]);
  }
  std::string joined;
  for (auto& a : argv) joined += (joined.empty() ? "" : " ") + a;
  return parse(joined);
}

FakeRuntime::FakeRuntime(Clock clock) : clock_(std::move(clock)) { SetPodCidr(kDefaultFakeCidr); }

void FakeRuntime::SetPodCidr(const std::string& cidr) {
  auto parsed = net::ParseIpv4Cidr(cidr);
  if (!parsed.ok()) return;
  std::lock_guard lock(mu_);
  cidr_base_ = parsed->base;
  cidr_prefix_ = parsed->prefix;
}

std::string FakeRuntime::AllocateIpLocked() {
  net::Ipv4Cidr cidr{cidr_base_, cidr_prefix_};
  // .1 is the gateway, the last address the broadcast: as host-local.
  for (uint64_t n = 2; n + 1 < cidr.Size(); ++n) {
    uint32_t ip = cidr.base + static_cast<uint32_t>(n);
    if (used_ips_.insert(ip).second) return net::FormatIpv4(ip);
  }
  return "";
}

Result<std::string> FakeRuntime::RunPodSandbox(const SandboxConfig& config) {
  std::lock_guard lock(mu_);
  if (fail_sandboxes_ > 0) {
    --fail_sandboxes_;
    return Unavailable("fake: sandbox creation failed (test hook)");
  }
  std::string ip = AllocateIpLocked();
  if (ip.empty()) return Unavailable("fake: no free IP in the pod CIDR");
  SandboxStatus s;
  s.id = "fakesandbox" + std::to_string(next_id_++);
  s.pod = config.pod;
  s.attempt = config.attempt;
  s.ready = true;
  s.ip = ip;
  s.created_at = clock_();
  sandboxes_[s.id] = s;
  return s.id;
}

Status FakeRuntime::StopPodSandbox(const std::string& sandbox_id) {
  std::lock_guard lock(mu_);
  auto it = sandboxes_.find(sandbox_id);
  if (it == sandboxes_.end()) return Status::Ok();
  for (auto& [id, c] : containers_) {
    AdvanceLocked(c);
    if (c.status.sandbox_id == sandbox_id && c.status.state == ContainerState::kRunning) {
      c.status.state = ContainerState::kExited;
      c.status.exit_code = 137;
      c.status.reason = "Error";
      c.status.finished_at = clock_();
    }
  }
  if (it->second.ready && !it->second.ip.empty()) {
    if (auto ip = net::ParseIpv4(it->second.ip); ip.ok()) used_ips_.erase(*ip);
  }
  it->second.ready = false;
  return Status::Ok();
}

Status FakeRuntime::RemovePodSandbox(const std::string& sandbox_id) {
  RETURN_IF_ERROR(StopPodSandbox(sandbox_id));
  std::lock_guard lock(mu_);
  sandboxes_.erase(sandbox_id);
  for (auto it = containers_.begin(); it != containers_.end();) {
    it = it->second.status.sandbox_id == sandbox_id ? containers_.erase(it) : std::next(it);
  }
  return Status::Ok();
}

Result<std::vector<SandboxStatus>> FakeRuntime::ListPodSandboxes() {
  std::lock_guard lock(mu_);
  std::vector<SandboxStatus> out;
  out.reserve(sandboxes_.size());
  for (auto& [id, s] : sandboxes_) out.push_back(s);
  return out;
}

Result<ImageInfo> FakeRuntime::EnsureImage(const std::string& image, PullPolicy policy,
                                           const std::vector<PullCredential>& /*credentials*/) {
  if (image.find("doesnotexist") != std::string::npos) {
    return NotFound("fake: image " + image + " not found");
  }
  std::lock_guard lock(mu_);
  // Every image can be pulled, none is present before it was.
  if (policy == PullPolicy::kNever && !images_.count(image)) {
    return NotFound("fake: image " + image + " is not present");
  }
  auto& info = images_[image];
  if (info.id.empty()) {
    info.id = "sha256:fake" + std::to_string(std::hash<std::string>{}(image));
    info.repo_tags = {image};
    info.size_bytes = 1 << 20;
    info.stored_at = clock_();
  }
  return info;
}

std::vector<ImageInfo> FakeRuntime::ListImages() {
  std::lock_guard lock(mu_);
  std::vector<ImageInfo> out;
  for (auto& [name, info] : images_) out.push_back(info);
  return out;
}

Status FakeRuntime::RemoveImage(const std::string& image_id) {
  std::lock_guard lock(mu_);
  for (auto& [id, c] : containers_) {
    if (c.status.image_id == image_id) {
      return Conflict("fake: image " + image_id + " is used by container " + id);
    }
  }
  std::erase_if(images_, [&](auto& entry) { return entry.second.id == image_id; });
  return Status::Ok();
}

Result<std::string> FakeRuntime::CreateContainer(const std::string& sandbox_id,
                                                 const ContainerConfig& config) {
  std::lock_guard lock(mu_);
  auto sb = sandboxes_.find(sandbox_id);
  if (sb == sandboxes_.end() || !sb->second.ready) {
    return NotFound("fake: sandbox " + sandbox_id + " is not ready");
  }
  Container c;
  c.status.id = "fake" + std::to_string(next_id_++);
  c.status.sandbox_id = sandbox_id;
  c.status.pod = sb->second.pod;
  c.status.name = config.name;
  c.status.attempt = config.attempt;
  c.status.state = ContainerState::kCreated;
  c.status.created_at = clock_();
  c.status.image = config.image;
  auto img = images_.find(config.image);
  c.status.image_ref = img != images_.end() ? img->second.id : "";
  c.status.image_id = c.status.image_ref;
  if (img != images_.end()) img->second.last_used_at = c.status.created_at;
  c.status.log_path = config.log_path;
  std::vector<std::string> argv = config.command;
  argv.insert(argv.end(), config.args.begin(), config.args.end());
  c.exit_code_on_start = FakeExitCode(argv);
  auto ann = config.annotations.find("kubepp.io/fake-exit-after");
  if (ann != config.annotations.end()) {
    try {
      c.exit_after_micros = static_cast<int64_t>(std::stod(ann->second) * 1e6);
    } catch (...) {
    }
    auto code = config.annotations.find("kubepp.io/fake-exit-code");
    if (code != config.annotations.end()) c.exit_after_code = std::atoi(code->second.c_str());
  }
  std::string id = c.status.id;
  containers_[id] = std::move(c);
  return id;
}

Status FakeRuntime::StartContainer(const std::string& container_id) {
  std::lock_guard lock(mu_);
  auto it = containers_.find(container_id);
  if (it == containers_.end()) return NotFound("fake: no container " + container_id);
  auto& c = it->second;
  if (c.status.state != ContainerState::kCreated) {
    return BadRequest("fake: container " + container_id + " is not in state created");
  }
  c.status.state = ContainerState::kRunning;
  c.status.started_at = clock_();
  ++started_;
  AdvanceLocked(c);
  return Status::Ok();
}

void FakeRuntime::AdvanceLocked(Container& c) {
  if (c.status.state != ContainerState::kRunning) return;
  int64_t now = clock_();
  std::optional<int> code;
  int64_t when = now;
  if (c.exit_code_on_start) {
    code = c.exit_code_on_start;
    when = c.status.started_at;
  } else if (c.exit_after_micros >= 0 && now >= c.status.started_at + c.exit_after_micros) {
    code = c.exit_after_code;
    when = c.status.started_at + c.exit_after_micros;
  }
  if (!code) return;
  c.status.state = ContainerState::kExited;
  c.status.exit_code = *code;
  c.status.reason = *code == 0 ? "Completed" : "Error";
  c.status.finished_at = when;
}

Status FakeRuntime::SignalContainer(const std::string& container_id, int signal) {
  std::lock_guard lock(mu_);
  auto it = containers_.find(container_id);
  if (it == containers_.end()) return NotFound("fake: no container " + container_id);
  auto& c = it->second;
  AdvanceLocked(c);
  if (c.status.state != ContainerState::kRunning) return Status::Ok();
  if (signal == SIGTERM || signal == SIGKILL || signal == SIGINT) {
    c.status.state = ContainerState::kExited;
    c.status.exit_code = 128 + signal;
    c.status.reason = "Error";
    c.status.finished_at = clock_();
  }
  return Status::Ok();
}

void FakeRuntime::Exit(const std::string& container_id, int exit_code) {
  std::lock_guard lock(mu_);
  auto it = containers_.find(container_id);
  if (it == containers_.end() || it->second.status.state != ContainerState::kRunning) return;
  it->second.status.state = ContainerState::kExited;
  it->second.status.exit_code = exit_code;
  it->second.status.reason = exit_code == 0 ? "Completed" : "Error";
  it->second.status.finished_at = clock_();
}

Status FakeRuntime::RemoveContainer(const std::string& container_id) {
  std::lock_guard lock(mu_);
  containers_.erase(container_id);
  return Status::Ok();
}

Result<std::vector<ContainerStatus>> FakeRuntime::ListContainers() {
  std::lock_guard lock(mu_);
  std::vector<ContainerStatus> out;
  out.reserve(containers_.size());
  for (auto& [id, c] : containers_) {
    AdvanceLocked(c);
    out.push_back(c.status);
  }
  return out;
}

Result<ExecResult> FakeRuntime::ExecSync(const std::string& container_id,
                                         const std::vector<std::string>& cmd, int) {
  std::lock_guard lock(mu_);
  auto it = containers_.find(container_id);
  if (it == containers_.end()) return NotFound("fake: no container " + container_id);
  AdvanceLocked(it->second);
  if (it->second.status.state != ContainerState::kRunning) {
    return BadRequest("fake: container " + container_id + " is not running");
  }
  return ExecResult{FakeExitCode(cmd).value_or(0), ""};
}

void FakeRuntime::FailSandboxes(int count) {
  std::lock_guard lock(mu_);
  fail_sandboxes_ = count;
}

int FakeRuntime::StartedCount() const {
  std::lock_guard lock(mu_);
  return started_;
}

}  // namespace kubepp::kubelet
