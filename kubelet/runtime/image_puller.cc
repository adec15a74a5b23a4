#include "kubelet/runtime/image_puller.h"

#include <chrono>
#include <filesystem>

#include "common/log.h"
#include "common/util/random.h"

namespace kubepp::kubelet {

namespace fs = std::filesystem;

Result<ImageInfo> ImagePuller::PullWith(const ImageReference& ref, const RegistryCredential* credential,
                                        const std::atomic<bool>* stop) {
  std::string name = ref.String();
  auto resolved = registry_->Resolve(ref, credential, stop);
  if (!resolved.ok()) {
    return Status(resolved.status().code(), "failed to resolve reference \"" + name + "\": " + resolved.status().message());
  }
  std::string dir = store_->TempDir() + "/pull-" + util::RandomSuffix(8);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Internal("creating " + dir + ": " + ec.message());
  struct Cleanup {
    std::string d;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(d, ec);
    }
  } cleanup{dir};
  auto started = std::chrono::steady_clock::now();
  std::string config_path = dir + "/config.json";
  RETURN_IF_ERROR(registry_->FetchBlob(ref, credential, resolved->manifest.config, config_path, stop));
  std::vector<ImageStore::LayerSource> layers;
  int downloaded = 0;
  for (size_t i = 0; i < resolved->manifest.layers.size(); ++i) {
    const Descriptor& d = resolved->manifest.layers[i];
    if (store_->HasLayer(d.digest)) {
      layers.push_back({d.digest, "", d.size});
      continue;
    }
    std::string path = dir + "/layer-" + std::to_string(i);
    RETURN_IF_ERROR(registry_->FetchBlob(ref, credential, d, path, stop));
    layers.push_back({d.digest, path, d.size});
    ++downloaded;
  }
  std::vector<std::string> tags;
  if (ref.digest.empty()) tags.push_back(ref.Repository() + ":" + ref.tag);
  ASSIGN_OR_RETURN(auto info, store_->AddImage(config_path, layers, tags, {ref.Repository() + "@" + resolved->repo_digest}));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  LOG(INFO) << "pulled image " << name << " (" << info.id << ", repo digest " << resolved->repo_digest << "): "
            << downloaded << " of " << layers.size() << " layers downloaded in " << ms << " ms";
  return info;
}

Result<ImageInfo> ImagePuller::Pull(const std::string& image, const std::vector<PullCredential>& credentials,
                                    const std::atomic<bool>* stop) {
  auto ref = ParseImageReference(image);
  if (!ref.ok()) return Status(ref.status().code(), "failed to pull image \"" + image + "\": " + ref.status().message());
  auto applicable = CredentialsFor(credentials, *ref);
  std::string key = ref->String();
  for (auto& c : applicable) key += "\n" + c.server + "\n" + c.username + "\n" + Sha256Digest(c.password);

  std::promise<Result<ImageInfo>> promise;
  std::shared_future<Result<ImageInfo>> shared;
  {
    std::unique_lock lock(mu_);
    if (auto it = inflight_.find(key); it != inflight_.end()) {
      shared = it->second;
      lock.unlock();
      VLOG(1) << "waiting for the pull of " << key.substr(0, key.find('\n')) << " in progress";
      return shared.get();
    }
    inflight_[key] = promise.get_future().share();
  }
  Result<ImageInfo> result = Internal("no pull attempted");
  if (applicable.empty()) {
    result = PullWith(*ref, nullptr, stop);
  } else {
    for (auto& c : applicable) {
      result = PullWith(*ref, &c, stop);
      if (result.ok()) break;
    }
  }
  if (!result.ok()) {
    result = Status(result.status().code(),
                    "failed to pull and unpack image \"" + ref->String() + "\": " + result.status().message());
  }
  promise.set_value(result);
  std::lock_guard lock(mu_);
  inflight_.erase(key);
  return result;
}

}  // namespace kubepp::kubelet
