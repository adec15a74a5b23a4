// Runs fn(0..n-1) on up to `workers` threads and waits for all (the controllers' way of
// issuing a batch of API writes at once, as upstream's slowStartBatch goroutines).
// Thread safety: `fn` runs concurrently with itself.
#pragma once

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "common/status.h"

namespace kubepp::controller {

inline void ParallelFor(int n, int workers, const std::function<void(int)>& fn) {
  int threads = std::min(n, std::max(workers, 1));
  if (threads <= 1) {
    for (int i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<int> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = next++; i < n; i = next++) fn(i);
    });
  }
  for (auto& th : pool) th.join();
}

// Runs `count` calls of `fn` in batches of 1, 2, 4, ... (each batch in parallel on up
// to `workers` threads) and stops after the first batch with a failure, as upstream's
// slowStartBatch: a request the server rejects (bad template, quota) fails a handful of
// times, not hundreds. Returns how many calls succeeded and the first error.
template <typename Fn>
std::pair<int, Status> SlowStartBatch(int count, int workers, Fn fn) {
  int done = 0, succeeded = 0;
  std::mutex mu;
  Status first_error;
  for (int batch = 1; done < count; batch *= 2) {
    int n = std::min(batch, count - done);
    int ok = 0;
    ParallelFor(n, workers, [&](int i) {
      Status st = fn(done + i);
      std::lock_guard lock(mu);
      if (st.ok()) {
        ++ok;
      } else if (first_error.ok()) {
        first_error = std::move(st);
      }
    });
    done += n;
    succeeded += ok;
    if (ok < n) break;
  }
  return {succeeded, first_error};
}

}  // namespace kubepp::controller
