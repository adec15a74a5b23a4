// scheduler: places pending pods on nodes (see scheduler/scheduler.h).
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "common/flags.h"
#include "common/log.h"
#include "scheduler/options.h"

int main(int argc, char** argv) {
  using namespace kubepp;
  scheduler::SchedulerOptions options;
  FlagSet flags("scheduler", "Assigns pending pods to nodes (kube-scheduler).");
  scheduler::AddFlags(flags, &options);
  if (auto st = flags.Parse(argc, argv); !st.ok()) {
    std::fprintf(stderr, "scheduler: %s\n", st.message().c_str());
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
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // every thread inherits the mask
  signal(SIGPIPE, SIG_IGN);
  std::atomic<bool> stop{false};
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&set, &sig);
    LOG(INFO) << "scheduler: signal " << sig << ", shutting down";
    stop = true;
  });
  waiter.detach();  // the process ends with main; the waiter holds nothing

  Status st = scheduler::Run(options, &stop);
  if (!st.ok()) {
    LOG(ERROR) << "scheduler: " << st.ToString();
    return 1;
  }
  return 0;
}
