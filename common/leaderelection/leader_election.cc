#include "common/leaderelection/leader_election.h"

#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <thread>

#include "common/log.h"
#include "common/util/time.h"
#include "common/util/random.h"

namespace kubepp::leaderelection {
namespace {

using SteadyClock = std::chrono::steady_clock;
using SystemClock = std::chrono::system_clock;

// Sleeps up to `d`; false when *stop turned true first.
bool SleepFor(std::chrono::milliseconds d, const std::atomic<bool>* stop) {
  auto until = SteadyClock::now() + d;
  while (!stop->load()) {
    auto left = until - SteadyClock::now();
    if (left <= SteadyClock::duration::zero()) return true;
    std::this_thread::sleep_for(std::min<SteadyClock::duration>(left, std::chrono::milliseconds(20)));
  }
  return false;
}

}  // namespace

std::string DefaultIdentity() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) std::snprintf(host, sizeof(host), "unknown");
  return std::string(host) + "_" + util::NewUuid();
}

std::string FormatMicroTime(SystemClock::time_point t) {
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(micros / 1000000);
  long frac = static_cast<long>(micros % 1000000);
  if (frac < 0) {
    frac += 1000000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  return buf;
}

std::optional<SystemClock::time_point> ParseTime(std::string_view s) {
  auto micros = util::ParseRfc3339Micros(s);
  if (!micros.ok()) return std::nullopt;
  return SystemClock::time_point(std::chrono::microseconds(*micros));
}

LeaderElector::LeaderElector(client::RestClient* client, LeaderElectionConfig config)
    : client_(client), config_(std::move(config)) {}

bool LeaderElector::IsLeader() const {
  std::lock_guard lock(mu_);
  return is_leader_;
}

std::string LeaderElector::Leader() const {
  std::lock_guard lock(mu_);
  return leader_;
}

void LeaderElector::ObserveLocked(const std::string& holder, const std::string& record) {
  if (record != observed_record_) {
    observed_record_ = record;
    observed_at_ = SteadyClock::now();
  }
  leader_ = holder;
}

bool LeaderElector::TryAcquireOrRenew() {
  const auto& ns = config_.lease_namespace;
  const auto& name = config_.lease_name;
  const auto& me = config_.identity;
  std::string now_text = FormatMicroTime(SystemClock::now());
  int64_t duration_seconds = std::max<int64_t>(
      1, (config_.lease_duration.count() + 999) / 1000);

  auto current = client_->Get(client::kLeases, ns, name);
  std::string previous_leader = Leader();
  bool exists = current.ok();
  api::Document lease;
  std::string holder;
  if (!exists) {
    if (current.status().code() != Code::kNotFound) {
      VLOG(1) << "get lease " << ns << "/" << name << ": " << current.status().ToString();
      return false;
    }
    lease.SetObject();
    auto& a = lease.GetAllocator();
    api::SetString(lease, "apiVersion", "coordination.k8s.io/v1", a);
    api::SetString(lease, "kind", "Lease", a);
    api::SetString(lease, "metadata.name", name, a);
    api::SetString(lease, "metadata.namespace", ns, a);
    api::SetInt(lease, "spec.leaseTransitions", 0, a);
  } else {
    lease = std::move(current).value();
    holder = api::GetString(lease, "spec.holderIdentity");
    const api::Value* spec = api::FindMember(lease, "spec");
    bool expired;
    {
      std::lock_guard lock(mu_);
      ObserveLocked(holder, spec ? api::ToJson(*spec) : "");
      auto held = std::chrono::seconds(api::GetInt(lease, "spec.leaseDurationSeconds"));
      auto renewed = ParseTime(api::GetString(lease, "spec.renewTime"));
      expired = (renewed && *renewed + held < SystemClock::now()) ||
                observed_at_ + held < SteadyClock::now();
    }
    if (!holder.empty() && holder != me && !expired) {
      if (holder != previous_leader && config_.callbacks.on_new_leader) {
        config_.callbacks.on_new_leader(holder);
      }
      return false;
    }
  }

  auto& a = lease.GetAllocator();
  if (holder != me) {
    api::SetString(lease, "spec.acquireTime", now_text, a);
    if (exists) {
      api::SetInt(lease, "spec.leaseTransitions",
                  api::GetInt(lease, "spec.leaseTransitions") + 1, a);
    }
  }
  api::SetString(lease, "spec.holderIdentity", me, a);
  api::SetInt(lease, "spec.leaseDurationSeconds", duration_seconds, a);
  api::SetString(lease, "spec.renewTime", now_text, a);
  // Update carries the resourceVersion we read: a concurrent writer makes it Conflict.
  auto written = exists ? client_->Update(client::kLeases, ns, lease)
                              : client_->Create(client::kLeases, ns, lease);
  if (!written.ok()) {
    VLOG(1) << "write lease " << ns << "/" << name << ": " << written.status().ToString();
    return false;
  }
  {
    std::lock_guard lock(mu_);
    const api::Value* spec = api::FindMember(*written, "spec");
    ObserveLocked(me, spec ? api::ToJson(*spec) : "");
  }
  if (previous_leader != me && config_.callbacks.on_new_leader) {
    config_.callbacks.on_new_leader(me);
  }
  return true;
}

void LeaderElector::Release() {
  auto current = client_->Get(client::kLeases, config_.lease_namespace, config_.lease_name);
  if (!current.ok() || api::GetString(*current, "spec.holderIdentity") != config_.identity) return;
  api::Document lease = std::move(current).value();
  auto& a = lease.GetAllocator();
  std::string now_text = FormatMicroTime(SystemClock::now());
  api::SetString(lease, "spec.holderIdentity", "", a);
  api::SetInt(lease, "spec.leaseDurationSeconds", 1, a);
  api::SetString(lease, "spec.acquireTime", now_text, a);
  api::SetString(lease, "spec.renewTime", now_text, a);
  auto st = client_->Update(client::kLeases, config_.lease_namespace, lease);
  if (!st.ok()) LOG(WARNING) << "release lease: " << st.status().ToString();
}

void LeaderElector::Run(const std::atomic<bool>* stop) {
  while (!TryAcquireOrRenew()) {
    // client-go's JitterFactor 1.2: each wait is retry_period * [1, 2.2).
    auto retry = config_.retry_period;
    auto wait = retry + std::chrono::milliseconds(util::RandomBelow(retry.count() * 6 / 5 + 1));
    if (!SleepFor(wait, stop)) return;
  }
  if (stop->load()) {
    if (config_.release_on_cancel) Release();
    return;
  }
  LOG(INFO) << "acquired lease " << config_.lease_namespace << "/" << config_.lease_name
            << " as " << config_.identity;
  {
    std::lock_guard lock(mu_);
    is_leader_ = true;
  }
  std::atomic<SteadyClock::rep> last_renew{SteadyClock::now().time_since_epoch().count()};
  std::atomic<bool> lead_stop{false};
  std::atomic<bool> renew_stop{false};
  std::thread leader([&] {
    if (config_.callbacks.on_started_leading) config_.callbacks.on_started_leading(&lead_stop);
  });
  // Renewals run on their own thread so that a hanging request cannot keep this one
  // from stepping down at the deadline.
  std::thread renewer([&] {
    while (SleepFor(config_.retry_period, &renew_stop)) {
      if (TryAcquireOrRenew()) last_renew = SteadyClock::now().time_since_epoch().count();
    }
  });
  bool cancelled = false;
  while (true) {
    if (stop->load()) {
      cancelled = true;
      break;
    }
    auto since = SteadyClock::now().time_since_epoch() - SteadyClock::duration(last_renew.load());
    if (since > config_.renew_deadline) {
      LOG(WARNING) << "failed to renew lease " << config_.lease_namespace << "/"
                   << config_.lease_name << " within " << config_.renew_deadline.count()
                   << " ms; stepping down";
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  {
    std::lock_guard lock(mu_);
    is_leader_ = false;
  }
  lead_stop = true;
  renew_stop = true;
  leader.join();
  renewer.join();
  if (cancelled && config_.release_on_cancel) Release();
  if (config_.callbacks.on_stopped_leading) config_.callbacks.on_stopped_leading();
}

}  // namespace kubepp::leaderelection
