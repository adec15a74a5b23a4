// The kubelet's notion of time, injectable so that tests can drive backoff, probes and
// the fake runtime without sleeping.
// Thread safety: a Clock is called from any thread; the test clock is atomic.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

namespace kubepp::kubelet {

// Unix time in microseconds.
using Clock = std::function<int64_t()>;

Clock SystemClock();

// A clock that only moves when told to.
class ManualClock {
 public:
  explicit ManualClock(int64_t start_micros = 1'800'000'000'000'000) : now_(start_micros) {}
  int64_t Now() const { return now_.load(); }
  void Advance(int64_t micros) { now_ += micros; }
  void AdvanceSeconds(double s) { now_ += static_cast<int64_t>(s * 1e6); }
  Clock AsClock() {
    return [this] { return Now(); };
  }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace kubepp::kubelet
