// Image garbage collection, as upstream's ImageGCManager (pkg/kubelet/images): every
// 5 minutes the kubelet measures the file system holding the image store; when its usage
// is at or above --image-gc-high-threshold percent, it removes unused images, least
// recently used first, until usage would be below --image-gc-low-threshold. An image is
// unused when no container the runtime knows (running or exited) was created from it;
// pinned images (the node's bundled ones, from --images-dir tarballs) are never removed;
// nor is an image younger than --image-minimum-gc-age (counted from when the node got
// it). With --image-maximum-gc-age, unused images not used for that long go regardless of
// disk usage. "Last used" is when a container was last created from the image (recorded
// by the runtime, so it survives kubelet restarts), or when the node got it if never.
//
// When not enough can be freed, a Warning event FreeDiskSpaceFailed goes to the Node, as
// upstream; two failed runs in a row (e.g. the usage cannot be measured) give
// ImageGCFailed. The runtime removes an image's layers once no remaining image shares
// them; the Node's status.images follows at the next status update.
//
// PlanImageGC is the whole policy as a pure function; ImageGCManager::GarbageCollect
// gathers its inputs, applies the plan and reports, and is idempotent (a run with
// nothing to do does nothing), so it is also the hook tests call.
//
// Thread safety: GarbageCollect may be called from any thread; runs are serialized.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/client/event_recorder.h"
#include "common/status.h"
#include "kubelet/clock.h"
#include "kubelet/runtime/runtime.h"

namespace kubepp::kubelet {

struct ImageGCPolicy {
  int high_threshold_percent = 85;  // 100 disables the disk-usage based collection
  int low_threshold_percent = 80;
  std::chrono::milliseconds min_age{std::chrono::minutes(2)};
  std::chrono::milliseconds max_age{0};  // 0: off
};

// Upstream's validation: thresholds within 0..100, low <= high, and a max age (when set)
// greater than the min age. BadRequest naming the flag.
Status ValidateImageGCPolicy(const ImageGCPolicy& policy);

// A file system's size, as statvfs gives it (available: what unprivileged users may use).
struct FsUsage {
  int64_t capacity_bytes = 0;
  int64_t available_bytes = 0;
};
using FsUsageSource = std::function<Result<FsUsage>()>;
// statvfs(path).
Result<FsUsage> StatFs(const std::string& path);

struct ImageGCInput {
  std::vector<ImageInfo> images;
  std::set<std::string> in_use;  // image ids containers were created from
  FsUsage usage;
  int64_t now = 0;  // unix micros
};

struct ImageGCPlan {
  struct Removal {
    ImageInfo image;
    std::string reason;  // "unused for 1h0m0s" / "least recently used"
  };
  std::vector<Removal> remove;  // in this order
  int usage_percent = 0;        // 100 - available*100/capacity, as upstream
  int64_t bytes_to_free = 0;    // 0 when below the high threshold
  int64_t bytes_planned = 0;    // sum of the planned removals' sizes
};

// Decides what to remove: first every unused, unpinned image older than the min age and
// last used longer than max_age ago (when max_age > 0); then, when usage_percent >=
// the high threshold, more such images (min age counting from stored_at) in
// least-recently-used order until their sizes add up to bytes_to_free =
// capacity*(100-low)/100 - available. Ties in last use go to the older image, then by id.
// bytes_planned < bytes_to_free means not enough is eligible.
ImageGCPlan PlanImageGC(const ImageGCPolicy& policy, const ImageGCInput& input);

// The images containers were created from (their image_id, else their image_ref when
// it is an image's id or repo digest).
std::set<std::string> ImagesInUse(const std::vector<ImageInfo>& images,
                                  const std::vector<ContainerStatus>& containers);

class ImageGCManager {
 public:
  // `runtime` and `events` (may be null) must outlive the manager; `usage` measures the
  // file system holding the runtime's images; `node_name` is the events' Node.
  ImageGCManager(ContainerRuntime* runtime, FsUsageSource usage, ImageGCPolicy policy,
                 std::string node_name, client::EventRecorder* events, Clock clock = SystemClock());

  struct Outcome {
    int removed = 0;
    int64_t bytes_freed = 0;  // sizes of the images removed
    int64_t bytes_to_free = 0;
  };
  // One collection run now. An error when the inputs cannot be read, or when less than
  // bytes_to_free could be freed (after the FreeDiskSpaceFailed event).
  Result<Outcome> GarbageCollect();

  // Runs GarbageCollect every `period` (the first after `period`) until *stop.
  void Run(const std::atomic<bool>* stop,
           std::chrono::milliseconds period = std::chrono::minutes(5));

 private:
  void Event(std::string_view type, std::string_view reason, const std::string& message);

  ContainerRuntime* runtime_;
  FsUsageSource usage_;
  ImageGCPolicy policy_;
  std::string node_name_;
  client::EventRecorder* events_;
  Clock clock_;
  std::mutex mu_;  // one run at a time
  bool previous_failed_ = false;
};

}  // namespace kubepp::kubelet
