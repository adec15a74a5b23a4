#include "kubelet/image_gc.h"

#include <catch2/catch.hpp>

#include "kubelet/runtime/fake_runtime.h"

namespace kubepp::kubelet {
namespace {

using namespace std::chrono_literals;

constexpr int64_t kMinute = 60'000'000;  // micros
constexpr int64_t kNow = 1'800'000'000'000'000;
constexpr int64_t kGiB = int64_t{1} << 30;

ImageInfo Img(const std::string& id, int64_t size, int64_t stored_ago_min, int64_t used_ago_min = -1,
              bool pinned = false) {
  ImageInfo i;
  i.id = id;
  i.repo_tags = {"docker.io/library/" + id + ":1"};
  i.size_bytes = size;
  i.stored_at = kNow - stored_ago_min * kMinute;
  i.last_used_at = used_ago_min < 0 ? 0 : kNow - used_ago_min * kMinute;
  i.pinned = pinned;
  return i;
}

std::vector<std::string> Ids(const ImageGCPlan& plan) {
  std::vector<std::string> out;
  for (auto& r : plan.remove) out.push_back(r.image.id);
  return out;
}

// 100 GiB file system with `used_percent` of it in use.
FsUsage Usage(int used_percent) { return FsUsage{100 * kGiB, (100 - used_percent) * kGiB}; }

TEST_CASE("image GC plan: nothing below the high threshold") {
  ImageGCInput in;
  in.images = {Img("a", 5 * kGiB, 60), Img("b", 5 * kGiB, 60)};
  in.usage = Usage(84);
  in.now = kNow;
  auto plan = PlanImageGC(ImageGCPolicy{}, in);
  CHECK(plan.remove.empty());
  CHECK(plan.usage_percent == 84);
  CHECK(plan.bytes_to_free == 0);
}

TEST_CASE("image GC plan: least recently used first, down to the low threshold") {
  ImageGCInput in;
  in.now = kNow;
  in.usage = Usage(90);  // 10 GiB to free to reach 80%
  in.images = {
      Img("used-recently", 4 * kGiB, 600, 5),
      Img("never-used-old", 4 * kGiB, 500),      // last used = stored 500 min ago
      Img("used-long-ago", 4 * kGiB, 600, 400),
      Img("in-use", 50 * kGiB, 900, 800),
      Img("pinned", 50 * kGiB, 900, -1, true),
      Img("too-young", 50 * kGiB, 1),            // < 2 min on the node
      Img("used-a-while-ago", 4 * kGiB, 600, 100),
  };
  in.in_use = {"in-use"};
  auto plan = PlanImageGC(ImageGCPolicy{}, in);
  CHECK(plan.usage_percent == 90);
  CHECK(plan.bytes_to_free == 10 * kGiB);
  // 4+4+4 >= 10: the three least recently used, oldest use first.
  CHECK(Ids(plan) == std::vector<std::string>{"never-used-old", "used-long-ago", "used-a-while-ago"});
  CHECK(plan.bytes_planned == 12 * kGiB);
  CHECK(plan.remove[0].reason == "least recently used");

  SECTION("at exactly the high threshold, as upstream") {
    in.usage = Usage(85);
    auto p = PlanImageGC(ImageGCPolicy{}, in);
    CHECK(p.bytes_to_free == 5 * kGiB);
    CHECK(Ids(p) == std::vector<std::string>{"never-used-old", "used-long-ago"});
  }
  SECTION("not enough eligible: everything eligible, and it says so") {
    in.usage = Usage(99);
    auto p = PlanImageGC(ImageGCPolicy{}, in);
    CHECK(p.bytes_to_free == 19 * kGiB);
    CHECK(Ids(p).size() == 4);
    CHECK(p.bytes_planned == 16 * kGiB);
    CHECK(p.bytes_planned < p.bytes_to_free);
  }
  SECTION("a larger minimum age keeps more") {
    ImageGCPolicy policy;
    policy.min_age = 550min;
    auto p = PlanImageGC(policy, in);
    CHECK(Ids(p) == std::vector<std::string>{"used-long-ago", "used-a-while-ago", "used-recently"});
  }
  SECTION("high threshold 100 never collects for space") {
    ImageGCPolicy policy;
    policy.high_threshold_percent = 100;
    policy.low_threshold_percent = 100;
    CHECK(PlanImageGC(policy, in).remove.empty());
  }
}

TEST_CASE("image GC plan: maximum age removes long-unused images at any usage") {
  ImageGCInput in;
  in.now = kNow;
  in.usage = Usage(10);
  in.images = {Img("idle-3h", kGiB, 600, 180), Img("idle-30m", kGiB, 600, 30), Img("never-5h", kGiB, 300),
               Img("in-use-idle", kGiB, 600, 600), Img("pinned-idle", kGiB, 600, -1, true)};
  in.in_use = {"in-use-idle"};
  ImageGCPolicy policy;
  policy.max_age = 1h;
  auto plan = PlanImageGC(policy, in);
  CHECK(Ids(plan) == std::vector<std::string>{"never-5h", "idle-3h"});
  CHECK(plan.remove[1].reason == "unused for 3h0m0s");
  CHECK(plan.bytes_to_free == 0);

  SECTION("with disk pressure too, the old ones count toward what is freed") {
    in.usage = FsUsage{100 * kGiB, 19 * kGiB};  // 81%... below 85: nothing more
    CHECK(Ids(PlanImageGC(policy, in)).size() == 2);
    in.usage = FsUsage{100 * kGiB, 17 * kGiB};  // 83% -> threshold 80: 3 GiB; 2 planned already
    policy.high_threshold_percent = 82;
    auto p = PlanImageGC(policy, in);
    CHECK(Ids(p) == std::vector<std::string>{"never-5h", "idle-3h", "idle-30m"});
  }
}

TEST_CASE("image GC: images in use, by id or by recorded reference") {
  ImageInfo a = Img("sha256:aaa", 1, 10);
  a.repo_digests = {"docker.io/library/a@sha256:m1"};
  ImageInfo b = Img("sha256:bbb", 1, 10);
  ImageInfo c = Img("sha256:ccc", 1, 10);
  ContainerStatus by_id, by_digest, by_ref_id, unknown;
  by_id.image_id = "sha256:ccc";
  by_digest.image_ref = "docker.io/library/a@sha256:m1";
  by_ref_id.image_ref = "sha256:bbb";
  unknown.image_ref = "sha256:gone";
  CHECK(ImagesInUse({a, b, c}, {by_id}) == std::set<std::string>{"sha256:ccc"});
  CHECK(ImagesInUse({a, b, c}, {by_digest, by_ref_id, unknown}) ==
        std::set<std::string>{"sha256:aaa", "sha256:bbb"});
}

TEST_CASE("image GC policy validation as upstream") {
  CHECK(ValidateImageGCPolicy(ImageGCPolicy{}).ok());
  ImageGCPolicy p;
  p.high_threshold_percent = 101;
  CHECK(ValidateImageGCPolicy(p).code() == Code::kBadRequest);
  p = ImageGCPolicy{};
  p.low_threshold_percent = 90;
  CHECK(ValidateImageGCPolicy(p).code() == Code::kBadRequest);
  p = ImageGCPolicy{};
  p.max_age = 1min;  // not above the 2m minimum
  CHECK(ValidateImageGCPolicy(p).code() == Code::kBadRequest);
  p.max_age = 3min;
  CHECK(ValidateImageGCPolicy(p).ok());
}

TEST_CASE("image GC manager: removes unused images through the runtime, reports failures") {
  ManualClock clock;
  FakeRuntime rt(clock.AsClock());
  // Three images pulled now; one runs a container.
  for (const char* name : {"old:1", "busy:1", "newer:1"}) {
    REQUIRE(rt.EnsureImage(name, PullPolicy::kIfNotPresent, {}).ok());
    clock.AdvanceSeconds(60);
  }
  SandboxConfig sc;
  sc.pod = PodRef{"ns", "p", "uid"};
  auto sandbox = rt.RunPodSandbox(sc);
  REQUIRE(sandbox.ok());
  ContainerConfig cc;
  cc.name = "c";
  cc.image = "busy:1";
  REQUIRE(rt.CreateContainer(*sandbox, cc).ok());
  clock.AdvanceSeconds(600);

  client::FakeRestClient api;
  client::EventRecorder events(&api, {.component = "kubelet", .host = "n1", .instance = "",
                                      .workers = 1, .max_queued = 10});
  FsUsage usage{100 << 20, 50 << 20};  // 100 MiB, half used
  ImageGCManager gc(&rt, [&] { return Result<FsUsage>(usage); }, ImageGCPolicy{}, "n1", &events,
                    clock.AsClock());

  // Below the threshold: a run does nothing.
  auto r = gc.GarbageCollect();
  REQUIRE(r.ok());
  CHECK(r->removed == 0);
  CHECK(rt.ListImages().size() == 3);

  // 90% used: 10 MiB to free; images are 1 MiB each, so every unused one goes, the one a
  // container was created from stays, and the shortfall is a FreeDiskSpaceFailed event.
  usage.available_bytes = 10 << 20;
  r = gc.GarbageCollect();
  CHECK_FALSE(r.ok());
  auto left = rt.ListImages();
  REQUIRE(left.size() == 1);
  CHECK(left[0].repo_tags == std::vector<std::string>{"busy:1"});
  REQUIRE(events.WaitIdle(5s));
  auto list = api.List(client::kEvents, "default");
  REQUIRE(list.ok());
  REQUIRE((*list)["items"].Size() == 1);
  const auto& ev = (*list)["items"][0];
  CHECK(api::GetString(ev, "reason") == "FreeDiskSpaceFailed");
  CHECK(api::GetString(ev, "type") == "Warning");
  CHECK(api::GetString(ev, "involvedObject.kind") == "Node");
  CHECK(api::GetString(ev, "involvedObject.name") == "n1");
  CHECK(api::GetString(ev, "message") ==
        "Failed to garbage collect required amount of images. Attempted to free 10485760 bytes, "
        "but only found 2097152 bytes eligible to free.");

  // Enough freed (the disk emptied meanwhile): idempotent, nothing more to do.
  usage.available_bytes = 90 << 20;
  r = gc.GarbageCollect();
  REQUIRE(r.ok());
  CHECK(r->removed == 0);
  CHECK(rt.ListImages().size() == 1);
  // The runtime refuses to remove an image a container was created from.
  CHECK(rt.RemoveImage(left[0].id).code() == Code::kConflict);
}

TEST_CASE("image GC manager: a usage source that fails twice gives ImageGCFailed") {
  FakeRuntime rt;
  client::FakeRestClient api;
  client::EventRecorder events(&api, {.component = "kubelet", .host = "n1", .instance = "",
                                      .workers = 1, .max_queued = 10});
  ImageGCManager gc(&rt, [] { return Result<FsUsage>(Internal("statvfs: no")); }, ImageGCPolicy{}, "n1",
                    &events);
  CHECK_FALSE(gc.GarbageCollect().ok());
  CHECK_FALSE(gc.GarbageCollect().ok());
  REQUIRE(events.WaitIdle(5s));
  auto list = api.List(client::kEvents, "default");
  REQUIRE(list.ok());
  REQUIRE((*list)["items"].Size() == 1);
  CHECK(api::GetString((*list)["items"][0], "reason") == "ImageGCFailed");
}

TEST_CASE("image GC: statvfs of a real directory") {
  auto u = StatFs("/");
  REQUIRE(u.ok());
  CHECK(u->capacity_bytes > 0);
  CHECK(u->available_bytes <= u->capacity_bytes);
  CHECK(StatFs("/does/not/exist").status().code() == Code::kInternal);
}

}  // namespace
}  // namespace kubepp::kubelet
