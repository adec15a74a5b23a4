// Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics, so
// several replicas of the scheduler or controller-manager can run and one leads.
//
//   LeaderElectionConfig cfg;
//   cfg.lease_name = "kube-scheduler";
//   cfg.identity = DefaultIdentity();
//   cfg.callbacks.on_started_leading = [&](const std::atomic<bool>* stop) { RunScheduler(stop); };
//   cfg.callbacks.on_stopped_leading = [] { LOG(FATAL) << "leader election lost"; };
//   LeaderElector(&client, cfg).Run(&stop);
//
// A candidate takes the lease when it is absent, released (no holder), or expired:
// renewTime + leaseDurationSeconds is past, or the record has not changed for a lease
// duration since this candidate first saw it (which tolerates clock skew). The leader
// renews every retry period; when renewals keep failing for renew_deadline it stops
// leading (renew_deadline < lease_duration, so it stops before anyone else may start).
// Writes use the lease's resourceVersion: a 409 Conflict just fails that attempt.
//
// Thread safety: IsLeader/Leader are safe from any thread; Run is called once.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/client/rest_client.h"

namespace kubepp::leaderelection {

struct LeaderCallbacks {
  // Runs on its own thread once this candidate leads. Must return soon after *stop
  // turns true (leadership lost, or Run stopping).
  std::function<void(const std::atomic<bool>* stop)> on_started_leading;
  // Called once after leading ended and on_started_leading returned. Not called when
  // this candidate never led.
  std::function<void()> on_stopped_leading;
  // Optional: the observed holder changed (to another candidate or to this one).
  std::function<void(const std::string& identity)> on_new_leader;
};

struct LeaderElectionConfig {
  std::string lease_namespace = "kube-system";
  std::string lease_name;
  std::string identity;  // unique per candidate; see DefaultIdentity()
  std::chrono::milliseconds lease_duration{15000};
  std::chrono::milliseconds renew_deadline{10000};
  std::chrono::milliseconds retry_period{2000};
  // On a requested stop, hand the lease over at once (holder cleared) instead of
  // making the next leader wait for it to expire.
  bool release_on_cancel = true;
  LeaderCallbacks callbacks;
};

// "<hostname>_<uuid>", as client-go components choose.
std::string DefaultIdentity();

// MicroTime: RFC 3339 in UTC with exactly six fractional digits,
// "2024-01-02T03:04:05.123456Z".
std::string FormatMicroTime(std::chrono::system_clock::time_point t);
// Parses RFC 3339 with optional fractional seconds and a Z or ±hh:mm offset.
std::optional<std::chrono::system_clock::time_point> ParseTime(std::string_view s);

class LeaderElector {
 public:
  // `client` must outlive the elector. Its request timeout should be well below
  // renew_deadline; leadership is dropped on time even while a request hangs.
  LeaderElector(client::RestClient* client, LeaderElectionConfig config);

  // Tries to acquire every retry period (with jitter) until this candidate leads or
  // *stop; then leads until renewals fail for renew_deadline or *stop turns true.
  // Returns after on_stopped_leading.
  void Run(const std::atomic<bool>* stop);

  bool IsLeader() const;
  // The last observed holder ("" when none).
  std::string Leader() const;

 private:
  // One Get + Create/Update round; true when this candidate now holds the lease.
  bool TryAcquireOrRenew();
  void Release();
  void ObserveLocked(const std::string& holder, const std::string& record);

  client::RestClient* client_;
  LeaderElectionConfig config_;

  mutable std::mutex mu_;
  bool is_leader_ = false;
  std::string leader_;
  // The last lease spec seen, and when (this process's clock) it last changed.
  std::string observed_record_;
  std::chrono::steady_clock::time_point observed_at_;
};

}  // namespace kubepp::leaderelection
