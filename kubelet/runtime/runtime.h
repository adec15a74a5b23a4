// The seam between the kubelet's pod logic and whatever runs containers, shaped like the
// CRI: a pod is a sandbox (network namespace + IP) holding containers; every object the
// runtime keeps carries the pod's namespace/name/uid and, for containers, the container
// name and attempt, so that a restarted kubelet rebuilds its whole view from List*()
// (DESIGN.md §1: the runtime's record is the one piece of node state that survives).
//
// Implementations: FakeRuntime (hollow nodes, unit tests), RuncRuntime (runc + CNI).
// Thread safety: every method is safe from any thread; calls for different pods may run
// concurrently, calls for one pod are serialized by the pod's worker.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace kubepp::kubelet {

// Identity of the pod an object belongs to.
struct PodRef {
  std::string ns;
  std::string name;
  std::string uid;
  std::string Key() const { return ns + "/" + name; }
};

struct PortMapping {
  std::string protocol = "TCP";
  int container_port = 0;
  int host_port = 0;
  std::string host_ip;
};

struct SandboxConfig {
  PodRef pod;
  uint32_t attempt = 0;
  std::string hostname;
  bool host_network = false;  // no network namespace of its own, no CNI
  std::vector<PortMapping> port_mappings;  // hostPorts, through CNI portmap
  // Pod annotations: the fake runtime reads its knobs from them.
  std::map<std::string, std::string> annotations;
};

struct SandboxStatus {
  std::string id;
  PodRef pod;
  uint32_t attempt = 0;
  bool ready = false;  // false once stopped
  std::string ip;
  int64_t created_at = 0;  // unix micros
};

enum class ContainerState { kCreated, kRunning, kExited, kUnknown };

struct Mount {
  std::string container_path;
  std::string host_path;
  bool read_only = false;
  std::string type = "bind";  // "bind" or "tmpfs" (host_path unused)
};

// The container as the pod spec asks for it, already resolved by the kubelet (env
// values, volume host paths); the runtime merges it with the image's configuration.
struct ContainerConfig {
  std::string name;
  uint32_t attempt = 0;
  std::string image;
  std::vector<std::string> command;  // pod spec `command` (overrides the entrypoint)
  std::vector<std::string> args;     // pod spec `args` (overrides the image cmd)
  std::vector<std::pair<std::string, std::string>> env;
  std::string working_dir;
  std::vector<Mount> mounts;
  std::string log_path;  // stdout+stderr go here
  int64_t cpu_limit_millis = 0;    // 0: unlimited
  int64_t memory_limit_bytes = 0;  // 0: unlimited
  int64_t pids_limit = 0;          // 0: unlimited
  int64_t cpu_request_millis = 0;  // -> cpu shares
  std::optional<int64_t> run_as_user;
  std::optional<int64_t> run_as_group;
  bool privileged = false;
  bool read_only_rootfs = false;
  bool allow_privilege_escalation = true;
  std::vector<std::string> cap_add, cap_drop;  // "NET_ADMIN" (with or without CAP_)
  std::map<std::string, std::string> annotations;  // pod annotations (fake runtime knobs)
};

struct ContainerStatus {
  std::string id;
  std::string sandbox_id;
  PodRef pod;
  std::string name;
  uint32_t attempt = 0;
  ContainerState state = ContainerState::kUnknown;
  int64_t created_at = 0;   // unix micros
  int64_t started_at = 0;   // unix micros, 0 when never started
  int64_t finished_at = 0;  // unix micros, 0 while running
  int exit_code = 0;
  std::string reason;   // "Completed", "Error", "OOMKilled" once exited
  std::string message;
  std::string image;      // as the pod asked
  std::string image_ref;  // resolved: "docker-pullable" digest or image id
  std::string image_id;   // the image's id ("sha256:..."); "" when not recorded
  std::string log_path;
};

struct ImageInfo {
  std::string id;  // "sha256:..."
  std::vector<std::string> repo_tags;
  int64_t size_bytes = 0;
  std::vector<std::string> repo_digests;  // "<repository>@sha256:<manifest digest>"
  // For image garbage collection (image_gc.h): when the node got the image (import or
  // pull) and when a container was last created from it, unix micros (0: unknown, never).
  int64_t stored_at = 0;
  int64_t last_used_at = 0;
  // Never garbage collected (CRI's Image.pinned): the node's bundled images, whose
  // tarballs are in --images-dir.
  bool pinned = false;
};

// imagePullPolicy, already defaulted (Always for :latest or no tag, else IfNotPresent).
enum class PullPolicy { kAlways, kIfNotPresent, kNever };

// A registry credential from the pod's imagePullSecrets (see registry.h).
struct PullCredential {
  std::string server;  // "host[:port]" or "host[:port]/path-prefix", normalized
  std::string username;
  std::string password;
};

struct ExecResult {
  int exit_code = 0;
  std::string output;  // stdout + stderr
};

class ContainerRuntime {
 public:
  virtual ~ContainerRuntime() = default;

  // "runc", "fake"; and the runtime's version for node.status.nodeInfo.
  virtual std::string Name() const = 0;
  virtual std::string Version() const = 0;
  // OK when the runtime and its network can run pods; else why not (NotReady reason).
  virtual Status Healthy() = 0;

  // The node's pod CIDR changed (or became known); sandboxes created from now on take
  // their IPs from it.
  virtual void SetPodCidr(const std::string& cidr) = 0;

  virtual Result<std::string> RunPodSandbox(const SandboxConfig& config) = 0;
  // Stops the sandbox's containers (SIGKILL) and tears its network down (frees the IP).
  // Idempotent.
  virtual Status StopPodSandbox(const std::string& sandbox_id) = 0;
  // Removes a stopped sandbox and whatever remains of its containers. Idempotent.
  virtual Status RemovePodSandbox(const std::string& sandbox_id) = 0;
  virtual Result<std::vector<SandboxStatus>> ListPodSandboxes() = 0;

  // Makes `image` available ("busybox:1.36", "docker.io/library/busybox") as `policy`
  // says: kNever only looks (NotFound when absent: ErrImageNeverPull), kIfNotPresent
  // pulls when absent, kAlways resolves the reference in the registry every time (and
  // downloads only what is missing). Pulls try each credential in turn, anonymously
  // without any. Any error means ErrImagePull; its message is the pod's waiting message.
  virtual Result<ImageInfo> EnsureImage(const std::string& image, PullPolicy policy,
                                        const std::vector<PullCredential>& credentials) = 0;
  virtual std::vector<ImageInfo> ListImages() = 0;
  // Removes the image with this id ("sha256:...") and whatever of it no other image
  // shares. OK when there is no such image (idempotent); Conflict while any container
  // the runtime knows (running or not) was created from it.
  virtual Status RemoveImage(const std::string& image_id) = 0;

  virtual Result<std::string> CreateContainer(const std::string& sandbox_id,
                                              const ContainerConfig& config) = 0;
  virtual Status StartContainer(const std::string& container_id) = 0;
  // Sends `signal` to the container's init process; NotFound once it is gone. The
  // kubelet escalates SIGTERM to SIGKILL itself, so this never blocks.
  virtual Status SignalContainer(const std::string& container_id, int signal) = 0;
  virtual Status RemoveContainer(const std::string& container_id) = 0;
  virtual Result<std::vector<ContainerStatus>> ListContainers() = 0;
  // Runs `cmd` in the container, waiting at most `timeout_seconds`.
  virtual Result<ExecResult> ExecSync(const std::string& container_id,
                                      const std::vector<std::string>& cmd,
                                      int timeout_seconds) = 0;
};

}  // namespace kubepp::kubelet
