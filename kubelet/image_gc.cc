#include "kubelet/image_gc.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "common/log.h"
#include "common/util/time.h"

namespace kubepp::kubelet {

Status ValidateImageGCPolicy(const ImageGCPolicy& p) {
  if (p.high_threshold_percent < 0 || p.high_threshold_percent > 100) {
    return BadRequest("--image-gc-high-threshold " + std::to_string(p.high_threshold_percent) +
                      " must be in range [0-100]");
  }
  if (p.low_threshold_percent < 0 || p.low_threshold_percent > 100) {
    return BadRequest("--image-gc-low-threshold " + std::to_string(p.low_threshold_percent) +
                      " must be in range [0-100]");
  }
  if (p.low_threshold_percent > p.high_threshold_percent) {
    return BadRequest("--image-gc-low-threshold " + std::to_string(p.low_threshold_percent) +
                      " must be less than or equal to --image-gc-high-threshold " +
                      std::to_string(p.high_threshold_percent));
  }
  if (p.min_age.count() < 0 || p.max_age.count() < 0) {
    return BadRequest("--image-minimum-gc-age and --image-maximum-gc-age must not be negative");
  }
  if (p.max_age.count() > 0 && p.max_age <= p.min_age) {
    return BadRequest("--image-maximum-gc-age " + util::FormatDuration(p.max_age) +
                      " must be greater than --image-minimum-gc-age " + util::FormatDuration(p.min_age));
  }
  return Status::Ok();
}

Result<FsUsage> StatFs(const std::string& path) {
  struct statvfs st{};
  if (statvfs(path.c_str(), &st) != 0) {
    return Internal("statvfs " + path + ": " + std::strerror(errno));
  }
  FsUsage u;
  u.capacity_bytes = static_cast<int64_t>(st.f_blocks) * static_cast<int64_t>(st.f_frsize);
  u.available_bytes = static_cast<int64_t>(st.f_bavail) * static_cast<int64_t>(st.f_frsize);
  return u;
}

namespace {

int64_t LastUsed(const ImageInfo& img) { return std::max(img.last_used_at, img.stored_at); }

std::string Describe(const ImageInfo& img) {
  return img.id + (img.repo_tags.empty() ? "" : " (" + img.repo_tags.front() + ")");
}

}  // namespace

ImageGCPlan PlanImageGC(const ImageGCPolicy& policy, const ImageGCInput& in) {
  using std::chrono::microseconds;
  ImageGCPlan plan;
  // Eligible: unused, unpinned, and with the node for at least min_age; LRU first.
  std::vector<const ImageInfo*> candidates;
  for (auto& img : in.images) {
    if (img.pinned || in.in_use.count(img.id)) continue;
    if (microseconds(in.now - img.stored_at) < policy.min_age) continue;
    candidates.push_back(&img);
  }
  std::sort(candidates.begin(), candidates.end(), [](const ImageInfo* a, const ImageInfo* b) {
    if (LastUsed(*a) != LastUsed(*b)) return LastUsed(*a) < LastUsed(*b);
    if (a->stored_at != b->stored_at) return a->stored_at < b->stored_at;
    return a->id < b->id;
  });

  size_t next = 0;
  if (policy.max_age.count() > 0) {
    for (; next < candidates.size(); ++next) {
      auto idle = microseconds(in.now - LastUsed(*candidates[next]));
      if (idle <= policy.max_age) break;  // sorted: the rest were used more recently
      plan.remove.push_back({*candidates[next], "unused for " + util::FormatDuration(idle)});
      plan.bytes_planned += candidates[next]->size_bytes;
    }
  }

  const FsUsage& u = in.usage;
  if (u.capacity_bytes <= 0) return plan;
  plan.usage_percent = 100 - static_cast<int>(std::max<int64_t>(0, u.available_bytes) * 100 / u.capacity_bytes);
  if (plan.usage_percent < policy.high_threshold_percent) return plan;
  plan.bytes_to_free = u.capacity_bytes * (100 - policy.low_threshold_percent) / 100 - u.available_bytes;
  if (plan.bytes_to_free <= 0) {
    plan.bytes_to_free = 0;
    return plan;
  }
  for (; next < candidates.size() && plan.bytes_planned < plan.bytes_to_free; ++next) {
    plan.remove.push_back({*candidates[next], "least recently used"});
    plan.bytes_planned += candidates[next]->size_bytes;
  }
  return plan;
}

std::set<std::string> ImagesInUse(const std::vector<ImageInfo>& images,
                                  const std::vector<ContainerStatus>& containers) {
  std::set<std::string> used;
  for (auto& c : containers) {
    if (!c.image_id.empty()) {
      used.insert(c.image_id);
      continue;
    }
    for (auto& img : images) {
      bool match = !c.image_ref.empty() &&
                   (img.id == c.image_ref ||
                    std::find(img.repo_digests.begin(), img.repo_digests.end(), c.image_ref) !=
                        img.repo_digests.end());
      if (match) used.insert(img.id);
    }
  }
  return used;
}

ImageGCManager::ImageGCManager(ContainerRuntime* runtime, FsUsageSource usage, ImageGCPolicy policy,
                               std::string node_name, client::EventRecorder* events, Clock clock)
    : runtime_(runtime),
      usage_(std::move(usage)),
      policy_(policy),
      node_name_(std::move(node_name)),
      events_(events),
      clock_(std::move(clock)) {}

void ImageGCManager::Event(std::string_view type, std::string_view reason, const std::string& message) {
  if (events_ == nullptr) return;
  // Upstream's node reference: the node's name stands in for its UID.
  client::ObjectReference node{"Node", "v1", "", node_name_, node_name_, ""};
  events_->Record(node, type, reason, message);
}

Result<ImageGCManager::Outcome> ImageGCManager::GarbageCollect() {
  std::lock_guard lock(mu_);
  auto run = [&]() -> Result<Outcome> {
    ImageGCInput in;
    in.now = clock_();
    ASSIGN_OR_RETURN(auto containers, runtime_->ListContainers());
    in.images = runtime_->ListImages();
    in.in_use = ImagesInUse(in.images, containers);
    ASSIGN_OR_RETURN(in.usage, usage_());
    ImageGCPlan plan = PlanImageGC(policy_, in);
    Outcome out;
    out.bytes_to_free = plan.bytes_to_free;
    if (plan.bytes_to_free > 0) {
      LOG(INFO) << "image GC: disk usage on the image file system is " << plan.usage_percent
                << "%, at or over the high threshold " << policy_.high_threshold_percent
                << "%; freeing " << plan.bytes_to_free << " bytes to get to the low threshold "
                << policy_.low_threshold_percent << "%";
    }
    for (auto& r : plan.remove) {
      Status st = runtime_->RemoveImage(r.image.id);
      if (!st.ok()) {
        // Typically a container was just created from it: the next run sees that.
        LOG(WARNING) << "image GC: removing image " << Describe(r.image) << ": " << st.ToString();
        continue;
      }
      ++out.removed;
      out.bytes_freed += r.image.size_bytes;
      LOG(INFO) << "image GC: removed image " << Describe(r.image) << ", " << r.image.size_bytes
                << " bytes (" << r.reason << ")";
    }
    if (out.bytes_freed < plan.bytes_to_free) {
      std::string msg = "Failed to garbage collect required amount of images. Attempted to free " +
                        std::to_string(plan.bytes_to_free) + " bytes, but only found " +
                        std::to_string(out.bytes_freed) + " bytes eligible to free.";
      Event("Warning", "FreeDiskSpaceFailed", msg);
      return Internal(msg);
    }
    return out;
  };
  auto result = run();
  if (!result.ok()) {
    LOG(WARNING) << "image garbage collection failed: " << result.status().message();
    if (previous_failed_) Event("Warning", "ImageGCFailed", result.status().message());
  }
  previous_failed_ = !result.ok();
  return result;
}

void ImageGCManager::Run(const std::atomic<bool>* stop, std::chrono::milliseconds period) {
  auto next = std::chrono::steady_clock::now() + period;
  while (!stop->load()) {
    if (std::chrono::steady_clock::now() >= next) {
      (void)GarbageCollect();
      next = std::chrono::steady_clock::now() + period;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace kubepp::kubelet
