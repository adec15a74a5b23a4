#include "proxy/service_proxy.h"

#include "common/log.h"
#include "common/metrics.h"
#include "common/util/time.h"
#include "proxy/conntrack.h"

namespace kubepp::proxy {
namespace {

struct Metrics {
  metrics::Histogram& duration = metrics::Registry::Default().AddHistogram(
      "kubeproxy_sync_proxy_rules_duration_seconds",
      "SyncProxyRules latency in seconds (snapshot, rendering and nft).",
      metrics::ExponentialBuckets(0.001, 2, 15));
  metrics::Gauge& last = metrics::Registry::Default().AddGauge(
      "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
      "The last time the proxy rules were successfully synced.");
  metrics::CounterVec& syncs = metrics::Registry::Default().AddCounterVec(
      "kubepp_proxy_syncs_total", "Proxier syncs by kind (full, partial) and result.",
      {"kind", "result"});
  metrics::Gauge& ports = metrics::Registry::Default().AddGauge(
      "kubepp_proxy_service_ports", "Service ports in the last snapshot.");
};

Metrics& M() {
  static Metrics m;
  return m;
}

}  // namespace

ServiceProxy::ServiceProxy(Services* services, EndpointSlices* slices,
                           Proxier* proxier, ServiceProxyConfig config)
    : services_(services),
      slices_(slices),
      proxier_(proxier),
      config_(config),
      source_(services, slices),
      builder_(&source_) {
  services_->AddHandler([this](const ServicePtr& before, const ServicePtr& after) {
    if (after) WarnUnprogrammable(before.get(), after);
    builder_.Changed((after ? after : before)->Key());
    MarkDirty();
  });
  slices_->AddHandler([this](const SlicePtr& before, const SlicePtr& after) {
    // A slice relabelled leaves one Service for another.
    for (const SlicePtr& s : {before, after}) {
      if (s && !s->ServiceKey().empty()) builder_.Changed(s->ServiceKey());
    }
    MarkDirty();
  });
}

ServiceProxy::~ServiceProxy() { Stop(); }

void ServiceProxy::WarnUnprogrammable(const Service* before, const ServicePtr& now) {
  if (!config_.warn) return;
  std::vector<std::string> bad = UnprogrammableAddresses(*now);
  if (bad.empty() || (before && UnprogrammableAddresses(*before) == bad)) return;
  std::string list;
  for (const auto& a : bad) list += (list.empty() ? "" : ", ") + a;
  config_.warn(*now, "not programmed on this node, which serves IPv4 only: " + list);
}

void ServiceProxy::Start() { thread_ = std::thread([this] { Loop(); }); }

void ServiceProxy::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ServiceProxy::MarkDirty() {
  {
    std::lock_guard lock(mu_);
    dirty_ = true;
  }
  cv_.notify_all();
}

void ServiceProxy::Loop() {
  using Clock = std::chrono::steady_clock;
  // Nothing is programmed before both caches are complete: a partial view would delete
  // the rules of every Service not yet listed.
  while (!services_->WaitForSync(std::chrono::milliseconds(200)) ||
         !slices_->WaitForSync(std::chrono::milliseconds(200))) {
    std::lock_guard lock(mu_);
    if (stopping_) return;
  }
  bool need_full = true;
  auto next_full = Clock::now();
  auto last_sync = Clock::now() - config_.min_sync_period;
  while (true) {
    {
      // Sleep until a full sync is due, or a change is pending and the batching window
      // since the last sync has passed.
      std::unique_lock lock(mu_);
      while (!stopping_) {
        auto due = dirty_ ? std::min(next_full, last_sync + config_.min_sync_period) : next_full;
        if (Clock::now() >= due) break;
        cv_.wait_until(lock, due);
      }
      if (stopping_) return;
      dirty_ = false;
    }
    bool full = need_full || Clock::now() >= next_full;
    auto start = Clock::now();
    if (full) builder_.Reset();
    Snapshot snap = builder_.Build();
    Status st = proxier_->Sync(snap, full);
    auto took = std::chrono::duration<double>(Clock::now() - start).count();
    last_sync = Clock::now();
    const char* kind = full ? "full" : "partial";
    if (st.ok()) {
      M().duration.Observe(took);
      M().last.Set(static_cast<double>(util::NowUnix()));
      M().ports.Set(static_cast<double>(snap.ports.size()));
      M().syncs.WithLabelValues({kind, "ok"}).Inc();
      healthy_ = true;
      ++syncs_;
      if (config_.flush_udp) {
        if (auto stale = StaleUdpFlows(applied_, snap); !stale.empty()) config_.flush_udp(stale);
      }
      need_full = false;
      if (full) next_full = Clock::now() + config_.full_sync_period;
      VLOG(2) << "proxy: " << kind << " sync of " << snap.ports.size() << " service ports took "
              << took * 1000 << " ms";
      applied_ = std::move(snap);
    } else {
      M().syncs.WithLabelValues({kind, "error"}).Inc();
      healthy_ = false;
      need_full = true;
      LOG(ERROR) << "proxy: " << kind << " sync failed: " << st.ToString();
      std::lock_guard lock(mu_);
      dirty_ = true;
      last_sync = Clock::now() + config_.retry_period - config_.min_sync_period;
    }
  }
}

}  // namespace kubepp::proxy
