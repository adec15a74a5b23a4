#include "controller-manager/framework/controller.h"

#include <thread>
#include <vector>

#include "common/log.h"

namespace kubepp::controller {
namespace {

metrics::CounterVec& SyncCounter() {
  return metrics::Registry::Default().AddCounterVec(
      "controller_sync_total", "Syncs per controller and result.", {"controller", "result"});
}

}  // namespace

QueueController::QueueController(std::string name, informer::WorkQueueOptions queue_options)
    : name_(std::move(name)),
      queue_(queue_options),
      syncs_ok_(SyncCounter().WithLabelValues({name_, "success"})),
      syncs_failed_(SyncCounter().WithLabelValues({name_, "error"})),
      sync_seconds_(metrics::Registry::Default()
                        .AddHistogramVec("controller_sync_duration_seconds",
                                         "Duration of one Sync per controller.", {"controller"},
                                         metrics::DefaultBuckets())
                        .WithLabelValues({name_})),
      depth_(metrics::Registry::Default()
                 .AddGaugeVec("workqueue_depth", "Keys ready in each controller's queue.",
                              {"name"})
                 .WithLabelValues({name_})) {}

void QueueController::Run(int workers, const std::atomic<bool>* stop) {
  Started();
  std::vector<std::thread> threads;
  for (int i = 0; i < workers; ++i) threads.emplace_back([this] { Work(); });
  while (!stop->load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  queue_.ShutDown();
  for (auto& t : threads) t.join();
}

void QueueController::Work() {
  std::string key;
  while (queue_.Get(&key)) {
    depth_.Set(static_cast<double>(queue_.Len()));
    auto start = std::chrono::steady_clock::now();
    Status st = Sync(key);
    sync_seconds_.Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (st.ok()) {
      syncs_ok_.Inc();
      queue_.Forget(key);
    } else {
      syncs_failed_.Inc();
      // Conflicts are routine (another writer won); say so quietly.
      if (st.code() == Code::kConflict) {
        VLOG(2) << name_ << ": " << key << ": " << st.ToString() << " (retrying)";
      } else {
        LOG(WARNING) << name_ << ": syncing " << key << " failed (attempt "
                     << queue_.NumRequeues(key) + 1 << "): " << st.ToString();
      }
      queue_.AddRateLimited(key);
    }
    queue_.Done(key);
  }
}

}  // namespace kubepp::controller
