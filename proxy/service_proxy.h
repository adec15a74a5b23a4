// The service proxy's control loop: Service and EndpointSlice store events mark their
// Service changed in a SnapshotBuilder (which reads the stores) and the state dirty; one
// sync thread builds a Snapshot (recomputing only the changed Services) and hands it to
// the Proxier, at most once per min_sync_period (changes arriving meanwhile are batched),
// and rewrites everything every full_sync_period (then every Service is recomputed). A
// failed sync is retried after retry_period, as a full one.
// Thread safety: Start/Stop from one thread; the accessors from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "proxy/proxier.h"
#include "proxy/service_snapshot.h"

namespace kubepp::proxy {

struct ServiceProxyConfig {
  std::chrono::milliseconds min_sync_period{1000};
  std::chrono::milliseconds full_sync_period{std::chrono::hours(1)};
  std::chrono::milliseconds retry_period{2000};
  // Called after each successful sync with the conntrack commands that remove stale UDP
  // flows (conntrack.h); null: none are run (tests without the kernel).
  std::function<void(const std::vector<std::vector<std::string>>&)> flush_udp;
  // Called when a Service is added, or changes its addresses, with addresses the rules
  // leave out (UnprogrammableAddresses), and a message saying so; null: nobody is told.
  std::function<void(const Service& service, const std::string& message)> warn;
};

class ServiceProxy {
 public:
  // The stores and the proxier must outlive the ServiceProxy; the stores
  // may be started before or after Start (the first sync waits for both to have synced).
  ServiceProxy(Services* services, EndpointSlices* slices, Proxier* proxier,
               ServiceProxyConfig config);
  ~ServiceProxy();  // Stop()

  void Start();
  void Stop();

  // Whether the last sync succeeded (false before the first one).
  bool Healthy() const { return healthy_.load(); }
  // Successful syncs so far.
  uint64_t syncs() const { return syncs_.load(); }

 private:
  void MarkDirty();
  // Tells config_.warn about `now`'s unprogrammable addresses unless `before` had the same.
  void WarnUnprogrammable(const Service* before, const ServicePtr& now);
  void Loop();

  // The stores as a SnapshotSource.
  class StoreSource : public SnapshotSource {
   public:
    StoreSource(Services* services, EndpointSlices* slices) : services_(services), slices_(slices) {}
    std::vector<ServicePtr> AllServices() const override { return services_->List(); }
    ServicePtr ServiceOfKey(const std::string& key) const override { return services_->Get(key); }
    std::vector<SlicePtr> SlicesOf(const std::string& key) const override { return slices_->OfService(key); }

   private:
    Services* services_;
    EndpointSlices* slices_;
  };

  Services* services_;
  EndpointSlices* slices_;
  Proxier* proxier_;
  ServiceProxyConfig config_;
  StoreSource source_;
  SnapshotBuilder builder_;
  Snapshot applied_;  // of the last successful sync (Loop's thread only)

  std::mutex mu_;
  std::condition_variable cv_;
  bool dirty_ = true;
  bool stopping_ = false;
  std::thread thread_;
  std::atomic<bool> healthy_{false};
  std::atomic<uint64_t> syncs_{0};
};

}  // namespace kubepp::proxy
