#include "apiserver/storage/expiry.h"

#include <algorithm>

#include "common/log.h"

namespace kubepp::apiserver {

ExpirySweeper::ExpirySweeper(Storage* storage, std::chrono::milliseconds period)
    : storage_(storage), period_(period) {
  if (period_.count() > 0) thread_ = std::thread([this] { Loop(); });
}

ExpirySweeper::~ExpirySweeper() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::chrono::milliseconds ExpirySweeper::PeriodFor(std::chrono::milliseconds ttl) {
  return std::clamp<std::chrono::milliseconds>(ttl / 10, std::chrono::milliseconds(100),
                                               std::chrono::seconds(10));
}

void ExpirySweeper::Loop() {
  std::unique_lock<std::mutex> l(mu_);
  while (!cv_.wait_for(l, period_, [this] { return stopping_; })) {
    l.unlock();
    size_t n = SweepOnce();
    if (n > 0) LOG(INFO) << "storage: deleted " << n << " expired objects";
    l.lock();
  }
}

size_t ExpirySweeper::SweepOnce(size_t batch) {
  size_t deleted = 0;
  for (;;) {
    std::vector<ObjectPtr> expired = storage_->Expired(batch);
    if (expired.empty()) return deleted;
    // Submitted all at once so that they share transactions (group commit).
    std::mutex mu;
    std::condition_variable cv;
    size_t pending = expired.size(), ok = 0;
    for (const ObjectPtr& o : expired) {
      Write w;
      w.kind = Write::Kind::kDelete;
      w.resource = o->resource;
      w.ns = o->ns;
      w.name = o->name;
      w.expected_rv = o->rv;
      storage_->Submit(std::move(w), [&](Result<ObjectPtr> r) {
        std::lock_guard<std::mutex> l(mu);
        // Conflict or NotFound: written again or deleted meanwhile; nothing to do.
        if (r.ok()) {
          ++ok;
        } else if (r.status().code() != Code::kConflict && r.status().code() != Code::kNotFound) {
          LOG(WARNING) << "storage: deleting an expired object failed: " << r.status().message();
        }
        if (--pending == 0) cv.notify_one();
      });
    }
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return pending == 0; });
    deleted += ok;
    // Nothing deleted (storage failing, or every object rewritten meanwhile): no spin;
    // the next sweep retries.
    if (ok == 0) return deleted;
  }
}

}  // namespace kubepp::apiserver
