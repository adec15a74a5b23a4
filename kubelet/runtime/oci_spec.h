// The OCI runtime spec (config.json, runtime-spec 1.0.2 as runc 1.1 reads it) for one
// container: process from the image config merged with the pod's command/args/env as
// upstream does, mounts (the standard /proc, /dev, /sys set plus the pod's volumes and
// /etc/hosts, /etc/resolv.conf), namespaces (joining the pod's network namespace), cgroup
// v1 limits from resources.limits, capabilities and other security settings.
// Thread safety: stateless.
#pragma once

#include <string>
#include <vector>

#include "common/api/json.h"
#include "kubelet/runtime/image_store.h"
#include "kubelet/runtime/runtime.h"

namespace kubepp::kubelet {

struct BundleContext {
  std::string rootfs;        // mounted root filesystem
  std::string netns_path;    // "" joins the host network
  std::string hostname;
  std::string cgroups_path;  // "/kubepp/pod<uid>/<container id>"
};

// Upstream's rule: command set -> command + args (the image's entrypoint and cmd
// ignored); else args set -> entrypoint + args; else entrypoint + cmd.
std::vector<std::string> MergeArgs(const ImageConfig& image, const std::vector<std::string>& command,
                                   const std::vector<std::string>& args);

// The image's env overlaid with the container's (same name: the container wins); PATH
// defaulted when neither sets it.
std::vector<std::string> MergeEnv(const ImageConfig& image,
                                  const std::vector<std::pair<std::string, std::string>>& env);

// The whole config.json. BadRequest when there is nothing to run.
Result<api::Document> BuildOciSpec(const ContainerConfig& config, const ImageConfig& image,
                                   const BundleContext& ctx);

}  // namespace kubepp::kubelet
