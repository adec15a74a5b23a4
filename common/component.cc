#include "common/component.h"

#include <malloc.h>
#include <signal.h>

#include <cstdio>
#include <thread>

#include "common/log.h"

namespace kubepp {

void KeepFreedMemory(size_t keep_bytes) {
  // Setting either disables glibc's own adjustment of both, so set both.
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  mallopt(M_TRIM_THRESHOLD, static_cast<int>(keep_bytes));
}

void LimitMallocArenas(int arenas) { mallopt(M_ARENA_MAX, arenas); }

int RunComponent(int argc, char** argv, FlagSet& flags,
                 const std::function<Status(const std::atomic<bool>* stop)>& run) {
  const std::string& name = flags.program();
  if (auto st = flags.Parse(argc, argv); !st.ok()) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), st.message().c_str());
    return 2;
  }
  if (flags.help_requested()) {
    std::fputs(flags.Usage().c_str(), stdout);
    return 0;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // every thread started later inherits it
  signal(SIGPIPE, SIG_IGN);
  static std::atomic<bool> stop{false};  // outlives the detached waiter
  std::thread([set, name] {
    int sig = 0;
    sigwait(&set, &sig);
    LOG(INFO) << name << ": signal " << sig << ", shutting down";
    stop = true;
  }).detach();
  Status st = run(&stop);
  if (!st.ok()) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), st.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace kubepp
