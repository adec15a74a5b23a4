// The time source of controllers whose decisions depend on elapsed time (minReadySeconds,
// node monitor grace periods, toleration expiry), so tests can drive it.
// Thread safety: implementations are safe from any thread.
#pragma once

#include <atomic>
#include <cstdint>

#include "common/util/time.h"

namespace kubepp::controller {

class Clock {
 public:
  virtual ~Clock() = default;
  // Seconds since the Unix epoch (API timestamps have second precision).
  virtual int64_t NowUnix() const = 0;
};

class RealClock : public Clock {
 public:
  int64_t NowUnix() const override { return util::NowUnix(); }
};

class FakeClock : public Clock {
 public:
  explicit FakeClock(int64_t now) : now_(now) {}
  int64_t NowUnix() const override { return now_.load(); }
  void Set(int64_t now) { now_.store(now); }
  void Advance(int64_t seconds) { now_.fetch_add(seconds); }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace kubepp::controller
