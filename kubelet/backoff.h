// CrashLoopBackOff: the delay before a dead container is started again, as upstream's
// flowcontrol.Backoff used by the kubelet: 10 s, doubling per restart up to 5 min; an
// entry untouched for twice the maximum (10 min of the container running fine) is
// forgotten, so the next crash starts again at 10 s.
//
// Keys are "<pod uid>/<container name>". The first restart is immediate; each later one
// waits the current delay counted from when the container last finished.
// Thread safety: all methods lock one mutex.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "kubelet/clock.h"

namespace kubepp::kubelet {

class RestartBackoff {
 public:
  static constexpr int64_t kInitialMicros = 10'000'000;
  static constexpr int64_t kMaxMicros = 300'000'000;

  explicit RestartBackoff(Clock clock, int64_t initial = kInitialMicros,
                          int64_t max = kMaxMicros)
      : clock_(std::move(clock)), initial_(initial), max_(max) {}

  // How long (micros) a container that finished at `finished_at` must still wait before
  // its restart; 0 when it may restart now.
  int64_t Remaining(const std::string& key, int64_t finished_at);
  // Records a restart now: the next one waits longer.
  void Next(const std::string& key);
  // The current delay of `key` (0 when none), for the waiting message.
  int64_t Current(const std::string& key);
  // Drops every key starting with `prefix` ("<uid>/"), when the pod is gone.
  void ForgetPrefix(const std::string& prefix);

 private:
  struct Entry {
    int64_t delay = 0;
    int64_t last_update = 0;
  };
  // Drops `key` if it expired. Caller holds mu_.
  void ExpireLocked(const std::string& key, int64_t now);

  Clock clock_;
  int64_t initial_, max_;
  std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

}  // namespace kubepp::kubelet
