// Deletes the objects a Storage reports expired (Storage::Expired, for resources with a
// TTL such as events under --event-ttl), through Storage::Submit, so that each deletion
// is an ordinary write with a revision and watchers see a DELETED event, as when etcd
// drops an expired lease's keys upstream.
//
//   ExpirySweeper sweeper(storage, std::chrono::seconds(10));  // sweeps until destroyed
//
// Thread safety: SweepOnce may be called from any thread (tests); the sweeper's own
// thread calls it every period. The storage must outlive the sweeper.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>

#include "apiserver/storage/storage.h"

namespace kubepp::apiserver {

class ExpirySweeper {
 public:
  // Starts a thread that sweeps every `period` (0: none; call SweepOnce yourself).
  ExpirySweeper(Storage* storage, std::chrono::milliseconds period);
  ~ExpirySweeper();  // stops and joins the thread
  ExpirySweeper(const ExpirySweeper&) = delete;
  ExpirySweeper& operator=(const ExpirySweeper&) = delete;

  // Deletes every object expired now, `batch` at a time, each on the precondition that
  // it is still the version found expired (one written again meanwhile has a new expiry
  // and stays). Returns how many were deleted.
  size_t SweepOnce(size_t batch = 1000);

  // How often to sweep for a TTL: objects live at most ttl + this. A tenth of the TTL,
  // between 100 ms and 10 s.
  static std::chrono::milliseconds PeriodFor(std::chrono::milliseconds ttl);

 private:
  void Loop();

  Storage* storage_;
  std::chrono::milliseconds period_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace kubepp::apiserver
