// A runtime that runs no processes (hollow nodes, unit tests) yet moves containers
// through the real states, so that the control plane sees pods start, become ready, exit
// and restart as on a real node.
//
// Knobs, as pod annotations or commands:
//   - command (or command+args) `exit N`, `sh -c "exit N"`, `true`, `false`: the
//     container exits with that code right after it started;
//   - annotation kubepp.io/fake-exit-after: "<seconds>": the container exits that long
//     after it started, with kubepp.io/fake-exit-code (default 0);
//   - ExecSync runs the same tiny interpreter (`exit N`, `true`, `false`; else 0).
// SIGTERM/SIGKILL end a container with 143/137. Sandbox IPs come from the pod CIDR
// (default 10.244.255.0/24 until one is set) and are freed when the sandbox stops.
// Image pulls succeed for any name except ones containing "doesnotexist".
//
// Thread safety: all methods lock one mutex.
#pragma once

#include <map>
#include <mutex>
#include <set>

#include "kubelet/clock.h"
#include "kubelet/runtime/runtime.h"

namespace kubepp::kubelet {

class FakeRuntime : public ContainerRuntime {
 public:
  explicit FakeRuntime(Clock clock = SystemClock());

  std::string Name() const override { return "fake"; }
  std::string Version() const override { return "0.1.0"; }
  Status Healthy() override { return Status::Ok(); }
  void SetPodCidr(const std::string& cidr) override;

  Result<std::string> RunPodSandbox(const SandboxConfig& config) override;
  Status StopPodSandbox(const std::string& sandbox_id) override;
  Status RemovePodSandbox(const std::string& sandbox_id) override;
  Result<std::vector<SandboxStatus>> ListPodSandboxes() override;

  Result<ImageInfo> EnsureImage(const std::string& image, PullPolicy policy,
                                const std::vector<PullCredential>& credentials) override;
  std::vector<ImageInfo> ListImages() override;
  Status RemoveImage(const std::string& image_id) override;

  Result<std::string> CreateContainer(const std::string& sandbox_id,
                                      const ContainerConfig& config) override;
  Status StartContainer(const std::string& container_id) override;
  Status SignalContainer(const std::string& container_id, int signal) override;
  Status RemoveContainer(const std::string& container_id) override;
  Result<std::vector<ContainerStatus>> ListContainers() override;
  Result<ExecResult> ExecSync(const std::string& container_id,
                              const std::vector<std::string>& cmd, int timeout_seconds) override;

  // Test hooks: make the next N sandbox creations fail; end a container now.
  void FailSandboxes(int count);
  void Exit(const std::string& container_id, int exit_code);
  int StartedCount() const;

 private:
  struct Container {
    ContainerStatus status;
    std::optional<int> exit_code_on_start;  // exits right away with this code
    int64_t exit_after_micros = -1;         // exits this long after start
    int exit_after_code = 0;
  };
  // Applies scheduled exits up to now. Caller holds mu_.
  void AdvanceLocked(Container& c);
  std::string AllocateIpLocked();

  Clock clock_;
  mutable std::mutex mu_;
  std::map<std::string, SandboxStatus> sandboxes_;
  std::map<std::string, Container> containers_;
  std::map<std::string, ImageInfo> images_;
  uint32_t cidr_base_ = 0;
  int cidr_prefix_ = 24;
  std::set<uint32_t> used_ips_;
  uint64_t next_id_ = 1;
  int fail_sandboxes_ = 0;
  int started_ = 0;
};

// The exit code the fake's tiny interpreter gives `argv`, or nullopt when it is not one
// of its forms (the container then keeps running).
std::optional<int> FakeExitCode(const std::vector<std::string>& argv);

}  // namespace kubepp::kubelet
