// Pulls images from registries into the ImageStore: resolves the reference (registry.h),
// downloads the config and the layer blobs the store does not have yet (verified while
// streaming, into the store's temp dir) and registers the image with its tag and repo
// digest. The store unpacks layers atomically, so pulls and tarball imports may run at
// the same time.
//
// Thread safety: Pull is safe from any thread. Concurrent pulls of one reference with the
// same credentials are one pull: later callers wait for the first and share its result.
#pragma once

#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "kubelet/runtime/image_store.h"
#include "kubelet/runtime/registry.h"

namespace kubepp::kubelet {

class ImagePuller {
 public:
  // `store` and `registry` must outlive the puller.
  ImagePuller(ImageStore* store, RegistryClient* registry) : store_(store), registry_(registry) {}

  // Pulls `image`, trying each credential that applies to its registry in turn
  // (anonymously when none does). Errors read as containerd's: `failed to pull and unpack
  // image "<ref>": ...`; NotFound when the registry has no such repository or tag.
  Result<ImageInfo> Pull(const std::string& image, const std::vector<PullCredential>& credentials,
                         const std::atomic<bool>* stop);

 private:
  Result<ImageInfo> PullWith(const ImageReference& ref, const RegistryCredential* credential,
                             const std::atomic<bool>* stop);

  ImageStore* store_;
  RegistryClient* registry_;
  std::mutex mu_;
  std::map<std::string, std::shared_future<Result<ImageInfo>>> inflight_;  // by ref + credentials
};

}  // namespace kubepp::kubelet
