// The real runtime: pods are network namespaces (`ip netns add`) wired by CNI,
// containers are OCI bundles run by runc, each watched by a shim (shim.h).
//
// State under <root-dir>/runtime (rebuilt into memory on every List, so a restarted
// kubelet sees exactly what runs):
//   sandboxes/<id>.json                 pod, attempt, netns, IP, ready
//   containers/<id>/container.json      pod, name, attempt, image, log path
//   containers/<id>/{config.json,rootfs,upper,work}   the bundle (rootfs: overlayfs)
//   containers/<id>/{started,exit.json} written by the shim
//   removing/<id>                       a bundle being removed: RemoveContainer moves it
//                                       here whole, so no kill -9 or late shim write can
//                                       leave a bundle without its container.json behind
//   runc/                               runc's own --root
// Images come from the ImageStore (<root-dir>/images): tarballs dropped into
// --images-dir are imported at start and when they appear; EnsureImage pulls from
// registries (image_puller.h) as the pull policy says. Images from tarballs still in
// --images-dir are pinned (the node's bundled images, never garbage collected); when one
// is removed all the same, its tarball is imported again the next time an image is
// missing, not before. Creating a container records the image as used (image_gc.h), and
// an image is never removed while a container created from it exists.
//
// Thread safety: methods are safe from any thread; one pod's calls are serialized by
// its worker.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>

#include "kubelet/network/cni.h"
#include "kubelet/runtime/image_puller.h"
#include "kubelet/runtime/image_store.h"
#include "kubelet/runtime/registry.h"
#include "kubelet/runtime/runtime.h"

namespace kubepp::kubelet {

struct RuncOptions {
  std::string root_dir;
  std::string runc_binary = "runc";
  std::string images_dir;
  std::string cni_bin_dir = "/usr/lib/cni";
  std::string cni_conf_dir = "/etc/cni/net.d";
  std::string cni_bridge = "kubepp0";
  std::string cgroup_parent;  // "" = <own memory cgroup>/kubepp-<node>
  std::string node_name;
  RegistryOptions registry;  // image pulls (CA file, insecure registries)
};

// The memory cgroup of this process ("/process_api/<id>", "/" at the root).
std::string OwnMemoryCgroup();

class RuncRuntime : public ContainerRuntime {
 public:
  static Result<std::unique_ptr<RuncRuntime>> Create(const RuncOptions& options);
  ~RuncRuntime() override;

  std::string Name() const override { return "runc"; }
  std::string Version() const override { return version_; }
  Status Healthy() override;
  void SetPodCidr(const std::string& cidr) override { cni_.SetPodCidr(cidr); }

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

  ImageStore& images() { return *images_; }

 private:
  RuncRuntime(RuncOptions options, std::unique_ptr<ImageStore> images);
  std::vector<std::string> Runc(std::vector<std::string> args) const;
  std::string SandboxPath(const std::string& id) const;
  std::string HostnamePath(const std::string& id) const;  // the hostname its containers get
  std::string BundlePath(const std::string& id) const;
  Result<SandboxStatus> ReadSandbox(const std::string& id) const;
  Status WriteSandbox(const SandboxStatus& s, const std::string& netns);
  std::string NetnsOf(const std::string& sandbox_id) const;
  std::string PodCgroup(const std::string& uid) const;
  // Imports new or changed tarballs; with `reimport_removed`, also those whose images
  // were removed since.
  void ScanImagesDir(bool reimport_removed = false);
  // At start: a ready sandbox whose network namespace is no longer pinned at its path
  // (the kubelet's mount namespace was lost: its container restarted) is pinned again
  // from a running container of the pod; with none running, the namespace is gone and
  // the sandbox becomes not ready, so the pod gets a new one (as after a reboot).
  void RecoverSandboxes();
  void CleanupLeaks();
  // Removes what is in removing/ (a removal cut short is finished by the next one).
  void EmptyRemoving();

  RuncOptions options_;
  std::unique_ptr<ImageStore> images_;
  RegistryClient registry_;
  ImagePuller puller_;
  CniNetwork cni_;
  std::string version_;
  std::string cgroup_parent_;
  std::mutex scan_mu_;
  std::mutex removing_mu_;  // one EmptyRemoving at a time
  struct Imported {
    int64_t mtime = 0;
    std::vector<std::string> ids;  // the images it held
    bool removed = false;          // one of them was removed since
  };
  std::map<std::string, Imported> imported_;  // images-dir file -> what was imported
  std::mutex pinned_mu_;
  std::set<std::string> pinned_;  // ids from tarballs in images-dir (not removed)
  // CreateContainer holds it shared from resolving the image until the container's
  // record names it; RemoveImage exclusively, so no container starts from a removed image.
  std::shared_mutex image_use_mu_;
  std::atomic<bool> stop_{false};
  std::thread scanner_;
};

}  // namespace kubepp::kubelet
